"""multinetwork_policy and owned_namespace retry what the API server asks to be retried, and gives up on a server
that does not answer within request_timeout; against the lab's real kube-apiserver.

Between the module and the API server runs a small HTTPS proxy of this test's own (TLS with the
lab apiserver's certificate, so the user's kubeconfig only changes its server URL). It forwards
every request, with the lab admin's client certificate, except the ones it is told to answer
itself: a 429 with Retry-After for the first write, or no answer in time for a list; or forwards a
request and then drops the server's answer (the connection closes), as a broken network does.
"""
import http.client
import json
import subprocess
import uuid
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from kubernetes import client

from lab_helpers import create_localnet_nad
from test_multinetwork_policy import ANSIBLE, ANSIBLE_ENV, REPO_DIR, PolicyApi, names, run_module, tenant_intent

from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.compiler import compile_intent
from ansible_collections.ocpvirt.multinet.plugins.module_utils.k8s.retry import MAX_ATTEMPTS

# What misbehave returns to forward the request and close the connection without answering.
DROP_ANSWER = "drop the answer"
HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


class LabProxy(ThreadingHTTPServer):
    """Forwards to the lab apiserver; `misbehave(method, path)` may answer a request instead:
    it returns (status, headers, body), None to forward, or DROP_ANSWER to forward and close
    the connection without answering. Every request is logged (a dropped answer as status None)."""

    daemon_threads = True

    def __init__(self, pki, upstream, misbehave):
        super().__init__(("127.0.0.1", 0), _Handler)
        server_side = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server_side.load_cert_chain(pki / "apiserver.crt", pki / "apiserver.key")
        self.socket = server_side.wrap_socket(self.socket, server_side=True)
        self.upstream_context = ssl.create_default_context(cafile=str(pki / "ca.crt"))
        self.upstream_context.load_cert_chain(pki / "admin.crt", pki / "admin.key")
        self.upstream = urlsplit(upstream)
        self.misbehave = misbehave
        self.log = []  # (monotonic time, method, path, status)
        self.lock = threading.Lock()

    def handle_error(self, request, client_address):
        """Quiet: a stalled answer finds its client gone (it timed out), which is the point."""

    @property
    def url(self):
        return "https://127.0.0.1:{0}".format(self.server_address[1])


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # the log is the proxy's own list
        pass

    def _any(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        answer = self.server.misbehave(self.command, self.path)
        if answer == DROP_ANSWER:
            self._forward(body)
            with self.server.lock:
                self.server.log.append((time.monotonic(), self.command, self.path, None))
            self.close_connection = True
            return
        if answer is None:
            answer = self._forward(body)
        status, headers, payload = answer
        with self.server.lock:
            self.server.log.append((time.monotonic(), self.command, self.path, status))
        self.send_response(status)
        for key, value in headers:
            if key.lower() not in HOP_HEADERS:
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _forward(self, body):
        upstream = http.client.HTTPSConnection(self.server.upstream.hostname, self.server.upstream.port,
                                               context=self.server.upstream_context, timeout=60)
        try:
            headers = {key: value for key, value in self.headers.items() if key.lower() not in HOP_HEADERS}
            upstream.request(self.command, self.path, body=body or None, headers=headers)
            response = upstream.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            upstream.close()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _any


@pytest.fixture
def proxy_for(lab_kubeconfig, tmp_path):
    """proxy_for(misbehave) -> (proxy, kubeconfig path whose server is the proxy)."""
    servers = []
    config = json.loads(Path(lab_kubeconfig).read_text())
    pki = Path(lab_kubeconfig).parent / "pki"

    def start(misbehave):
        proxy = LabProxy(pki, config["clusters"][0]["cluster"]["server"], misbehave)
        threading.Thread(target=proxy.serve_forever, daemon=True).start()
        servers.append(proxy)
        via_proxy = json.loads(json.dumps(config))
        via_proxy["clusters"][0]["cluster"]["server"] = proxy.url
        path = tmp_path / "kubeconfig-{0}".format(len(servers))
        path.write_text(json.dumps(via_proxy))
        return proxy, str(path)
    yield start
    for proxy in servers:
        proxy.shutdown()
        proxy.server_close()


@pytest.fixture
def mnp(lab_api, lab_namespace):
    create_localnet_nad(client.CustomObjectsApi(lab_api), lab_namespace, "tenant-net")
    return PolicyApi(client.CustomObjectsApi(lab_api), lab_namespace)


def too_many_requests_once():
    """Answers the first PATCH (the first write) with 429 and Retry-After: 1, as the API
    server's priority and fairness does when a flow's queue is full."""
    answered = []

    def misbehave(method, _path):
        if method != "PATCH" or answered:
            return None
        answered.append(method)
        status = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "TooManyRequests",
                  "message": "too many requests, please try again later", "code": 429}
        return 429, [("Retry-After", "1"), ("Content-Type", "application/json")], json.dumps(status).encode()
    return misbehave


