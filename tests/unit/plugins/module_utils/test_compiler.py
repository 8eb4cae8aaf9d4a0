"""The policy compiler: seed reproduction, output shape, merging, and properties (hypothesis)."""
import ipaddress
import json
import os

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.compiler import (
    INTENT_LABEL,
    MANAGED_BY_LABEL,
    MANAGED_BY_VALUE,
    POLICY_FOR_ANNOTATION,
    WORKLOADS_ANNOTATION,
    compile_intent,
    intent_name,
    intent_selector,
)
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.errors import MultinetError

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures")
SEED_POLICY_FILES = ("multi-network-policy-deny-all.yaml", "multi-network-policy-allow-some.yaml",
                     "multi-network-policy-allow-some-cnv.yaml")
ALL_PORTS = "all ports"


def load_seed_intent():
    with open(os.path.join(FIXTURES, "seed_intent.yml")) as handle:
        return yaml.safe_load(handle)


def load_seed_policies():
    policies = []
    for name in SEED_POLICY_FILES:
        with open(os.path.join(FIXTURES, "seed_policies", name)) as handle:
            policies.extend(doc for doc in yaml.safe_load_all(handle) if doc)
    return policies


def canonical(value):
    return json.dumps(value, sort_keys=True)


def semantics(policies):
    """What each selected set of pods gets, independent of policy names and rule layout:
    selector -> {"types": set of policyTypes, "Ingress"/"Egress": set of (peer, port)}."""
    result = {}
    for policy in policies:
        spec = policy["spec"]
        selector = canonical(spec["podSelector"].get("matchLabels", {}))
        entry = result.setdefault(selector, {"types": set(), "Ingress": set(), "Egress": set()})
        entry["types"].update(spec["policyTypes"])
        for direction, rules_key, peers_key in (("Ingress", "ingress", "from"), ("Egress", "egress", "to")):
            for rule in spec.get(rules_key) or []:
                ports = [canonical(port) for port in rule.get("ports") or []] or [ALL_PORTS]
                entry[direction].update((canonical(peer), port) for peer in rule[peers_key] for port in ports)
    return result


def by_name(policies):
    return {policy["metadata"]["name"]: policy for policy in policies}


def by_workload(policies, intent_name):
    """Workload name -> the allow policy that selects it: its own, or one it shares."""
    found = {}
    for policy in policies:
        metadata = policy["metadata"]
        shared = metadata["annotations"].get(WORKLOADS_ANNOTATION)
        if shared is not None:
            found.update((workload, policy) for workload in shared.split(","))
        elif metadata["name"].startswith(intent_name + "-allow-"):
            found[metadata["name"][len(intent_name + "-allow-"):]] = policy
    return found


