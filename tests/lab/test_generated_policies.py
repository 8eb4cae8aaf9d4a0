"""The model against the real OVN-Kubernetes, broadly: generated MultiNetworkPolicy sets (issue 21).

A seeded generator writes MultiNetworkPolicy sets on two localnet networks whose NADs live in two
namespaces: one IPAM-less (addresses from the networks annotation, as the seed's), one with
`subnets` (addresses ovnkube allocates). The sets hold ipBlocks with `except`, ports of every
protocol (numbered, protocol-only and named), every `policyTypes` combination (absent, empty,
Ingress, Egress, both), empty and non-empty podSelectors and namespaceSelectors (matchLabels and
matchExpressions), peers of every kind (none, an empty list, ipBlock, podSelector,
namespaceSelector, both) and `policy-for` naming the own NAD, the other namespace's NAD of the same
network, both, or a NAD of the other network. Each set is applied to the lab, where the real
ovnkube (built from ovn-kubernetes dad2fde5a) writes the OVN objects; every ordered pair is traced
through OVN with the collection's ovn_trace code (`module_utils/ovn/trace_plan.py`, run in each
node's zone) and compared with `connectivity.simulate`. A pair where they differ fails the test,
naming the case, the policies and both reasons.

Both the request and its reply are traced: the request as `ovn_trace` traces it (`--ct=new`), the
reply of each delivered request back from its destination with every conntrack lookup answering
`est,rpl`. A pair connects when both are delivered, and `simulate`, given each pod's node, must
say the same. That checks the finding of test_real_ovnkube.py: in a zone where a default deny is
the only policy selecting the ports, the node's switch has no stateful ACL, so OVN drops the
replies to those ports even when another zone's policy allows their requests (simulate models it
since, `_Index.reply_verdict`; docs/connectivity.md, "Replies").

Not generated: a port without `protocol` (ovnkube's gressPolicy.addPortPolicy dereferences it
unchecked, gress_policy.go:169, so it would take the lab's controller down) and `endPort` (the
MultiNetworkPolicy CRD ovnkube reads has none).

`make test` runs MULTINET_GEN_CASES (default 4) cases of MULTINET_GEN_SEED; `make soak` runs many
(MULTINET_SOAK_CASES, default 60). The lab's ovnkube-controllers must be running (`labctl up`
builds and starts them); a lab without them fails the test, it is never skipped.
"""
import ipaddress
import json
import os
import random
import shlex
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from lab_helpers import wait_for

REPO_DIR = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_DIR / "lab"))
from controlplane import ovnkube  # noqa: E402
import dataplane  # noqa: E402
from controlplane.state import STATE_DIR as LAB_STATE_DIR  # noqa: E402

from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.policy_model import parse_policy  # noqa: E402
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.vocabulary import parse_traffic  # noqa: E402
from ansible_collections.ocpvirt.multinet.plugins.module_utils.ovn import ovsdb, policy_map, trace_plan  # noqa: E402
from ansible_collections.ocpvirt.multinet.plugins.module_utils.simulate.connectivity import (  # noqa: E402
    parse_network,
    simulate,
)

SEED = int(os.environ.get("MULTINET_GEN_SEED", "4217"))
CASES = int(os.environ.get("MULTINET_GEN_CASES", "4"))
MNP = ("k8s.cni.cncf.io", "v1beta1", "multi-networkpolicies")
NAD_API = ("k8s.cni.cncf.io", "v1", "network-attachment-definitions")
POD_NETWORKS = "k8s.ovn.org/pod-networks"
# Addresses no other lab test uses: the IPAM-less network's pods are given theirs, the other
# network's pods get theirs from ovnkube out of its subnet.
PLAIN_SUBNET = ipaddress.ip_network("10.231.7.0/24")
IPAM_SUBNET = ipaddress.ip_network("10.231.8.0/24")
# (namespace key, pod, node, labels, host number on the IPAM-less network)
PODS = [("a", "kestrel", "worker-0", {"app": "kestrel", "role": "web"}, 11),
        ("a", "heron", "worker-1", {"app": "heron", "role": "web"}, 12),
        ("a", "plover", "worker-0", {"app": "plover", "role": "db"}, 13),
        ("b", "kestrel", "worker-1", {"app": "kestrel", "role": "db"}, 21),
        ("b", "wren", "worker-0", {"app": "wren"}, 22)]
