"""Regenerate tests/unit/fixtures/ovn/ from the lab's real OVN-Kubernetes (ovnkube built from
upstream dad2fde5a for the 4.15 profile, lab/controlplane/ovnkube.py) and real OVN/OVS.

Through the running lab's API server this creates, in namespace llm-demo (the seed's names, which
the unit tests and their hashed port group names are about):

- the seed's NAD (IPAM-less localnet-cnv, tests/lab/ovnk_seed.py) and its CNV stage: the three
  test pods bound to worker-0, the two VMs' launcher pods bound to worker-1, the stage's three
  policy files, plus the seed's refused `allow-specific-pods` (a selector peer on the IPAM-less
  network) and a policy that selects nothing;
- a second localnet network with IPAM (lab-net, localnet-lab, 10.77.0.0/24) with one pod on
  worker-0 and one policy (objects that must not be mixed up with the seed's); the pod asks for
  no address: real cluster-manager refuses a static IP request on a network with IPAM ("cannot
  allocate a static IP request with IPAM"), which the emulation had let the pod have (10.77.0.5);
- worker-0's bridge mappings gain `localnet-cnv:br-ex` (what an NNCP does); worker-1's keep the
  lab's own, which lack it.

It waits until each node's zone (real ovnkube-controller per node, interconnect) holds every
policy's port group and every pod's port and stops changing, then dumps what ovn_policy_info and
trace_plan read on a cluster:

- `<node>/<Table>.json`: `ovn-nbctl --format=json list <Table>` of the node's NB (Logical_Switch,
  Logical_Switch_Port, Port_Group, ACL, Address_Set);
- `<node>/Open_vSwitch.json`: `ovs-vsctl --format=json --columns=external_ids list Open_vSwitch`;
- `worker-0/trace-{minimal,detailed}-<from>-<to>.txt`: `ovn-trace --ct=new` of a ping between
  two test pods, on the node's SB;
- `trace-endpoints.json` and `<node>/trace-batch.txt`: the endpoints and traffic, and the output
  of the node's ovn-trace batch the shipped trace_plan builds for them;
- `cluster.json`: the Kubernetes objects as the API server returns them (managedFields left out);
- `ovnkube-controller.log`: the lines the real ovnkube-controllers logged for the policies they
  refuse (their container logs, CRI prefix removed, the first line per node and policy).

What differs from the emulation-made fixtures before these (git show e67d02e): every policy's port
group and ACL (names, matches, actions, directions, options) is the same; real ovnkube also writes
the pods' default-network ports and the node's default-network switches, router ports, address
sets and hairpin ACLs in the same NB (the emulation planted a join switch, a clusterPortGroup and
one address set instead), a namespace address set per namespace for the IPAM network
localnet-lab and that network's own default-deny groups, `iface-id-ver` (the pod UID) in each
port's options, and its refusal line comes from obj_retry.go:370, once per zone. Pod UIDs,
default-network addresses and the labpod's allocated address vary from run to run.
worker-1's mappings are the lab's own (`physnet:br-ex`), which lack localnet-cnv as before.

Run with the lab up (`.venv/bin/python lab/labctl.py up`):
    nice -n 19 .venv/bin/python tests/lab/make_ovn_fixtures.py [output directory]
The namespace is deleted and worker-0's bridge mappings restored afterwards.
"""
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from kubernetes import client, config

HERE = Path(__file__).resolve().parent
REPO_DIR = HERE.parents[1]
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO_DIR / ".venv" / "collections"))  # as tests/conftest.py links it

import ovnk_seed as seed  # noqa: E402  (puts lab/ on sys.path)
from ovn_names import logical_port_name, policy_port_group_name  # noqa: E402
from test_ovnk_controller import pod_manifests  # noqa: E402

import dataplane  # noqa: E402
from controlplane.state import STATE_DIR  # noqa: E402
from controlplane import ovnkube  # noqa: E402

from ansible_collections.ocpvirt.multinet.plugins.module_utils.ovn import ovsdb, policy_map, trace_plan  # noqa: E402

OUT = HERE.parent / "unit" / "fixtures" / "ovn"
NAMESPACE = seed.NAMESPACE
TABLES = ovsdb.NB_TABLES
NODES = {"worker-0": ("tinypod", "tinypod-01", "tinypod-02", "labpod"),
         "worker-1": tuple(name for name, _, _ in seed.LAUNCHERS)}