def minimal(**extra):
    intent = {
        "namespace": "demo",
        "network": "demo-net",
        "workloads": {
            "a": {"selector": {"app": "a"}, "ips": ["10.0.0.1"]},
            "b": {"selector": {"app": "b"}, "ips": ["10.0.0.2"]},
            "c": {"selector": {"app": "c"}, "ips": ["10.0.0.3"]},
        },
        "endpoints": {"gateway": "10.0.0.254", "internet": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/24"]}},
        "allow": [],
    }
    intent.update(extra)
    return intent


# ---------------------------------------------------------------------------------------------
# The seed lab
# ---------------------------------------------------------------------------------------------
def test_seed_intent_reproduces_the_seed_policies():
    compiled = semantics(compile_intent(load_seed_intent()))
    seed = semantics(load_seed_policies())

    assert compiled == seed


def test_seed_intent_is_the_same_merged_or_not():
    """No two of a seed rule's addresses are neighbours, so merging leaves the seed's policies (and the
    seed-stage lab tests' ACLs, compared with the seed's ovn-nbctl dump) exactly as written."""
    assert compile_intent(load_seed_intent()) == compile_intent(load_seed_intent(), merge_peers=False)


def test_seed_intent_policy_names_and_deny_all():
    policies = by_name(compile_intent(load_seed_intent()))

    assert sorted(policies) == [
        "llm-demo-localnet-network-allow-gold-rabbit",
        "llm-demo-localnet-network-allow-green-ferret",
        "llm-demo-localnet-network-allow-tinypod",
        "llm-demo-localnet-network-allow-tinypod-01",
        "llm-demo-localnet-network-default-deny",
    ]
    deny = policies["llm-demo-localnet-network-default-deny"]["spec"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}


def test_seed_tinypod_gets_ingress_only_like_allow_ipblock():
    tinypod = by_name(compile_intent(load_seed_intent()))["llm-demo-localnet-network-allow-tinypod"]["spec"]

    assert tinypod == {
        "podSelector": {"matchLabels": {"app": "tinypod"}},
        "policyTypes": ["Ingress"],
        "ingress": [{"from": [{"ipBlock": {"cidr": "192.168.77.92/32"}}]}],
    }


def test_every_policy_is_labelled_annotated_and_namespaced():
    for policy in compile_intent(load_seed_intent()):
        assert policy["apiVersion"] == "k8s.cni.cncf.io/v1beta1"
        assert policy["kind"] == "MultiNetworkPolicy"
        assert policy["metadata"]["namespace"] == "llm-demo"
        assert policy["metadata"]["labels"] == {MANAGED_BY_LABEL: MANAGED_BY_VALUE,
                                                INTENT_LABEL: "llm-demo-localnet-network"}
        assert policy["metadata"]["annotations"] == {POLICY_FOR_ANNOTATION: "llm-demo/llm-demo-localnet-network"}


# ---------------------------------------------------------------------------------------------
# Names, identity, policy types
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("extra, name, policy_for", [
    ({}, "demo-net", "demo/demo-net"),
    ({"network": "default/shared"}, "shared", "default/shared"),
    ({"name": "web"}, "web", "demo/demo-net"),
])
def test_intent_name_selector_and_annotation(extra, name, policy_for):
    intent = minimal(allow=[{"from": "a", "to": "b"}], **extra)
    policies = compile_intent(intent)

    assert intent_name(intent) == name
    assert intent_selector(intent) == "app.kubernetes.io/managed-by=ocpvirt.multinet,multinet.ocpvirt.io/intent=" + name
    assert sorted(by_name(policies)) == [name + "-allow-a", name + "-allow-b", name + "-default-deny"]
    assert {policy["metadata"]["annotations"][POLICY_FOR_ANNOTATION] for policy in policies} == {policy_for}


@pytest.mark.parametrize("default_deny, expected", [
    (["ingress", "egress"], ["Ingress", "Egress"]),
    (["egress", "ingress"], ["Ingress", "Egress"]),
    (["ingress"], ["Ingress"]),
    (["egress"], ["Egress"]),
    ([], None),
])
def test_deny_all_policy_follows_default_deny(default_deny, expected):
    policies = by_name(compile_intent(minimal(default_deny=default_deny)))

    deny = policies.get("demo-net-default-deny")
    assert (deny and deny["spec"]["policyTypes"]) == expected
    assert deny is None or deny["spec"]["podSelector"] == {}


def test_policy_types_list_only_the_directions_a_workload_has_rules_in():
    policies = by_name(compile_intent(minimal(allow=[{"from": "a", "to": "b"}, {"from": "gateway", "to": "a"}])))

    assert policies["demo-net-allow-a"]["spec"]["policyTypes"] == ["Ingress", "Egress"]
    assert policies["demo-net-allow-b"]["spec"]["policyTypes"] == ["Ingress"]
    assert "egress" not in policies["demo-net-allow-b"]["spec"]
    assert "demo-net-allow-c" not in policies


def test_vm_workload_selects_the_virt_launcher_label():
    intent = minimal(allow=[{"from": "vm1", "to": "gateway"}])
    intent["workloads"]["vm1"] = {"vm": "centos-stream9-gold-rabbit-80", "ips": ["10.0.0.71"]}

    spec = by_name(compile_intent(intent))["demo-net-allow-vm1"]["spec"]
    assert spec["podSelector"] == {"matchLabels": {"vm.kubevirt.io/name": "centos-stream9-gold-rabbit-80"}}


# ---------------------------------------------------------------------------------------------
# Peers and rule merging
# ---------------------------------------------------------------------------------------------
def test_ipam_network_compiles_workload_peers_to_pod_selectors():
    intent = minimal(ipam=True, allow=[{"from": "a", "to": ["b", "gateway"]}])
    del intent["workloads"]["b"]["ips"]

    egress = by_name(compile_intent(intent))["demo-net-allow-a"]["spec"]["egress"]
    assert egress == [{"to": [{"podSelector": {"matchLabels": {"app": "b"}}},
                              {"ipBlock": {"cidr": "10.0.0.254/32"}}]}]


def test_ipamless_network_compiles_every_address_of_a_workload():
    intent = minimal(allow=[{"from": "a", "to": "b"}])
    intent["workloads"]["b"]["ips"] = ["2001:db8::2", "10.0.0.2", "10.0.0.12"]

    egress = by_name(compile_intent(intent))["demo-net-allow-a"]["spec"]["egress"]
    assert egress == [{"to": [{"ipBlock": {"cidr": "10.0.0.2/32"}}, {"ipBlock": {"cidr": "10.0.0.12/32"}},
                              {"ipBlock": {"cidr": "2001:db8::2/128"}}]}]


def test_peers_with_the_same_ports_share_one_rule_and_ports_are_unioned_per_peer():
    intent = minimal(target_honours_end_port=True, allow=[
        {"from": "a", "to": "b", "ports": ["tcp/22"]},
        {"from": "a", "to": "gateway", "ports": ["tcp/22"]},
        {"from": "a", "to": "c", "ports": ["tcp/22"]},
        {"from": "a", "to": "b", "ports": ["udp/53"]},
        {"from": "a", "to": "gateway"},
        {"from": "a", "to": "internet", "ports": ["tcp/8000-8080", "tcp/443"]},
    ])

    egress = by_name(compile_intent(intent))["demo-net-allow-a"]["spec"]["egress"]
    # Every-port rules first, then rules ordered by their sorted port lists.
    assert egress == [
        {"to": [{"ipBlock": {"cidr": "10.0.0.254/32"}}]},
        {"to": [{"ipBlock": {"cidr": "10.0.0.3/32"}}], "ports": [{"protocol": "TCP", "port": 22}]},
        {"to": [{"ipBlock": {"cidr": "10.0.0.2/32"}}],
         "ports": [{"protocol": "TCP", "port": 22}, {"protocol": "UDP", "port": 53}]},
        {"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/24"]}}],
         "ports": [{"protocol": "TCP", "port": 443}, {"protocol": "TCP", "port": 8000, "endPort": 8080}]},
    ]


