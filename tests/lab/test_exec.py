"""exec through the lab's real kube-apiserver into the kubelet stand-in (lab/kubelet/), and
`labctl exec` for LAN hosts and VM guests.

A test network namespace with a documentation address (192.0.2.7/24 on a veth whose peer stays in
the namespace: nothing leaves it) stands in for a pod's network namespace. The pod's exec-target
file names it, and what the command prints and its exit code come back through the apiserver's
proxy: over a websocket offering only the v4 channel protocol (passed through to the kubelet) and
over the v5 websocket that kubectl and the Python client offer first (translated to SPDY/3.1).
"""
import json
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import yaml
from kubernetes import client, config
from kubernetes.stream import stream
from kubernetes.stream.ws_client import ERROR_CHANNEL

from lab_helpers import wait_for

pytest.register_assert_rewrite("automation_identity")
from automation_identity import managing, shipped  # noqa: E402  pylint: disable=wrong-import-position

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "lab"))
import labctl  # noqa: E402  pylint: disable=wrong-import-position
from controlplane import binaries  # noqa: E402  pylint: disable=wrong-import-position
import dataplane  # noqa: E402  pylint: disable=wrong-import-position
from simulator import nodes, ovn_node_pods  # noqa: E402  pylint: disable=wrong-import-position

# The automation_kubeconfig fixture.
pytest_plugins = ["automation_identity"]

TEST_ADDRESS = "192.0.2.7/24"  # TEST-NET-1, only inside the test namespace
# A test pod of inventory/seed_lab: deploy/rbac lets the automation identity exec into those only, by name.
EXEC_POD = "tinypod"


# --- pure parts (no lab) ----------------------------------------------------------------------

def test_nodes_point_the_apiserver_at_the_kubelet_standin_only():
    endpoint = nodes.kubelet_endpoint(nodes.spec_for("worker-0"), 12345)
    assert endpoint["daemonEndpoints"] == {"kubeletEndpoint": {"Port": 12345}}
    internal_dns = [a["address"] for a in endpoint["addresses"] if a["type"] == "InternalDNS"]
    assert internal_dns == ["127.0.0.1"]
    assert {"type": "InternalIP", "address": "192.168.99.24"} in endpoint["addresses"]
    assert "--kubelet-preferred-address-types=InternalDNS" in labctl.apiserver_argv(Path("/bin"), {
        "apiserver": 1, "etcd_client": 2})


def test_ovnkube_node_pod_and_exec_target(tmp_path):
    pod = ovn_node_pods.pod_manifest("worker-1", "ab3cd")
    assert pod["metadata"]["name"] == "ovnkube-node-ab3cd"
    assert pod["metadata"]["labels"]["app"] == "ovnkube-node"
    assert pod["spec"]["nodeName"] == "worker-1"
    assert [c["name"] for c in pod["spec"]["containers"]][0] == "ovn-controller"
    target = ovn_node_pods.exec_target(tmp_path, "worker-1")
    assert target["env"]["OVS_RUNDIR"] == target["env"]["OVN_RUNDIR"] == str(tmp_path / "ovn" / "worker-1")
    assert target["netns"].endswith("node-worker-1")
    assert target["logs"] == {"ovnkube-controller": str(tmp_path / "ovn" / "worker-1" / "ovnkube-controller.log")}
    assert "ovnkube-controller" in [c["name"] for c in pod["spec"]["containers"]]


def test_ovnkube_node_pods_by_node_skip_terminating_ones():
    def pod(name, node, deleting=False, containers=ovn_node_pods.CONTAINERS):
        metadata = {"name": name, **({"deletionTimestamp": "2026-01-01T00:00:00Z"} if deleting else {})}
        return {"metadata": metadata, "spec": {"nodeName": node, "containers": [{"name": c} for c in containers]}}
    found = ovn_node_pods.pods_by_node([pod("ovnkube-node-b", "worker-0"), pod("ovnkube-node-a", "worker-0"),
                                        pod("ovnkube-node-c", "worker-1", deleting=True),
                                        pod("ovnkube-node-d", "worker-1", containers=("ovn-controller",))])
    assert {node: p["metadata"]["name"] for node, p in found.items()} == {"worker-0": "ovnkube-node-a"}
    assert not ovn_node_pods.is_current(pod("ovnkube-node-d", "worker-1", containers=("ovn-controller",)))


