"""The seed's policy stages replayed on the lab with real packets.

The seed's three pods (tests/unit/fixtures/seed_policies/pod.yaml, verbatim) and its two VMs
(MACs, labels and cloud-init addresses of the seed) run in a fresh namespace on a fresh localnet
network mapped to br-ex on every node; the seed's MultiNetworkPolicies (verbatim, with the seed's
own `$var_namespace` set to this namespace) are applied stage by stage, and each ping the seed
observed is sent for real: from pods through the API server's exec (the kubelet stand-in runs
it in the pod's network namespace), from VM guests and LAN hosts through `labctl exec`. The
addresses are the seed's, so nothing else on the lab's LAN may hold them (`make teardown`
removes the demo's workloads).

Seed text: deny-all lines 394-470, allow-ipblock/-01 545-660 (the ingress-only deny at 595),
the CNV stage 770-936 (tests/lab/ovnk_seed.py SEED_PINGS, 8.8.8.8 -> 203.0.113.10),
the refused selector peer 502-519 and 698.
"""
import json
import os
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

import ovnk_seed as seed
from lab_helpers import wait_for
from test_exec import python_exec
from test_ovnk_controller import expected_acl_lists

REPO_DIR = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_DIR / "lab"))

import dataplane  # noqa: E402
from controlplane.state import STATE_DIR  # noqa: E402
from simulator import ovn_node_pods  # noqa: E402

LABCTL = REPO_DIR / "lab" / "labctl.py"
PODS = {"192.168.77.91": "tinypod", "192.168.77.92": "tinypod-01", "192.168.77.93": "tinypod-02"}
VMS = {"192.168.77.71": seed.LAUNCHERS[0], "192.168.77.72": seed.LAUNCHERS[1]}  # (launcher, vm, mac)
HOSTS = {"192.168.77.1": "gateway", "192.168.77.10": "outside-vm"}
GATEWAY = "192.168.77.1"
# The stages before the CNV one (seed lines 430-660): (source, destination, reached).
DENY_ALL_PINGS = [("192.168.77.91", "192.168.77.92", False), ("192.168.77.91", "192.168.77.10", False),
                  ("192.168.77.92", "192.168.77.91", False)]
ALLOW_SOME_PINGS = [("192.168.77.91", "192.168.77.92", False), ("192.168.77.91", "192.168.77.93", False),
                    ("192.168.77.91", "192.168.77.10", False), ("192.168.77.92", "192.168.77.91", True),
                    ("192.168.77.92", "192.168.77.93", False), ("192.168.77.92", "192.168.77.10", False)]
# "if we do not set egress rule for default-deny-all, and allow-some, here we can ping the vm"
INGRESS_ONLY_PINGS = [("192.168.77.91", "192.168.77.10", True), ("192.168.77.92", "192.168.77.91", True)]
SELECTOR_PEER_PINGS = [("192.168.77.92", "192.168.77.91", False)]  # the refused policy opens nothing


def ping_command(destination):
    return ["ping", "-c", "2", "-i", "0.2", "-W", "1", "-q", destination]


class SeedLab:
    """The seed's workloads in one namespace and a way to ping between them."""

    def __init__(self, core, custom, namespace, network):
        self.core, self.custom, self.namespace, self.network = core, custom, namespace, network

    def ping(self, source, destination):
        if source in PODS:
            # stream() patches the client it is given: each thread gets its own
            api = client.CoreV1Api(client.ApiClient(self.core.api_client.configuration))
            try:
                return python_exec(api, self.namespace, PODS[source], ping_command(destination),
                                   container="agnhost-container")[2]
            except (ApiException, ValueError) as error:  # e.g. the kubelet's "container not found"
                return str(error)
        host = f"{self.namespace}/{VMS[source][1]}" if source in VMS else HOSTS[source]
        return subprocess.run([sys.executable, str(LABCTL), "exec", host, "--", *ping_command(destination)],
                              capture_output=True, timeout=90).returncode  # labctl starts slowly on a loaded machine

    def observed(self, pings):
        """[(source, destination, reached)] for every ping, all sent at once."""
        with ThreadPoolExecutor(max_workers=len(pings)) as pool:
            codes = list(pool.map(lambda p: self.ping(p[0], p[1]), pings))
        return [(s, d, code == 0) for (s, d, _), code in zip(pings, codes)]

    def replay(self, files, pings, transform=None, timeout=90):
        """Apply exactly the seed policies in `files`, then wait until every ping goes as the seed saw."""
        self.set_policies(files, transform)
        deadline = time.monotonic() + timeout
        while True:
            seen = self.observed(pings)
            if seen == pings:
                return
            if time.monotonic() > deadline:
                wrong = [got for got, want in zip(seen, pings) if got != want]
                pytest.fail(f"{timeout}s after applying {files or 'no policy'}, these pings still went "
                            f"otherwise than the seed saw (source, destination, reached): {wrong}")
            time.sleep(0.2)

    def set_policies(self, files, transform=None):
        policies = [self.manifest(p, transform) for p in seed.load(*files)]
        wanted = {p["metadata"]["name"] for p in policies}
        present = self.custom.list_namespaced_custom_object("k8s.cni.cncf.io", "v1beta1", self.namespace,
                                                            "multi-networkpolicies")["items"]
        for policy in present:
            self.custom.delete_namespaced_custom_object("k8s.cni.cncf.io", "v1beta1", self.namespace,
                                                        "multi-networkpolicies", policy["metadata"]["name"])
        assert len(wanted) == len(policies)
        for policy in policies:
            self.custom.create_namespaced_custom_object("k8s.cni.cncf.io", "v1beta1", self.namespace,
                                                        "multi-networkpolicies", policy)

    def manifest(self, policy, transform=None):
        """The seed's policy with its `$var_namespace` (llm-demo) set to this namespace."""
        text = json.dumps(policy).replace(f"{seed.NAMESPACE}/", f"{self.namespace}/")
        policy = json.loads(text)
        policy["metadata"]["namespace"] = self.namespace
        return transform(policy) if transform else policy