def test_ranges_become_single_ports_unless_the_target_honours_end_port():
    """OVN-K (to at least OpenShift 4.18) drops endPort, which would open 8000 only."""
    intent = minimal(allow=[{"from": "a", "to": "b", "ports": ["tcp/8000-8002", "udp/53"]}])
    rule = by_name(compile_intent(intent))["demo-net-allow-a"]["spec"]["egress"][0]
    assert rule["ports"] == [{"protocol": "TCP", "port": 8000}, {"protocol": "TCP", "port": 8001},
                             {"protocol": "TCP", "port": 8002}, {"protocol": "UDP", "port": 53}]
    honoured = by_name(compile_intent(dict(intent, target_honours_end_port=True)))
    assert honoured["demo-net-allow-a"]["spec"]["egress"][0]["ports"][0] == {
        "protocol": "TCP", "port": 8000, "endPort": 8002}


def test_a_range_wider_than_the_limit_is_refused():
    with pytest.raises(MultinetError, match=r"^allow\[0\]\.ports\[0\]: range of 33 ports"):
        compile_intent(minimal(allow=[{"from": "a", "to": "b", "ports": ["tcp/1-33"]}]))


def test_every_compiled_port_names_its_protocol():
    """OVN-K does not default a missing protocol (gress_policy.go dereferences it unchecked)."""
    intent = minimal(allow=[{"from": "a", "to": ["b", "internet"], "ports": ["tcp/22", "udp/60-61", "sctp/9"]}])
    ports = [port for policy in compile_intent(intent) for direction in ("ingress", "egress")
             for rule in policy["spec"].get(direction, []) for port in rule.get("ports", [])]
    assert ports and all(port["protocol"] in ("TCP", "UDP", "SCTP") for port in ports)


def test_every_port_entry_subsumes_specific_ports_for_the_same_peer():
    intent = minimal(allow=[{"from": "a", "to": "b", "ports": ["tcp/22"]}, {"from": "a", "to": "b"},
                            {"from": "a", "to": "b", "ports": ["udp/53"]}])

    egress = by_name(compile_intent(intent))["demo-net-allow-a"]["spec"]["egress"]
    assert egress == [{"to": [{"ipBlock": {"cidr": "10.0.0.2/32"}}]}]


def test_same_peer_by_name_and_by_literal_is_one_peer():
    intent = minimal(allow=[{"from": "a", "to": ["gateway", "10.0.0.254", "10.0.0.254/32"]}])

    egress = by_name(compile_intent(intent))["demo-net-allow-a"]["spec"]["egress"]
    assert egress == [{"to": [{"ipBlock": {"cidr": "10.0.0.254/32"}}]}]