def test_labctl_exec_target_paths_and_argv():
    assert labctl.exec_target_path("gateway") == labctl.EXEC_TARGETS_DIR / "hosts" / "gateway.json"
    assert labctl.exec_target_path("ns1/vm1") == labctl.EXEC_TARGETS_DIR / "guests" / "ns1" / "vm1.json"
    assert labctl.netns_argv({"netns": "n", "env": {"B": "2", "A": "1"}}, ["ping", "-c1", "x"]) == [
        "ip", "netns", "exec", "n", "env", "A=1", "B=2", "ping", "-c1", "x"]


# --- fixtures -----------------------------------------------------------------------------------

def ip(*args):
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True)


def netns_exists(name):
    return name in subprocess.run(["ip", "netns", "list"], check=True, capture_output=True, text=True).stdout.split()


@pytest.fixture
def test_netns():
    name = f"ocpvl-test-{uuid.uuid4().hex[:8]}"
    ip("netns", "add", name)
    try:
        ip("-n", name, "link", "set", "lo", "up")
        ip("-n", name, "link", "add", "probe0", "type", "veth", "peer", "name", "probe1")  # no dummy module here
        ip("-n", name, "addr", "add", TEST_ADDRESS, "dev", "probe0")
        ip("-n", name, "link", "set", "probe0", "up")
        yield name
    finally:
        ip("netns", "delete", name)


@pytest.fixture(scope="module")
def state_dir(lab_kubeconfig):
    return Path(lab_kubeconfig).parent


def running_pod(core, namespace, name):
    core.create_namespaced_pod(namespace, client.V1Pod(
        metadata=client.V1ObjectMeta(name=name),
        spec=client.V1PodSpec(containers=[client.V1Container(name="main", image="registry.example/tools:1")])))
    return wait_for(f"pod {namespace}/{name} Running",
                    lambda: core.read_namespaced_pod(name, namespace).status.phase == "Running")


@pytest.fixture
def exec_pod(core, lab_namespace, state_dir, test_netns):
    """A Running pod whose exec target is the test namespace, named as a test pod of the seed
    inventory: the shipped grants allow exec only into the inventory's test pods, by name."""
    name = EXEC_POD
    running_pod(core, lab_namespace, name)
    target = state_dir / "exec-targets" / "pods" / lab_namespace / f"{name}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps({"netns": test_netns, "env": {"PROBE_GREETING": "hello from the netns"}}))
    yield lab_namespace, name
    shutil.rmtree(target.parent)


def finished_stream(core, namespace, pod, command, container="main", protocol=None, tty=False):
    """The Python client's stream, run to its end. It offers v5.channel.k8s.io and v4 by default,
    which kube-apiserver translates into SPDY/3.1 towards the kubelet; offering only v4 makes the
    apiserver pass the websocket through to the kubelet."""
    headers = {"_headers": {"sec-websocket-protocol": protocol}} if protocol else {}
    ws = stream(core.connect_get_namespaced_pod_exec, pod, namespace, container=container, command=command,
                stdin=False, stdout=True, stderr=not tty, tty=tty, _preload_content=False, **headers)
    ws.run_forever(timeout=60)
    return ws


def python_exec(core, namespace, pod, command, container="main", protocol=None):
    """(stdout, stderr, exit code) of the command through the Python client's stream."""
    ws = finished_stream(core, namespace, pod, command, container, protocol)
    if protocol:
        assert ws.subprotocol == protocol  # negotiated with the kubelet stand-in through the proxy
    return ws.read_stdout(), ws.read_stderr(), ws.returncode


def kubectl():
    """kubectl of the lab's release when bench/kubectl/build.py has cached it, else the one on PATH."""
    cached = binaries.bin_dir() / "kubectl"
    return str(cached) if cached.exists() else shutil.which("kubectl")


def kubectl_exec(kubeconfig, namespace, pod, *command):
    binary = kubectl() or pytest.skip("no kubectl: run bench/kubectl/build.py or put one on PATH")
    return subprocess.run([binary, "--kubeconfig", kubeconfig, "exec", "-n", namespace, pod, "-c", "main", "--",
                           *command], capture_output=True, text=True, timeout=120, check=False)


# --- exec through the apiserver -----------------------------------------------------------------

