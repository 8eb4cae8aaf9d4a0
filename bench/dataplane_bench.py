"""Benchmark: what the three-tier intent costs OVN, merged ipBlocks against one per workload (issue 23).

The intent: a gateway reaches `web` on tcp/443, `web` reaches `app` on tcp/8080, `app` reaches
`db` on tcp/5432; each tier is one workload with a third of the workloads' contiguous addresses
(IPAM-less, so every peer is an ipBlock). It is compiled three ways:

- merged: the compiler's default (`merge_peers: true`);
- per-workload: `merge_peers: false` and `share_policies: false`, one ipBlock per address and one
  policy per workload (the three tiers share no rules, so sharing changes neither column);
- limit: each rule's addresses as their distinct CIDR blocks (`ipaddress.collapse_addresses`),
  the reference the issue's targets are measured against.

Per size, the running lab gets a namespace of its own with the NAD and one pod per address spread
over the two data-plane nodes (the lab plugs each into its node's br-int, its slowest step, so the
pods are made once), then each compilation's policies in turn, deleted again (and their ACLs and
port groups gone from every zone) before the next. The lab's real ovnkube (OVN-Kubernetes dad2fde5a) writes each node's zone and that
node's ovn-northd and ovn-controller turn it into logical flows and br-int's OpenFlow rules. Per
node, once every local port is bound, every policy has its port group and ovn-controller has
caught up (`ovn-nbctl --wait=hv sync`), the Northbound ACLs, port groups and address sets of this
network, the Southbound logical flows of its switch and br-int's OpenFlow rules of that switch's
datapath (those matching its metadata) are counted. The namespace is deleted afterwards.

The time from apply to enforced is measured too (issue 23, item 4: what the verify role waits
for): with the pods' ports bound first, as on a cluster before the apply, the seconds from the last
policy's create returning until every zone holds each policy's port group and `ovn-nbctl
--wait=hv sync` returns (ovnkube's translation, ovn-northd and ovn-controller), with each node's
ovn-northd CPU seconds over that time (/proc). Right then, sampled same-node pairs (allowed and
refused) are traced with `ovn-trace` and probed with a real TCP connect between the pods' network
namespaces; the target is met only if every verdict agrees with the intent.

Usage: python bench/dataplane_bench.py [SIZE ...] [--json PATH] [--markdown PATH]
    (default 100 1000; starts the lab). --markdown replaces only the data-plane section of that
    page (docs/benchmarks.md), so it is refreshed without `make bench`'s API-side runs.
Importable: ``run([100], lab)`` (a reconcile_bench.Lab) returns {runs: one dict per size and
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
NAMESPACE, NAD = "tiers", "tiers-net"
GATEWAY = "10.80.0.1"
TIER_BASES = {"web": "10.81.0.1", "app": "10.82.0.1", "db": "10.83.0.1"}  # up to 65,535 addresses each
TIER_PORTS = (("gateway", "web", "tcp/443"), ("web", "app", "tcp/8080"), ("app", "db", "tcp/5432"))
NETWORKS_ANNOTATION = "k8s.v1.cni.cncf.io/networks"
PREFIX = 12  # one subnet, 10.80.0.0/12, for the gateway and every tier: the probes reach each other on the LAN
SETTLE_TIMEOUT = 1800  # seconds for a zone to hold every port and policy (1,000 pods on a loaded machine)
# Targets of issue 23 for the three tiers at 1,000 workloads.
TARGET_SIZE = 1000
MAX_OVER_LIMIT = 1.2
MIN_BELOW_PER_WORKLOAD = 10.0
MAX_ENFORCED_SECONDS = 5.0


def three_tier_intent(size, namespace=NAMESPACE):
    per_tier = size // 3
    workloads = {
        tier: {"selector": {"tier": tier},
               "ips": [str(ipaddress.ip_address(base) + offset) for offset in range(per_tier)]}
        for tier, base in TIER_BASES.items()}
    return {"namespace": namespace, "network": NAD, "name": "tiers", "ipam": False,
            "default_deny": ["ingress", "egress"], "workloads": workloads, "endpoints": {"gateway": GATEWAY},
            "allow": [{"from": source, "to": destination, "ports": [port]} for source, destination, port in TIER_PORTS]}


def _rules(policies):
    for policy in policies:
        for direction, key in (("ingress", "from"), ("egress", "to")):
            for rule in policy["spec"].get(direction, []):
                yield rule, key


def limit_policies(per_workload):
    """The per-workload policies with each rule's ipBlocks as their distinct CIDR blocks."""
    policies = json.loads(json.dumps(per_workload))
    for rule, key in _rules(policies):
        networks = ipaddress.collapse_addresses(ipaddress.ip_network(peer["ipBlock"]["cidr"]) for peer in rule[key])
        rule[key] = [{"ipBlock": {"cidr": str(network)}} for network in networks]
    return policies