def test_a_workload_may_talk_to_itself():
    spec = by_name(compile_intent(minimal(allow=[{"from": "a", "to": "a"}])))["demo-net-allow-a"]["spec"]

    assert spec["ingress"] == [{"from": [{"ipBlock": {"cidr": "10.0.0.1/32"}}]}]
    assert spec["egress"] == [{"to": [{"ipBlock": {"cidr": "10.0.0.1/32"}}]}]


def test_invalid_intent_raises_and_returns_nothing():
    with pytest.raises(MultinetError, match=r"allow\[1\]\.to: unknown name"):
        compile_intent(minimal(allow=[{"from": "a", "to": "b"}, {"from": "a", "to": "nobody"}]))


def test_compile_leaves_the_input_untouched():
    intent = load_seed_intent()
    before = canonical(intent)

    compile_intent(intent)

    assert canonical(intent) == before


# ---------------------------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------------------------
WORKLOAD_NAMES = ["web", "db", "cache", "vm-a", "vm-b", "batch"]
ENDPOINTS = {"gateway": "192.168.77.1", "dns": "192.168.77.53",
             "internet": {"cidr": "0.0.0.0/0", "except": ["192.168.77.0/24"]}, "lab": "10.10.0.0/16"}
PORT_SPECS = ["tcp/22", "tcp/80", "tcp/443", "udp/53", "tcp/8000-8020", "sctp/9", "tcp/20-30"]


@st.composite
def intents(draw):
    names = draw(st.lists(st.sampled_from(WORKLOAD_NAMES), min_size=1, max_size=6, unique=True))
    workloads = {}
    for index, name in enumerate(names):
        count = draw(st.integers(min_value=1, max_value=2))
        ips = ["192.168.77.{0}".format(100 + index * 2 + offset) for offset in range(count)]
        workloads[name] = {"selector": {"app": name}, "ips": ips}
    endpoints = {name: ENDPOINTS[name] for name in draw(st.lists(st.sampled_from(sorted(ENDPOINTS)), unique=True))}
    peers = st.sampled_from(names + sorted(endpoints) + ["172.16.0.0/12"])
    entries = []
    for _entry in range(draw(st.integers(min_value=0, max_value=8))):
        source = draw(st.sampled_from(names))
        destinations = draw(st.lists(peers, min_size=1, max_size=3, unique=True))
        if draw(st.booleans()):
            source, destinations = destinations[0], [source]
        entry = {"from": source, "to": destinations if len(destinations) > 1 else destinations[0]}
        ports = draw(st.one_of(st.none(), st.lists(st.sampled_from(PORT_SPECS), max_size=3, unique=True)))
        if ports is not None:
            entry["ports"] = ports
        entries.append(entry)
    return {
        "namespace": "prop",
        "network": "prop-net",
        "ipam": draw(st.booleans()),
        "default_deny": draw(st.sampled_from([[], ["ingress"], ["egress"], ["ingress", "egress"]])),
        "workloads": workloads,
        "endpoints": endpoints,
        "allow": entries,
    }


def shuffled(intent, randomizer):
    """The same intent with every order the user does not mean shuffled."""
    def shuffle_list(items):
        items = list(items)
        randomizer.shuffle(items)
        return items

    def shuffle_dict(mapping):
        return dict(shuffle_list(mapping.items()))

    copy = dict(shuffle_dict(intent))
    copy["workloads"] = shuffle_dict({name: dict(spec, ips=shuffle_list(spec["ips"]))
                                      for name, spec in intent["workloads"].items()})
    copy["endpoints"] = shuffle_dict(intent["endpoints"])
    copy["allow"] = []
    for entry in shuffle_list(intent["allow"]):
        entry = dict(entry)
        for key in ("to", "ports"):
            if isinstance(entry.get(key), list):
                entry[key] = shuffle_list(entry[key])
        copy["allow"].append(shuffle_dict(entry))
    return copy


@settings(max_examples=150, deadline=None)
@given(intent=intents(), randomizer=st.randoms(use_true_random=False))
def test_same_intent_in_any_order_gives_byte_identical_output(intent, randomizer):
    expected = compile_intent(intent)
    again = compile_intent(shuffled(intent, randomizer))

    assert json.dumps(again) == json.dumps(expected)
    assert json.dumps(again, sort_keys=True) == json.dumps(expected, sort_keys=True)