TRACES = {"worker-0": [("192.168.77.92", "192.168.77.91"), ("192.168.77.91", "192.168.77.92")]}
PORTS = ["icmp", "tcp/22"]
LAB_NAD = "lab-net"
MNP = ("k8s.cni.cncf.io", "v1beta1")
POLICY_FOR = "k8s.v1.cni.cncf.io/policy-for"
CRI_PREFIX = re.compile(r"^\S+ (?:stdout|stderr) [FP] ")


def lab_network_objects():
    """A second localnet network (IPAM) in the same namespace: NAD, one pod, one policy."""
    config_ = {"cniVersion": "0.3.1", "name": "localnet-lab", "type": "ovn-k8s-cni-overlay",
               "topology": "localnet", "subnets": "10.77.0.0/24", "netAttachDefName": f"{NAMESPACE}/{LAB_NAD}"}
    nad = {"apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition",
           "metadata": {"name": LAB_NAD, "namespace": NAMESPACE}, "spec": {"config": json.dumps(config_)}}
    pod = {"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": "labpod", "namespace": NAMESPACE, "labels": {"app": "labpod"},
                        "annotations": {"k8s.v1.cni.cncf.io/networks": json.dumps(
                            [{"name": LAB_NAD}])}},
           "spec": {"nodeName": "worker-0", "containers": [{"name": "c", "image": "quay.io/example/tiny:1"}]}}
    policy = {"apiVersion": "k8s.cni.cncf.io/v1beta1", "kind": "MultiNetworkPolicy",
              "metadata": {"name": "allow-lab", "namespace": NAMESPACE, "annotations": {POLICY_FOR: LAB_NAD}},
              "spec": {"podSelector": {}, "policyTypes": ["Ingress"],
                       "ingress": [{"from": [{"ipBlock": {"cidr": "10.77.0.0/24"}}]}]}}
    return nad, pod, policy


def selects_nothing():
    return {"apiVersion": "k8s.cni.cncf.io/v1beta1", "kind": "MultiNetworkPolicy",
            "metadata": {"name": "selects-nothing", "namespace": NAMESPACE,
                         "annotations": {POLICY_FOR: seed.NAD_NAME}},
            "spec": {"podSelector": {"matchLabels": {"app": "no-such-app"}}, "policyTypes": ["Ingress"],
                     "ingress": [{"from": [{"ipBlock": {"cidr": "192.168.77.1/32"}}],
                                  "ports": [{"protocol": "TCP", "port": 22}]}]}}


def policies():
    return seed.load(*seed.CNV_STAGE, "allow-specific-pods.yaml") + [selects_nothing(), lab_network_objects()[2]]


def pods():
    """The seed's pods (as test_ovnk_controller binds them) with the launchers moved to worker-1."""
    node_of = {name: node for node, names in NODES.items() for name in names}
    manifests = pod_manifests(NAMESPACE) + [lab_network_objects()[1]]
    for manifest in manifests:
        manifest["spec"]["nodeName"] = node_of[manifest["metadata"]["name"]]
    return manifests


def nad():
    return dict(seed.nad(), apiVersion="k8s.cni.cncf.io/v1", kind="NetworkAttachmentDefinition")


# --- the lab ----------------------------------------------------------------------------------

def node_run(node, argv):
    return subprocess.run(argv, env={**os.environ, **dataplane.node_env(STATE_DIR, node)},
                          check=True, capture_output=True, text=True).stdout


def bridge_mappings(node):
    return node_run(node, ["ovs-vsctl", "get", "Open_vSwitch", ".", "external_ids:ovn-bridge-mappings"]).strip().strip('"')


def set_bridge_mappings(node, value):
    node_run(node, ["ovs-vsctl", "set", "Open_vSwitch", ".", f'external_ids:ovn-bridge-mappings="{value}"'])


def nb_listings(node):
    return {table: node_run(node, ["ovn-nbctl", "--format=json", "list", table]) for table in TABLES}


def log_path(node):
    return dataplane.node_dir(STATE_DIR, node) / ovnkube.CONTAINER_LOG