COMPILATIONS = ("merged", "per-workload", "limit")


def compilations(size, namespace=NAMESPACE):
    intent = three_tier_intent(size, namespace)
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


def pods(intent):
    """One pod per workload address, alternating between the nodes (bound: no scheduler needed)."""
    found = []
    for tier, spec in sorted(intent["workloads"].items()):
        for index, ip in enumerate(spec["ips"]):
            name = f"{tier}-{index:04d}"
            found.append({"apiVersion": "v1", "kind": "Pod",
                          "metadata": {"name": name, "labels": {"tier": tier}, "annotations": {
                              NETWORKS_ANNOTATION: json.dumps([{"name": NAD, "ips": [f"{ip}/{PREFIX}"]}])}},
                          "spec": {"nodeName": NODES[len(found) % len(NODES)],
                                   "containers": [{"name": "c", "image": "quay.io/example/tiny:1"}]}})
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

    def settled(self, network, namespace, policies, local_ports):
        """Every local port of the switch bound and every policy's port group written."""
        groups = {owner["policy"] for owner in self.port_groups(network)}
        if not {f"{namespace}/{p['metadata']['name']}" for p in policies} <= groups:
            return False
        datapath = self.datapath(network)
        if datapath is None:
            return False
        bound = [row for row in self.rows("ovn-sbctl", "Port_Binding", ["type", "chassis"],
                                          f"datapath={datapath['_uuid'][1]}")
                 if row["type"] == "" and row["chassis"] != ["set", []]]
        return len(bound) == local_ports

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
        dump = subprocess.run(["ovs-ofctl", "dump-flows", "br-int"], env=self.env, check=True, capture_output=True,
                              text=True).stdout
        metadata = f"metadata=0x{datapath['tunnel_key']:x},"
        return {
            "openflow_rules": sum(1 for line in dump.splitlines() if "cookie=" in line and metadata in line),
            "acls": len(self.rows("ovn-nbctl", "ACL", ["_uuid"], owner)),
            "port_groups": len(self.port_groups(network)),
            "address_sets": len(self.rows("ovn-nbctl", "Address_Set", ["_uuid"], owner)),
            "logical_flows": len(stages),
            # Flows of the ACL stages: what the policies add (the rest is the switch's pipeline).
            "acl_logical_flows": sum(1 for stage in stages if "acl" in stage),
        }


def settle(lab, node, network, namespace, policies, local_ports):
    """`node`'s zone once every local port is bound, every policy has its port group and
    ovn-controller has caught up."""
    zone = Zone(lab.state_dir, node)
    deadline = time.monotonic() + SETTLE_TIMEOUT
    while not zone.settled(network, namespace, policies, local_ports):
        if time.monotonic() > deadline:
            raise RuntimeError(f"{node}: {network} not settled after {SETTLE_TIMEOUT} s")
        time.sleep(0.2)
    zone.tool("ovn-nbctl", f"--timeout={SETTLE_TIMEOUT}", "--wait=hv", "sync")
    return zone


def cleared(lab, network, timeout=600):
    """Every zone without a policy port group or ACL of `network` (the policies deleted), so the
    next compilation is counted alone on the same pods."""
    deadline = time.monotonic() + timeout
    for node in NODES:
        zone = Zone(lab.state_dir, node)
        while True:
            groups = [owner for owner in zone.port_groups(network) if owner["policy"]]
            acls = len(zone.rows("ovn-nbctl", "ACL", ["_uuid"],
                                 f'external_ids:"k8s.ovn.org/owner-controller"="{network}-network-controller"'))
            if not groups and not acls:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{node}: {len(groups)} policy port groups and {acls} ACLs of {network} "
                                   f"still there {timeout} s after the policies' delete")
            time.sleep(0.5)


