"""The lab's real OVN-Kubernetes (issue 21): ovnkube built from the upstream source at the lab
profile's commit (dad2fde5a for 4.15, 6c366bb49 for 4.18; the port group names of that era) runs as cluster-manager plus one ovnkube-controller per node zone, supervised like the other
daemons, and writes the nodes' Northbound databases itself.

A lab of its own (its own OCPVIRT_LAB_DIR, so its own ports and network namespaces; this test
rewrites the nodes' bridge mappings and kills a controller) is brought up and down again at the
end. `labctl up` builds ovnkube when it is not cached.

- `status` names the ovnkube processes; `up` restarts a dead one.
- A scenario sharing nothing with the seed (namespace `grove-*`, 172.16.50.0/24): a default deny
  plus one ipBlock allow; real ovnkube's logical switch ports carry the MAC and addresses of its
  own pod-networks annotation, its port groups and ACLs have the names and lines upstream's
  formulas give, and pings obey them. With useMultiNetworkPolicy switched off, ovnkube is rolled
  out without its flag and the policies stop holding.
(The seed's CNV stage on real ovnkube, line by line: test_ovnk_controller.py.)
"""
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from kubernetes import client, config

import ovnk_seed  # noqa: F401  (puts lab/ on sys.path)
from lab_helpers import wait_for
from ovn_names import default_deny_port_group_name, localnet_port_name, logical_port_name, nbctl_runner, \
    policy_port_group_name, switch_name

import dataplane  # noqa: E402

REPO_DIR = Path(__file__).resolve().parents[2]
LABCTL = REPO_DIR / "lab" / "labctl.py"
MNP = ("k8s.cni.cncf.io", "v1beta1", "multi-networkpolicies")
NAD_API = ("k8s.cni.cncf.io", "v1", "network-attachment-definitions")
NODE = "worker-0"
# (address on the LAN's second subnet, node); the gateway holds 172.16.50.1 there. The policy's
# pods share worker-0: a node whose ports only a default deny selects has no stateful ACL, so OVN
# drops the replies to its pods (birch, on worker-1, pings only before the policies).
GROVE_PODS = {"oak": ("172.16.50.41", "worker-0"), "elm": ("172.16.50.42", "worker-0"),
              "ash": ("172.16.50.43", "worker-0"), "birch": ("172.16.50.44", "worker-1")}
GATEWAY_NETNS_HOST = "gateway"


def ovnkube_components():
    return ["ovnkube-cluster-manager", *(f"ovnkube-controller-{n}" for n in dataplane.data_plane_nodes())]


def multi_network_policy_flag(state_dir, component):
    """Whether the running process of `component` was started with the flag; None while it is
    being restarted (no pid file between the stop and the start of a rollout)."""
    pid_file = state_dir / f"{component}.pid"
    try:
        record = json.loads(pid_file.read_text())
    except FileNotFoundError:
        return None
    return Path(f"/proc/{record['pid']}").exists() and "--enable-multi-networkpolicy" in record["argv"]


def rolled_out(state_dir, flag):
    """Every ovnkube component runs, with (flag True) or without (False) the flag."""
    return all(multi_network_policy_flag(state_dir, c) is flag for c in ovnkube_components())


def labctl(env, *args, check=True):
    return subprocess.run([sys.executable, str(LABCTL), *args], env=env, check=check, stdout=subprocess.PIPE,
                          text=True)


@pytest.fixture(scope="module")
def real_lab(tmp_path_factory):
    """(state dir, env, API client) of a lab of its own running the real ovnkube, with
    useMultiNetworkPolicy on (rolled out into ovnkube's flags by the network operator stand-in)."""
    state_dir = tmp_path_factory.mktemp("real-ovnk")
    env = dict(os.environ, OCPVIRT_LAB_DIR=str(state_dir))
    try:
        kubeconfig = labctl(env, "up").stdout.strip().splitlines()[-1]
        api = config.new_client_from_config(config_file=kubeconfig)
        assert rolled_out(state_dir, False)
        client.CustomObjectsApi(api).patch_cluster_custom_object(
            "operator.openshift.io", "v1", "networks", "cluster", {"spec": {"useMultiNetworkPolicy": True}})
        wait_for("ovnkube rolled out with --enable-multi-networkpolicy",
                 lambda: rolled_out(state_dir, True), timeout=120)
        yield state_dir, env, api
    finally:
        labctl(env, "down", "--purge", check=False)