def vm_manifest(vm, mac, address):
    network_data = f"ethernets:\n  eth0:\n    addresses:\n      - {address}/24\n    gateway4: {GATEWAY}\nversion: 2\n"
    return {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine", "metadata": {"name": vm},
            "spec": {"runStrategy": "Always", "template": {"metadata": {"labels": {"app": vm}}, "spec": {
                "domain": {"devices": {"interfaces": [{"name": "nic0", "bridge": {}, "macAddress": mac}]}},
                "networks": [{"name": "nic0", "multus": {"networkName": seed.NAD_NAME}}],
                "volumes": [{"name": "cloudinitdisk", "cloudInitNoCloud": {"networkData": network_data}}]}}}}


def vsctl(node, *args):
    return subprocess.run(["ovs-vsctl", *args], env={**os.environ, **dataplane.node_env(STATE_DIR, node)},
                          check=True, capture_output=True, text=True).stdout.strip()


def bridge_mappings(node):
    return vsctl(node, "get", "Open_vSwitch", ".", "external_ids:ovn-bridge-mappings").strip('"')


def set_bridge_mappings(node, value):
    vsctl(node, "set", "Open_vSwitch", ".", f'external_ids:ovn-bridge-mappings="{value}"')


def addresses_held_elsewhere(core, namespace):
    """Pods of other namespaces whose secondary interfaces hold one of the seed's addresses."""
    seed_addresses, holders = set(PODS) | set(VMS), []
    for pod in core.list_pod_for_all_namespaces().items:
        status = (pod.metadata.annotations or {}).get("k8s.v1.cni.cncf.io/network-status")
        if pod.metadata.namespace == namespace or not status:
            continue
        held = {ip for entry in json.loads(status) if not entry.get("default") for ip in entry.get("ips") or []}
        if held & seed_addresses or pod.metadata.labels and pod.metadata.labels.get("vm.kubevirt.io/name") in {
                vm for _, vm, _ in VMS.values()}:
            holders.append(f"{pod.metadata.namespace}/{pod.metadata.name}")
    return holders


@pytest.fixture(scope="module")
def multi_network_policy(custom):
    before = custom.get_cluster_custom_object("operator.openshift.io", "v1", "networks", "cluster")
    previous = (before.get("spec") or {}).get("useMultiNetworkPolicy")

    def switch(enabled):
        custom.patch_cluster_custom_object("operator.openshift.io", "v1", "networks", "cluster",
                                           {"spec": {"useMultiNetworkPolicy": enabled}})
    switch(True)
    yield switch
    switch(previous)


