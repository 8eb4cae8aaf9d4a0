"""ocpvirt.multinet.ovn_policy_info against the lab: the seed's CNV stage applied through the API
server, the lab's real ovnkube writing each data-plane node's NB, and the module
reading those NBs back by exec into the ovnkube-node pods (the kubelet stand-in runs the command
in the node's network namespace against that node's databases).

Each policy must come back with the ACLs the seed shows (seed lines 1425-1495, port group names
renamed to this namespace's), mapped to the rule and the pod or VM they are for; the seed's
selector-peer policy must be reported refused with the reason; a node whose bridge mappings lack
the network is reported, one that has it is not.

Skips only when the lab has no ovnkube-node pod (no data plane / exec path yet).
"""
import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from kubernetes.stream import stream

import ovnk_seed as seed
from lab_helpers import wait_for
from ovn_names import SEED_ERA, policy_port_group_name, switch_name
from test_ovnk_controller import multi_network_policy_on, nad, pod_manifests, policy_manifests  # noqa: F401

REPO_DIR = Path(__file__).resolve().parents[2]
ANSIBLE = str(Path(sys.executable).parent / "ansible")
OVN_NAMESPACE = "openshift-ovn-kubernetes"
POLICY_FOR = "k8s.v1.cni.cncf.io/policy-for"  # the NAD(s) a MultiNetworkPolicy applies to
ACL_LINE = re.compile(r"^\s*(\S+)\s+(\d+) \((.*)\) (\S+)")
VMS = {name: vm for name, vm, _ in seed.LAUNCHERS}
EXPECTED_PODS = {"allow-ipblock": ["tinypod"], "allow-ipblock-01": ["tinypod-01"],
                 "allow-ipblock-cnv-01": ["VM " + seed.LAUNCHERS[0][1]],
                 "allow-ipblock-cnv-02": ["VM " + seed.LAUNCHERS[1][1]], "allow-ipblock-cnv-03": ["tinypod-01"]}


def run_module(kubeconfig, *flags, **params):
    env = {"ANSIBLE_COLLECTIONS_PATH": str(REPO_DIR / ".venv" / "collections"), "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1",
           "ANSIBLE_STDOUT_CALLBACK": "json", "ANSIBLE_LOCALHOST_WARNING": "false"}
    proc = subprocess.run([ANSIBLE, "localhost", "-c", "local", "-m", "ocpvirt.multinet.ovn_policy_info",
                           "-a", json.dumps(dict(params, kubeconfig=kubeconfig)), *flags],
                          cwd=REPO_DIR, env={**os.environ, **env}, capture_output=True, text=True)
    try:
        return json.loads(proc.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]
    except (ValueError, KeyError, IndexError):
        pytest.fail("ansible gave no task result (rc {0}):\n{1}\n{2}".format(proc.returncode, proc.stdout, proc.stderr))


@pytest.fixture
def ovnkube_nodes(core):
    """{node: ovnkube-node pod name}; skip when the lab has none."""
    pods = core.list_namespaced_pod(OVN_NAMESPACE, label_selector="app=ovnkube-node").items
    if not pods:
        pytest.skip("no ovnkube-node pod in openshift-ovn-kubernetes: the lab has no data plane / exec path")
    return {pod.spec.node_name: pod.metadata.name for pod in pods}


def vsctl(core, pod, *args):
    return stream(core.connect_get_namespaced_pod_exec, pod, OVN_NAMESPACE, container="ovn-controller",
                  command=["ovs-vsctl", *args], stdout=True, stderr=True, stdin=False, tty=False)


@pytest.fixture
def mapped_on_worker_0(core, ovnkube_nodes):
    """worker-0's bridge mappings gain the test's network (as an NNCP would), restored after."""
    pod = ovnkube_nodes["worker-0"]
    before = vsctl(core, pod, "get", "Open_vSwitch", ".", "external_ids:ovn-bridge-mappings").strip().strip('"')

    def map_network(network):
        vsctl(core, pod, "set", "Open_vSwitch", ".", f'external_ids:ovn-bridge-mappings="{network}:br-ex,{before}"')
    yield map_network
    vsctl(core, pod, "set", "Open_vSwitch", ".", f'external_ids:ovn-bridge-mappings="{before}"')


def seed_acls(namespace, network, policy):
    """(direction, priority, match, action) of the seed's acl-list of the policy's port group."""
    seed_name, _ = policy_port_group_name("localnet-cnv", seed.NAMESPACE, policy, SEED_ERA)
    name, _ = policy_port_group_name(network, namespace, policy)
    return sorted((d, int(p), m.replace(seed_name, name), a) for d, p, m, a in (
        ACL_LINE.match(line).groups() for line in seed.seed_port_groups()[seed_name]["acl_list"]))


def own_acls(policy):
    return sorted((a["ovn_direction"], a["priority"], a["match"], a["action"]) for a in policy["acls"] if a["rule_spec"])


def workloads(policy):
    return sorted("VM " + p["vm"] if p["vm"] else p["pod"] for p in policy["ports"])


