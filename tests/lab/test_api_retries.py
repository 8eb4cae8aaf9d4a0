"""Every API call of a site.yml run retries what the API server asks to be retried, and a call that
fails for good says so in one line (issue 26 item 6); against the lab's real kube-apiserver behind
fault_proxy.LabProxy, the test's stand-in for an API server under load.

The run is site.yml's network stage (`--tags network`) on an inventory of this test's own: namespace
`relay-q-<random>` with the NAD `relay-lan` on localnet `relay-lan`, nothing shared with the seed.
That stage reads (kubernetes.core.k8s_info), dry-runs and applies (kubernetes.core.k8s) and creates
the namespace (owned_namespace). connectivity_info, a module with its own client, is checked
against the same proxy.
"""
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import yaml
from kubernetes import client

from fault_proxy import proxy_for  # noqa: F401  pylint: disable=unused-import (a fixture)

from ansible_collections.ocpvirt.multinet.plugins.module_utils.k8s.retry import BASE_DELAY, MAX_ATTEMPTS

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
NAD = "relay-lan"
NADS = ("k8s.cni.cncf.io", "v1", "network-attachment-definitions")


@pytest.fixture
def relay_namespace(lab_api):
    name = "relay-q-{0}".format(uuid.uuid4().hex[:6])
    yield name
    try:
        client.CoreV1Api(lab_api).delete_namespace(name)
    except client.ApiException as error:
        if error.status != 404:
            raise