def test_status_names_the_ovnkube_processes_and_up_restarts_a_dead_one(real_lab):
    state_dir, env, _ = real_lab
    shown = labctl(env, "status").stdout
    for component in ovnkube_components():
        assert f"{component:26} running, pid" in shown
    record = json.loads((state_dir / "ovnkube-controller-worker-1.pid").read_text())
    os.kill(record["pid"], 9)
    wait_for("the killed controller to be gone", lambda: not Path(f"/proc/{record['pid']}").exists(), timeout=10)
    degraded = labctl(env, "status", check=False)
    assert degraded.returncode == 1 and f"{'ovnkube-controller-worker-1':26} not running" in degraded.stdout
    labctl(env, "up")
    assert labctl(env, "status").returncode == 0


def set_bridge_mappings(state_dir, node, value):
    subprocess.run(["ovs-vsctl", "set", "Open_vSwitch", ".", f'external_ids:ovn-bridge-mappings="{value}"'],
                   env={**os.environ, **dataplane.node_env(state_dir, node)}, check=True)


def netns_of(state_dir, namespace, pod):
    return json.loads((state_dir / "exec-targets" / "pods" / namespace / f"{pod}.json").read_text())["netns"]


def pings(netns, address):
    return subprocess.run(["ip", "netns", "exec", netns, "ping", "-c", "1", "-W", "1", address],
                          capture_output=True, check=False).returncode == 0