NAMESPACE_LABELS = {"a": {"district": "north", "gen": "yes"}, "b": {"district": "south"}}
PORTS = ["icmp", "tcp/80", "udp/53"]
REPLY_BATCH = 100  # reply traces per script: 100 lines of under 600 characters stay under 128 KiB
SOAK_PORTS = PORTS + ["sctp/9000", "tcp/8080"]


def runs_real_ovnkube(state_dir):
    for node in dataplane.data_plane_nodes():
        pid_file = state_dir / f"{ovnkube.controller_component(node)}.pid"
        if not pid_file.exists() or not Path(f"/proc/{json.loads(pid_file.read_text())['pid']}").exists():
            return False
    return True


# --- the generator ---------------------------------------------------------------------------

class Generator:
    """Seeded MultiNetworkPolicy sets for one network of the scenario."""

    def __init__(self, rng, scenario, network):
        self.rng, self.scenario, self.network = rng, scenario, network

    def addresses(self):
        return [ep["ip"] for ep in self.scenario["endpoints"][self.network["key"]] if ep["kind"] == "pod"]

    def ip_block(self):
        rng, pods = self.rng, self.addresses()
        subnet = self.network["subnet"]
        choices = [
            lambda: {"cidr": rng.choice(pods) + "/32"},
            lambda: {"cidr": str(subnet), "except": sorted({rng.choice(pods) + "/32", rng.choice(pods) + "/31"})},
            lambda: {"cidr": str(ipaddress.ip_network(rng.choice(pods) + "/28", strict=False))},
            lambda: {"cidr": "0.0.0.0/0", "except": [str(list(subnet.subnets(1))[rng.randrange(2)])]},
            lambda: {"cidr": "203.0.113.0/24"},
            lambda: {"cidr": "203.0.113.0/24", "except": ["203.0.113.7/32"]},
            lambda: {"cidr": "fd00:231::/64"},
        ]
        return rng.choice(choices)()

    def pod_selector(self, allow_empty=True):
        rng = self.rng
        choices = [{"matchLabels": {"app": rng.choice(["kestrel", "heron", "plover", "wren", "nobody"])}},
                   {"matchLabels": {"role": rng.choice(["web", "db"])}},
                   {"matchExpressions": [{"key": "role", "operator": rng.choice(["In", "NotIn"]),
                                          "values": rng.sample(["web", "db"], rng.randint(1, 2))}]},
                   {"matchExpressions": [{"key": "role", "operator": rng.choice(["Exists", "DoesNotExist"])}]}]
        return rng.choice(choices + ([{}, {}] if allow_empty else []))

    def namespace_selector(self):
        rng, names = self.rng, self.scenario["namespaces"]
        return rng.choice([{}, {"matchLabels": {"district": rng.choice(["north", "south"])}},
                           {"matchLabels": {"gen": "yes"}},
                           {"matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "In",
                                                  "values": [rng.choice(list(names.values()))]}]}])

    def peer(self):
        # On the IPAM-less network a selector peer makes ovnkube refuse the whole policy: rarer
        # there, so that most sets enforce something.
        selectors = 0.5 if self.network["ipam"] else 0.1
        roll = self.rng.random()
        if roll >= selectors:
            return {"ipBlock": self.ip_block()}
        kind = self.rng.choice(["pod", "namespace", "both"])
        peer = {}
        if kind in ("pod", "both"):
            peer["podSelector"] = self.pod_selector()
        if kind in ("namespace", "both"):
            peer["namespaceSelector"] = self.namespace_selector()
        return peer

    def port(self):
        return self.rng.choice([{"protocol": "TCP", "port": 80}, {"protocol": "UDP", "port": 53},
                                {"protocol": "TCP"}, {"protocol": "UDP"}, {"protocol": "TCP", "port": "http"},
                                {"protocol": "SCTP", "port": 9000}, {"protocol": "TCP", "port": 8080}])

    def rule(self, peers_key):
        rng, rule = self.rng, {}
        shape = rng.choice(["absent", "empty", "one", "two"])
        if shape == "empty":
            rule[peers_key] = []
        elif shape in ("one", "two"):
            rule[peers_key] = [self.peer() for _ in range(1 if shape == "one" else 2)]
        if rng.random() < 0.45:
            rule["ports"] = [self.port() for _ in range(rng.randint(1, 2))]
        return rule

    def policy_for(self, namespace_key):
        nads = self.network["nads"]
        own, other = nads[namespace_key], nads["b" if namespace_key == "a" else "a"]
        return self.rng.choice([own.split("/")[1], own, other, own + "," + other, own + ", " + other,
                                self.scenario["other_network"][self.network["key"]]])

    def policy(self, name, namespace_key):
        rng = self.rng
        spec = {"podSelector": self.pod_selector()}
        types = rng.choice([None, [], ["Ingress"], ["Egress"], ["Ingress", "Egress"], ["Egress", "Ingress"]])
        if types is not None:
            spec["policyTypes"] = types
        for direction, peers_key in (("ingress", "from"), ("egress", "to")):
            count = rng.choice([None, 0, 1, 1, 2])
            if count is not None:
                spec[direction] = [self.rule(peers_key) for _ in range(count)]
        return {"apiVersion": "k8s.cni.cncf.io/v1beta1", "kind": "MultiNetworkPolicy",
                "metadata": {"name": name, "namespace": self.scenario["namespaces"][namespace_key],
                             "annotations": {"k8s.v1.cni.cncf.io/policy-for": self.policy_for(namespace_key)}},
                "spec": spec}

    def policies(self, case):
        return [self.policy(f"c{case}-p{index}", self.rng.choice("ab")) for index in range(self.rng.randint(1, 4))]


