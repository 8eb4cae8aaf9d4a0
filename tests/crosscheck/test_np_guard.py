"""Cross-check the simulator with an independent implementation: np-guard's netpol-analyzer.

The seed lab is rendered to a directory (the NAD, the three pods and the two VMs' virt-launcher
pods with their secondary IPs in the networks annotation, and the MultiNetworkPolicies) and
``netpolicy list --dirpath DIR -o json`` lists the allowed connections; every pair it reports on
must agree with ``simulate``. Runs where the binary exists; build it with ``make crosscheck-tools``
(``go install github.com/np-guard/netpol-analyzer/cmd/netpolicy@latest`` into
``~/.cache/ocpvirt-multinet-tools/bin``) or point ``NETPOLICY_BIN`` at one.
"""
import ipaddress
import json
import os
import shutil
import subprocess

import pytest
import yaml

from ansible_collections.ocpvirt.multinet.plugins.module_utils.connectivity import simulate

SEED = os.path.join(os.path.dirname(__file__), "..", "unit", "fixtures", "seed_policies")
NAMESPACE = "llm-demo"
NAD = "llm-demo-localnet-network"
NETWORK = NAMESPACE + "/" + NAD
TOOL_DIR = os.path.expanduser("~/.cache/ocpvirt-multinet-tools/bin")
# np-guard's name for traffic of every protocol (ICMP included), which is what a ping needs.
ALL_CONNECTIONS = "All Connections"

VMS = {"gold-rabbit": ("centos-stream9-gold-rabbit-80", "192.168.77.71"),
       "green-ferret": ("centos-stream9-green-ferret-41", "192.168.77.72")}
OUTSIDE = [{"name": "gateway", "ip": "192.168.77.1"}, {"name": "test-vm", "ip": "192.168.77.10"},
           {"name": "internet", "ip": "8.8.8.8"}]
POLICY_SETS = {
    "deny-all": ["multi-network-policy-deny-all.yaml"],
    "deny-all + allow-some": ["multi-network-policy-deny-all.yaml", "multi-network-policy-allow-some.yaml"],
    "deny-all + allow-some + cnv": ["multi-network-policy-deny-all.yaml", "multi-network-policy-allow-some.yaml",
                                    "multi-network-policy-allow-some-cnv.yaml"],
}


def netpolicy_binary():
    candidates = [os.environ.get("NETPOLICY_BIN"), os.path.join(TOOL_DIR, "netpolicy"), shutil.which("netpolicy")]
    return next((c for c in candidates if c and os.access(c, os.X_OK)), None)


pytestmark = pytest.mark.skipif(
    netpolicy_binary() is None,
    reason="np-guard netpolicy not found: run `make crosscheck-tools` (go install "
           "github.com/np-guard/netpol-analyzer/cmd/netpolicy@latest into {0}) or set NETPOLICY_BIN".format(TOOL_DIR),
)


def load(name):
    with open(os.path.join(SEED, name)) as handle:
        return [doc for doc in yaml.safe_load_all(handle) if doc]


def networks_annotation(ip):
    return json.dumps([{"name": NAD, "ips": [ip + "/24"]}])


def vm_pod(vm, ip):
    """A VM's virt-launcher pod, with its guest address where np-guard reads pod addresses."""
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "virt-launcher-" + vm, "namespace": NAMESPACE,
                     "labels": {"vm.kubevirt.io/name": vm, "kubevirt.io": "virt-launcher"},
                     "annotations": {"k8s.v1.cni.cncf.io/networks": networks_annotation(ip)}},
        "spec": {"containers": [{"name": "compute", "image": "quay.io/kubevirt/virt-launcher"}]},
    }


def workloads():
    """(rendered pod manifest, simulator endpoint) per pod and VM of the seed."""
    pairs = []
    for pod in load("pod.yaml"):
        ip = json.loads(pod["metadata"]["annotations"]["k8s.v1.cni.cncf.io/networks"])[0]["ips"][0]
        pairs.append((pod, {"name": pod["metadata"]["name"], "ip": ip, "namespace": NAMESPACE,
                            "labels": pod["metadata"]["labels"]}))
    for name, (vm, ip) in sorted(VMS.items()):
        pod = vm_pod(vm, ip)
        pairs.append((pod, {"name": name, "ip": ip, "namespace": NAMESPACE, "labels": pod["metadata"]["labels"]}))
    return pairs


def render(directory, policies, pods):
    nad = {"apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition",
           "metadata": {"name": NAD, "namespace": NAMESPACE},
           "spec": {"config": json.dumps({"cniVersion": "0.3.1", "name": "localnet-cnv", "type": "ovn-k8s-cni-overlay",
                                          "topology": "localnet", "netAttachDefName": NETWORK})}}
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}
    for filename, docs in (("namespace.yaml", [namespace, nad]), ("pods.yaml", pods), ("policies.yaml", policies)):
        with open(os.path.join(directory, filename), "w") as handle:
            yaml.safe_dump_all(docs, handle)


def run_netpolicy(directory):
    result = subprocess.run([netpolicy_binary(), "list", "--dirpath", str(directory), "-o", "json"],
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def peer_matches(np_guard_peer, endpoint, pod_names):
    """np-guard names pods 'ns/name[Pod]' and addresses as CIDRs or 'first-last' ranges."""
    if "[" in np_guard_peer:
        return endpoint.get("namespace") is not None and np_guard_peer.split("[")[0] == pod_names[endpoint["name"]]
    if endpoint.get("namespace") is not None:
        return False
    ip = ipaddress.ip_address(endpoint["ip"])
    for block in np_guard_peer.split(","):
        first, last = (block.strip().split("-") + [""])[:2]
        if last:
            if ipaddress.ip_address(first) <= ip <= ipaddress.ip_address(last):
                return True
        elif ip in ipaddress.ip_network(first, strict=False):
            return True
    return False


@pytest.mark.parametrize("stage", sorted(POLICY_SETS))
def test_np_guard_agrees_with_the_simulator_on_the_seed(stage, tmp_path):
    policies = [doc for name in POLICY_SETS[stage] for doc in load(name)]
    pairs = workloads()
    render(tmp_path, policies, [pod for pod, _endpoint in pairs])
    pod_names = {ep["name"]: "{0}/{1}".format(NAMESPACE, pod["metadata"]["name"]) for pod, ep in pairs}
    endpoints = [ep for _pod, ep in pairs] + OUTSIDE
    connections = run_netpolicy(tmp_path)

    def np_guard_allows(src, dst):
        return any(peer_matches(c["src"], src, pod_names) and peer_matches(c["dst"], dst, pod_names)
                   and c.get("conn") == ALL_CONNECTIONS for c in connections)

    by_name = {ep["name"]: ep for ep in endpoints}
    disagreements = [
        (row["from"], row["to"], row["allowed"], row["reason"])
        for row in simulate(policies, NETWORK, endpoints)
        if np_guard_allows(by_name[row["from"]], by_name[row["to"]]) != row["allowed"]
    ]
    assert disagreements == []
