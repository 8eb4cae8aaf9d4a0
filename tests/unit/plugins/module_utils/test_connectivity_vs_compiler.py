"""Property: the simulated matrix of compiled policies is exactly what the intent allows.

The oracle below reads the intent (schema v1) directly: an allow entry from X to Y lets X send
to every address Y stands for, and lets Y receive from every address X stands for; a workload is
isolated in a direction when ``default_deny`` says so or when an entry names it on that side.
Entries are address-based, as the compiled ipBlocks are: an entry to ``internet`` also covers
any other endpoint inside the internet's CIDR.
"""
import ipaddress

from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.compiler import compile_intent
from ansible_collections.ocpvirt.multinet.plugins.module_utils.simulate.connectivity import simulate
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.intent import parse_intent
from ansible_collections.ocpvirt.multinet.plugins.module_utils.verify.intent_flows import expected_flows
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.vocabulary import parse_traffic

NAMESPACE = "ns"
WORKLOAD_IPS = ["10.0.0.{0}".format(i) for i in range(1, 7)]
HOST_IPS = ["192.168.0.{0}".format(i) for i in range(1, 5)]
# A CIDR endpoint and the address that stands for it in the simulation.
INTERNET = {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/24", "192.168.0.0/30"]}
INTERNET_HOST = "8.8.8.8"
PORT_CHOICES = [None, ["tcp/22"], ["udp/53"], ["tcp/8070-8090", "tcp/22"], ["sctp/9"]]
TRAFFIC = [None, "tcp/22", "udp/53", "tcp/8080", "tcp/8090", "tcp/9000", "sctp/9"]


@st.composite
def intents(draw):
    workloads = {}
    for i in range(draw(st.integers(1, len(WORKLOAD_IPS)))):
        name = "w{0}".format(i)
        kind = draw(st.sampled_from(["selector", "vm"]))
        ref = {"selector": {"app": name}} if kind == "selector" else {"vm": "vm-" + name}
        workloads[name] = dict(ref, ips=[WORKLOAD_IPS[i]])
    endpoints = {"h{0}".format(i): ip for i, ip in enumerate(HOST_IPS[:draw(st.integers(0, len(HOST_IPS)))])}
    if draw(st.booleans()):
        endpoints["internet"] = INTERNET
    names = sorted(workloads) + sorted(endpoints)
    allow = []
    for _entry in range(draw(st.integers(0, 8))):
        source = draw(st.sampled_from(names))
        candidates = names if source in workloads else sorted(workloads)
        targets = draw(st.lists(st.sampled_from(candidates), min_size=1, max_size=3, unique=True))
        if source in targets:
            continue
        entry = {"from": source, "to": targets if len(targets) > 1 else targets[0]}
        ports = draw(st.sampled_from(PORT_CHOICES))
        if ports is not None:
            entry["ports"] = ports
        allow.append(entry)
    return {
        "namespace": NAMESPACE,
        "network": "net",
        "ipam": draw(st.booleans()),
        "target_honours_end_port": draw(st.booleans()),
        "default_deny": draw(st.sampled_from([["ingress", "egress"], ["ingress"], ["egress"], []])),
        "workloads": workloads,
        "endpoints": endpoints,
        "allow": allow,
    }


def simulation_endpoints(intent):
    endpoints = []
    for name, workload in sorted(intent["workloads"].items()):
        labels = workload.get("selector") or {"vm.kubevirt.io/name": workload.get("vm")}
        endpoints.append({"name": name, "ip": workload["ips"][0], "namespace": NAMESPACE, "labels": labels})
    for name, target in sorted(intent["endpoints"].items()):
        endpoints.append({"name": name, "ip": INTERNET_HOST if isinstance(target, dict) else target})
    return endpoints


class Oracle:
    """What the intent means, computed from the intent alone."""

    def __init__(self, intent, traffic):
        self.intent = intent
        self.traffic = parse_traffic(traffic)
        self.entries = [(e["from"], _as_list(e["to"]), e.get("ports")) for e in intent["allow"]]
        named = {"egress": {e[0] for e in self.entries}, "ingress": {t for e in self.entries for t in e[1]}}
        self.isolated = {
            d: {w for w in intent["workloads"] if d in intent["default_deny"] or w in named[d]}
            for d in ("ingress", "egress")
        }

    def allowed(self, src, dst):
        return self._egress(src, dst) and self._ingress(dst, src)

    def _egress(self, src, dst):
        if src not in self.isolated["egress"]:
            return True  # an outside host, or a workload nothing isolates for egress
        return any(source == src and any(self._covers(t, dst) for t in targets) and self._admits(ports)
                   for source, targets, ports in self.entries)

    def _ingress(self, dst, src):
        if dst not in self.isolated["ingress"]:
            return True
        return any(dst in targets and self._covers(source, src) and self._admits(ports)
                   for source, targets, ports in self.entries)

    def _covers(self, target, name):
        """Does the intent name ``target`` stand for the address of endpoint ``name``?"""
        if target == name:
            return True
        spec = self.intent["endpoints"].get(target)
        if not isinstance(spec, dict):
            return False  # a workload or a single-address endpoint covers only itself (IPs are distinct)
        ip = ipaddress.ip_address(self._address(name))
        return ip in ipaddress.ip_network(spec["cidr"]) and not any(
            ip in ipaddress.ip_network(ex) for ex in spec["except"])

    def _address(self, name):
        if name in self.intent["workloads"]:
            return self.intent["workloads"][name]["ips"][0]
        spec = self.intent["endpoints"][name]
        return INTERNET_HOST if isinstance(spec, dict) else spec

    def _admits(self, ports):
        if ports is None:
            return True
        if self.traffic is None:
            return False
        protocol, number = self.traffic
        for spec in ports:
            proto, span = spec.split("/")
            low, high = (span.split("-") + [span])[:2]
            if proto.upper() == protocol and int(low) <= number <= int(high):
                return True
        return False


def _as_list(value):
    return value if isinstance(value, list) else [value]


@settings(max_examples=150, deadline=None)
@given(intent=intents(), traffic=st.sampled_from(TRAFFIC))
def test_simulated_compiled_policies_equal_the_intent(intent, traffic):
    endpoints = simulation_endpoints(intent)
    rows = simulate(compile_intent(intent), NAMESPACE + "/net", endpoints, port=traffic, ipam=intent["ipam"],
                    target_honours_end_port=intent["target_honours_end_port"])
    oracle = Oracle(intent, traffic)
    expected = {(r["from"], r["to"]) for r in rows if oracle.allowed(r["from"], r["to"])}
    simulated = {(r["from"], r["to"]) for r in rows if r["allowed"]}
    assert simulated == expected, [r for r in rows if ((r["from"], r["to"]) in expected) != r["allowed"]]


@settings(max_examples=100, deadline=None)
@given(intent=intents(), traffic=st.sampled_from(TRAFFIC))
def test_expected_flows_read_by_name_equal_the_oracle_when_addresses_are_right(intent, traffic):
    """intent_flows reads the intent by name (the report's Expected); with the right addresses
    it must agree with the oracle, which reads it by address like the compiled ipBlocks."""
    endpoints = [dict(e, kind="pod", workload=e["name"]) if "namespace" in e else dict(e, kind="outside")
                 for e in simulation_endpoints(intent)]
    rows = expected_flows(parse_intent(intent), endpoints, parse_traffic(traffic))
    oracle = Oracle(intent, traffic)
    assert [r for r in rows if oracle.allowed(r["from"], r["to"]) != r["allowed"]] == []


def test_oracle_reads_the_seed_intent_like_the_seed_observed():
    """Guards the oracle itself with the seed's CNV ping results."""
    intent = {
        "namespace": NAMESPACE, "network": "net", "default_deny": ["ingress", "egress"],
        "workloads": {"tinypod-01": {"selector": {"app": "tinypod-01"}, "ips": ["10.0.0.2"]},
                      "gold-rabbit": {"vm": "gold-rabbit", "ips": ["10.0.0.1"]}},
        "endpoints": {"gateway": "192.168.0.1", "internet": INTERNET},
        "allow": [{"from": "gold-rabbit", "to": ["gateway", "tinypod-01", "internet"]},
                  {"from": "gateway", "to": "gold-rabbit"}],
    }
    oracle = Oracle(intent, None)
    assert oracle.allowed("gold-rabbit", "internet") and oracle.allowed("gold-rabbit", "tinypod-01")
    assert not oracle.allowed("tinypod-01", "gold-rabbit") and oracle.allowed("gateway", "gold-rabbit")
    assert not Oracle(dict(intent, allow=[dict(intent["allow"][0], ports=["tcp/22"])]), None).allowed(
        "gold-rabbit", "gateway")
