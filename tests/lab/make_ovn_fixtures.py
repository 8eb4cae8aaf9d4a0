"""Regenerate tests/unit/fixtures/ovn/ from real OVN databases (no lab, no cluster needed).

For each of the lab's two data-plane nodes this starts, in a temporary directory, an NB and an SB
ovsdb-server, ovn-northd and an Open_vSwitch ovsdb-server (the pattern of test_ovnk_sync.py and
test_ovnk_trace.py), syncs that node's zone of the cluster below with the OVN-Kubernetes emulation
(lab/simulator/ovnk_sync.py), and dumps what ovn_policy_info reads on a cluster:

- `<node>/<Table>.json`: `ovn-nbctl --format=json list <Table>` for Logical_Switch,
  Logical_Switch_Port, Port_Group, ACL and Address_Set;
- `<node>/Open_vSwitch.json`: `ovs-vsctl --format=json --columns=external_ids list Open_vSwitch`;
- `<node>/trace-<from>-<to>.txt`: `ovn-trace --minimal` and `ovn-trace --detailed` of a ping;
- `cluster.json`: the Kubernetes objects the zones were made from (the module's other input);
- `ovnkube-controller.log`: the lines OVN-K logs for what it refuses (the emulation's messages,
  with klog's prefix as in the seed line 698).

The cluster is the seed's CNV stage (tests/lab/ovnk_seed.py) with the test pods on worker-0 and
the two VMs' launcher pods on worker-1, plus: the seed's refused `allow-specific-pods` (a selector
peer on the IPAM-less network), a policy that selects nothing, a second localnet network with one
pod and one policy (objects that must not be mixed up), and default-network objects that belong
to no secondary network. worker-1's bridge mappings lack `localnet-cnv`.

Run: .venv/bin/python tests/lab/make_ovn_fixtures.py
"""
import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import ovnk_seed as seed  # noqa: E402  (puts lab/ on sys.path)
from simulator import ovnk, ovnk_sync  # noqa: E402
from test_ovnk_sync import start_ovsdb, stop_daemon  # noqa: E402
from test_ovnk_trace import ENDPOINTS, start_zone, stop_zone  # noqa: E402

OUT = HERE.parent / "unit" / "fixtures" / "ovn"
OVS_SCHEMA = "/usr/share/openvswitch/vswitch.ovsschema"
TABLES = ("Logical_Switch", "Logical_Switch_Port", "Port_Group", "ACL", "Address_Set")
NODES = {"worker-0": ("tinypod", "tinypod-01", "tinypod-02", "labpod"),
         "worker-1": tuple(name for name, _, _ in seed.LAUNCHERS)}
BRIDGE_MAPPINGS = {"worker-0": "localnet-cnv:br-ex,physnet:br-ex", "worker-1": "physnet:br-ex"}
TRACES = {"worker-0": [("192.168.77.92", "192.168.77.91"), ("192.168.77.91", "192.168.77.92")]}
LAB_NAD = "lab-net"


def lab_network_objects():
    """A second localnet network (IPAM) in the same namespace: NAD, one pod, one policy."""
    config = {"cniVersion": "0.3.1", "name": "localnet-lab", "type": "ovn-k8s-cni-overlay",
              "topology": "localnet", "subnets": "10.77.0.0/24", "netAttachDefName": f"{seed.NAMESPACE}/{LAB_NAD}"}
    nad = {"metadata": {"name": LAB_NAD, "namespace": seed.NAMESPACE}, "spec": {"config": json.dumps(config)}}
    pod = {"metadata": {"name": "labpod", "namespace": seed.NAMESPACE, "labels": {"app": "labpod"},
                        "annotations": {"k8s.v1.cni.cncf.io/networks": json.dumps(
                            [{"name": LAB_NAD, "ips": ["10.77.0.5/24"]}])}},
           "spec": {"containers": [{"name": "c"}]}}
    policy = {"apiVersion": "k8s.cni.cncf.io/v1beta1", "kind": "MultiNetworkPolicy",
              "metadata": {"name": "allow-lab", "namespace": seed.NAMESPACE,
                           "annotations": {ovnk.POLICY_FOR_ANNOTATION: LAB_NAD}},
              "spec": {"podSelector": {}, "policyTypes": ["Ingress"],
                       "ingress": [{"from": [{"ipBlock": {"cidr": "10.77.0.0/24"}}]}]}}
    return nad, pod, policy


def selects_nothing():
    return {"apiVersion": "k8s.cni.cncf.io/v1beta1", "kind": "MultiNetworkPolicy",
            "metadata": {"name": "selects-nothing", "namespace": seed.NAMESPACE,
                         "annotations": {ovnk.POLICY_FOR_ANNOTATION: seed.NAD_NAME}},
            "spec": {"podSelector": {"matchLabels": {"app": "no-such-app"}}, "policyTypes": ["Ingress"],
                     "ingress": [{"from": [{"ipBlock": {"cidr": "192.168.77.1/32"}}],
                                  "ports": [{"protocol": "TCP", "port": 22}]}]}}