def cpu_seconds(pid_file):
    """User + system CPU seconds of the process in `pid_file` (/proc/<pid>/stat)."""
    pid = Path(pid_file).read_text().strip()
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def northd_cpu(lab, node):
    return cpu_seconds(dataplane.node_dir(lab.state_dir, node) / "ovn-northd.pid")


# --- traced verdicts and a probe ------------------------------------------------------------
# Same-node pairs (one ovn-trace covers the source's egress and the target's ingress): each
# rule's first allowed pair, its port refused on another tier, and a pair no rule allows.
SAMPLES = (("web", "app", "tcp/8080", True), ("app", "db", "tcp/5432", True), ("web", "app", "tcp/5432", False),
           ("web", "db", "tcp/5432", False), ("db", "app", "tcp/8080", False))
PROBE_TIMEOUT = 3.0
ENFORCE_TIMEOUT = 120  # seconds after a zone settled for its traced verdicts and probes to agree


def sample_pairs(cluster_pods, node):
    """[(source pod, target pod, port, allowed)] of SAMPLES among `node`'s pods."""
    local = [pod for pod in cluster_pods if pod["spec"]["nodeName"] == node]
    first = {}
    for pod in local:
        first.setdefault(pod["metadata"]["labels"]["tier"], pod)
    return [(first[source], first[target], port, allowed) for source, target, port, allowed in SAMPLES
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
        time.sleep(0.2)


def log(message):
    print(f"dataplane bench: {message}", file=sys.stderr, flush=True)


def measure(size, lab):
    """The three compilations one after the other on the same pods (created and bound once:
    plugging a pod's namespace into br-int is the lab's slowest step), each counted alone."""
    started = time.perf_counter()
    namespace = lab.create_namespace(f"tiers-{size}")
    network = namespace  # one network per size, so counts never mix
    intent, compiled = compilations(size, namespace)
    cluster_pods = pods(intent)
    results = []
    try:
        lab.custom.create_namespaced_custom_object("k8s.cni.cncf.io", "v1", namespace,
                                                   "network-attachment-definitions", nad(namespace, network))
        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:  # as a controller's workers would
            list(pool.map(lambda pod: lab.core.create_namespaced_pod(namespace, pod), cluster_pods))
        log(f"{size}: {len(cluster_pods)} pods created in {time.perf_counter() - started:.0f} s")
        local_ports = {node: sum(1 for p in cluster_pods if p["spec"]["nodeName"] == node) for node in NODES}
        for node in NODES:  # the pods first, every port bound, as on a cluster before the apply
            settle(lab, node, network, namespace, [], local_ports[node])
        pods_seconds = round(time.perf_counter() - started, 1)
        log(f"{size}: every port bound in {pods_seconds:.0f} s")
        pairs = {node: sample_pairs(cluster_pods, node) for node in NODES}
        for name in COMPILATIONS:
            begun, policies = time.perf_counter(), compiled[name]
            northd_before = {node: northd_cpu(lab, node) for node in NODES}
            for policy in policies:
                lab.custom.create_namespaced_custom_object(reconcile_bench.GROUP, reconcile_bench.VERSION, namespace,
                                                           reconcile_bench.PLURAL, policy)
            applied = time.perf_counter()
            nodes = {}
            for node in NODES:  # both zones work at once: each node's times are still from the apply
                zone = settle(lab, node, network, namespace, policies, local_ports[node])
                settled = time.perf_counter() - applied
                traces = enforced(lambda: traced_verdicts(zone, network, namespace, pairs[node]))
                nodes[node] = {"settled_seconds": round(settled, 2),
                               "enforced_seconds": round(time.perf_counter() - applied, 2),
                               "northd_cpu_seconds": round(northd_cpu(lab, node) - northd_before[node], 2),
                               "traces": traces}
            for node in NODES:
                nodes[node].update(Zone(lab.state_dir, node).counts(network),
                                   probes=enforced(lambda: probe(lab, namespace, pairs[node])))
            results.append({"workloads": size, "compilation": name, **manifest_counts(policies), "nodes": nodes,
                            "pods_seconds": pods_seconds, "seconds": round(time.perf_counter() - begun, 1)})
            log(f"{size} {name}: settled after {max(n['settled_seconds'] for n in nodes.values()):.2f} s, "
                f"traces agreed after {max(n['enforced_seconds'] for n in nodes.values()):.2f} s, "
                f"{time.perf_counter() - begun:.0f} s in all")
            lab.custom.delete_collection_namespaced_custom_object(reconcile_bench.GROUP, reconcile_bench.VERSION,
                                                                  namespace, reconcile_bench.PLURAL)
            cleared(lab, network)
    finally:
        lab.core.delete_namespace(namespace)
    return results


def targets(runs):
    """Issue 23's data-plane targets at TARGET_SIZE, each met or missed with what decided it."""
    by_name = {r["compilation"]: r for r in runs if r["workloads"] == TARGET_SIZE}
    if len(by_name) < len(COMPILATIONS):
        return [{"name": f"ACLs and logical flows at {TARGET_SIZE:,} workloads", "met": None,
                 "detail": f"{TARGET_SIZE:,} workloads not measured in this run"}]
    found = []
    for what, label in (("acls", "ACLs"), ("acl_logical_flows", "logical flows of the ACL stages"),
                        ("openflow_rules", "OpenFlow rules")):
        merged, limit, separate = (max(by_name[name]["nodes"][node][what] for node in NODES)
                                   for name in ("merged", "limit", "per-workload"))
        over, below = merged / limit, separate / merged
        share = f"; {merged / TARGET_SIZE:.3f} merged and {separate / TARGET_SIZE:.3f} per-workload for each workload"
        found.append({"name": f"{label} at {TARGET_SIZE:,} workloads: at most {MAX_OVER_LIMIT}x the limit",
                      "met": over <= MAX_OVER_LIMIT,
                      "detail": f"busiest node: merged {merged:,}, limit {limit:,}: {over:.2f}x" + share})
        found.append({"name": f"{label} at {TARGET_SIZE:,} workloads: at least {MIN_BELOW_PER_WORKLOAD:.0f}x fewer "
                              "than per-workload",
                      "met": below >= MIN_BELOW_PER_WORKLOAD,
                      "detail": f"busiest node: per-workload {separate:,}, merged {merged:,}: {below:.1f}x fewer"})
    enforced, separate = (max(by_name[name]["nodes"][node]["enforced_seconds"] for node in NODES)
                          for name in ("merged", "per-workload"))
    settled = max(by_name["merged"]["nodes"][node].get("settled_seconds", enforced) for node in NODES)
    checks = [check for node in NODES for kind in ("traces", "probes")
              for check in by_name["merged"]["nodes"][node][kind]]
    wrong = [f"{c['from']} -> {c['to']} {c['port']} {c['verdict']}, intended {c['expected']}"
             for c in checks if c["verdict"] != c["expected"]]
    found.append({"name": f"apply to enforced at {TARGET_SIZE:,} workloads: under {MAX_ENFORCED_SECONDS:.0f} s",
                  "met": enforced < MAX_ENFORCED_SECONDS and bool(checks) and not wrong,
                  "detail": f"slower node: {enforced:.2f} s from the last policy's create until every sampled pair's "
                            f"traced verdict agreed with the intent (every policy's port group there and "
                            f"`ovn-nbctl --wait=hv sync` returned after {settled:.2f} s; per-workload: "
                            f"{separate:.2f} s); then "
                            + (f"{len(wrong)} of {len(checks)} traced verdicts and probes wrong: " + "; ".join(wrong)
                               if wrong else f"all {len(checks)} traced verdicts and probes as intended")})
    return found


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


def run(sizes, lab):
    """{runs, targets}, or {unavailable: why} when the lab has no data plane."""
    problem = available(lab)
    if problem:
        return {"unavailable": problem, "runs": [], "targets": []}
    found = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
             "commit": commit(), "load_average_at_start": [round(value, 2) for value in os.getloadavg()]}
    previous = set_multi_network_policy(lab, True)
    try:
        runs = [result for size in sizes for result in measure(size, lab)]
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