def test_a_429_is_retried_after_retry_after(proxy_for, mnp):
    proxy, kubeconfig = proxy_for(too_many_requests_once())
    intent = tenant_intent(mnp.namespace)

    result = run_module(kubeconfig, intent)

    assert not result.get("failed"), result.get("msg")
    assert result["created"] == names(compile_intent(intent)) == names(mnp.items())
    patches = [(at, path, status) for at, method, path, status in proxy.log if method == "PATCH"]
    (refused_at, refused_path, _status), = [patch for patch in patches if patch[2] == 429]
    retried_at = min(at for at, path, status in patches if path == refused_path and status != 429)
    assert retried_at - refused_at >= 1.0  # Retry-After: 1 was honoured


def test_a_create_whose_answer_was_lost_is_counted_as_created_once(proxy_for, mnp):
    """The first real write (not the dry runs before it) reaches the server, which creates the
    policy, but its answer never comes back; the retry finds the policy there (200)."""
    dropped = []

    def drop_first_write_answer(method, path):
        if method != "PATCH" or "dryRun" in path or dropped:
            return None
        dropped.append(path)
        return DROP_ANSWER
    proxy, kubeconfig = proxy_for(drop_first_write_answer)
    intent = tenant_intent(mnp.namespace)

    result = run_module(kubeconfig, intent)

    assert not result.get("failed"), result.get("msg")
    assert [path for _at, method, path, _status in proxy.log if method == "PATCH"].count(dropped[0]) == 2
    assert result["created"] == names(compile_intent(intent)) == names(mnp.items())
    assert result["updated"] == [] and result["deleted"] == []


def test_a_list_that_gets_no_answer_in_time_fails_after_request_timeout(proxy_for, mnp):
    stalled = []

    def stall_lists(method, path):
        if method == "GET" and "multi-networkpolicies" in path:
            stalled.append(path)  # counted on arrival: the answer comes after the client left
            time.sleep(6)
        return None
    _proxy, kubeconfig = proxy_for(stall_lists)

    result = run_module(kubeconfig, tenant_intent(mnp.namespace), request_timeout=2)

    # The stalled list would have been answered after 6 s: failing with a timeout means the
    # client gave up after request_timeout (no wall-clock bound: the machine may be loaded).
    assert result["failed"] and result["msg"].startswith("Failed to list MultiNetworkPolicies")
    assert "timed out" in result["msg"].lower()
    assert 1 <= len(stalled) <= MAX_ATTEMPTS, stalled  # retried at most as often as any request
    assert mnp.items() == []


def refuse_first(method, status, retry_after=None):
    """Answers the first `method` request with `status` (and Retry-After when given), forwards the rest."""
    answered = []

    def misbehave(request_method, _path):
        if request_method != method or answered:
            return None
        answered.append(request_method)
        body = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": status,
                "message": "injected by the test's proxy"}
        headers = [("Content-Type", "application/json")] + ([("Retry-After", retry_after)] if retry_after else [])
        return status, headers, json.dumps(body).encode()
    return misbehave


def run_owned_namespace(kubeconfig, **params):
    proc = subprocess.run([ANSIBLE, "localhost", "-c", "local", "-m", "ocpvirt.multinet.owned_namespace",
                           "-a", json.dumps(dict(params, kubeconfig=kubeconfig))],
                          cwd=REPO_DIR, env=ANSIBLE_ENV, capture_output=True, text=True, check=False)
    return json.loads(proc.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]


@pytest.mark.parametrize("method,status,retry_after", [("POST", 429, "1"), ("GET", 503, None)],
                         ids=["429-on-the-create", "503-on-the-first-read"])
def test_owned_namespace_retries_and_creates_the_namespace_once(proxy_for, lab_api, method, status, retry_after):
    proxy, kubeconfig = proxy_for(refuse_first(method, status, retry_after))
    name = "retried-{0}".format(uuid.uuid4().hex[:8])
    try:
        result = run_owned_namespace(kubeconfig, name=name)
        assert not result.get("failed"), result.get("msg")
        assert result["created"] and result["ours"], result
        created = client.CoreV1Api(lab_api).read_namespace(name)
        assert created.metadata.annotations["multinet.ocpvirt.io/created-namespace"] == "ocpvirt.multinet"
        calls = [(at, logged_method, status_seen) for at, logged_method, _path, status_seen in proxy.log
                 if logged_method == method]
        refused_at = next(at for at, _m, seen in calls if seen == status)
        retried_at = min(at for at, _m, seen in calls if seen != status and at > refused_at)
        if retry_after:
            assert retried_at - refused_at >= float(retry_after)  # Retry-After honoured
    finally:
        client.CoreV1Api(lab_api).delete_namespace(name)


def test_owned_namespace_does_not_send_a_create_again_after_a_5xx(proxy_for, lab_api):
    """A POST answered with 503 may have created the namespace: sending it again would meet our own
    namespace as someone else's, so the run fails, in one line naming the namespace and the status."""
    proxy, kubeconfig = proxy_for(refuse_first("POST", 503))
    name = "not-retried-{0}".format(uuid.uuid4().hex[:8])
    result = run_owned_namespace(kubeconfig, name=name)
    assert result.get("failed")
    assert result["msg"].startswith("Failed on namespace {0}: ".format(name)) and "(503)" in result["msg"], result["msg"]
    assert "\n" not in result["msg"]
    assert [method for _at, method, _path, _status in proxy.log].count("POST") == 1