def test_generator_writes_every_shape():
    """The generator covers what the module docstring promises (no lab needed)."""
    rng = random.Random(SEED)
    scenario, network = offline_scenario()
    generator = Generator(rng, scenario, network)
    policies = [policy for case in range(40) for policy in generator.policies(case)]
    specs = [p["spec"] for p in policies]
    assert {json.dumps(s.get("policyTypes")) for s in specs} >= {"null", "[]", '["Ingress"]', '["Egress"]',
                                                                 '["Ingress", "Egress"]'}
    peers = [peer for s in specs for d, k in (("ingress", "from"), ("egress", "to")) for r in s.get(d) or []
             for peer in r.get(k) or []]
    assert any("except" in p.get("ipBlock", {}) for p in peers)
    assert {tuple(sorted(p)) for p in peers} >= {("ipBlock",), ("podSelector",), ("namespaceSelector",),
                                                 ("namespaceSelector", "podSelector")}
    assert any(s["podSelector"] == {} for s in specs) and any(s["podSelector"] for s in specs)
    protocols = {port["protocol"] for s in specs for d in ("ingress", "egress") for r in s.get(d) or []
                 for port in r.get("ports") or []}
    assert protocols == {"TCP", "UDP", "SCTP"}
    assert len({p["metadata"]["namespace"] for p in policies}) == 2


def offline_scenario():
    names = {"a": "gen-a-test", "b": "gen-b-test"}
    endpoints = [{"name": f"{ns}/{pod}", "ip": str(PLAIN_SUBNET[host]), "kind": "pod"} for ns, pod, _, _, host in PODS]
    network = {"key": "plain", "ipam": True, "subnet": PLAIN_SUBNET,
               "nads": {key: f"{name}/mesh" for key, name in names.items()}}
    return {"namespaces": names, "endpoints": {"plain": endpoints}, "other_network": {"plain": "gen-b-test/ring"}}, \
        network