def _row(r):
    busiest = {what: max(counts[what] for counts in r["nodes"].values()) for what in next(iter(r["nodes"].values()))
               if what not in ("traces", "probes")}
    return ("{0:,}".format(r["workloads"]), r["compilation"], r["policies"], "{0:,}".format(r["ipblocks"]),
            r["excepts"], "{0:,}".format(busiest["acls"]), busiest["port_groups"], busiest["address_sets"],
            "{0:,}".format(busiest["logical_flows"]), "{0:,}".format(busiest["acl_logical_flows"]),
            "{0:,}".format(busiest["openflow_rules"]),
            "{0:.2f}".format(busiest["settled_seconds"]) if "settled_seconds" in busiest else "-",
            "{0:.2f}".format(busiest["enforced_seconds"]),
            "{0:.2f}".format(busiest["northd_cpu_seconds"]) if "northd_cpu_seconds" in busiest else "-", _checks(r))


HEADER = ("workloads", "compilation", "policies", "ipBlocks", "excepts", "ACLs", "port groups", "address sets",
          "logical flows", "of them ACL stages", "OpenFlow rules", "settled s", "apply to enforced s",
          "northd CPU s until enforced", "traces and probes as intended")


def markdown(dataplane, table):
    """The section of docs/benchmarks.md; ``table(header, rows)`` renders a Markdown table."""
    if dataplane.get("unavailable"):
        return "Not measured: " + dataplane["unavailable"] + "."
    verdicts = [(t["name"], {True: "met", False: "**missed**", None: "not measured"}[t["met"]], t["detail"])
                for t in dataplane["targets"]]
    return "\n".join([
        "`bench/dataplane_bench.py` (issue 23): the three-tier intent (a gateway reaches `web` on tcp/443, `web` "
        "reaches `app` on tcp/8080, `app` reaches `db` on tcp/5432; each tier one workload with a third of the "
        "workloads' contiguous addresses, IPAM-less) compiled *merged* (the default), *per-workload* "
        "(`merge_peers: false`) and as the *limit* (each rule's distinct CIDR blocks, "
        "`ipaddress.collapse_addresses`). Each goes to the lab with one pod per address over two nodes; the "
        "lab's real ovnkube (OVN-Kubernetes dad2fde5a) writes each node's zone, and that network's Northbound "
        "rows, its switch's Southbound logical flows and br-int's OpenFlow rules of its datapath are counted "
        "once every port is bound and ovn-controller has caught up (`ovn-nbctl --wait=hv sync`). The pods are "
        "made once per size and each compilation applied to them in turn (deleted, and gone from OVN, before the "
        "next). *Apply to enforced*: with the pods' ports already bound, as on a cluster before the apply, the "
        "seconds from the last policy's create until every sampled same-node pair's `ovn-trace` verdict agrees "
        "with the intent (each rule's allowed pair, a port refused, tiers no rule joins; polled, so within one "
        "round of traces), after the zone held every policy's port group and `ovn-nbctl --wait=hv sync` "
        "returned (*settled*); then each pair is probed with a TCP connect between the pods' network "
        "namespaces. *northd CPU*: ovn-northd's CPU seconds (/proc) over that time. To measure and rewrite this "
        "section alone (not the rest of the page): `.venv/bin/python bench/dataplane_bench.py 100 1000 "
        "--markdown docs/benchmarks.md`.",
        "",
        provenance(dataplane),
        "",
        table(HEADER, [_row(r) for r in dataplane["runs"]]),
        "",
        "Counts are the busier of the two nodes' zones (both hold every policy's ACLs; their ports, and so "
        "some logical flows, differ). The targets judge the logical flows of the ACL stages, those the "
        "policies make: the rest is each switch's and port's own pipeline, the same for every compilation. "
        "Merged goes below the limit where an except saves blocks.",
        "",
        table(("target (issue 23)", "result", "measured"), verdicts),
    ])


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


SECTION = "### Data plane: the three-tier intent in OVN, merged ipBlocks and one per workload"


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
    args = parser.parse_args(argv)
    labctl = [sys.executable, str(REPO / "lab" / "labctl.py"), "up"]
    kubeconfig = subprocess.run(labctl, check=True, stdout=subprocess.PIPE, text=True).stdout.strip().splitlines()[-1]
    lab = reconcile_bench.Lab(kubeconfig, run_id=os.urandom(3).hex())
    try:
        dataplane = run(args.sizes, lab)
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
        state = {True: "met", False: "MISSED", None: "not measured"}[target["met"]]
        print(f"target: {target['name']}: {state} ({target['detail']})")
    return 1 if any(target["met"] is False for target in dataplane["targets"]) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
