"""A NAD with `network_name` (physicalNetworkName) through the network_attachment role, by the
lab's profile (issue 24).

On 4.18 (ovnkube 6c366bb49) a network `moss-*` of its own, in its own namespace, shares the seed's
bridge mapping (localnet-cnv:br-ex, as the seed's NNCP writes it): the role writes the config's
`name` moss-* and `physicalNetworkName` localnet-cnv; the nodes map no `moss-*`; each node's
localnet port carries `network_name=localnet-cnv`, and a pod on each node pings the gateway
through that mapping. On 4.15 (dad2fde5a, which ignores physicalNetworkName) the same request is
refused naming the NAD, the field and the cluster's version, and nothing is applied (the
Molecule scenario network_attachment checks the same with a good NAD beside the bad one).

Addresses: the LAN's second subnet (the gateway holds 172.16.50.1); no other test uses .61-.62.
"""
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import yaml
from kubernetes.client.rest import ApiException

from lab_helpers import wait_for
from ovn_names import LAB_ERA, localnet_port_name, nbctl_runner
from test_seed_stages import STATE_DIR, bridge_mappings, multi_network_policy, set_bridge_mappings  # noqa: F401
from test_verify_udp import pings

import dataplane  # noqa: E402  (lab/ is on sys.path once test_seed_stages is imported)

REPO_DIR = Path(__file__).resolve().parents[2]
ANSIBLE_PLAYBOOK = str(Path(sys.executable).parent / "ansible-playbook")
SEED_VARS = REPO_DIR / "inventory" / "seed_lab" / "group_vars" / "clusters" / "seed_lab.yml"
SEED_LOCALNET = yaml.safe_load(SEED_VARS.read_text())["bridge_mapping_localnet"]
NAD = "moss-net"
GATEWAY = "172.16.50.1"
PODS = {"fern": ("172.16.50.61", "worker-0"), "sedge": ("172.16.50.62", "worker-1")}
NAD_API = ("k8s.cni.cncf.io", "v1", "network-attachment-definitions")


def apply_nad(tmp_path, kubeconfig, namespace, network):
    """The network_attachment role asked for NAD moss-net: network `network` on the seed's localnet."""
    playbook = tmp_path / "nad.yml"
    playbook.write_text(yaml.safe_dump([{
        "hosts": "localhost", "gather_facts": False,
        "module_defaults": {"group/kubernetes.core.k8s": {"kubeconfig": kubeconfig},
                            "ocpvirt.multinet.owned_namespace": {"kubeconfig": kubeconfig}},
        "roles": [{"role": "ocpvirt.multinet.network_attachment", "network_attachment_known_localnets": [SEED_LOCALNET],
                   "network_attachment_read_cluster_mappings": False,
                   "network_attachment_networks": [{"name": NAD, "namespace": namespace, "localnet": SEED_LOCALNET,
                                                    "network_name": network}]}]}]))
    env = {"ANSIBLE_COLLECTIONS_PATH": str(REPO_DIR / ".venv" / "collections"), "ANSIBLE_LOCALHOST_WARNING": "false",
           "ANSIBLE_FORCE_COLOR": "0"}
    return subprocess.run([ANSIBLE_PLAYBOOK, "-i", "localhost,", "-c", "local", "-e",
                           "ansible_python_interpreter=" + sys.executable, str(playbook)],
                          cwd=tmp_path, env=dict(os.environ, **env), capture_output=True, text=True, timeout=300,
                          check=False)


@pytest.fixture
def moss(core):
    """(namespace, network) names of their own; the namespace deleted afterwards if it was made."""
    namespace, network = f"labtest-moss-{uuid.uuid4().hex[:6]}", f"moss-{uuid.uuid4().hex[:6]}"
    yield namespace, network
    try:
        core.delete_namespace(namespace)
    except ApiException as error:
        if error.status != 404:
            raise


@pytest.fixture
def seed_mapping():
    """The seed's mapping `<localnet>:br-ex` on every data-plane node (as its NNCP writes it), and
    nothing else added; the nodes' mappings put back afterwards."""
    nodes = dataplane.data_plane_nodes()
    before = {node: bridge_mappings(node) for node in nodes}
    for node in nodes:
        if f"{SEED_LOCALNET}:" not in before[node]:
            set_bridge_mappings(node, f"{SEED_LOCALNET}:br-ex,{before[node]}")
    yield
    for node in nodes:
        set_bridge_mappings(node, before[node])


@pytest.mark.skipif(LAB_ERA != "4.18", reason=f"physicalNetworkName needs OpenShift 4.18; the lab is {LAB_ERA}")
def test_418_network_shares_the_seeds_mapping_and_reaches_the_gateway(
        tmp_path, lab_kubeconfig, core, custom, moss, seed_mapping):  # pylint: disable=redefined-outer-name,unused-argument
    namespace, network = moss
    done = apply_nad(tmp_path, lab_kubeconfig, namespace, network)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    config = json.loads(custom.get_namespaced_custom_object(*NAD_API[:2], namespace, NAD_API[2], NAD)["spec"]["config"])
    assert (config["name"], config["physicalNetworkName"], config["topology"]) == (network, SEED_LOCALNET, "localnet")
    assert all(f"{network}:" not in bridge_mappings(node) for node in dataplane.data_plane_nodes())

    for name, (ip, node) in PODS.items():
        core.create_namespaced_pod(namespace, {
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "annotations": {
                "k8s.v1.cni.cncf.io/networks": json.dumps([{"name": NAD, "ips": [ip + "/24"]}])}},
            "spec": {"nodeName": node, "containers": [{"name": "c", "image": "quay.io/example/tiny:1"}]}})
    targets = [STATE_DIR / "exec-targets" / "pods" / namespace / f"{pod}.json" for pod in PODS]
    wait_for("every moss pod plugged in", lambda: all(t.exists() for t in targets), timeout=120)
    for name in PODS:
        wait_for(f"{name} to ping the gateway", lambda n=name: pings(core, namespace, n, GATEWAY), timeout=120)

    port = localnet_port_name(network)
    for node in sorted({node for _ip, node in PODS.values()}):
        run = nbctl_runner(dataplane.node_dir(STATE_DIR, node))
        assert run(["get", "Logical_Switch_Port", port, "options:network_name"]).strip().strip('"') == SEED_LOCALNET, node


@pytest.mark.skipif(LAB_ERA != "4.15", reason=f"the refusal is for OpenShift before 4.18; the lab is {LAB_ERA}")
def test_415_refuses_the_same_request_naming_field_and_version_and_applies_nothing(
        tmp_path, lab_kubeconfig, custom, moss):  # pylint: disable=redefined-outer-name
    namespace, network = moss
    done = apply_nad(tmp_path, lab_kubeconfig, namespace, network)
    assert done.returncode != 0, done.stdout[-4000:]
    text = " ".join(done.stdout.split())
    assert f"network {namespace}/{NAD} network_name: physicalNetworkName " in text, text[-3000:]
    assert "OpenShift 4.15." in text and "OVN-Kubernetes ignores it" in text, text[-3000:]
    with pytest.raises(ApiException) as missing:
        custom.get_namespaced_custom_object(*NAD_API[:2], namespace, NAD_API[2], NAD)
    assert missing.value.status == 404