@pytest.fixture
def inventory(tmp_path, relay_namespace):
    """An inventory of one cluster whose only network is the test's NAD."""
    root = tmp_path / "inventory"
    (root / "group_vars" / "clusters").mkdir(parents=True)
    (root / "hosts.yml").write_text(yaml.safe_dump({"clusters": {"hosts": {"relay-lab": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}))
    (root / "group_vars" / "clusters" / "main.yml").write_text(yaml.safe_dump({
        "network_attachment_networks": [{"name": NAD, "namespace": relay_namespace, "localnet": NAD}],
        "network_attachment_known_localnets": [NAD]}))
    return root


def network_stage(inventory, kubeconfig, callback="default"):
    """site.yml --tags network as a user runs it; returns (rc, output)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("ANSIBLE_", "K8S_AUTH_"))}
    env.update(ANSIBLE_COLLECTIONS_PATH=str(REPO / ".venv" / "collections"), NO_COLOR="1",
               ANSIBLE_STDOUT_CALLBACK=callback, ANSIBLE_LOAD_CALLBACK_PLUGINS="1")
    done = subprocess.run([str(BIN / "ansible-playbook"), "-i", str(inventory), "playbooks/site.yml", "--tags", "network",
                           "-e", json.dumps({"multinet_kubeconfig": kubeconfig})],
                          cwd=REPO, env=env, capture_output=True, text=True, check=False, timeout=900)
    return done.returncode, done.stdout + done.stderr if callback == "default" else done.stdout


def failure_messages(output):
    """The msg of every failed task result (and failed loop item) of a json-callback run."""
    messages = []
    for play in json.loads(output)["plays"]:
        for task in play["tasks"]:
            for result in task["hosts"].values():
                messages += [item["msg"] for item in [result] + result.get("results", [])
                             if item.get("failed") and "msg" in item]
    return messages


def status_answer(status, retry_after=None):
    body = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": status,
            "message": "injected by the test's proxy"}
    headers = [("Content-Type", "application/json")] + ([("Retry-After", retry_after)] if retry_after else [])
    return status, headers, json.dumps(body).encode()


def first(kind, status, retry_after=None):
    """Answers the first write (any method but GET) or the first GET with `status`, once."""
    answered = []

    def misbehave(method, _path):
        if answered or (method == "GET") != (kind == "read"):
            return None
        answered.append(method)
        return status_answer(status, retry_after)
    return misbehave


def nad_exists(lab_api, namespace):
    objects = client.CustomObjectsApi(lab_api)
    try:
        objects.get_namespaced_custom_object(NADS[0], NADS[1], namespace, NADS[2], NAD)
    except client.ApiException as error:
        if error.status == 404:
            return False
        raise
    return True


def retried_after(log, status):
    """(the refused request, seconds until the same request was sent again)."""
    refused = next(entry for entry in log if entry[3] == status)
    again = next(entry for entry in log if entry[0] > refused[0] and entry[1:3] == refused[1:3])
    return refused, again[0] - refused[0]


def test_a_429_on_the_first_write_is_retried_after_retry_after(proxy_for, inventory, relay_namespace, lab_api):
    proxy, kubeconfig = proxy_for(first("write", 429, "1"))

    rc, output = network_stage(inventory, kubeconfig)

    assert rc == 0, output[-5000:]
    (_at, method, path, _status), waited = retried_after(proxy.log, 429)
    # the first write is kubernetes.core.k8s's server-side dry run of the namespace and NAD (server_dry_run)
    assert method == "PATCH" and "dryRun=All" in path, path
    # kubernetes.core.k8s's failed result carries the answer's body, not its headers: the wait is
    # retry.py's backoff (its first step), not the Retry-After (which a read's failure carries)
    assert waited >= BASE_DELAY
    assert nad_exists(lab_api, relay_namespace)


def test_a_503_on_the_first_read_is_retried(proxy_for, inventory, relay_namespace, lab_api):
    proxy, kubeconfig = proxy_for(first("read", 503))

    rc, output = network_stage(inventory, kubeconfig)

    assert rc == 0, output[-5000:]
    (_at, method, path, _status), _waited = retried_after(proxy.log, 503)
    assert (method, path) == ("GET", "/version")  # kubernetes.core.k8s_info's first request
    assert nad_exists(lab_api, relay_namespace)


def always_unavailable(method, _path):
    return status_answer(503) if method == "GET" else None


def test_a_permanent_503_fails_in_one_line(proxy_for, inventory, relay_namespace, lab_api):
    """(A Retry-After beyond retry.MAX_RETRY_AFTER is not tried here: urllib3, under the kubernetes
    client, itself waits a GET's Retry-After up to 3 times first; see docs.)"""
    proxy, kubeconfig = proxy_for(always_unavailable)

    rc, output = network_stage(inventory, kubeconfig, callback="json")

    assert rc != 0
    assert failure_messages(output) == [
        "kubernetes.core.k8s_info (NodeNetworkConfigurationPolicy): Service Unavailable (503): injected by the "
        "test's proxy; gave up after {0} attempts; the API server is busy or unavailable: run again later".format(
            MAX_ATTEMPTS)]
    for raw in ("HTTP response headers", "HTTPHeaderDict", "Traceback", "Content-Type"):
        assert raw not in output  # the json callback's output holds every key of every result
    assert [entry[1:] for entry in proxy.log] == [("GET", "/version", 503)] * MAX_ATTEMPTS
    assert not nad_exists(lab_api, relay_namespace)


def test_connectivity_info_retries_its_reads(proxy_for, inventory, relay_namespace, lab_api):
    """A module with its own client: a 503 on its discovery and on its first list, then the answer."""
    _proxy, direct = proxy_for(lambda method, path: None)
    assert network_stage(inventory, direct)[0] == 0  # the namespace and NAD to read
    refused = []

    def refuse_discovery_and_first_list(method, path):
        if method == "GET" and (path == "/version" or "/pods" in path) and not any(p == path for p in refused):
            refused.append(path)
            return status_answer(503)
        return None
    proxy, kubeconfig = proxy_for(refuse_discovery_and_first_list)
    args = {"network": "{0}/{1}".format(relay_namespace, NAD), "kubeconfig": kubeconfig}
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(REPO / ".venv" / "collections"),
               ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_STDOUT_CALLBACK="json", ANSIBLE_LOCALHOST_WARNING="false")
    done = subprocess.run([str(BIN / "ansible"), "localhost", "-c", "local", "-m", "ocpvirt.multinet.connectivity_info",
                           "-a", json.dumps(args)], cwd=REPO, env=env, capture_output=True, text=True, check=False)
    result = json.loads(done.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]

    assert not result.get("failed"), result.get("msg")
    assert len(refused) == 2 and refused[0] == "/version", refused
    for path in refused:
        assert [entry[3] for entry in proxy.log if entry[2] == path][:2] == [503, 200]
