"""The simulator's OVN-Kubernetes controller on the lab: NADs, pods and MultiNetworkPolicies made
through the API server end up in worker-0's Northbound database.

worker-0's NB is the data plane's (STATE_DIR/ovn/worker-0/ovnnb_db.sock). The seed's CNV-stage policies are
applied in a fresh namespace on a fresh network name, so port group names differ from the seed's
only by the hash of those names (ovnk.policy_port_group_name, checked against the seed in
test_ovnk_logic.py); every `acl-list` line must otherwise be the seed's.
"""
import json
import os
import shutil
import uuid
from pathlib import Path

import pytest

import ovnk_seed as seed
from lab_helpers import wait_for
from simulator import ovnk, ovnk_sync

REPO_DIR = Path(__file__).resolve().parents[2]
STATE_DIR = Path(os.environ.get("OCPVIRT_LAB_DIR") or REPO_DIR / ".lab").resolve()
NODE = "worker-0"
SEED_POLICY_NAMES = {"allow-ipblock", "allow-ipblock-01", "allow-ipblock-cnv-01", "allow-ipblock-cnv-02",
                     "allow-ipblock-cnv-03"}

pytestmark = pytest.mark.skipif(not (shutil.which("ovsdb-server") and shutil.which("ovn-nbctl")),
                                reason="needs ovsdb-server and ovn-nbctl (Debian ovn-central)")


@pytest.fixture
def worker_nb(lab_kubeconfig):
    """worker-0's Northbound database, as the lab's data plane runs it."""
    directory = STATE_DIR / "ovn" / NODE
    assert (directory / "ovnnb_db.sock").exists(), "the lab's data plane runs worker-0's NB"
    return directory


@pytest.fixture
def multi_network_policy_on(custom):
    before = custom.get_cluster_custom_object("operator.openshift.io", "v1", "networks", "cluster")
    previous = (before.get("spec") or {}).get("useMultiNetworkPolicy")
    custom.patch_cluster_custom_object("operator.openshift.io", "v1", "networks", "cluster",
                                       {"spec": {"useMultiNetworkPolicy": True}})
    yield
    custom.patch_cluster_custom_object("operator.openshift.io", "v1", "networks", "cluster",
                                       {"spec": {"useMultiNetworkPolicy": previous}})


def nad(namespace, network):
    config = {"cniVersion": "0.3.1", "name": network, "type": "ovn-k8s-cni-overlay", "topology": "localnet",
              "netAttachDefName": f"{namespace}/{seed.NAD_NAME}"}
    return {"apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition",
            "metadata": {"name": seed.NAD_NAME, "namespace": namespace}, "spec": {"config": json.dumps(config)}}


def pod_manifests(namespace):
    """The seed's three pods and two VM launcher pods, bound to worker-0."""
    manifests = seed.load("pod.yaml") + [seed.launcher(*spec, namespace=namespace) for spec in seed.LAUNCHERS]
    for manifest in manifests:
        manifest.setdefault("apiVersion", "v1")
        manifest.setdefault("kind", "Pod")
        manifest["metadata"]["namespace"] = namespace
        manifest["spec"]["nodeName"] = NODE
        manifest["spec"]["containers"] = [{"name": "c", "image": "quay.io/example/tiny:1"}]
    return manifests


def policy_manifests(namespace):
    policies = seed.load(*seed.CNV_STAGE)
    for policy in policies:
        policy["metadata"]["namespace"] = namespace
    return policies


def expected_acl_lists(namespace, network):
    """The seed's acl-list lines with its port group names replaced by this namespace's."""
    renamed = {}
    for policy in SEED_POLICY_NAMES:
        seed_name, _ = ovnk.policy_port_group_name("localnet-cnv", seed.NAMESPACE, policy)
        name, _ = ovnk.policy_port_group_name(network, namespace, policy)
        renamed[name] = [line.replace(seed_name, name) for line in seed.seed_port_groups()[seed_name]["acl_list"]]
    return renamed


def acl_lists(directory, names):
    run = ovnk_sync.nbctl_runner(directory)
    present = run(["--bare", "--columns=name", "list", "Port_Group"]).split()
    return {name: run(["--type=port-group", "acl-list", name]).splitlines() if name in present else None
            for name in names}


def test_seed_cnv_stage_reaches_the_nodes_nb(custom, core, lab_namespace, worker_nb, multi_network_policy_on):
    network = f"net-{uuid.uuid4().hex[:6]}"
    custom.create_namespaced_custom_object("k8s.cni.cncf.io", "v1", lab_namespace, "network-attachment-definitions",
                                           nad(lab_namespace, network))
    for manifest in pod_manifests(lab_namespace):
        core.create_namespaced_pod(lab_namespace, manifest)
    for policy in policy_manifests(lab_namespace):
        custom.create_namespaced_custom_object("k8s.cni.cncf.io", "v1beta1", lab_namespace, "multi-networkpolicies",
                                               policy)
    expected = expected_acl_lists(lab_namespace, network)
    wait_for("the seed's ACLs in worker-0's NB", lambda: acl_lists(worker_nb, expected) == expected, timeout=90)

    run = ovnk_sync.nbctl_runner(worker_nb)
    port = ovnk.logical_port_name(lab_namespace, seed.NAD_NAME, lab_namespace, "tinypod")
    launcher = ovnk.logical_port_name(lab_namespace, seed.NAD_NAME, lab_namespace, seed.LAUNCHERS[0][0])
    # a port appears once its pod runs, which the ACLs above do not wait for
    def switch_with_both_ports():
        text = run(["show", ovnk.switch_name(network)])
        return text if f"port {port}\n" in text and f"port {launcher}\n" in text else None

    shown = wait_for("tinypod's and a VM launcher's ports on the switch", switch_with_both_ports)
    assert 'addresses: ["0a:58:c0:a8:4d:5b 192.168.77.91"]' in shown and 'addresses: ["02:00:a3:00:00:01"]' in shown

    cnv_01, _ = ovnk.policy_port_group_name(network, lab_namespace, "allow-ipblock-cnv-01")
    custom.delete_namespaced_custom_object("k8s.cni.cncf.io", "v1beta1", lab_namespace, "multi-networkpolicies",
                                           "allow-ipblock-cnv-01")
    wait_for("allow-ipblock-cnv-01's port group gone", lambda: acl_lists(worker_nb, [cnv_01])[cnv_01] is None,
             timeout=60)

    custom.delete_namespaced_custom_object("k8s.cni.cncf.io", "v1", lab_namespace, "network-attachment-definitions",
                                           seed.NAD_NAME)
    wait_for("the network's switch and port groups gone", lambda: ovnk.switch_name(network) not in
             run(["ls-list"]) and not any(acl_lists(worker_nb, expected).values()), timeout=60)