def create(core, custom):
    core.create_namespace({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}})
    custom.patch_cluster_custom_object("operator.openshift.io", "v1", "networks", "cluster",
                                       {"spec": {"useMultiNetworkPolicy": True}})
    for network in (nad(), lab_network_objects()[0]):
        custom.create_namespaced_custom_object("k8s.cni.cncf.io", "v1", NAMESPACE, "network-attachment-definitions",
                                               network)
    for pod in pods():
        core.create_namespaced_pod(NAMESPACE, pod)
    for policy in policies():
        policy["metadata"]["namespace"] = NAMESPACE
        custom.create_namespaced_custom_object(*MNP, NAMESPACE, "multi-networkpolicies", policy)


def expected_groups():
    """Port group names of every policy ovnkube accepts (allow-specific-pods it refuses)."""
    names = [p["metadata"]["name"] for p in policies() if p["metadata"]["name"] not in ("deny-by-default",
                                                                                     "allow-specific-pods")]
    return {policy_port_group_name("localnet-lab" if name == "allow-lab" else "localnet-cnv", NAMESPACE, name)[0]
            for name in names}


def zone_missing(node, listings):
    """The ports and port groups the node's zone does not hold yet."""
    nb = ovsdb.parse_nb(listings)
    wanted = {logical_port_name(NAMESPACE, LAB_NAD if pod == "labpod" else seed.NAD_NAME, NAMESPACE, pod)
              for pod in NODES[node]} | expected_groups()
    return wanted - {row["name"] for table in ("Logical_Switch_Port", "Port_Group") for row in nb[table]}


def wait_for_zones(timeout=180):
    """Each node's listings once its zone holds everything and two reads 5 s apart agree."""
    deadline, last, missing = time.monotonic() + timeout, {}, {}
    while time.monotonic() < deadline:
        now = {node: nb_listings(node) for node in NODES}
        missing = {node: zone_missing(node, now[node]) for node in NODES}
        if not any(missing.values()) and now == last:
            return now
        last = now
        time.sleep(5)
    changed = [node for node in NODES if last.get(node) != now.get(node)]
    raise SystemExit(f"the zones never settled within {timeout}s: missing {missing}, still changing on {changed}")


def refusals(offsets, timeout=120):
    """The first line per node that each controller logged, since `offsets`, about a policy of
    NAMESPACE it failed to add."""
    deadline = time.monotonic() + timeout
    while True:
        found = []
        for node, offset in offsets.items():
            with open(log_path(node), "rb") as log:
                log.seek(offset)
                lines = [CRI_PREFIX.sub("", line) for line in log.read().decode().splitlines()]
            found += [next(line for line in lines if key in line and "failed" in line)
                      for key in sorted({m.group(0) for line in lines if "failed" in line
                                         for m in [re.search(f"MultiNetworkPolicy {NAMESPACE}/\\S+", line)] if m})]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(2)


def clean(obj):
    obj["metadata"].pop("managedFields", None)
    return obj


def by_name(obj):
    return obj["metadata"]["name"]


def api_objects(core, custom):
    """The namespace's NADs, pods and policies and the cluster Network, as the API server has them."""
    nads = custom.list_namespaced_custom_object("k8s.cni.cncf.io", "v1", NAMESPACE,
                                                "network-attachment-definitions")["items"]
    found = core.list_namespaced_pod(NAMESPACE).items
    pod_list = [clean(core.api_client.sanitize_for_serialization(pod)) for pod in found]
    mnps = custom.list_namespaced_custom_object(*MNP, NAMESPACE, "multi-networkpolicies")["items"]
    network = custom.get_cluster_custom_object("operator.openshift.io", "v1", "networks", "cluster")
    return {"nads": sorted(map(clean, nads), key=by_name), "pods": sorted(pod_list, key=by_name),
            "policies": sorted(map(clean, mnps), key=by_name), "network": clean(network)}


# --- the dumps --------------------------------------------------------------------------------

def write_json(path, value):
    path.write_text(json.dumps(value, indent=1, sort_keys=True) + "\n")


