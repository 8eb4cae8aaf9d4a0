"""multinetwork_policy and owned_namespace retry what the API server asks to be retried, and gives up on a server
that does not answer within request_timeout; against the lab's real kube-apiserver.

Between the module and the API server runs fault_proxy.LabProxy: it forwards every request except
the ones it is told to answer itself (a 429 with Retry-After for the first write, or no answer in
time for a list), or forwards a request and then drops the server's answer, as a broken network does.
"""
import json
import subprocess
import time
import uuid

import pytest
from kubernetes import client

from fault_proxy import DROP_ANSWER, proxy_for, refuse_first  # noqa: F401 (proxy_for is a fixture)
from lab_helpers import create_localnet_nad
from test_multinetwork_policy import ANSIBLE, ANSIBLE_ENV, REPO_DIR, PolicyApi, names, run_module, tenant_intent

from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.compiler import compile_intent
from ansible_collections.ocpvirt.multinet.plugins.module_utils.k8s.retry import MAX_ATTEMPTS


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


def test_a_503_on_the_clients_discovery_is_retried(proxy_for, mnp):
    """The module's first request (the client's GET /version) answered 503: sent again, then the run goes on."""
    proxy, kubeconfig = proxy_for(refuse_first("GET", 503))
    intent = tenant_intent(mnp.namespace)

    result = run_module(kubeconfig, intent)

    assert not result.get("failed"), result.get("msg")
    assert [entry[1:] for entry in proxy.log[:2]] == [("GET", "/version", 503), ("GET", "/version", 200)]
    assert names(mnp.items()) == names(compile_intent(intent))
