"""A test stand-in for an API server under load: an HTTPS proxy in front of the lab's kube-apiserver
that answers chosen requests itself (a 429 with Retry-After, a 503) or drops their answers.

TLS with the lab apiserver's certificate, so a kubeconfig only changes its server URL; every other
request is forwarded with the lab admin's client certificate. Only the lab tests use it.

Each proxy's URL has a path of its own (/proxy-<random>), stripped before forwarding: the kubernetes
clients cache API discovery per server URL in the temporary directory, and a proxy port used by an
earlier run would otherwise find that cache and skip the discovery requests a test refuses.
"""
import http.client
import json
import ssl
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

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
        self.prefix = "/proxy-{0}".format(uuid.uuid4().hex[:12])
        self.log = []  # (monotonic time, method, path, status)
        self.lock = threading.Lock()

    def handle_error(self, request, client_address):
        """Quiet: a stalled answer finds its client gone (it timed out), which is the point."""

    @property
    def url(self):
        return "https://127.0.0.1:{0}{1}".format(self.server_address[1], self.prefix)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # the log is the proxy's own list
        pass

    def _any(self):
        if self.path.startswith(self.server.prefix + "/"):
            self.path = self.path[len(self.server.prefix):]
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
