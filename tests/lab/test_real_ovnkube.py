"""The lab with the real OVN-Kubernetes (OCPVIRT_LAB_OVNK=real, issue 21): ovnkube built from the
upstream source at dad2fde5a runs as cluster-manager plus one ovnkube-controller per node zone,
and writes the nodes' Northbound databases itself; the simulator's emulation stays off.

A lab of its own (its own OCPVIRT_LAB_DIR, so its own ports and network namespaces) is brought up
in real mode and down again at the end. Skipped unless ovnkube is built and cached
(`labctl build-ovnkube`): `make test` never builds it.

- The seed's CNV-stage policies, applied in a fresh namespace on a fresh network name, give the
  seed's `acl-list` lines in worker-0's NB (port group names differ only by the hash of those
  names), as with the emulation (test_ovnk_controller.py).
- A scenario sharing nothing with the seed (namespace `grove-*`, 172.16.50.0/24): a default deny
  plus one ipBlock allow; what real ovnkube wrote is what the emulation would write for the same
  objects, and pings obey it. With useMultiNetworkPolicy switched off, ovnkube is rolled out
  without its flag and the policies stop holding.
"""
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from kubernetes import client, config

import ovnk_seed as seed
from lab_helpers import wait_for
from test_ovnk_controller import acl_lists, expected_acl_lists, nad, pod_manifests, policy_manifests

from controlplane import ovnkube  # noqa: E402  (lab/ is on sys.path once ovnk_seed is imported)
import dataplane  # noqa: E402
from simulator import ovnk, ovnk_sync  # noqa: E402

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


def cached_ovnkube():
    source = ovnkube.tarball(repo_dir=REPO_DIR)
    if not source.is_file():
        return None
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ocpvirt-multinet-lab"
    binary = ovnkube.binary_path(cache, ovnkube.sha256_file(source))
    return binary if binary.exists() else None


pytestmark = pytest.mark.skipif(cached_ovnkube() is None,
                                reason="ovnkube is not built: run `lab/labctl.py build-ovnkube` first "
                                       "(make test does not build it)")


def ovnkube_components():
    return ["ovnkube-cluster-manager", *(f"ovnkube-controller-{n}" for n in dataplane.data_plane_nodes())]


def multi_network_policy_flag(state_dir, component):
    """Whether the running process of `component` was started with the flag."""
    record = json.loads((state_dir / f"{component}.pid").read_text())
    return Path(f"/proc/{record['pid']}").exists() and "--enable-multi-networkpolicy" in record["argv"]


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
        assert not any(multi_network_policy_flag(state_dir, c) for c in ovnkube_components())
        client.CustomObjectsApi(api).patch_cluster_custom_object(
            "operator.openshift.io", "v1", "networks", "cluster", {"spec": {"useMultiNetworkPolicy": True}})
        wait_for("ovnkube rolled out with --enable-multi-networkpolicy",
                 lambda: all(multi_network_policy_flag(state_dir, c) for c in ovnkube_components()), timeout=120)
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


def test_simulator_runs_no_emulation(real_lab):
    state_dir, _, _ = real_lab
    text = (state_dir / "simulator.log").read_text()
    assert "(OVN-Kubernetes: labctl runs the real ovnkube)" in text
    assert "simulator.ovn-kubernetes" not in text  # the emulation's logger