# --- the lab ---------------------------------------------------------------------------------

def nad_manifest(name, network_name, namespace, subnet=None):
    config = {"cniVersion": "0.3.1", "name": network_name, "type": "ovn-k8s-cni-overlay", "topology": "localnet",
              "netAttachDefName": f"{namespace}/{name}"}
    if subnet is not None:
        config["subnets"] = str(subnet)
    return {"apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition",
            "metadata": {"name": name, "namespace": namespace}, "spec": {"config": json.dumps(config)}}


@pytest.fixture(scope="module")
def scenario(core, custom, lab_kubeconfig):
    """Two namespaces, each with a NAD of both networks, and five pods on both networks spread
    over both nodes, with useMultiNetworkPolicy on (rolled into ovnkube's flags)."""
    if not runs_real_ovnkube(LAB_STATE_DIR):
        pytest.fail(f"the lab in {LAB_STATE_DIR} runs no ovnkube-controller on every node: "
                    "see `lab/labctl.py status`, then `labctl down` and `labctl up`")
    tag = uuid.uuid4().hex[:6]
    names = {"a": f"gen-a-{tag}", "b": f"gen-b-{tag}"}
    networks = {"plain": {"key": "plain", "name": f"genplain-{tag}", "nad": "mesh", "ipam": False,
                          "subnet": PLAIN_SUBNET},
                "ipam": {"key": "ipam", "name": f"genipam-{tag}", "nad": "ring", "ipam": True,
                         "subnet": IPAM_SUBNET}}
    before = custom.get_cluster_custom_object("operator.openshift.io", "v1", "networks", "cluster")
    previous = (before.get("spec") or {}).get("useMultiNetworkPolicy")
    custom.patch_cluster_custom_object("operator.openshift.io", "v1", "networks", "cluster",
                                       {"spec": {"useMultiNetworkPolicy": True}})
    try:
        wait_for("ovnkube rolled out with --enable-multi-networkpolicy", lambda: all(
            "--enable-multi-networkpolicy" in json.loads(
                (LAB_STATE_DIR / f"{ovnkube.controller_component(n)}.pid").read_text())["argv"]
            for n in dataplane.data_plane_nodes()) and runs_real_ovnkube(LAB_STATE_DIR), timeout=120)
        for key, namespace in names.items():
            core.create_namespace({"apiVersion": "v1", "kind": "Namespace",
                                   "metadata": {"name": namespace, "labels": NAMESPACE_LABELS[key]}})
            for network in networks.values():
                network.setdefault("nads", {})[key] = f"{namespace}/{network['nad']}"
                custom.create_namespaced_custom_object(*NAD_API[:2], namespace, NAD_API[2], nad_manifest(
                    network["nad"], network["name"], namespace, network["subnet"] if network["ipam"] else None))
        for key, pod, node, labels, host in PODS:
            requests = [{"name": "mesh", "ips": [f"{PLAIN_SUBNET[host]}/24"]}, {"name": "ring"}]
            core.create_namespaced_pod(names[key], {
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": pod, "labels": labels,
                             "annotations": {"k8s.v1.cni.cncf.io/networks": json.dumps(requests)}},
                "spec": {"nodeName": node, "containers": [{"name": "c", "image": "quay.io/example/tiny:1"}]}})

        def annotated():
            found = {}
            for key, pod, node, labels, _ in PODS:
                meta = core.read_namespaced_pod(pod, names[key]).metadata
                chosen = json.loads((meta.annotations or {}).get(POD_NETWORKS, "{}"))
                for network in networks.values():
                    entry = chosen.get(network["nads"][key])
                    if not entry or not entry.get("ip_addresses"):
                        return None
                    found.setdefault(network["key"], []).append({
                        "name": f"{key}/{pod}", "kind": "pod", "namespace": names[key], "pod": pod, "node": node,
                        "ip": str(ipaddress.ip_interface(entry["ip_addresses"][0]).ip), "labels": labels})
            return found
        endpoints = wait_for("ovnkube to give every pod an address on both networks", annotated, timeout=180)
        for key, network in networks.items():
            endpoints[key] += [{"name": "lan-host", "kind": "outside", "ip": str(network["subnet"][200])},
                               {"name": "internet", "kind": "outside", "ip": "203.0.113.7"},
                               {"name": "internet-2", "kind": "outside", "ip": "203.0.113.99"}]
        wait_for("every pod's port in its zone's NB", lambda: all(
            len(trace_plan.logical_ports(read_zones(network))[0]) == len(PODS) for network in networks.values()),
            timeout=120)
        yield {"namespaces": names, "networks": networks, "endpoints": endpoints,
               "other_network": {"plain": networks["ipam"]["nads"]["a"], "ipam": networks["plain"]["nads"]["b"]}}
    finally:
        for namespace in names.values():
            try:
                core.delete_namespace(namespace)
            except Exception:  # noqa: BLE001  (a namespace the fixture never created)
                pass
        custom.patch_cluster_custom_object("operator.openshift.io", "v1", "networks", "cluster",
                                           {"spec": {"useMultiNetworkPolicy": previous}})