def apply_seed_cnv_stage(custom, core, namespace, map_network):
    """The seed's CNV-stage pods and policies, plus its refused allow-specific-pods, on a new
    localnet network in `namespace`, mapped on worker-0 only; returns (network, <ns>/<nad>)."""
    network = f"net-{uuid.uuid4().hex[:6]}"
    custom.create_namespaced_custom_object("k8s.cni.cncf.io", "v1", namespace, "network-attachment-definitions",
                                           nad(namespace, network))
    for manifest in pod_manifests(namespace):
        core.create_namespaced_pod(namespace, manifest)
    refused = seed.load("allow-specific-pods.yaml")
    for policy in policy_manifests(namespace) + refused:
        policy["metadata"]["namespace"] = namespace
        annotations = policy["metadata"]["annotations"]
        if "/" in annotations[POLICY_FOR]:  # deny-by-default names llm-demo/<nad>
            annotations[POLICY_FOR] = f"{namespace}/{seed.NAD_NAME}"
        custom.create_namespaced_custom_object("k8s.cni.cncf.io", "v1beta1", namespace, "multi-networkpolicies",
                                               policy)
    map_network(network)
    return network, f"{namespace}/{seed.NAD_NAME}"


def wait_for_seed_acls(kubeconfig, namespace, network, target):
    """The module's result once every seed policy has its seed ACLs and workloads on every node."""
    seen = {}

    def ready():
        result = seen["last"] = run_module(kubeconfig, network=target)
        policies = {p["name"]: p for p in result.get("policies", [])}
        done = all(own_acls(policies.get(name, {"acls": []})) == seed_acls(namespace, network, name)
                   and workloads(policies[name]) == EXPECTED_PODS[name] for name in EXPECTED_PODS)
        return result if done else None
    try:
        return wait_for("the seed's ACLs read back from every node", ready, timeout=120)
    except pytest.fail.Exception:
        pytest.fail("the module never returned the seed's ACLs; last result:\n" + json.dumps(seen.get("last"), indent=1))


def test_seed_cnv_stage_mapped_back(no_bridge_mapping_policies, lab_kubeconfig, custom, core, lab_namespace,
                                    ovnkube_nodes, multi_network_policy_on, mapped_on_worker_0):  # noqa: F811
    network, target = apply_seed_cnv_stage(custom, core, lab_namespace, mapped_on_worker_0)
    result = wait_for_seed_acls(lab_kubeconfig, lab_namespace, network, target)
    policies = {p["name"]: p for p in result["policies"]}

    cnv_01 = policies["allow-ipblock-cnv-01"]
    rules = {acl["match"].split(" && ")[0]: acl["rule"] for acl in cnv_01["acls"] if acl["rule_spec"]}
    assert rules == {"ip4.dst == 0.0.0.0/0": "spec.egress[0].to[0]", "ip4.dst == 192.168.77.1/32": "spec.egress[0].to[1]",
                     "ip4.dst == 192.168.77.92/32": "spec.egress[0].to[2]",
                     "ip4.src == 192.168.77.1/32": "spec.ingress[0].from[0]",
                     "ip4.src == 192.168.77.92/32": "spec.ingress[0].from[1]"}
    assert [p["node"] for p in cnv_01["ports"]] == ["worker-0"]
    deny = policies["deny-by-default"]
    assert sorted((a["direction"], a["action"]) for a in deny["acls"]) == [
        ("Egress", "allow"), ("Egress", "drop"), ("Ingress", "allow"), ("Ingress", "drop")]
    assert len(deny["ports"]) == 5
    for name in EXPECTED_PODS:
        assert policies[name]["findings"] == [], name
        # the port group of the lab's era (4.18: the hash of its k8s.ovn.org/id), on every rule's ACL
        group, _ = policy_port_group_name(network, lab_namespace, name)
        assert policies[name]["port_groups"] == [group], name
        assert {acl["port_group"] for acl in policies[name]["acls"] if acl["rule_spec"]} == {group}, name

    finding, = policies["allow-specific-pods"]["findings"]
    assert "refused by OVN-Kubernetes: spec.ingress[0].from[0] is a podSelector/namespaceSelector peer" in finding
    assert policies["allow-specific-pods"]["acls"] == []

    unmapped = sorted(node for node in result["nodes"] if node != "worker-0")
    reported = sorted(f.split(":")[0] for f in result["findings"] if f"has no entry for {network}," in f)
    assert reported == [f"node {node}" for node in unmapped]
    assert result["switches"]["worker-0"] == switch_name(network)

    checked = run_module(lab_kubeconfig, "--check", network=target)
    assert checked["policies"] == result["policies"] and checked["changed"] is False


def test_unknown_nad_fails_naming_it(lab_kubeconfig, lab_namespace, ovnkube_nodes):
    result = run_module(lab_kubeconfig, network=f"{lab_namespace}/no-such-nad")
    assert result.get("failed") is True
    assert f"network: no such NetworkAttachmentDefinition (got '{lab_namespace}/no-such-nad')" in result["msg"]