def endpoints(objects):
    """The seed's workloads and LAN hosts, named and shaped as connectivity_info returns them."""
    ip_of = {}
    for pod in objects["pods"]:
        for entry in json.loads(pod["metadata"]["annotations"].get("k8s.v1.cni.cncf.io/network-status", "[]")):
            if entry.get("name") == f"{NAMESPACE}/{seed.NAD_NAME}" and entry.get("ips"):
                ip_of[pod["metadata"]["name"]] = entry["ips"][0]
    found = [{"name": name, "kind": "pod", "namespace": NAMESPACE, "pod": name, "ip": ip_of[name]}
             for name in ("tinypod", "tinypod-01", "tinypod-02")]
    found += [{"name": vm, "kind": "vm", "namespace": NAMESPACE, "pod": launcher, "ip": ip}
              for ip, (launcher, vm, _) in zip(("192.168.77.71", "192.168.77.72"), seed.LAUNCHERS)]
    return found + [{"name": name, "kind": "outside", "ip": ip} for name, ip in (
        ("gateway", "192.168.77.1"), ("outside-vm", "192.168.77.10"), ("internet", "203.0.113.10"))]


def secondary_mac(objects):
    """{ip: (pod name, mac)} of the pods on the seed's network (their network-status)."""
    found = {}
    for pod in objects["pods"]:
        for entry in json.loads(pod["metadata"]["annotations"].get("k8s.v1.cni.cncf.io/network-status", "[]")):
            if entry.get("name") == f"{NAMESPACE}/{seed.NAD_NAME}":
                for ip in entry.get("ips") or []:
                    found[ip] = (pod["metadata"]["name"], entry["mac"])
    return found


def dump_traces(node, directory, objects):
    ports = secondary_mac(objects)
    for source, destination in TRACES.get(node, []):
        (name, mac), (_, dst_mac) = ports[source], ports[destination]
        port = logical_port_name(NAMESPACE, seed.NAD_NAME, NAMESPACE, name)
        flow = (f'inport == "{port}" && eth.src == {mac} && eth.dst == {dst_mac} && '
                f"ip4.src == {source} && ip4.dst == {destination} && ip.ttl == 64 && icmp4.type == 8")
        for mode in ("minimal", "detailed"):
            output = node_run(node, ["ovn-trace", f"--{mode}", "--ct=new", "localnet.cnv_ovn_localnet_switch", flow])
            (directory / f"trace-{mode}-{source}-{destination}.txt").write_text(output)


def dump(out, listings, objects, log):
    for node in NODES:
        directory = out / node
        directory.mkdir(parents=True, exist_ok=True)
        for table in TABLES:
            write_json(directory / f"{table}.json", json.loads(listings[node][table]))
        ovs = node_run(node, ["ovs-vsctl", "--format=json", "--columns=external_ids", "list", "Open_vSwitch"])
        (directory / "Open_vSwitch.json").write_text(json.dumps(json.loads(ovs), indent=1) + "\n")
        dump_traces(node, directory, objects)
    found = endpoints(objects)
    (out / "trace-endpoints.json").write_text(json.dumps({"endpoints": found, "ports": PORTS}, indent=1) + "\n")
    network = policy_map.network_of(f"{NAMESPACE}/{seed.NAD_NAME}", objects["nads"])
    zones = {node: policy_map.zone_objects(ovsdb.parse_nb(listings[node]), network["name"]) for node in NODES}
    for node, scripts in trace_plan.batches(trace_plan.plan(found, zones, PORTS)).items():
        (out / node / "trace-batch.txt").write_text("".join(node_run(node, argv) for argv in scripts))
    write_json(out / "cluster.json", objects)
    (out / "ovnkube-controller.log").write_text("".join(line + "\n" for line in log))


def main(out=OUT):
    api = config.new_client_from_config(config_file=str(STATE_DIR / "kubeconfig"))
    core, custom = client.CoreV1Api(api), client.CustomObjectsApi(api)
    if any(ns.metadata.name == NAMESPACE for ns in core.list_namespace().items):
        raise SystemExit(f"namespace {NAMESPACE} exists (the demo's? `make teardown` removes it): "
                         "the generator makes and deletes its own")
    offsets = {node: log_path(node).stat().st_size for node in NODES}
    mappings = bridge_mappings("worker-0")
    set_bridge_mappings("worker-0", f"localnet-cnv:br-ex,{mappings}")
    try:
        create(core, custom)
        listings = wait_for_zones()
        log = refusals(offsets)
        dump(Path(out), listings, api_objects(core, custom), log)
    finally:
        core.delete_namespace(NAMESPACE)
        set_bridge_mappings("worker-0", mappings)
    print(f"wrote {out}")


if __name__ == "__main__":
    main(*sys.argv[1:])