def run_in_zone(node, argv):
    result = subprocess.run(argv, env={**os.environ, **dataplane.node_env(LAB_STATE_DIR, node)},
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, f"{node}: {argv[:3]} exited {result.returncode}: {result.stderr[-500:]}"
    return result.stdout


def read_zones(network):
    """Each node's NB objects of the network, as the ovn_trace module reads them (read_zones)."""
    zones = {}
    for node in dataplane.data_plane_nodes():
        nb = ovsdb.parse_nb_output(run_in_zone(node, ovsdb.NB_COMMAND))
        zones[node] = dict(policy_map.zone_objects(nb, network["name"]), acls=nb["ACL"])
    return zones


def fingerprint(zones):
    return json.dumps({node: {name: [group["ports"], sorted(acl["match"] + acl["action"] for acl in group["acls"])]
                              for name, group in zone["port_groups"].items()}
                       | {"address sets": sorted(json.dumps(s["addresses"]) for s in zone["address_sets"])}
                       for node, zone in zones.items()}, sort_keys=True)


def policy_groups(zones):
    """The `<ns>_<policy>` names of the policy port groups (policy_map gives a policy's group its
    `<ns>/<policy>` and a default deny's none)."""
    return {group["policy"].replace("/", "_", 1) for zone in zones.values() for group in zone["port_groups"].values()
            if group["policy"]}


def settled(network, wanted, quiet=3.0, timeout=120):
    """The zones once every policy of `wanted` (`<ns>_<name>`, those ovnkube should enforce) has
    its port group, none else of the test's does, and nothing changed for `quiet` seconds."""
    deadline, last, since = time.monotonic() + timeout, None, None
    while time.monotonic() < deadline:
        zones = read_zones(network)
        current = fingerprint(zones)
        if policy_groups(zones) == wanted and current == last:
            if time.monotonic() - since >= quiet:
                return zones
        else:
            last, since = current, time.monotonic()
        time.sleep(0.5)
    pytest.fail(f"ovnkube's port groups for {network['name']} did not settle on {sorted(wanted)} in {timeout}s: "
                f"{sorted(policy_groups(read_zones(network)))}")


def run_batches(batches):
    outputs = {}
    for node, scripts in batches.items():
        outputs[node] = {}
        for argv in scripts:
            outputs[node].update(trace_plan.parse_batch(run_in_zone(node, argv)))
    return outputs


def traced(endpoints, zones, ports):
    """{port: {(from, to): row}} from ovn-trace in each node's zone, as the ovn_trace module runs it."""
    steps = trace_plan.plan(endpoints, zones, ports)
    results = trace_plan.verdicts(steps, run_batches(trace_plan.batches(steps)),
                                  {node: zone["acls"] for node, zone in zones.items()})
    return {entry["port"]: {(row["from"], row["to"]): row for row in entry["rows"]} for entry in results}


def reply_flow(flow, traffic):
    """The request's microflow (trace_plan.microflow) turned into its reply's: ICMP echo reply, or
    the ports swapped."""
    if traffic is None:
        return flow.replace("icmp4.type == 8", "icmp4.type == 0")
    protocol, port = traffic[0].lower(), traffic[1]
    return flow.replace(f"{protocol}.src == {trace_plan.SOURCE_PORT} && {protocol}.dst == {port}",
                        f"{protocol}.src == {port} && {protocol}.dst == {trace_plan.SOURCE_PORT}")


def traced_replies(endpoints, zones, requests):
    """{(port, from, to): (delivered, detail)} for the reply of every delivered request: traced
    from the request's destination back, each conntrack lookup answering `est,rpl` (a switch
    without stateful ACLs makes none, and its ACLs judge the reply as any packet)."""
    ports, switches = trace_plan.logical_ports(zones)
    by_name = {endpoint["name"]: endpoint for endpoint in endpoints}
    legs, lines = {}, {}
    for port, rows in requests.items():
        traffic = parse_traffic(port)
        for (source, target), row in rows.items():
            if not row["allowed"]:
                continue
            found = trace_plan.pair_legs(by_name[target], by_name[source], ports, switches, traffic)
            assert not isinstance(found, str), found
            for index, leg in enumerate(found):
                leg["id"] = f"r{len(legs)}-{index}"
                command = " ".join(shlex.quote(word) for word in [
                    "ovn-trace", "--detailed", "--minimal", "--ct=est,rpl", "--ct=est,rpl", leg["switch"],
                    reply_flow(leg["flow"], traffic)])
                lines.setdefault(leg["node"], []).append(
                    f"echo {trace_plan.MARK} {leg['id']}; {command} 2>&1; echo {trace_plan.MARK}-rc {leg['id']} $?")
            legs[(port, source, target)] = found
    # scripts of REPLY_BATCH traces each, as trace_plan.batches keeps under the argument size limit
    outputs = run_batches({node: [["sh", "-c", "\n".join(part[i:i + REPLY_BATCH])]
                                  for i in range(0, len(part), REPLY_BATCH)] for node, part in lines.items()})
    replies = {}
    for key, found in legs.items():
        outcomes = [trace_plan.leg_outcome(leg, outputs[leg["node"]].get(leg["id"]), zones[leg["node"]]["acls"])
                    for leg in found]
        replies[key] = (all(outcome[0] for outcome in outcomes), "; ".join(outcome[1] for outcome in outcomes))
    return replies


def enforced(policies, network):
    """`<ns>_<name>` of the policies ovnkube should turn into port groups on the network, as the
    model reads them (a refused one, or one for another network, has none)."""
    parsed = parse_network({"name": network["name"], "nads": sorted(network["nads"].values())})
    return {f"{p.namespace}_{p.name}" for p in map(parse_policy, policies)
            if p.applies_to(parsed) and (network["ipam"] or p.selector_peer() is None)}


def check_case(custom, scenario, network, policies, ports, label):
    """Apply, trace and simulate one set: (what disagrees or None, [(port, from, to)] whose replies
    the simulation drops)."""
    for policy in policies:
        custom.create_namespaced_custom_object(*MNP[:2], policy["metadata"]["namespace"], MNP[2], policy)
    try:
        zones = settled(network, enforced(policies, network))
        endpoints = scenario["endpoints"][network["key"]]
        traces = traced(endpoints, zones, ports)
        replies = traced_replies(endpoints, zones, traces)
        model = [{k: ep[k] for k in ("name", "ip", "namespace", "labels", "node") if k in ep} |
                 ({"namespace_labels": NAMESPACE_LABELS[ep["name"][0]]} if ep["kind"] == "pod" else {})
                 for ep in endpoints]
        disagreements, reply_drops = [], []
        for port in ports:
            for row in simulate(policies, {"name": network["name"], "nads": sorted(network["nads"].values())},
                                model, port=None if port == "icmp" else port, ipam=network["ipam"]):
                trace = traces[port][(row["from"], row["to"])]
                reply = replies.get((port, row["from"], row["to"]), (True, "no reply traced"))
                if row["reason"].startswith("replies dropped"):
                    reply_drops.append((port, row["from"], row["to"]))
                if (trace["allowed"] and reply[0]) is not row["allowed"]:
                    disagreements.append(f"{port} {row['from']} -> {row['to']}: simulated {row['allowed']} "
                                         f"({row['reason']}); traced {trace['allowed']} ({trace['detail']}), "
                                         f"reply {reply[0]} ({reply[1]})")
        if disagreements:
            return "{0} on the {1} network, policies:\n{2}\n{3}".format(
                label, network["key"], json.dumps([{"metadata": p["metadata"], "spec": p["spec"]} for p in policies]),
                "\n".join(disagreements)), reply_drops
        return None, reply_drops
    finally:
        for policy in policies:
            custom.delete_namespaced_custom_object(*MNP[:2], policy["metadata"]["namespace"], MNP[2],
                                                   policy["metadata"]["name"])
        settled(network, set(), quiet=1.0)


def known_finding(scenario):
    """test_real_ovnkube.py's finding on this scenario: a default deny for every pod of namespace a,
    and kestrel (worker-0) open to heron (worker-1) only. No policy with rules selects a pod on
    worker-1, so its switch has no stateful ACL and heron gets no reply from kestrel."""
    network, namespace = scenario["networks"]["plain"], scenario["namespaces"]["a"]
    heron = next(ep["ip"] for ep in scenario["endpoints"]["plain"] if ep["name"] == "a/heron")
    annotations = {"k8s.v1.cni.cncf.io/policy-for": network["nads"]["a"]}
    return network, [
        {"apiVersion": "k8s.cni.cncf.io/v1beta1", "kind": "MultiNetworkPolicy",
         "metadata": {"name": "known-deny", "namespace": namespace, "annotations": annotations},
         "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}},
        {"apiVersion": "k8s.cni.cncf.io/v1beta1", "kind": "MultiNetworkPolicy",
         "metadata": {"name": "known-heron-to-kestrel", "namespace": namespace, "annotations": annotations},
         "spec": {"podSelector": {"matchLabels": {"app": "kestrel"}}, "policyTypes": ["Ingress"],
                  "ingress": [{"from": [{"ipBlock": {"cidr": heron + "/32"}}]}]}}]


def test_the_known_finding_replies_dropped_on_a_node_without_stateful_acls(custom, scenario):
    network, policies = known_finding(scenario)
    failed, reply_drops = check_case(custom, scenario, network, policies, PORTS, "the known finding")
    assert failed is None, failed
    assert ("icmp", "a/heron", "a/kestrel") in reply_drops


def test_traced_verdicts_equal_the_simulated_ones_on_generated_policies(custom, scenario):
    rng = random.Random(SEED)
    ports = SOAK_PORTS if os.environ.get("MULTINET_GEN_SOAK") == "1" else PORTS
    failed, reply_drops = [], 0
    for case in range(CASES):
        network = scenario["networks"]["ipam" if case % 2 else "plain"]
        policies = Generator(rng, scenario, network).policies(case)
        found, drops = check_case(custom, scenario, network, policies, ports, f"case {case} (seed {SEED})")
        failed += [found] if found else []
        reply_drops += len(drops)
    assert not failed, f"{len(failed)} of {CASES} cases disagree:\n\n" + "\n\n".join(failed)
    print(f"{CASES} cases of seed {SEED} agree; {reply_drops} pairs lose their replies")
