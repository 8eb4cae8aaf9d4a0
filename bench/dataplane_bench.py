"""Benchmark: what an intent costs OVN, merged ipBlocks against one per workload and the limit (issue 23).

Two intent shapes (IPAM-less, so every peer is an ipBlock):

- the three tiers: a gateway reaches `web` on tcp/443, `web` reaches `app` on tcp/8080, `app`
  reaches `db` on tcp/5432; each tier is one workload with a third of the workloads' contiguous
  addresses (10.81-83.x);
- the seed's shape scaled up (`cells`): the seed's intent (pods and VMs with their own allow lists,
  a raw ipBlock peer, the gateway, an outside host) as size // 5 cells of five one-address
  workloads: a client reaches a server (any port), a VM reaches the gateway, the client and the
  internet (0.0.0.0/0 except the network) and is reached from the gateway and from the client's
  address as a raw ipBlock, a second VM talks to the gateway only, an idle pod to no one (names and
  addresses of its own, 10.90-95.x).

Each is compiled three ways:

- merged: the compiler's defaults (`merge_peers` and `share_policies` on);
- per-workload: `merge_peers: false` and `share_policies: false`, one ipBlock per address and one
  policy per workload;
- limit: the per-workload policies with each rule's addresses as their distinct CIDR blocks
  (`ipaddress.collapse_addresses`; a block with an except kept), the reference of the issue's targets.

Per size and shape, the running lab gets a namespace of its own with the NAD and one pod per address
over the two data-plane nodes (a cell's pods on one node; the lab plugs each into its node's br-int,
its slowest step, so the pods are made once). Once every port is bound, br-int's OpenFlow rules of
the switch are the baseline; then each compilation's policies in turn, deleted again before the next
(and waited for until their ACLs and port groups are gone from every zone and br-int is back to its
baseline). The lab's real ovnkube (OVN-Kubernetes dad2fde5a) writes each node's zone and that node's
ovn-northd and ovn-controller turn it into logical flows and br-int's OpenFlow rules.

Per compilation and node, the stages from the last policy's create (issue 23, item 4: where the
time until enforced goes): every policy's port group in the node's Northbound (ovnkube),
`ovn-nbctl --wait=sb sync` (ovn-northd), `ovn-nbctl --wait=hv sync` (ovn-controller), every
sampled same-node pair's `ovn-trace` verdict agreeing with the intent, then a real TCP connect per
pair between the pods' network namespaces; with the CPU seconds of the node's ovnkube-controller,
ovn-northd and ovn-controller over them (/proc) and what one poll of the zone costs. Then the
Northbound ACLs, port groups and address sets of the network, the Southbound logical flows of its
switch and br-int's OpenFlow rules of that switch's datapath are counted. The namespace is deleted
afterwards.

Usage: python bench/dataplane_bench.py [SIZE ...] [--shapes tiers cells] [--json PATH] [--markdown PATH]
    (default 100 1000, both shapes; starts the lab). --markdown replaces only the data-plane section
    of that page (docs/benchmarks.md), so it is refreshed without `make bench`'s API-side runs.
Importable: ``run([100], lab)`` (a reconcile_bench.Lab) returns {runs: one dict per size, shape and
compilation, targets}.
"""
import argparse
import concurrent.futures
import datetime
import ipaddress
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
for path in (REPO / ".venv" / "collections", REPO / "lab"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from ansible_collections.ocpvirt.multinet.plugins.module_utils.ovn import policy_map, trace, trace_plan  # noqa: E402
from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.compiler import compile_intent  # noqa: E402
import dataplane  # noqa: E402  (lab/dataplane: the nodes' directories and environments)
import reconcile_bench  # noqa: E402

DEFAULT_SIZES = (100, 1000)
NODES = ("worker-0", "worker-1")
NAD = "bench-net"
GATEWAY = "10.80.0.1"
TIER_BASES = {"web": "10.81.0.1", "app": "10.82.0.1", "db": "10.83.0.1"}  # up to 65,535 addresses each
TIER_PORTS = (("gateway", "web", "tcp/443"), ("web", "app", "tcp/8080"), ("app", "db", "tcp/5432"))
# The seed's shape scaled up: cells of five workloads, each role with its own /16 (none of the seed's
# names or addresses).
SEED_GATEWAY = "10.90.0.1"
SEED_ROLE_BASES = {"server": "10.91.0.1", "client": "10.92.0.1", "idle": "10.93.0.1", "vm-a": "10.94.0.1",
                   "vm-b": "10.95.0.1"}
NETWORKS_ANNOTATION = "k8s.v1.cni.cncf.io/networks"
ROLE_LABEL = "bench-role"  # which role of its intent a pod plays, for the sampled pairs
PREFIX = 12  # one subnet, 10.80.0.0/12, for every address of both intents: the probes reach each other on the LAN
SETTLE_TIMEOUT = 1800  # seconds for a zone to hold every port and policy (1,000 pods on a loaded machine)
POLL_SECONDS = 0.2
# Targets of issue 23 for the three tiers at 1,000 workloads.
TARGET_SIZE = 1000
MAX_OVER_LIMIT = 1.2
MIN_BELOW_PER_WORKLOAD = 10.0
MAX_ENFORCED_SECONDS = 5.0


def three_tier_intent(size, namespace="tiers"):
    per_tier = size // 3
    workloads = {
        tier: {"selector": {"tier": tier},
               "ips": [str(ipaddress.ip_address(base) + offset) for offset in range(per_tier)]}
        for tier, base in TIER_BASES.items()}
    return {"namespace": namespace, "network": NAD, "name": "tiers", "ipam": False,
            "default_deny": ["ingress", "egress"], "workloads": workloads, "endpoints": {"gateway": GATEWAY},
            "allow": [{"from": source, "to": destination, "ports": [port]} for source, destination, port in TIER_PORTS]}


def seed_shape_intent(size, namespace="cells"):
    """The seed's intent scaled to `size` workloads: size // 5 cells, each with the seed's five roles
    (a server pod a client may reach; a VM that reaches the gateway, the client and the internet
    and is reached from the gateway and from the client's address as a raw ipBlock; a VM that
    only talks to the gateway; an idle pod), one address each; the internet endpoint is 0.0.0.0/0
    except the network's subnet."""
    workloads, allow = {}, []
    for cell in range(size // 5):
        name = {role: f"c{cell:04d}-{role}" for role in SEED_ROLE_BASES}
        for role, base in SEED_ROLE_BASES.items():
            workloads[name[role]] = {"selector": {"app": name[role]}, "ips": [str(ipaddress.ip_address(base) + cell)]}
        allow += [{"from": name["client"], "to": name["server"]},
                  {"from": name["vm-a"], "to": ["gateway", name["client"], "internet"]},
                  {"from": "gateway", "to": [name["vm-a"], name["vm-b"]]},
                  {"from": name["vm-b"], "to": "gateway"},
                  {"from": workloads[name["client"]]["ips"][0] + "/32", "to": name["vm-a"]}]
    subnet = str(ipaddress.ip_network(f"{SEED_GATEWAY}/{PREFIX}", strict=False))
    return {"namespace": namespace, "network": NAD, "name": "cells", "ipam": False,
            "default_deny": ["ingress", "egress"], "workloads": workloads,
            "endpoints": {"gateway": SEED_GATEWAY, "internet": {"cidr": "0.0.0.0/0", "except": [subnet]}},
            "allow": allow}


class Shape:
    """An intent shape of the bench: its intent, how a workload's pods are placed and which
    same-node pairs are traced and probed."""

    def __init__(self, name, title, intent, samples, cell_of=None):
        self.name, self.title, self.intent, self.samples, self.cell_of = name, title, intent, samples, cell_of

    def role(self, workload):
        return workload if self.cell_of is None else workload.split("-", 1)[1]


# Same-node pairs (one ovn-trace covers the source's egress and the target's ingress).
# The tiers: each rule's first allowed pair, its port refused on another tier, and a pair no rule allows.
TIER_SAMPLES = (("web", "app", "tcp/8080", True), ("app", "db", "tcp/5432", True),
                ("web", "app", "tcp/5432", False), ("web", "db", "tcp/5432", False), ("db", "app", "tcp/8080", False))
# The seed's shape, within one cell (any port: its rules have none): the client reaches the server, the
# first VM the client; the client's address is admitted by the first VM but the client may not send to it
# (as in the seed); the idle pod and the second VM reach no one.
SEED_SAMPLES = (("client", "server", "tcp/8080", True), ("vm-a", "client", "tcp/8080", True),
                ("server", "client", "tcp/8080", False), ("client", "vm-a", "tcp/8080", False),
                ("idle", "server", "tcp/8080", False), ("vm-b", "vm-a", "tcp/22", False))
SHAPES = {
    "tiers": Shape("tiers", "three tiers", three_tier_intent, TIER_SAMPLES),
    "cells": Shape("cells", "the seed's shape", seed_shape_intent, SEED_SAMPLES,
                   cell_of=lambda workload: int(workload.split("-", 1)[0][1:])),
}


def _rules(policies):
    for policy in policies:
        for direction, key in (("ingress", "from"), ("egress", "to")):
            for rule in policy["spec"].get(direction, []):
                yield rule, key


def limit_policies(per_workload):
    """The per-workload policies with each rule's ipBlocks as their distinct CIDR blocks (a block
    with an `except` kept as it is: joined with others it would no longer be exact)."""
    policies = json.loads(json.dumps(per_workload))
    for rule, key in _rules(policies):
        kept = [peer for peer in rule[key] if peer["ipBlock"].get("except")]
        networks = ipaddress.collapse_addresses(ipaddress.ip_network(peer["ipBlock"]["cidr"]) for peer in rule[key]
                                                if not peer["ipBlock"].get("except"))
        rule[key] = [{"ipBlock": {"cidr": str(network)}} for network in networks] + kept
    return policies


COMPILATIONS = ("merged", "per-workload", "limit")


def compilations(size, namespace="bench", shape="tiers"):
    intent = SHAPES[shape].intent(size, namespace)
    per_workload = compile_intent(intent, merge_peers=False, share_policies=False)
    return intent, dict(zip(COMPILATIONS, (compile_intent(intent), per_workload, limit_policies(per_workload))))


def manifest_counts(policies):
    peers = [peer["ipBlock"] for rule, key in _rules(policies) for peer in rule[key]]
    return {"policies": len(policies), "ipblocks": len(peers),
            "excepts": sum(len(block.get("except", ())) for block in peers)}


# --- the cluster's objects -------------------------------------------------------------------
def nad(namespace, network):
    config = {"cniVersion": "0.3.1", "name": network, "type": "ovn-k8s-cni-overlay", "topology": "localnet",
              "netAttachDefName": f"{namespace}/{NAD}"}
    return {"apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition",
            "metadata": {"name": NAD, "namespace": namespace}, "spec": {"config": json.dumps(config)}}


def pods(intent, shape=SHAPES["tiers"]):
    """One pod per workload address (bound: no scheduler needed), alternating between the nodes, or
    a cell's pods all on one node when the shape has cells (so a cell's pairs are same-node pairs)."""
    found = []
    for workload, spec in sorted(intent["workloads"].items()):
        for index, ip in enumerate(spec["ips"]):
            node = NODES[(len(found) if shape.cell_of is None else shape.cell_of(workload)) % len(NODES)]
            found.append({"apiVersion": "v1", "kind": "Pod",
                          "metadata": {"name": f"{workload}-{index:04d}",
                                       "labels": dict(spec["selector"], **{ROLE_LABEL: shape.role(workload)}),
                                       "annotations": {NETWORKS_ANNOTATION: json.dumps(
                                           [{"name": NAD, "ips": [f"{ip}/{PREFIX}"]}])}},
                          "spec": {"nodeName": node, "containers": [{"name": "c", "image": "quay.io/example/tiny:1"}]}})
    return found


# --- one node's zone, as the lab runs it ------------------------------------------------------
def switch_name(network):
    """OVN-Kubernetes' localnet switch of `network` (go-controller/pkg/util/multi_network.go:369
    GetSecondaryNetworkPrefix + types.OVNLocalnetSwitch, pkg/types/const.go:53)."""
    return network.replace("-", ".").replace("/", ".") + "_ovn_localnet_switch"


class Zone:
    """A lab node's NB, SB and br-int (STATE_DIR/ovn/<node>/), read with the OVN and OVS tools."""

    def __init__(self, state_dir, node):
        state_dir = Path(state_dir).resolve()  # the tools resolve a relative socket against their rundir
        self.node, self.directory = node, dataplane.node_dir(state_dir, node)
        self.env = {**os.environ, **dataplane.node_env(state_dir, node)}

    def tool(self, tool, *args):
        socket = {"ovn-nbctl": "ovnnb_db.sock", "ovn-sbctl": "ovnsb_db.sock"}[tool]
        return subprocess.run([tool, f"--db=unix:{self.directory / socket}", "--timeout=60", *args], check=True,
                              capture_output=True, text=True).stdout

    def rows(self, tool, table, columns, *conditions):
        """[{column: JSON value}] of `table` (all rows, or those matching `find` conditions)."""
        command = ["find", table, *conditions] if conditions else ["list", table]
        result = json.loads(self.tool(tool, "--format=json", f"--columns={','.join(columns)}", *command))
        return [dict(zip(result["headings"], row)) for row in result["data"]]

    def port_groups(self, network):
        """The owners (policy_map.group_owner: 4.15's and 4.18's naming) of the network's port groups."""
        owners = (policy_map.group_owner(dict(row["external_ids"][1]), network, f"{network}-network-controller")
                  for row in self.rows("ovn-nbctl", "Port_Group", ["external_ids"]))
        return [owner for owner in owners if owner]

    def missing_groups(self, network, namespace, policies):
        """How many of `policies` have no port group in this zone yet (ovnkube's translation)."""
        groups = {owner["policy"] for owner in self.port_groups(network)}
        return len({f"{namespace}/{p['metadata']['name']}" for p in policies} - groups)

    def bound_ports(self, datapath):
        """How many of the switch's pod ports are bound to a chassis (`datapath`: its Datapath_Binding
        row): one `find` printing a uuid per bound port, not the JSON of every Port_Binding."""
        found = self.tool("ovn-sbctl", "--bare", "--columns=_uuid", "find", "Port_Binding",
                          f"datapath={datapath['_uuid'][1]}", 'type=""', "chassis!=[]")
        return sum(1 for line in found.splitlines() if line.strip())

    def datapath(self, network):
        found = self.rows("ovn-sbctl", "Datapath_Binding", ["_uuid", "tunnel_key"],
                          f"external_ids:name={switch_name(network)}")
        return found[0] if found else None

    def counts(self, network):
        owner = f'external_ids:"k8s.ovn.org/owner-controller"="{network}-network-controller"'
        datapath = self.datapath(network)
        uuid = datapath["_uuid"][1]
        groups = {row["_uuid"][1] for row in self.rows("ovn-sbctl", "Logical_DP_Group", ["_uuid", "datapaths"])
                  if uuid in {u for _, u in (row["datapaths"][1] if row["datapaths"][0] == "set"
                                             else [row["datapaths"]])}}
        stages = [dict(row["external_ids"][1]).get("stage-name", "") for row in self.rows(
            "ovn-sbctl", "Logical_Flow", ["external_ids", "logical_datapath", "logical_dp_group"])
            if row["logical_datapath"] == ["uuid", uuid] or
            (row["logical_dp_group"] != ["set", []] and row["logical_dp_group"][1] in groups)]
        return {
            "openflow_rules": self.openflow_rules(datapath),
            "acls": len(self.rows("ovn-nbctl", "ACL", ["_uuid"], owner)),
            "port_groups": len(self.port_groups(network)),
            "address_sets": len(self.rows("ovn-nbctl", "Address_Set", ["_uuid"], owner)),
            "logical_flows": len(stages),
            # Flows of the ACL stages: what the policies add (the rest is the switch's pipeline).
            "acl_logical_flows": sum(1 for stage in stages if "acl" in stage),
        }

    def openflow_rules(self, datapath):
        """br-int's OpenFlow rules of the switch's datapath (those matching its metadata)."""
        dump = subprocess.run(["ovs-ofctl", "dump-flows", "br-int"], env=self.env, check=True, capture_output=True,
                              text=True).stdout
        metadata = f"metadata=0x{datapath['tunnel_key']:x},"
        return sum(1 for line in dump.splitlines() if "cookie=" in line and metadata in line)



def wait_for(what, condition, timeout, pending):
    """Poll `condition()` every POLL_SECONDS until true; at `timeout`, RuntimeError naming `what` and
    `pending()` (what was still missing)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} after {timeout} s: {pending()}")
        time.sleep(POLL_SECONDS)


def bind(lab, node, network, local_ports):
    """`node`'s zone once every local port is bound and ovn-controller has caught up."""
    zone = Zone(lab.state_dir, node)
    wait_for(f"{node}: no switch of {network}", lambda: zone.datapath(network) is not None, SETTLE_TIMEOUT,
             lambda: switch_name(network))
    datapath = zone.datapath(network)
    wait_for(f"{node}: {network}'s ports not bound", lambda: zone.bound_ports(datapath) == local_ports,
             SETTLE_TIMEOUT, lambda: f"{zone.bound_ports(datapath)} of {local_ports} bound")
    zone.tool("ovn-nbctl", f"--timeout={SETTLE_TIMEOUT}", "--wait=hv", "sync")
    return zone


def baseline_pending(counts, baseline):
    """None when every node's OpenFlow rules of the switch are back to its baseline (the count with
    the pods bound and no policy), else what is still there."""
    pending = [f"{node} {counts[node]:,} OpenFlow rules, baseline {baseline[node]:,}"
               for node in sorted(baseline) if counts[node] != baseline[node]]
    return "; ".join(pending) or None


def cleared(lab, network, baseline, timeout=600):
    """Every zone without a policy port group or ACL of `network` (the policies deleted) and br-int
    back to `baseline` ({node: OpenFlow rules}), so the next compilation is counted alone on the same
    pods: ovn-controller removes the previous one's rules after the Northbound has let them go."""
    zones = {node: Zone(lab.state_dir, node) for node in NODES}
    owner = f'external_ids:"k8s.ovn.org/owner-controller"="{network}-network-controller"'

    def northbound(zone):
        """(policy port groups, ACLs) of `network` still in `zone`'s Northbound."""
        return (sum(1 for group in zone.port_groups(network) if group["policy"]),
                len(zone.rows("ovn-nbctl", "ACL", ["_uuid"], owner)))

    for node, zone in zones.items():
        wait_for(f"{node}: the policies of {network} deleted but still in the Northbound",
                 lambda zone=zone: northbound(zone) == (0, 0), timeout,
                 lambda zone=zone: "{0} policy port groups and {1} ACLs".format(*northbound(zone)))
    datapaths = {node: zone.datapath(network) for node, zone in zones.items()}

    def openflow():
        return {node: zones[node].openflow_rules(datapaths[node]) for node in NODES}

    wait_for(f"br-int not back to its rules before the policies of {network}",
             lambda: baseline_pending(openflow(), baseline) is None, timeout,
             lambda: baseline_pending(openflow(), baseline))


def pid_of(pid_file):
    """The pid in a daemon's pid file, plain or the lab's JSON record ({pid, argv})."""
    text = Path(pid_file).read_text().strip()
    return json.loads(text)["pid"] if text.startswith("{") else int(text)


def tree_cpu_seconds(pid):
    """User + system CPU seconds of `pid` and its descendants (/proc/<pid>/stat; the lab starts
    ovnkube under a log wrapper)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:  # gone meanwhile
        return 0.0
    return ((int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            + sum(tree_cpu_seconds(int(child)) for child in children))


def cpu_seconds(pid_file):
    return tree_cpu_seconds(pid_of(pid_file))


# The processes between an apply and br-int: a node's ovnkube-controller (STATE_DIR/<name>.pid, the
# lab's record), its zone's ovn-northd and ovn-controller (their own pid files in the node's directory).
PROCESSES = ("ovnkube-controller", "ovn-northd", "ovn-controller")


def process_cpu(lab, node):
    """{process: CPU seconds so far} of PROCESSES for `node`."""
    files = {"ovnkube-controller": lab.state_dir / f"ovnkube-controller-{node}.pid",
             "ovn-northd": dataplane.node_dir(lab.state_dir, node) / "ovn-northd.pid",
             "ovn-controller": dataplane.node_dir(lab.state_dir, node) / "ovn-controller.pid"}
    return {name: cpu_seconds(files[name]) for name in PROCESSES}


def own_cpu():
    """CPU seconds of this process and its waited-for children (the polling tools)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def poll_cost(zone, network, rounds=20):
    """CPU seconds of one poll of the zone, each way the bench has polled it (this process and the
    tools it runs): every Port_Binding of the switch as JSON (how the ports were polled before),
    the bound ports' `find` (now) and the port groups (during an apply)."""
    datapath = zone.datapath(network)
    polls = {
        "port_bindings_json": lambda: zone.rows("ovn-sbctl", "Port_Binding", ["type", "chassis"],
                                                f"datapath={datapath['_uuid'][1]}"),
        "bound_ports_find": lambda: zone.bound_ports(datapath),
        "port_groups": lambda: zone.port_groups(network),
    }
    found = {}
    for name, poll in polls.items():
        before = own_cpu()
        for _ in range(rounds):
            poll()
        found[name] = round((own_cpu() - before) / rounds, 4)
    return found


# --- traced verdicts and a probe ------------------------------------------------------------
PROBE_TIMEOUT = 3.0
ENFORCE_TIMEOUT = 120  # seconds after a zone settled for its traced verdicts and probes to agree


def sample_pairs(cluster_pods, node, samples):
    """[(source pod, target pod, port, allowed)] of `samples` (roles) among `node`'s pods: each
    role's first pod there (the first cell's, for a shape with cells)."""
    first = {}
    for pod in cluster_pods:
        if pod["spec"]["nodeName"] == node:
            first.setdefault(pod["metadata"]["labels"][ROLE_LABEL], pod)
    return [(first[source], first[target], port, allowed) for source, target, port, allowed in samples
            if source in first and target in first]


def pod_address(pod):
    return json.loads(pod["metadata"]["annotations"][NETWORKS_ANNOTATION])[0]["ips"][0].split("/")[0]


def traced_verdicts(zone, network, namespace, pairs):
    """[{from, to, port, expected, verdict}] of `ovn-trace` (policy_map's and trace_plan's reading) in
    the zone's Southbound."""
    ports = {row["name"]: row for row in zone.rows("ovn-nbctl", "Logical_Switch_Port", ["name", "addresses"])}
    by_pod = {name.rpartition(f"_{namespace}_")[2]: row for name, row in ports.items() if f"_{namespace}_" in name}
    found = []
    for source, target, port, allowed in pairs:
        here, there = (by_pod[pod["metadata"]["name"]] for pod in (source, target))
        macs = [(row["addresses"] if isinstance(row["addresses"], str) else row["addresses"][1][0]).split()[0]
                for row in (here, there)]
        protocol, number = port.split("/")
        flow = trace_plan.microflow(here["name"], macs[0], macs[1], pod_address(source), pod_address(target),
                                    (protocol, int(number)))
        text = subprocess.run([*trace_plan.TRACE_ARGS, f"--db=unix:{zone.directory / 'ovnsb_db.sock'}",
                               switch_name(network), flow], capture_output=True, text=True, check=True).stdout
        found.append({"from": source["metadata"]["name"], "to": target["metadata"]["name"], "port": port,
                      "expected": "delivered" if allowed else "dropped",
                      "verdict": trace.parse_trace(text)["verdict"]})
    return found


def probe(lab, namespace, pairs):
    """A real TCP connect for each pair from the source's network namespace to a listener in the
    target's: {from, to, port, expected, connected}."""
    found = []
    for source, target, port, allowed in pairs:
        netns = [json.loads((lab.state_dir / "exec-targets" / "pods" / namespace / f"{pod['metadata']['name']}.json")
                            .read_text())["netns"] for pod in (source, target)]
        number, address = port.split("/")[1], pod_address(target)
        listener = subprocess.Popen(
            ["ip", "netns", "exec", netns[1], sys.executable, "-c",
             "import socket,sys; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); "
             f"s.bind(('{address}', {number})); s.listen(); print('up', flush=True); s.settimeout({PROBE_TIMEOUT * 2}); "
             "c, _ = s.accept()"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            listener.stdout.readline()
            connect = subprocess.run(
                ["ip", "netns", "exec", netns[0], sys.executable, "-c",
                 f"import socket; socket.create_connection(('{address}', {number}), timeout={PROBE_TIMEOUT})"],
                capture_output=True, check=False)
        finally:
            listener.kill()
            listener.wait()
        found.append({"from": source["metadata"]["name"], "to": target["metadata"]["name"], "port": port,
                      "expected": "delivered" if allowed else "dropped",
                      "verdict": "delivered" if connect.returncode == 0 else "dropped"})
    return found


def enforced(check, timeout=ENFORCE_TIMEOUT):
    """`check()`'s verdicts once every one agrees with the intent, or, at `timeout`, as they are."""
    deadline = time.monotonic() + timeout
    while True:
        verdicts = check()
        if all(v["verdict"] == v["expected"] for v in verdicts) or time.monotonic() > deadline:
            return verdicts
        time.sleep(POLL_SECONDS)


def log(message):
    print(f"dataplane bench: {message}", file=sys.stderr, flush=True)


# Where the time from the apply to enforced goes, in order: each stage ends when the next
# component has done its part, measured in the node's zone from the last policy's create.
STAGES = (
    ("ovnkube", "every policy's port group in the Northbound (ovnkube-controller's translation)"),
    ("ovn-northd", "`ovn-nbctl --wait=sb sync` returned: the Southbound's logical flows reflect the Northbound"),
    ("ovn-controller", "`ovn-nbctl --wait=hv sync` returned: ovn-controller has put them into br-int"),
    ("traces", "every sampled pair's `ovn-trace` verdict agrees with the intent"),
    ("probes", "every sampled pair's TCP connect agrees (a refused pair waits its 3 s connect timeout)"),
)


def stage_seconds(marks):
    """{stage: seconds it took} from `marks` ({stage: seconds since the apply when it ended})."""
    previous, took = 0.0, {}
    for name, _what in STAGES:
        took[name] = round(marks[name] - previous, 2)
        previous = marks[name]
    return took


def enforced_at(trace_starts, probe_starts):
    """Seconds from the apply until OVN enforced the change: the start of the trace round that agreed
    (its `ovn-trace`s read the Southbound then, after `--wait=hv` returned, so the round's own
    duration is the measurement's, not OVN's), or of the probe round that agreed when an earlier
    probe round did not (the data plane lagged the logical flows)."""
    return probe_starts[-1] if len(probe_starts) > 1 else trace_starts[-1]


def enforce(lab, node, network, namespace, policies, pairs, applied, own_before):
    """`node`'s stages after an apply at `applied` (perf_counter): {marks, bench_cpu_marks (this
    process's CPU since `own_before` at each mark, both nodes' work), trace_rounds, last_trace_round_seconds,
    enforced_seconds (enforced_at), traces, probes}."""
    zone, marks, cpu_marks, rounds = Zone(lab.state_dir, node), {}, {}, []
    starts = {"traces": [], "probes": []}

    def mark(stage):
        marks[stage] = round(time.perf_counter() - applied, 2)
        cpu_marks[stage] = round(own_cpu() - own_before, 2)

    def trace_round():
        started = time.perf_counter()
        starts["traces"].append(round(started - applied, 2))
        verdicts = traced_verdicts(zone, network, namespace, pairs)
        rounds.append(time.perf_counter() - started)
        return verdicts

    def probe_round():
        starts["probes"].append(round(time.perf_counter() - applied, 2))
        return probe(lab, namespace, pairs)

    wait_for(f"{node}: port groups of {network}'s policies missing",
             lambda: zone.missing_groups(network, namespace, policies) == 0, SETTLE_TIMEOUT,
             lambda: f"{zone.missing_groups(network, namespace, policies)} of {len(policies)} missing")
    mark("ovnkube")
    for stage, wait in (("ovn-northd", "--wait=sb"), ("ovn-controller", "--wait=hv")):
        zone.tool("ovn-nbctl", f"--timeout={SETTLE_TIMEOUT}", wait, "sync")
        mark(stage)
    traces = enforced(trace_round)
    mark("traces")
    probes = enforced(probe_round)
    mark("probes")
    return {"marks": marks, "bench_cpu_marks": cpu_marks, "trace_rounds": len(rounds),
            "last_trace_round_seconds": round(rounds[-1], 2), "probe_rounds": len(starts["probes"]),
            "enforced_seconds": enforced_at(starts["traces"], starts["probes"]), "traces": traces, "probes": probes}


def measure(size, lab, shape=SHAPES["tiers"]):
    """The three compilations one after the other on the same pods (created and bound once:
    plugging a pod's namespace into br-int is the lab's slowest step), each counted alone."""
    started = time.perf_counter()
    namespace = lab.create_namespace(f"{shape.name}-{size}")
    network = namespace  # one network per size and shape, so counts never mix
    intent, compiled = compilations(size, namespace, shape.name)
    cluster_pods = pods(intent, shape)
    results = []
    try:
        lab.custom.create_namespaced_custom_object("k8s.cni.cncf.io", "v1", namespace,
                                                   "network-attachment-definitions", nad(namespace, network))
        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:  # as a controller's workers would
            list(pool.map(lambda pod: lab.core.create_namespaced_pod(namespace, pod), cluster_pods))
        log(f"{shape.name} {size}: {len(cluster_pods)} pods created in {time.perf_counter() - started:.0f} s")
        local_ports = {node: sum(1 for p in cluster_pods if p["spec"]["nodeName"] == node) for node in NODES}
        zones = {node: bind(lab, node, network, local_ports[node]) for node in NODES}
        # br-int with the pods and no policy: each compilation's delete must bring it back here
        baseline = {node: zone.openflow_rules(zone.datapath(network)) for node, zone in zones.items()}
        pods_seconds = round(time.perf_counter() - started, 1)
        log(f"{shape.name} {size}: every port bound in {pods_seconds:.0f} s; OpenFlow rules of the switch "
            f"without a policy: {baseline}")
        polls = poll_cost(zones[NODES[0]], network)
        log(f"{shape.name} {size}: CPU seconds of one poll: {polls}")
        pairs = {node: sample_pairs(cluster_pods, node, shape.samples) for node in NODES}
        for name in COMPILATIONS:
            results.append(apply_and_count(lab, shape, size, name, compiled[name], network, namespace, pairs,
                                           dict(pods_seconds=pods_seconds, openflow_baseline=baseline,
                                                poll_cpu_seconds=polls)))
            lab.custom.delete_collection_namespaced_custom_object(reconcile_bench.GROUP, reconcile_bench.VERSION,
                                                                  namespace, reconcile_bench.PLURAL)
            cleared(lab, network, baseline)
    finally:
        lab.core.delete_namespace(namespace)
        unplugged(lab, namespace)
    return results


def unplugged(lab, namespace):
    """Once the namespace's pods are deleted and the lab has unplugged their sandboxes: a thousand
    unplugs keep both cores busy for a minute, so what runs next (`make bench`'s API side) would
    share the machine with them."""
    sandboxes = lab.state_dir / "exec-targets" / "pods" / namespace

    def sandboxes_left():
        return len(list(sandboxes.glob("*.json"))) if sandboxes.is_dir() else 0
    # One pod is enough to know some are left: a full LIST of a thousand every poll loads the API server.
    wait_for(f"{namespace}'s pods not gone",
             lambda: not lab.core.list_namespaced_pod(namespace, limit=1).items and sandboxes_left() == 0,
             SETTLE_TIMEOUT, lambda: f"{len(lab.core.list_namespaced_pod(namespace).items)} pods and "
                                     f"{sandboxes_left()} sandboxes left")


def apply_and_count(lab, shape, size, name, policies, network, namespace, pairs, extra):
    """One compilation applied: each node's stages, the processes' CPU over them, then the counts."""
    begun = time.perf_counter()
    cpu_before = {node: process_cpu(lab, node) for node in NODES}
    for policy in policies:
        lab.custom.create_namespaced_custom_object(reconcile_bench.GROUP, reconcile_bench.VERSION, namespace,
                                                   reconcile_bench.PLURAL, policy)
    applied, own_before = time.perf_counter(), own_cpu()
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(NODES)) as pool:  # both zones work at once
        done = dict(zip(NODES, pool.map(
            lambda node: enforce(lab, node, network, namespace, policies, pairs[node], applied, own_before), NODES)))
    bench_cpu = round(own_cpu() - own_before, 2)
    nodes = {}
    for node in NODES:
        cpu = process_cpu(lab, node)
        marks = done[node]["marks"]
        nodes[node] = {"settled_seconds": marks["ovn-controller"], "marks": marks, "stages": stage_seconds(marks),
                       **{key: done[node][key] for key in ("enforced_seconds", "bench_cpu_marks", "trace_rounds",
                                                           "last_trace_round_seconds", "probe_rounds")},
                       "cpu_seconds": {p: round(cpu[p] - cpu_before[node][p], 2) for p in PROCESSES},
                       "northd_cpu_seconds": round(cpu["ovn-northd"] - cpu_before[node]["ovn-northd"], 2),
                       "traces": done[node]["traces"], "probes": done[node]["probes"]}
        nodes[node].update(Zone(lab.state_dir, node).counts(network))
    log(f"{shape.name} {size} {name}: " + "; ".join(
        f"{node} " + ", ".join(f"{stage} {seconds:.2f} s" for stage, seconds in n["stages"].items())
        for node, n in nodes.items()) + f"; the bench's own CPU while polling {bench_cpu:.2f} s")
    return {"intent": shape.name, "workloads": size, "compilation": name, **manifest_counts(policies),
            "nodes": nodes, "create_seconds": round(applied - begun, 2), "bench_cpu_seconds": bench_cpu,
            "seconds": round(time.perf_counter() - begun, 1), **extra}


def targets(runs):
    """Issue 23's data-plane targets at TARGET_SIZE for the three tiers, each met or missed with what
    decided it; the same ratios for every other shape measured, as checks (`target`: False)."""
    found = []
    for shape in SHAPES.values():
        measured = [r for r in runs if r.get("intent", "tiers") == shape.name]
        if measured or shape.name == "tiers":
            found += shape_targets(measured, shape)
    return found


def shape_targets(runs, shape):
    is_target = shape.name == "tiers"
    prefix = f"{shape.title}: " if is_target else f"{shape.title} (the same ratios, not an issue target): "
    by_name = {r["compilation"]: r for r in runs if r["workloads"] == TARGET_SIZE}
    if len(by_name) < len(COMPILATIONS):
        return [{"name": f"{prefix}ACLs and logical flows at {TARGET_SIZE:,} workloads", "met": None,
                 "target": is_target, "detail": f"{TARGET_SIZE:,} workloads not measured in this run"}]
    found = []
    for what, label in (("acls", "ACLs"), ("acl_logical_flows", "logical flows of the ACL stages"),
                        ("openflow_rules", "OpenFlow rules")):
        merged, limit, separate = (max(by_name[name]["nodes"][node][what] for node in NODES)
                                   for name in ("merged", "limit", "per-workload"))
        over, below = merged / limit, separate / merged
        share = f"; {merged / TARGET_SIZE:.3f} merged and {separate / TARGET_SIZE:.3f} per-workload for each workload"
        found.append({"name": f"{prefix}{label} at {TARGET_SIZE:,} workloads: at most {MAX_OVER_LIMIT}x the limit",
                      "met": over <= MAX_OVER_LIMIT, "target": is_target,
                      "detail": f"busiest node: merged {merged:,}, limit {limit:,}: {over:.2f}x" + share})
        found.append({"name": f"{prefix}{label} at {TARGET_SIZE:,} workloads: at least {MIN_BELOW_PER_WORKLOAD:.0f}x "
                              "fewer than per-workload",
                      "met": below >= MIN_BELOW_PER_WORKLOAD, "target": is_target,
                      "detail": f"busiest node: per-workload {separate:,}, merged {merged:,}: {below:.1f}x fewer"})
    found.append(enforced_target(by_name, prefix, is_target))
    return found


def slowest_stage(node):
    """"slowest stage: ovn-controller 12.10 s of 14.00 s (...)" of a node's run, up to enforced: OVN's
    stages and, after `--wait=hv`, the wait for the round of traces (or probes) that agreed. The
    rounds' own time and the probes' (mostly refused pairs' connect timeouts) are the measurement's."""
    stages = {name: node["stages"][name] for name in ("ovnkube", "ovn-northd", "ovn-controller")}
    stages["until the agreeing round"] = round(max(0.0, node["enforced_seconds"] - sum(stages.values())), 2)
    slowest = max(stages, key=stages.get)
    rounds = (f"; {node['trace_rounds']} rounds of traces, the last {node['last_trace_round_seconds']:.2f} s"
              if "trace_rounds" in node else "")
    return "slowest stage: {0} {1:.2f} s of {2:.2f} s ({3}{4}); CPU from the apply to the probes: {5}".format(
        slowest, stages[slowest], node["enforced_seconds"],
        ", ".join(f"{name} {seconds:.2f} s" for name, seconds in node["stages"].items()), rounds,
        ", ".join(f"{name} {seconds:.2f} s" for name, seconds in node["cpu_seconds"].items()))


def enforced_target(by_name, prefix, is_target):
    merged = by_name["merged"]["nodes"]
    slower = max(NODES, key=lambda node: merged[node]["enforced_seconds"])
    enforced = merged[slower]["enforced_seconds"]
    separate = max(by_name["per-workload"]["nodes"][node]["enforced_seconds"] for node in NODES)
    checks = [check for node in NODES for kind in ("traces", "probes") for check in merged[node][kind]]
    wrong = [f"{c['from']} -> {c['to']} {c['port']} {c['verdict']}, intended {c['expected']}"
             for c in checks if c["verdict"] != c["expected"]]
    stages = f"; {slower}'s {slowest_stage(merged[slower])}" if "stages" in merged[slower] else ""
    return {"name": f"{prefix}apply to enforced at {TARGET_SIZE:,} workloads: under {MAX_ENFORCED_SECONDS:.0f} s",
            "met": enforced < MAX_ENFORCED_SECONDS and bool(checks) and not wrong, "target": is_target,
            "detail": f"slower node: {enforced:.2f} s from the last policy's create until OVN enforced it: the start "
                      f"of the round in which every sampled pair's traced verdict agreed with the intent "
                      f"(per-workload: {separate:.2f} s){stages}; then "
                      + (f"{len(wrong)} of {len(checks)} traced verdicts and probes wrong: " + "; ".join(wrong)
                         if wrong else f"all {len(checks)} traced verdicts and probes as intended")}


def available(lab):
    """None, or why the lab's zones cannot be measured here."""
    missing = [node for node in NODES if not (dataplane.node_dir(lab.state_dir, node) / "ovnnb_db.sock").exists()]
    return f"the lab runs no data plane for {', '.join(missing)} (lab/README.md)" if missing else None


def rolled_out(lab, switch):
    """Every ovnkube process of the lab runs with --enable-multi-networkpolicy iff `switch`."""
    components = ["ovnkube-cluster-manager", *(f"ovnkube-controller-{node}" for node in NODES)]
    try:
        records = [json.loads((lab.state_dir / f"{c}.pid").read_text()) for c in components]
    except (OSError, ValueError):
        return False
    return all(Path(f"/proc/{r['pid']}").exists() and ("--enable-multi-networkpolicy" in r["argv"]) == switch
               for r in records)


def set_multi_network_policy(lab, switch):
    """The Network's useMultiNetworkPolicy set (the network operator, played by the lab, rolls ovnkube
    out with the flag: without it MultiNetworkPolicies do nothing); the previous value."""
    network = lab.custom.get_cluster_custom_object("operator.openshift.io", "v1", "networks", "cluster")
    previous = (network.get("spec") or {}).get("useMultiNetworkPolicy")
    lab.custom.patch_cluster_custom_object("operator.openshift.io", "v1", "networks", "cluster",
                                           {"spec": {"useMultiNetworkPolicy": switch}})
    deadline = time.monotonic() + 300
    while not rolled_out(lab, bool(switch)):
        if time.monotonic() > deadline:
            raise RuntimeError(f"ovnkube not rolled out with useMultiNetworkPolicy={switch} after 300 s")
        time.sleep(1)
    return previous


def run(sizes, lab, shapes=tuple(SHAPES)):
    """{runs, targets}, or {unavailable: why} when the lab has no data plane."""
    problem = available(lab)
    if problem:
        return {"unavailable": problem, "runs": [], "targets": []}
    found = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
             "commit": commit(), "load_average_at_start": [round(value, 2) for value in os.getloadavg()]}
    previous = set_multi_network_policy(lab, True)
    try:
        runs = [result for size in sizes for shape in shapes for result in measure(size, lab, SHAPES[shape])]
    finally:
        set_multi_network_policy(lab, previous)
    return dict(found, load_average_at_end=[round(value, 2) for value in os.getloadavg()], runs=runs,
                targets=targets(runs))


def commit():
    """The checkout's commit, `+dirty` when it has uncommitted changes."""
    def git(*args):
        return subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True, check=False).stdout
    return git("rev-parse", "--short", "HEAD").strip() + ("+dirty" if git("status", "--porcelain", "-uno").strip()
                                                          else "")


def _checks(r):
    """"right/all" of the run's traced verdicts and probes."""
    checks = [c for counts in r["nodes"].values() for kind in ("traces", "probes") for c in counts.get(kind, ())]
    return f"{sum(c['verdict'] == c['expected'] for c in checks)}/{len(checks)}" if checks else "-"


COUNTED = ("acls", "port_groups", "address_sets", "logical_flows", "acl_logical_flows", "openflow_rules",
           "settled_seconds", "enforced_seconds", "northd_cpu_seconds")


def _row(r):
    nodes = r["nodes"].values()
    busiest = {what: max(counts[what] for counts in nodes) for what in COUNTED if what in next(iter(nodes))}
    return (SHAPES[r.get("intent", "tiers")].title, "{0:,}".format(r["workloads"]), r["compilation"], r["policies"],
            "{0:,}".format(r["ipblocks"]), r["excepts"], "{0:,}".format(busiest["acls"]), busiest["port_groups"],
            busiest["address_sets"], "{0:,}".format(busiest["logical_flows"]),
            "{0:,}".format(busiest["acl_logical_flows"]), "{0:,}".format(busiest["openflow_rules"]),
            "{0:.2f}".format(busiest["settled_seconds"]) if "settled_seconds" in busiest else "-",
            "{0:.2f}".format(busiest["enforced_seconds"]),
            "{0:.2f}".format(busiest["northd_cpu_seconds"]) if "northd_cpu_seconds" in busiest else "-", _checks(r))


HEADER = ("intent", "workloads", "compilation", "policies", "ipBlocks", "excepts", "ACLs", "port groups",
          "address sets", "logical flows", "of them ACL stages", "OpenFlow rules", "settled s", "apply to enforced s",
          "northd CPU s until enforced", "traces and probes as intended")


def _stage_row(r):
    """The slower node's stages (seconds each took) and its processes' CPU seconds over them."""
    node, counts = max(r["nodes"].items(), key=lambda item: item[1]["enforced_seconds"])
    return (SHAPES[r.get("intent", "tiers")].title, "{0:,}".format(r["workloads"]), r["compilation"], node,
            *("{0:.2f}".format(counts["stages"][name]) for name, _what in STAGES),
            "{0} / {1:.2f}".format(counts["trace_rounds"], counts["last_trace_round_seconds"])
            if "trace_rounds" in counts else "-",
            *("{0:.2f}".format(counts["cpu_seconds"][name]) for name in PROCESSES),
            "{0:.2f}".format(counts["bench_cpu_marks"]["traces"]) if "bench_cpu_marks" in counts else "-",
            "{0:.2f}".format(r["bench_cpu_seconds"]) if "bench_cpu_seconds" in r else "-")


STAGE_HEADER = ("intent", "workloads", "compilation", "slower node",
                *(f"{name} s" for name, _what in STAGES), "trace rounds / last round s",
                *(f"{name} CPU s" for name in PROCESSES), "the bench's CPU until traced s",
                "the bench's CPU until probed s")


def markdown(dataplane, table):
    """The section of docs/benchmarks.md; ``table(header, rows)`` renders a Markdown table."""
    if dataplane.get("unavailable"):
        return "Not measured: " + dataplane["unavailable"] + "."
    verdicts = [(t["name"], "target" if t.get("target", True) else "check",
                 {True: "met", False: "**missed**", None: "not measured"}[t["met"]] if t.get("target", True)
                 else {True: "holds", False: "does not hold", None: "not measured"}[t["met"]], t["detail"])
                for t in dataplane["targets"]]
    return "\n".join([
        "`bench/dataplane_bench.py` (issue 23), two intent shapes. *Three tiers*: a gateway reaches `web` on "
        "tcp/443, `web` reaches `app` on tcp/8080, `app` reaches `db` on tcp/5432; each tier one workload with "
        "a third of the workloads' contiguous addresses. *The seed's shape*: the seed's intent scaled up, in "
        "cells of five one-address workloads (a client reaches a server; a VM reaches the gateway, the client "
        "and the internet, 0.0.0.0/0 except the network, and is reached from the gateway and from the client's "
        "address as a raw ipBlock; a second VM talks to the gateway only; an idle pod), with names and "
        "addresses of its own. Both IPAM-less, each compiled *merged* (the defaults), *per-workload* "
        "(`merge_peers: false`, `share_policies: false`) and as the *limit* (the per-workload policies with "
        "each rule's distinct CIDR blocks, `ipaddress.collapse_addresses`). Each goes to the lab with one pod per "
        "address over two nodes; the lab's real ovnkube (OVN-Kubernetes dad2fde5a) writes each node's zone, and "
        "that network's Northbound rows, its switch's Southbound logical flows and br-int's OpenFlow rules of its "
        "datapath are counted once the sampled pairs' verdicts agree. The pods are made once per size and shape "
        "and each compilation applied to them in turn; after its delete the bench waits until its ACLs and port "
        "groups are gone and each node's br-int is back to the OpenFlow rules it had with the pods and no policy "
        "(the baseline, recorded before the first compilation), so no compilation counts another's rules. "
        "*Apply to enforced*: with the pods' ports already bound, as on a cluster before the apply, the seconds "
        "from the last policy's create until OVN enforced it: the start of the first round, after "
        "`ovn-nbctl --wait=hv sync` returned, in which every sampled same-node pair's `ovn-trace` verdict agrees "
        "with the intent (each `ovn-trace` reads the Southbound when it starts, so the round's own duration is "
        "the measurement's, not OVN's; *traces* in the stage table below includes it); *settled*: until "
        "`ovn-nbctl --wait=hv sync` returned; then each pair is probed with a TCP connect between the pods' "
        "network namespaces, and if a probe round disagreed, enforced is the start of the probe round that "
        "agreed. *northd CPU*: "
        "ovn-northd's CPU seconds (/proc) from the apply to the probes. To measure and rewrite this section "
        "alone (not the rest of the page): `.venv/bin/python bench/dataplane_bench.py 100 1000 --markdown "
        "docs/benchmarks.md`.",
        "",
        provenance(dataplane),
        "",
        table(HEADER, [_row(r) for r in dataplane["runs"]]),
        "",
        "Counts are the busier of the two nodes' zones (both hold every policy's ACLs; their ports, and so "
        "some logical flows, differ). The targets judge the logical flows of the ACL stages, those the "
        "policies make: the rest is each switch's and port's own pipeline, the same for every compilation. "
        "Merged goes below the limit where an except saves blocks, or where workloads with the same rules "
        "share a policy.",
        "",
        "**Where the time until enforced goes**, on the slower node, each stage's seconds from the end of the "
        "one before, the first from the last policy's create: " + "; ".join(
            f"*{name}*: {what}" for name, what in STAGES) + ". The traces' stage is at least one round of "
        "`ovn-trace` (one process per pair, each reading the whole Southbound): *trace rounds / last round* "
        "says how many rounds it took and how long the last one did, the measurement's own share. CPU seconds "
        "from the apply to the probes (/proc, with the processes' children): the node's ovnkube-controller, "
        "ovn-northd and ovn-controller; *the bench's CPU*: this process and the tools it ran (both nodes' polls, "
        "traces and probes: the probes start a Python per connect), until the slower node's traces agreed and "
        "until its probes did, on the same two cores as OVN." + poll_note(dataplane["runs"]),
        "",
        table(STAGE_HEADER, [_stage_row(r) for r in dataplane["runs"] if "stages" in next(iter(r["nodes"].values()))]),
        "",
        "The issue's targets are stated for the three tiers; for the seed's shape the same ratios are "
        "*checks*, shown but not judged as targets (a check that does not hold fails no run).",
        "",
        table(("target or check (issue 23)", "kind", "result", "measured"), verdicts),
    ])


def poll_note(runs):
    """What one poll of a zone cost, each way, at each size and shape measured."""
    costs = {(r.get("intent", "tiers"), r["workloads"]): r["poll_cpu_seconds"] for r in runs if "poll_cpu_seconds" in r}
    if not costs:
        return ""
    return " CPU milliseconds of one poll (this process and its tool), every Port_Binding of the switch as JSON " \
           "(how the ports were polled until now, every 0.2 s) / the bound ports' `find` (now) / the port groups " \
           "(during an apply): " + "; ".join(
               "{0} at {1:,}: {2:.1f} / {3:.1f} / {4:.1f}".format(
                   SHAPES[shape].title, size, 1000 * cost["port_bindings_json"], 1000 * cost["bound_ports_find"],
                   1000 * cost["port_groups"]) for (shape, size), cost in costs.items()) + "."


def provenance(dataplane):
    if "date" not in dataplane:
        return "When, on which commit and at which load: not recorded in this run."
    return ("Measured on {date} at commit {commit} (`bench/dataplane_bench.py {sizes}`); load average (1, 5, 15 min) "
            "{start} at its start and {end} at its end, on two cores shared with other work: wall seconds follow "
            "the load, counts do not.").format(
        date=dataplane["date"], commit=dataplane["commit"],
        sizes=" ".join(str(size) for size in sorted({r["workloads"] for r in dataplane["runs"]})),
        start=", ".join(map(str, dataplane["load_average_at_start"])),
        end=", ".join(map(str, dataplane["load_average_at_end"])))


SECTION = "### Data plane: two intent shapes in OVN, merged, per workload and the limit"


def replace_section(page, section):
    """`page` with the data-plane section's body (up to the next heading) replaced by `section`."""
    head, found, rest = page.partition(SECTION + "\n")
    if not found:
        raise ValueError(f"no heading '{SECTION}' in the page")
    tail = rest[rest.index("\n#"):] if "\n#" in rest else ""
    return f"{head}{SECTION}\n\n{section}\n{tail}"


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", type=int, nargs="*", default=list(DEFAULT_SIZES))
    parser.add_argument("--json", type=Path, help="write the results (the `dataplane` of bench/results.json) here")
    parser.add_argument("--markdown", type=Path, help="replace the data-plane section of this page")
    parser.add_argument("--shapes", nargs="+", choices=tuple(SHAPES), default=list(SHAPES),
                        help="intent shapes: the three tiers, the seed's shape scaled up (cells)")
    args = parser.parse_args(argv)
    labctl = [sys.executable, str(REPO / "lab" / "labctl.py"), "up"]
    kubeconfig = subprocess.run(labctl, check=True, stdout=subprocess.PIPE, text=True).stdout.strip().splitlines()[-1]
    lab = reconcile_bench.Lab(kubeconfig, run_id=os.urandom(3).hex())
    try:
        dataplane = run(args.sizes, lab, args.shapes)
    finally:
        lab.delete_namespaces()
    if dataplane.get("unavailable"):
        print(f"dataplane bench: {dataplane['unavailable']}", file=sys.stderr)
        return 1
    if args.json:
        args.json.write_text(json.dumps(dataplane, indent=2) + "\n")
    if args.markdown:
        import report  # bench/report.py: its table renderer, so the section reads as `make bench` writes it
        args.markdown.write_text(replace_section(args.markdown.read_text(), markdown(dataplane, report._table)))
    print(" | ".join(HEADER) + "   (busiest node)")
    for r in dataplane["runs"]:
        print(" | ".join(str(cell) for cell in _row(r)))
    for target in dataplane["targets"]:
        print(verdict_line(target))
    return 1 if missed(dataplane["targets"]) else 0


def verdict_line(target):
    """One target's line as `make bench` prints it; a check (not an issue target) holds or not."""
    states = ({True: "met", False: "MISSED", None: "not measured"} if target.get("target", True)
              else {True: "holds", False: "does not hold", None: "not measured"})
    return f"{'target' if target.get('target', True) else 'check'}: {target['name']}: {states[target['met']]} " \
           f"({target['detail']})"


def missed(verdicts):
    """Whether an issue target (not a check) was missed."""
    return any(target["met"] is False and target.get("target", True) for target in verdicts)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