@pytest.fixture(scope="module")
def seed_lab(core, custom, virtualization_installed, multi_network_policy):
    namespace = f"labtest-seed-{uuid.uuid4().hex[:6]}"
    # The seed lab that site.yml made (make demo, or an earlier lab test) holds the same
    # addresses on the same LAN: remove its namespaces as `make teardown` would. An earlier
    # run's namespace being deleted frees them within seconds.
    for holder in {pod.split("/")[0] for pod in addresses_held_elsewhere(core, namespace)}:
        labels = core.read_namespace(holder).metadata.labels or {}
        if labels.get("app.kubernetes.io/managed-by") == "ocpvirt.multinet":
            core.delete_namespace(holder)
    wait_for("no other pod to hold the seed's addresses (`make teardown` removes the demo's workloads)",
             lambda: not addresses_held_elsewhere(core, namespace), timeout=90)
    network = f"seed-{uuid.uuid4().hex[:6]}"
    nodes = dataplane.data_plane_nodes()
    mappings = {node: bridge_mappings(node) for node in nodes}
    for node in nodes:  # what an NNCP mapping the network to br-ex does (tested in test_ovs_bridge_mappings)
        set_bridge_mappings(node, f"{network}:br-ex,{mappings[node]}")
    core.create_namespace({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    lab = SeedLab(core, custom, namespace, network)
    try:
        config = {"cniVersion": "0.3.1", "name": network, "type": "ovn-k8s-cni-overlay", "topology": "localnet",
                  "netAttachDefName": f"{namespace}/{seed.NAD_NAME}"}
        custom.create_namespaced_custom_object("k8s.cni.cncf.io", "v1", namespace, "network-attachment-definitions", {
            "apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition",
            "metadata": {"name": seed.NAD_NAME}, "spec": {"config": json.dumps(config)}})
        for pod in seed.load("pod.yaml"):
            pod["metadata"]["namespace"] = namespace
            core.create_namespaced_pod(namespace, pod)
        for address, (_, vm, mac) in VMS.items():
            custom.create_namespaced_custom_object("kubevirt.io", "v1", namespace, "virtualmachines",
                                                   vm_manifest(vm, mac, address))
        targets = [STATE_DIR / "exec-targets" / "pods" / namespace / f"{pod}.json" for pod in PODS.values()] + \
            [STATE_DIR / "exec-targets" / "guests" / namespace / f"{vm}.json" for _, vm, _ in VMS.values()]
        wait_for("every pod and guest plugged in", lambda: all(t.exists() for t in targets), timeout=120)
        everyone = sorted(set(PODS) | set(VMS))
        lab.replay([], [(source, GATEWAY, True) for source in everyone])
        yield lab
    finally:
        core.delete_namespace(namespace)
        for node in nodes:
            set_bridge_mappings(node, mappings[node])


def test_without_policies_everyone_reaches_the_gateway_the_internet_and_each_other(seed_lab):
    everyone = sorted(set(PODS) | set(VMS))
    pings = [(s, d, True) for s in everyone for d in everyone + ["192.168.77.10", "203.0.113.10"]
             if s != d and not (s in PODS and d == "203.0.113.10")]  # pods have no route off the LAN
    assert seed_lab.observed(pings) == pings
    assert seed_lab.observed([("192.168.77.10", "192.168.77.71", True)]) == [("192.168.77.10", "192.168.77.71", True)]


def test_deny_all(seed_lab):
    seed_lab.replay(["multi-network-policy-deny-all.yaml"], DENY_ALL_PINGS)


def test_deny_all_with_allow_ipblock_and_allow_ipblock_01(seed_lab):
    seed_lab.replay(["multi-network-policy-deny-all.yaml", "multi-network-policy-allow-some.yaml"], ALLOW_SOME_PINGS)


def test_ingress_only_deny_all_lets_tinypod_out_again(seed_lab):
    def ingress_only(policy):
        if policy["metadata"]["name"] == "deny-by-default":
            policy["spec"]["policyTypes"] = ["Ingress"]
            del policy["spec"]["egress"]
        return policy
    seed_lab.replay(["multi-network-policy-deny-all.yaml", "multi-network-policy-allow-some.yaml"],
                    INGRESS_ONLY_PINGS, transform=ingress_only)


def test_selector_peer_is_refused_on_the_ipam_less_network(seed_lab):
    seed_lab.replay(["multi-network-policy-deny-all.yaml", "allow-specific-pods.yaml"], SELECTOR_PEER_PINGS)


def test_cnv_stage_pings_as_the_seed_saw_them(seed_lab):
    seed_lab.replay(list(seed.CNV_STAGE), seed.SEED_PINGS)


def test_cnv_stage_acl_list_from_an_ovnkube_node_pod_is_the_seeds(seed_lab, core):
    seed_lab.set_policies(list(seed.CNV_STAGE))
    expected = expected_acl_lists(seed_lab.namespace, seed_lab.network)
    [pod] = [p for p in core.list_namespaced_pod(ovn_node_pods.NAMESPACE, label_selector="app=ovnkube-node").items
             if p.spec.node_name == dataplane.data_plane_nodes()[0]]

    def acl_lists():
        found = {}
        for group in expected:
            out, _, code = python_exec(core, ovn_node_pods.NAMESPACE, pod.metadata.name,
                                       ["ovn-nbctl", "--type=port-group", "acl-list", group], container="ovn-controller")
            found[group] = out.splitlines() if code == 0 else None
        return found
    last = {}
    wait_for("the seed's acl-list lines", lambda: last.update(acl_lists()) or last == expected, timeout=45)
    for group, lines in expected.items():
        assert last[group] == lines, group


def test_with_multi_network_policy_off_every_seed_ping_passes(seed_lab, multi_network_policy):
    multi_network_policy(False)
    try:
        seed_lab.replay(list(seed.CNV_STAGE), [(s, d, True) for s, d, _ in seed.SEED_PINGS])
    finally:
        multi_network_policy(True)


def test_a_wrong_bridge_mapping_loses_the_gateway(seed_lab, core):
    seed_lab.set_policies([])
    source = "192.168.77.91"
    node = core.read_namespaced_pod(PODS[source], seed_lab.namespace).spec.node_name
    mappings = bridge_mappings(node)
    set_bridge_mappings(node, mappings.replace(f"{seed_lab.network}:br-ex", f"{seed_lab.network}:br-wrong"))
    try:
        wait_for("tinypod to lose the gateway", lambda: seed_lab.observed([(source, GATEWAY, False)])
                 == [(source, GATEWAY, False)], timeout=30)
    finally:
        set_bridge_mappings(node, mappings)
    seed_lab.replay([], [(source, GATEWAY, True)])