@pytest.mark.parametrize("protocol", [None, "v4.channel.k8s.io"], ids=["client-default-to-spdy", "websocket-v4"])
def test_python_client_stream_runs_in_the_pods_netns(core, exec_pod, protocol):
    namespace, pod = exec_pod
    out, err, code = python_exec(core, namespace, pod, ["ip", "-o", "addr", "show", "probe0"], protocol=protocol)
    assert code == 0, err
    assert "inet " + TEST_ADDRESS in out
    out, err, code = python_exec(core, namespace, pod, ["sh", "-c", 'echo "$PROBE_GREETING"; echo oops >&2; exit 3'],
                                 protocol=protocol)
    assert (out, err, code) == ("hello from the netns\n", "oops\n", 3)


def test_exec_with_a_terminal_runs_on_a_pseudo_terminal(core, exec_pod):
    ws = finished_stream(core, *exec_pod, ["sh", "-c", "tty; echo to-stderr >&2; exit 2"], tty=True)
    lines = ws.read_stdout().splitlines()
    assert re.fullmatch(r"/dev/pts/\d+", lines[0].strip()), lines
    assert lines[1].strip() == "to-stderr"  # a terminal merges stderr into what it prints
    assert ws.returncode == 2


def test_kubectl_exec_runs_in_the_pods_netns(lab_kubeconfig, exec_pod):
    result = kubectl_exec(lab_kubeconfig, *exec_pod, "ip", "-o", "addr", "show", "probe0")
    assert result.returncode == 0, result.stderr
    assert "inet " + TEST_ADDRESS in result.stdout
    result = kubectl_exec(lab_kubeconfig, *exec_pod, "sh", "-c", "echo out; echo err >&2; exit 3")
    assert (result.stdout, result.returncode) == ("out\n", 3), result.stderr
    assert "err" in result.stderr


K8S_EXEC_PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  tasks:
    - kubernetes.core.k8s_exec:
        kubeconfig: "{{ kubeconfig }}"
        namespace: "{{ namespace }}"
        pod: "{{ pod }}"
        command: ip -o addr show probe0
      register: addr
    - kubernetes.core.k8s_exec:
        kubeconfig: "{{ kubeconfig }}"
        namespace: "{{ namespace }}"
        pod: "{{ pod }}"
        command: sh -c 'echo "$PROBE_GREETING"; exit 3'
      register: failing
      failed_when: false
    - ansible.builtin.copy:
        content: "{{ {'addr': addr, 'failing': failing} | to_json }}"
        dest: "{{ result_file }}"