def grove_policies(namespace, nad_name):
    network = f"{namespace}/{nad_name}"
    annotations = {"k8s.v1.cni.cncf.io/policy-for": network}
    return [{"apiVersion": "k8s.cni.cncf.io/v1beta1", "kind": "MultiNetworkPolicy",
             "metadata": {"name": "grove-deny", "namespace": namespace, "annotations": annotations},
             "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}},
            {"apiVersion": "k8s.cni.cncf.io/v1beta1", "kind": "MultiNetworkPolicy",
             "metadata": {"name": "grove-elm-to-oak", "namespace": namespace, "annotations": annotations},
             "spec": {"podSelector": {"matchLabels": {"app": "oak"}}, "policyTypes": ["Ingress"],
                      "ingress": [{"from": [{"ipBlock": {"cidr": f"{GROVE_PODS['elm'][0]}/32"}}]}]}}]


def lsp_addresses(run, switch):
    """{port name: addresses column} of the switch's ports."""
    ports = {}
    for line in run(["--bare", "--columns=ports", "find", "Logical_Switch", f"name={switch}"]).split():
        name = run(["get", "Logical_Switch_Port", line, "name"]).strip().strip('"')
        ports[name] = run(["get", "Logical_Switch_Port", line, "addresses"]).strip()
    return ports


def pod_network(core, namespace, pod, nad_name):
    """`<mac> <ip>` of the pod on the NAD, as ovnkube annotated it (k8s.ovn.org/pod-networks)."""
    annotations = core.read_namespaced_pod(pod, namespace).metadata.annotations
    chosen = json.loads(annotations["k8s.ovn.org/pod-networks"])[f"{namespace}/{nad_name}"]
    return " ".join([chosen["mac_address"], *(ip.split("/")[0] for ip in chosen["ip_addresses"])])


def port_names(run, group):
    """Names of the logical switch ports in port group `group` (None if there is no such group)."""
    if group not in run(["--bare", "--columns=name", "list", "Port_Group"]).split():
        return None
    uuids = run(["--bare", "--columns=ports", "find", "Port_Group", f"name={group}"]).split()
    return sorted(run(["get", "Logical_Switch_Port", u, "name"]).strip().strip('"') for u in uuids)


def test_own_scenario_is_written_by_upstreams_rules_and_pings_obey_it(real_lab):
    state_dir, _, api = real_lab
    core, custom = client.CoreV1Api(api), client.CustomObjectsApi(api)
    namespace, network, nad_name = f"grove-{uuid.uuid4().hex[:6]}", f"grove-{uuid.uuid4().hex[:6]}", "grove-net"
    nodes = dataplane.data_plane_nodes()
    for node in nodes:  # as an NNCP would map the new localnet to br-ex
        set_bridge_mappings(state_dir, node, f"{network}:br-ex,physnet:br-ex")
    core.create_namespace({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    nad_config = {"cniVersion": "0.3.1", "name": network, "type": "ovn-k8s-cni-overlay", "topology": "localnet",
                  "netAttachDefName": f"{namespace}/{nad_name}"}
    custom.create_namespaced_custom_object(*NAD_API[:2], namespace, NAD_API[2], {
        "apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition",
        "metadata": {"name": nad_name}, "spec": {"config": json.dumps(nad_config)}})
    for name, (ip, node) in GROVE_PODS.items():
        core.create_namespaced_pod(namespace, {
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "labels": {"app": name}, "annotations": {
                "k8s.v1.cni.cncf.io/networks": json.dumps([{"name": nad_name, "ips": [ip + "/24"]}])}},
            "spec": {"nodeName": node, "containers": [{"name": "c", "image": "quay.io/example/tiny:1"}]}})
    targets = [state_dir / "exec-targets" / "pods" / namespace / f"{pod}.json" for pod in GROVE_PODS]
    wait_for("every grove pod plugged in", lambda: all(t.exists() for t in targets), timeout=180)
    oak = GROVE_PODS["oak"][0]
    for source in ("elm", "ash", "birch"):  # within worker-0, and across the LAN from worker-1
        wait_for(f"{source} to ping oak before any policy",
                 lambda s=source: pings(netns_of(state_dir, namespace, s), oak), timeout=120)

    for policy in grove_policies(namespace, nad_name):
        custom.create_namespaced_custom_object(*MNP[:2], namespace, MNP[2], policy)
    wait_for("ash's ping to oak blocked", lambda: not pings(netns_of(state_dir, namespace, "ash"), oak), timeout=120)
    assert pings(netns_of(state_dir, namespace, "elm"), oak), "the ipBlock allow lets elm reach oak"
    gateway = json.loads((state_dir / "exec-targets" / "hosts" / f"{GATEWAY_NETNS_HOST}.json").read_text())["netns"]
    assert not pings(gateway, oak), "the gateway is not in the allowed ipBlock"
    assert not pings(netns_of(state_dir, namespace, "birch"), oak), "birch is not in the allowed ipBlock"

    # Each zone has its own pods' ports, with the MAC and address ovnkube annotated (and the CNI
    # stand-in plugged), the localnet port, and the policy port groups of upstream's names.
    allow, _ = policy_port_group_name(network, namespace, "grove-elm-to-oak")
    deny = default_deny_port_group_name(network, namespace, "Ingress")
    for node in nodes:
        run = nbctl_runner(dataplane.node_dir(state_dir, node))
        expected = {logical_port_name(namespace, nad_name, namespace, pod): f'["{pod_network(core, namespace, pod, nad_name)}"]'
                    for pod, (_, pod_node) in GROVE_PODS.items() if pod_node == node}
        local = sorted(expected)
        expected[localnet_port_name(network)] = "[unknown]"
        assert lsp_addresses(run, switch_name(network)) == expected, node
        assert port_names(run, deny) == local, node  # grove-deny selects every pod
        oak_port = logical_port_name(namespace, nad_name, namespace, "oak")
        assert port_names(run, allow) == [p for p in local if p == oak_port], node
    run = nbctl_runner(dataplane.node_dir(state_dir, NODE))
    assert run(["--type=port-group", "acl-list", allow]).splitlines() == [
        f"  to-lport  1001 (ip4.src == {GROVE_PODS['elm'][0]}/32 && outport == @{allow}) allow-related"]

    # The switch off: the network operator stand-in rolls ovnkube out without the flag, and the
    # policies no longer hold (ovnkube leaves their port groups in NB, emptied).
    custom.patch_cluster_custom_object("operator.openshift.io", "v1", "networks", "cluster",
                                       {"spec": {"useMultiNetworkPolicy": False}})
    wait_for("ovnkube rolled out without the flag",
             lambda: rolled_out(state_dir, False), timeout=120)
    wait_for("ash's ping to oak through again", lambda: pings(netns_of(state_dir, namespace, "ash"), oak), timeout=180)
    assert all(not port_names(run, group) for group in (allow, deny))
    core.delete_namespace(namespace)