def cluster():
    """The snapshot every zone is computed from, pods bound to their node."""
    lab_nad, lab_pod, lab_policy = lab_network_objects()
    pods = seed.load("pod.yaml") + [seed.launcher(*spec) for spec in seed.LAUNCHERS] + [lab_pod]
    node_of = {name: node for node, names in NODES.items() for name in names}
    pods = [seed.running(pod, node_of[pod["metadata"]["name"]]) for pod in pods]
    policies = seed.load(*seed.CNV_STAGE, "allow-specific-pods.yaml") + [selects_nothing(), lab_policy]
    return ovnk.Snapshot([seed.nad(), lab_nad], pods, policies, True)


def foreign_objects(run):
    """Default-network objects (seed lines 1040-1180): no k8s.ovn.org/network, not ours."""
    run(["ls-add", "join", "--", "lsp-add", "join", "jtor-GR_worker", "--", "pg-add", "clusterPortGroup",
         "--", "create", "Address_Set", "name=a4548040316634674295",
         'external_ids={"k8s.ovn.org/id"="default-network-controller:EgressIP:egressip-served-pods:v4",'
         '"k8s.ovn.org/owner-controller"=default-network-controller}'])


def dump_nb(run, directory):
    for table in TABLES:
        listing = json.loads(run(["--format=json", "list", table]))
        (directory / f"{table}.json").write_text(json.dumps(listing, indent=1, sort_keys=True) + "\n")


def dump_ovs(tmp, node, directory):
    pid = start_ovsdb(tmp, OVS_SCHEMA, "conf.db", "db.sock")
    try:
        vsctl = ["ovs-vsctl", f"--db=unix:{tmp / 'db.sock'}", "--no-wait"]
        subprocess.run([*vsctl, "init", "--", "set", "Open_vSwitch", ".",
                        f'external_ids:ovn-bridge-mappings="{BRIDGE_MAPPINGS[node]}"',
                        f"external_ids:system-id={node}", "external_ids:ovn-encap-type=geneve"], check=True)
        listing = subprocess.run([*vsctl, "--format=json", "--columns=external_ids", "list", "Open_vSwitch"],
                                 check=True, capture_output=True, text=True).stdout
        (directory / "Open_vSwitch.json").write_text(json.dumps(json.loads(listing), indent=1) + "\n")
    finally:
        stop_daemon(pid)


def trace_flow(source, destination):
    port = {ip: (ovnk.logical_port_name(seed.NAMESPACE, seed.NAD_NAME, seed.NAMESPACE, name) if name
                 else ovnk.localnet_port_name("localnet-cnv"), mac) for ip, (name, mac) in ENDPOINTS.items()}
    return (f'inport == "{port[source][0]}" && eth.src == {port[source][1]} && eth.dst == {port[destination][1]} && '
            f"ip4.src == {source} && ip4.dst == {destination} && ip.ttl == 64 && icmp4.type == 8")


def dump_traces(tmp, node, directory):
    for source, destination in TRACES.get(node, []):
        for mode in ("minimal", "detailed"):
            result = subprocess.run(["ovn-trace", f"--db=unix:{tmp / 'ovnsb_db.sock'}", f"--{mode}", "--ct=new",
                                     ovnk.switch_name("localnet-cnv"), trace_flow(source, destination)],
                                    check=True, capture_output=True, text=True)
            (directory / f"trace-{mode}-{source}-{destination}.txt").write_text(result.stdout)


def make_node(snapshot, node):
    directory = OUT / node
    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        # start_zone syncs the seed's own node, which runs none of these pods: only empty switches
        pids = start_zone(tmp, snapshot._replace(policies=[]))
        try:
            run = ovnk_sync.nbctl_runner(tmp)
            foreign_objects(run)
            ovnk_sync.sync(run, ovnk.desired_nb(snapshot, node))
            run(["--wait=sb", "sync"])
            dump_nb(run, directory)
            dump_traces(tmp, node, directory)
        finally:
            stop_zone(pids)
        dump_ovs(tmp, node, directory)
    return ovnk.desired_nb(snapshot, node).messages


def main():
    snapshot = cluster()
    messages = []
    for node in NODES:
        messages += [m for m in make_node(snapshot, node) if m not in messages]
    (OUT / "cluster.json").write_text(json.dumps(
        {"nads": snapshot.nads, "pods": snapshot.pods, "policies": snapshot.policies,
         "network": {"metadata": {"name": "cluster"}, "spec": {"useMultiNetworkPolicy": True}}},
        indent=1, sort_keys=True) + "\n")
    (OUT / "ovnkube-controller.log").write_text("".join(
        f"I1129 23:50:00.000000    7659 obj_retry.go:346] {message}\n" for message in messages))
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