def _as_list(value):
    return value if isinstance(value, list) else [value]


def _peer_manifests(intent, ref):
    """What a name or literal must compile to, derived from the intent independently."""
    if ref in intent["workloads"]:
        if intent["ipam"]:
            return [{"podSelector": {"matchLabels": intent["workloads"][ref]["selector"]}}]
        return [{"ipBlock": {"cidr": str(ipaddress.ip_network(ip))}} for ip in intent["workloads"][ref]["ips"]]
    spec = intent["endpoints"].get(ref, ref)
    if isinstance(spec, dict):
        return [{"ipBlock": {"cidr": spec["cidr"], "except": spec["except"]}}]
    return [{"ipBlock": {"cidr": str(ipaddress.ip_network(spec))}}]


def _port_range(spec):
    protocol, _slash, ports = spec.partition("/")
    start, _dash, end = ports.partition("-")
    return protocol.upper(), int(start), int(end or start)


def _block_networks(block):
    """An ipBlock's addresses as collapsed networks (ipaddress' own arithmetic)."""
    networks = [ipaddress.ip_network(block["cidr"])]
    for hole in map(ipaddress.ip_network, block.get("except") or []):
        networks = [part for network in networks
                    for part in ([network] if not hole.subnet_of(network) else network.address_exclude(hole))
                    if not part.subnet_of(hole)]
    return list(ipaddress.collapse_addresses(networks))


def _peer_in(peers, peer, merged):
    """Is ``peer`` among ``peers``: as written, or (merged) its addresses inside their ipBlocks."""
    if not merged or "ipBlock" not in peer:
        return peer in peers
    covered = list(ipaddress.collapse_addresses(
        network for other in peers if "ipBlock" in other for network in _block_networks(other["ipBlock"])))
    # Collapsed networks are maximal, so a network inside their union is inside one of them.
    return all(any(network.subnet_of(wide) for wide in covered if wide.version == network.version)
               for network in _block_networks(peer["ipBlock"]))


def _rule_allows(rules, peers_key, peer, port, merged=False):
    """Does some rule admit this peer on this port range (None: on every port)?"""
    for rule in rules:
        if not _peer_in(rule[peers_key], peer, merged):
            continue
        if "ports" not in rule:
            return True
        if port is not None and all(any(
                allowed["protocol"] == port[0] and allowed["port"] <= number <= allowed.get("endPort", allowed["port"])
                for allowed in rule["ports"]) for number in range(port[1], port[2] + 1)):
            return True
    return False


@pytest.mark.parametrize("merged", [True, False])
@settings(max_examples=150, deadline=None)
@given(intent=intents())
def test_every_allowed_pair_appears_in_both_ends_rules(merged, intent):
    policies = by_workload(compile_intent(intent, merge_peers=merged), "prop-net")
    workloads = intent["workloads"]
    for entry in intent["allow"]:
        ports = [_port_range(spec) for spec in entry.get("ports") or []] or [None]
        for source in _as_list(entry["from"]):
            for destination in _as_list(entry["to"]):
                ends = []
                if source in workloads:
                    ends.append((source, "Egress", "egress", "to", destination))
                if destination in workloads:
                    ends.append((destination, "Ingress", "ingress", "from", source))
                for workload, policy_type, rules_key, peers_key, other in ends:
                    spec = policies[workload]["spec"]
                    assert policy_type in spec["policyTypes"]
                    for peer in _peer_manifests(intent, other):
                        for port in ports:
                            assert _rule_allows(spec[rules_key], peers_key, peer, port, merged), (workload, peer, port)


@settings(max_examples=100, deadline=None)
@given(intent=intents())
def test_policies_exist_only_for_workloads_named_in_allow_and_ipamless_uses_only_ip_blocks(intent):
    policies = compile_intent(intent)
    named = {ref for entry in intent["allow"] for side in ("from", "to") for ref in _as_list(entry[side])}
    expected = {name for name in named if name in intent["workloads"]}

    assert set(by_workload(policies, "prop-net")) == expected
    assert ("prop-net-default-deny" in by_name(policies)) == bool(intent["default_deny"])
    assert len(policies) == len({canonical(policy["spec"]) for policy in policies})
    if not intent["ipam"]:
        assert "podSelector\": {\"matchLabels" not in json.dumps([policy["spec"].get("ingress", []) +
                                                                  policy["spec"].get("egress", [])
                                                                  for policy in policies])