"""


def test_k8s_exec_module_runs_in_the_pods_netns(lab_kubeconfig, exec_pod, tmp_path):
    namespace, pod = exec_pod
    (tmp_path / "exec.yml").write_text(K8S_EXEC_PLAYBOOK)
    variables = {"kubeconfig": lab_kubeconfig, "namespace": namespace, "pod": pod,
                 "result_file": str(tmp_path / "result.json"), "ansible_python_interpreter": sys.executable}
    run = subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", "-c", "local",
                          str(tmp_path / "exec.yml"), "-e", json.dumps(variables)],
                         capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    result = json.loads((tmp_path / "result.json").read_text())
    assert result["addr"]["rc"] == 0 and "inet " + TEST_ADDRESS in result["addr"]["stdout"]
    assert (result["failing"]["rc"], result["failing"]["stdout"]) == (3, "hello from the netns\n")


def test_the_shipped_automation_identity_may_exec(automation_kubeconfig, exec_pod):
    """deploy/rbac grants pods/exec get and create on the inventory's test pods in a managed
    namespace: websocket (Python client) and kubectl both pass RBAC."""
    kubeconfig = automation_kubeconfig(managing(shipped(), exec_pod[0]))
    api = config.new_client_from_config(config_file=kubeconfig)
    try:
        out, err, code = python_exec(client.CoreV1Api(api), *exec_pod, ["ip", "-o", "addr", "show", "probe0"])
    finally:
        api.close()
    assert code == 0, err
    assert "inet " + TEST_ADDRESS in out
    result = kubectl_exec(kubeconfig, *exec_pod, "sh", "-c", "exit 4")
    assert result.returncode == 4, result.stderr


def test_pod_without_exec_target_is_not_running_for_the_kubelet(core, lab_kubeconfig, lab_namespace):
    running_pod(core, lab_namespace, "no-target")
    status = yaml.safe_load(finished_stream(core, lab_namespace, "no-target", ["true"]).read_channel(ERROR_CHANNEL))
    assert status["status"] == "Failure"
    # What a cluster answers when the kubelet's runtime does not find the container.
    assert status["message"] == 'Internal error occurred: unable to upgrade connection: container not found ("main")'
    result = kubectl_exec(lab_kubeconfig, lab_namespace, "no-target", "true")
    assert result.returncode != 0
    assert 'container not found ("main")' in result.stderr


# --- ovnkube-node pods ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def ovnkube_node_pods(core):
    def by_node():
        pods = core.list_namespaced_pod(ovn_node_pods.NAMESPACE, label_selector="app=ovnkube-node").items
        found = {p.spec.node_name: p for p in pods if p.status.phase == "Running"}
        return found if set(found) >= set(dataplane.data_plane_nodes()) else None
    return wait_for("an ovnkube-node pod Running on every data-plane node", by_node)


@pytest.fixture
def node_netns(state_dir, ovnkube_node_pods):
    """The node's namespace of worker-0's ovnkube-node pod; created (and removed) here when the data
    plane does not run, so the exec path is tested either way."""
    pod = ovnkube_node_pods["worker-0"]
    target = json.loads(ovn_node_pods.exec_target_path(state_dir, ovn_node_pods.NAMESPACE,
                                                       pod.metadata.name).read_text())
    created = not netns_exists(target["netns"])
    if created:
        ip("netns", "add", target["netns"])
    yield pod, target
    if created:
        ip("netns", "delete", target["netns"])


def test_one_ovnkube_node_pod_per_data_plane_node(ovnkube_node_pods, state_dir):
    assert sorted(ovnkube_node_pods) == sorted(dataplane.data_plane_nodes())
    for node, pod in ovnkube_node_pods.items():
        assert re.fullmatch(r"ovnkube-node-[a-z0-9]{5}", pod.metadata.name)
        assert "ovn-controller" in [c.name for c in pod.spec.containers]
        target = json.loads(ovn_node_pods.exec_target_path(state_dir, ovn_node_pods.NAMESPACE,
                                                           pod.metadata.name).read_text())
        assert target["env"]["OVN_RUNDIR"] == str(state_dir / "ovn" / node)
        assert (state_dir / "ovn" / node).is_dir()


def test_exec_into_ovnkube_node_runs_ovs_and_ovn_tools_against_the_node(core, node_netns, state_dir):
    pod, target = node_netns
    out, err, code = python_exec(core, pod.metadata.namespace, pod.metadata.name, ["ovs-vsctl", "--version"],
                                 container="ovn-controller")
    assert code == 0, err
    assert out.startswith("ovs-vsctl (Open vSwitch)")
    out, _, code = python_exec(core, pod.metadata.namespace, pod.metadata.name,
                               ["sh", "-c", 'echo "$OVN_RUNDIR"'], container="ovn-controller")
    assert (out.strip(), code) == (str(state_dir / "ovn" / "worker-0"), 0)
    if (Path(target["env"]["OVN_RUNDIR"]) / "ovnnb_db.sock").exists():  # the data plane runs
        out, err, code = python_exec(core, pod.metadata.namespace, pod.metadata.name, ["ovn-nbctl", "show"],
                                     container="ovn-controller")
        assert code == 0, err


# --- labctl exec -----------------------------------------------------------------------------------

def run_labctl_exec(*args):
    return subprocess.run([sys.executable, str(labctl.LAB_DIR / "labctl.py"), "exec", *args],
                          capture_output=True, text=True, timeout=60, check=False)


@pytest.fixture
def lan_host(state_dir, test_netns):
    name = f"testhost-{uuid.uuid4().hex[:6]}"
    target = state_dir / "exec-targets" / "hosts" / f"{name}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps({"netns": test_netns, "env": {}}))
    yield name
    target.unlink()


def test_labctl_exec_runs_in_the_hosts_netns_with_its_exit_code(lab_kubeconfig, lan_host):
    result = run_labctl_exec(lan_host, "--", "ip", "-o", "addr", "show", "probe0")
    assert result.returncode == 0, result.stderr
    assert "inet " + TEST_ADDRESS in result.stdout
    assert run_labctl_exec(lan_host, "--", "sh", "-c", "exit 3").returncode == 3


def test_labctl_exec_unknown_host_lists_the_known_ones(lab_kubeconfig, lan_host):
    result = run_labctl_exec("no-such-host", "--", "true")
    assert result.returncode != 0
    assert len(result.stderr.strip().splitlines()) == 1
    assert "unknown host 'no-such-host'" in result.stderr and lan_host in result.stderr
