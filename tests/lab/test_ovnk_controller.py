"""The lab's real ovnkube (OVN-Kubernetes dad2fde5a, lab/controlplane/ovnkube.py): NADs, pods and
MultiNetworkPolicies made through the API server end up in worker-0's Northbound database as on
the seed's OpenShift 4.15 cluster.

worker-0's NB is the data plane's (STATE_DIR/ovn/worker-0/ovnnb_db.sock). The seed's CNV-stage policies are
applied in a fresh namespace on a fresh network name, so port group names differ from the seed's
only by the hash of those names (ovn_names.policy_port_group_name, upstream's formula, checked
against the seed's names in test_ovn_names.py); every `acl-list` line must otherwise be the
seed's, and so must every column but `_uuid` of the seed's ten ACL records and of a VM launcher's
logical switch port (the seed's `ovn-nbctl list` output, with its names replaced by this test's).
"""
import json
import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

import ovnk_seed as seed
from lab_helpers import wait_for
from ovn_names import SEED_ERA, logical_port_name, nbctl_runner, policy_port_group_name, switch_name

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
        seed_name, _ = policy_port_group_name("localnet-cnv", seed.NAMESPACE, policy, SEED_ERA)
        name, _ = policy_port_group_name(network, namespace, policy)
        renamed[name] = [line.replace(seed_name, name) for line in seed.seed_port_groups()[seed_name]["acl_list"]]
    return renamed


def acl_lists(directory, names):
    run = nbctl_runner(directory)
    present = run(["--bare", "--columns=name", "list", "Port_Group"]).split()
    return {name: run(["--type=port-group", "acl-list", name]).splitlines() if name in present else None
            for name in names}


def renamed_text(text, namespace, network):
    """The seed's text with its port group names, network and namespace replaced by this test's."""
    for policy in SEED_POLICY_NAMES:
        text = text.replace(policy_port_group_name("localnet-cnv", seed.NAMESPACE, policy, SEED_ERA)[0],
                            policy_port_group_name(network, namespace, policy)[0])
    return text.replace("localnet-cnv", network).replace(seed.NAMESPACE, namespace)


def without_uuid(record):
    return {column: value for column, value in record.items() if column != "_uuid"}


def acl_tiers(directory):
    """{k8s.ovn.org/id: tier} of the NB's ACLs. Debian's ovn-nbctl (23.03) does not know the
    column the lab's NB serves for ovnkube, so it is read with an OVSDB query (RFC 7047)."""
    query = ["OVN_Northbound", {"op": "select", "table": "ACL", "where": [], "columns": ["external_ids", "tier"]}]
    result = subprocess.run(["ovsdb-client", "query", f"unix:{directory}/ovnnb_db.sock", json.dumps(query)],
                            check=True, capture_output=True, text=True)
    return {dict(row["external_ids"][1]).get("k8s.ovn.org/id"): row["tier"]
            for row in json.loads(result.stdout)[0]["rows"]}


def assert_seed_acl_records(run, directory, namespace, network):
    """Each of the seed's ACL records (`ovn-nbctl list ACL`), renamed, is one real ovnkube wrote,
    column for column (found by its primary id, external_ids:k8s.ovn.org/id)."""
    tiers = acl_tiers(directory)
    written = {r["external_ids"]["k8s.ovn.org/id"]: {**r, "tier": tiers.get(r["external_ids"]["k8s.ovn.org/id"])}
               for r in seed.records(run(["list", "ACL"]).splitlines()) if "k8s.ovn.org/id" in r.get("external_ids", {})}
    expected = json.loads(renamed_text(json.dumps(seed.seed_acls()), namespace, network))
    assert len(expected) == 10
    for record in expected:
        key = record["external_ids"]["k8s.ovn.org/id"]
        assert key in written, f"real ovnkube wrote no ACL {key}"
        assert without_uuid(written[key]) == without_uuid(record), key


def assert_seed_launcher_port(run, port, uid, namespace, network):
    """The seed's gold-rabbit launcher port record, with this test's names, node and pod UID
    (iface-id-ver) in place of the seed's; `up` is left out (no guest is plugged here)."""
    [record] = seed.records(run(["find", "Logical_Switch_Port", f"name={port}"]).splitlines())
    expected = without_uuid(seed.seed_lsp())
    expected.update(name=port, options={"iface-id-ver": uid, "requested-chassis": NODE}, external_ids={
        **expected["external_ids"], "k8s.ovn.org/nad": f"{namespace}/{seed.NAD_NAME}",
        "k8s.ovn.org/network": network, "namespace": namespace})
    assert {c: v for c, v in without_uuid(record).items() if c != "up"} == \
        {c: v for c, v in expected.items() if c != "up"}


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

    run = nbctl_runner(worker_nb)
    assert_seed_acl_records(run, worker_nb, lab_namespace, network)
    port = logical_port_name(lab_namespace, seed.NAD_NAME, lab_namespace, "tinypod")
    launcher = logical_port_name(lab_namespace, seed.NAD_NAME, lab_namespace, seed.LAUNCHERS[0][0])
    # a port appears once its pod runs, which the ACLs above do not wait for
    def switch_with_both_ports():
        text = run(["show", switch_name(network)])
        return text if f"port {port}\n" in text and f"port {launcher}\n" in text else None

    shown = wait_for("tinypod's and a VM launcher's ports on the switch", switch_with_both_ports)
    assert 'addresses: ["0a:58:c0:a8:4d:5b 192.168.77.91"]' in shown and 'addresses: ["02:00:a3:00:00:01"]' in shown
    uid = core.read_namespaced_pod(seed.LAUNCHERS[0][0], lab_namespace).metadata.uid
    assert_seed_launcher_port(run, launcher, uid, lab_namespace, network)

    cnv_01, _ = policy_port_group_name(network, lab_namespace, "allow-ipblock-cnv-01")
    custom.delete_namespaced_custom_object("k8s.cni.cncf.io", "v1beta1", lab_namespace, "multi-networkpolicies",
                                           "allow-ipblock-cnv-01")
    wait_for("allow-ipblock-cnv-01's port group gone", lambda: acl_lists(worker_nb, [cnv_01])[cnv_01] is None,
             timeout=60)

    custom.delete_namespaced_custom_object("k8s.cni.cncf.io", "v1", lab_namespace, "network-attachment-definitions",
                                           seed.NAD_NAME)
    wait_for("the network's switch and port groups gone", lambda: switch_name(network) not in
             run(["ls-list"]) and not any(acl_lists(worker_nb, expected).values()), timeout=60)