def test_seed_cnv_stage_gives_the_seeds_acls_from_real_ovnkube(real_lab):
    state_dir, _, api = real_lab
    core, custom = client.CoreV1Api(api), client.CustomObjectsApi(api)
    namespace, network = f"realseed-{uuid.uuid4().hex[:6]}", f"net-{uuid.uuid4().hex[:6]}"
    core.create_namespace({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    custom.create_namespaced_custom_object(*NAD_API[:2], namespace, NAD_API[2], nad(namespace, network))
    for manifest in pod_manifests(namespace):
        core.create_namespaced_pod(namespace, manifest)
    for policy in policy_manifests(namespace):
        custom.create_namespaced_custom_object(*MNP[:2], namespace, MNP[2], policy)
    worker_nb = dataplane.node_dir(state_dir, NODE)
    expected = expected_acl_lists(namespace, network)
    wait_for("the seed's ACLs in worker-0's NB, written by ovnkube", lambda: acl_lists(worker_nb, expected) == expected,
             timeout=180)
    # ovnkube's own LSP for tinypod: the seed's MAC for .91, and the pod's UID as iface-id-ver
    port = ovnk.logical_port_name(namespace, seed.NAD_NAME, namespace, "tinypod")
    run = ovnk_sync.nbctl_runner(worker_nb)
    wait_for("tinypod's port", lambda: port in run(["--bare", "--columns=name", "list", "Logical_Switch_Port"]))
    uid = core.read_namespaced_pod("tinypod", namespace).metadata.uid
    assert run(["get", "Logical_Switch_Port", port, "addresses"]).strip() == '["0a:58:c0:a8:4d:5b 192.168.77.91"]'
    assert run(["get", "Logical_Switch_Port", port, "options:iface-id-ver"]).strip().strip('"') == uid
    core.delete_namespace(namespace)


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


def plain(api, objects):
    return [api.sanitize_for_serialization(o) if not isinstance(o, dict) else o for o in objects]


def test_own_scenario_matches_the_emulation_and_pings_obey_it(real_lab):
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

    # What real ovnkube wrote into each zone's NB is what the emulation writes for these objects.
    snapshot = ovnk.Snapshot(
        plain(api, custom.list_namespaced_custom_object(*NAD_API[:2], namespace, NAD_API[2])["items"]),
        plain(api, core.list_namespaced_pod(namespace).items),
        plain(api, custom.list_namespaced_custom_object(*MNP[:2], namespace, MNP[2])["items"]), True)
    for node in nodes:
        desired = ovnk.desired_nb(snapshot, node)
        current, columns = ovnk_sync.current_nb(ovnk_sync.nbctl_runner(dataplane.node_dir(state_dir, node)))
        assert desired.port_groups, "the emulation expects port groups for this scenario"
        for name, group in desired.port_groups.items():
            real = current.port_groups.get(name)
            assert real is not None, f"{node}: real ovnkube wrote no port group {name} ({group['external_ids']})"
            assert (real["ports"], real["external_ids"]) == (group["ports"], group["external_ids"]), f"{node} {name}"
            wanted = {key: {c: acl.get(c) for c in columns} for key, acl in group["acls"].items()}
            written = {key: {c: acl.get(c) for c in columns} for key, acl in real["acls"].items()}
            assert written == wanted, f"{node} {name}"
        switch = ovnk.switch_name(network)
        assert {p: lsp["addresses"] for p, lsp in current.switches[switch]["ports"].items()} == \
            {p: lsp["addresses"] for p, lsp in desired.switches[switch]["ports"].items()}, node

    # The switch off: the network operator stand-in rolls ovnkube out without the flag, and the
    # policies no longer hold (ovnkube leaves their port groups in NB, emptied).
    custom.patch_cluster_custom_object("operator.openshift.io", "v1", "networks", "cluster",
                                       {"spec": {"useMultiNetworkPolicy": False}})
    wait_for("ovnkube rolled out without the flag",
             lambda: not any(multi_network_policy_flag(state_dir, c) for c in ovnkube_components()), timeout=120)
    wait_for("ash's ping to oak through again", lambda: pings(netns_of(state_dir, namespace, "ash"), oak), timeout=180)
    left = ovnk_sync.current_nb(ovnk_sync.nbctl_runner(dataplane.node_dir(state_dir, NODE)))[0].port_groups
    policy_groups = ovnk.desired_nb(snapshot, NODE).port_groups
    assert all(not left[name]["ports"] for name in policy_groups if name in left)
    core.delete_namespace(namespace)
