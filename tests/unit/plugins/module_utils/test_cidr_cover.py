"""cidr_cover: the exact, smallest ipBlock cover, and compiled policies that merge peers with it.

Addresses here are this file's own (10.61.0.0/22 and 2001:db8:61::/118), shared with no scenario.
"""
import ipaddress
from itertools import combinations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.cidr_cover import exact_cover
from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.compiler import compile_intent
from ansible_collections.ocpvirt.multinet.plugins.module_utils.simulate.connectivity import simulate
from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.flow_diff import intent_diff

BASES = {4: int(ipaddress.ip_address("10.61.0.0")), 6: int(ipaddress.ip_address("2001:db8:61::"))}
SPAN_BITS = 10  # each family's pool: 1,024 addresses
MAX_BITS = {4: 32, 6: 128}


def _address(version, offset):
    return ipaddress.ip_address(BASES[version] + offset) if version == 4 else ipaddress.IPv6Address(
        BASES[version] + offset)


def _network(version, offset, length):
    """The prefix of ``length`` that holds pool address ``offset``."""
    return ipaddress.ip_network("{0}/{1}".format(_address(version, offset), length), strict=False)


@st.composite
def ip_blocks(draw, version):
    """An ipBlock in the pool: a prefix and up to three excepts strictly inside it."""
    length = draw(st.integers(min_value=MAX_BITS[version] - SPAN_BITS, max_value=MAX_BITS[version]))
    network = _network(version, draw(st.integers(0, (1 << SPAN_BITS) - 1)), length)
    excepts = set()
    if length < MAX_BITS[version]:
        for _hole in range(draw(st.integers(0, 3))):
            hole_length = draw(st.integers(length + 1, MAX_BITS[version]))
            offset = int(network.network_address) - BASES[version] + draw(st.integers(0, network.num_addresses - 1))
            excepts.add(str(_network(version, offset, hole_length)))
    return str(network), tuple(sorted(excepts))


def single_addresses(version):
    return st.integers(0, (1 << SPAN_BITS) - 1).map(
        lambda offset: ("{0}/{1}".format(_address(version, offset), MAX_BITS[version]), ()))


address_sets = st.lists(st.one_of(ip_blocks(4), ip_blocks(6), single_addresses(4), single_addresses(6)),
                        min_size=1, max_size=40)


def _addresses(blocks):
    """The addresses of ipBlocks as canonical networks, by ipaddress' own arithmetic."""
    networks = []
    for cidr, excepts in blocks:
        parts = [ipaddress.ip_network(cidr)]
        for hole in map(ipaddress.ip_network, excepts):
            parts = [piece for part in parts
                     for piece in (part.address_exclude(hole) if hole.subnet_of(part) else [part])
                     if not piece.subnet_of(hole)]
        networks.extend(parts)
    return sorted(ipaddress.collapse_addresses([n for n in networks if n.version == 4])) + sorted(
        ipaddress.collapse_addresses([n for n in networks if n.version == 6]))


@settings(max_examples=400, deadline=None)
@given(blocks=address_sets)
def test_cover_holds_exactly_the_addresses_in_no_more_blocks_than_collapsing(blocks):
    cover = exact_cover(blocks)
    expected = _addresses(blocks)

    # Collapsed networks are canonical: equal lists, equal address sets.
    assert _addresses(cover) == expected
    assert len(cover) <= len(expected)
    for cidr, excepts in cover:
        network = ipaddress.ip_network(cidr)
        assert all(ipaddress.ip_network(hole).version == network.version for hole in excepts)
        assert all(ipaddress.ip_network(hole).subnet_of(network) for hole in excepts)


@settings(max_examples=200, deadline=None)
@given(blocks=address_sets, randomizer=st.randoms(use_true_random=False))
def test_cover_depends_on_the_addresses_only(blocks, randomizer):
    shuffled = list(blocks)
    randomizer.shuffle(shuffled)
    collapsed = [(str(network), ()) for network in _addresses(blocks)]

    assert exact_cover(shuffled) == exact_cover(blocks) == exact_cover(collapsed)
    assert exact_cover(exact_cover(blocks)) == exact_cover(blocks)


@pytest.mark.parametrize("blocks, expected", [
    # A /24 less one address: one block and one except, where collapsing writes 8 blocks.
    ([("10.61.1.0/24", ("10.61.1.9/32",))], [("10.61.1.0/24", ("10.61.1.9/32",))]),
    # Two far addresses stay two blocks: one wide block would need ~20 excepts.
    ([("10.61.0.3/32", ()), ("10.61.2.200/32", ())], [("10.61.0.3/32", ()), ("10.61.2.200/32", ())]),
    # Neighbours merge; IPv4 before IPv6, never mixed in one block.
    ([("2001:db8:61::5/128", ()), ("10.61.0.4/32", ()), ("2001:db8:61::4/128", ()), ("10.61.0.5/32", ())],
     [("10.61.0.4/31", ()), ("2001:db8:61::4/127", ())]),
    # Overlapping endpoints: the union, as one block.
    ([("10.61.0.0/25", ()), ("10.61.0.64/26", ()), ("10.61.0.128/25", ())], [("10.61.0.0/24", ())]),
])
def test_cover_of_known_sets(blocks, expected):
    assert exact_cover(blocks) == expected


def test_a_run_of_contiguous_addresses_takes_a_few_blocks():
    """The issue's shape: 333 addresses in a row (collapsing writes one block per set bit run)."""
    first = int(ipaddress.ip_address("10.61.0.1"))
    blocks = [("{0}/32".format(ipaddress.ip_address(first + i)), ()) for i in range(333)]
    cover = exact_cover(blocks)

    assert _addresses(cover) == _addresses(blocks)
    assert len(cover) < len(_addresses(blocks))


def test_empty_input_gives_no_blocks():
    assert exact_cover([]) == []
    assert exact_cover([("10.61.0.0/31", ("10.61.0.0/32", "10.61.0.1/32"))]) == []


def test_a_rule_whose_peers_hold_no_address_keeps_them_rather_than_admit_everyone():
    intent = {"namespace": "cover-ns", "network": "cover-net",
              "workloads": {"app": {"selector": {"tier": "app"}, "ips": ["10.61.3.10"]}},
              "endpoints": {"nothing": {"cidr": "10.61.2.0/31", "except": ["10.61.2.0/32", "10.61.2.1/32"]}},
              "allow": [{"from": "nothing", "to": "app"}]}
    policy = {p["metadata"]["name"]: p for p in compile_intent(intent)}["cover-net-allow-app"]

    assert policy["spec"]["ingress"] == [{"from": [
        {"ipBlock": {"cidr": "10.61.2.0/31", "except": ["10.61.2.0/32", "10.61.2.1/32"]}}]}]


# ---------------------------------------------------------------------------------------------
# Compiled policies: merging changes no verdict on any pair
# ---------------------------------------------------------------------------------------------
PORTS = ["tcp/443", "tcp/8080", "udp/5353"]


@st.composite
def merging_intents(draw):
    """IPAM-less (workloads are ipBlocks) or not; workloads on free pool addresses, endpoints
    as random ipBlocks of either family."""
    offsets = draw(st.lists(st.integers(1, (1 << SPAN_BITS) - 2), min_size=2, max_size=24, unique=True))
    workloads, taken = {}, 0
    for index in range(draw(st.integers(1, min(6, len(offsets))))):
        mine = offsets[taken:taken + draw(st.integers(1, 4))]
        if not mine:
            break
        taken += len(mine)
        ips = sorted({str(_address(draw(st.sampled_from([4, 4, 6])), offset)) for offset in mine})
        workloads["tier-{0}".format(index)] = {"selector": {"tier": str(index)}, "ips": ips}
    blocks = draw(st.lists(st.one_of(ip_blocks(4), ip_blocks(6)), max_size=3))
    endpoints = {"outside-{0}".format(index): {"cidr": cidr, "except": list(excepts)}
                 for index, (cidr, excepts) in enumerate(blocks)}
    names = sorted(workloads)
    peers = names + sorted(endpoints)
    allow = []
    for _entry in range(draw(st.integers(1, 6))):
        workload = draw(st.sampled_from(names))
        others = draw(st.lists(st.sampled_from(peers), min_size=1, max_size=4, unique=True))
        entry = {"from": others, "to": workload} if draw(st.booleans()) else {"from": workload, "to": others}
        ports = draw(st.one_of(st.none(), st.lists(st.sampled_from(PORTS), min_size=1, max_size=2, unique=True)))
        if ports is not None:
            entry["ports"] = ports
        allow.append(entry)
    return {"namespace": "cover-ns", "network": "cover-net", "ipam": draw(st.booleans()),
            "default_deny": draw(st.sampled_from([[], ["ingress"], ["ingress", "egress"]])),
            "workloads": workloads, "endpoints": endpoints, "allow": allow}


def _probe_addresses(intent):
    """Every edge of every endpoint block and except: where a wrong cover would show first."""
    found = set()
    for spec in intent["endpoints"].values():
        for text in [spec["cidr"]] + spec["except"]:
            network = ipaddress.ip_network(text)
            for edge in (int(network.network_address), int(network.broadcast_address)):
                for value in (edge - 1, edge, edge + 1):
                    found.add(ipaddress.ip_address(value) if network.version == 4 else ipaddress.IPv6Address(value))
    for spec in intent["workloads"].values():
        for text in spec["ips"]:
            address = ipaddress.ip_address(text)
            found.update((address - 1, address + 1))
    owned = {ipaddress.ip_address(text) for spec in intent["workloads"].values() for text in spec["ips"]}
    return sorted(found - owned, key=lambda address: (address.version, address))


def _endpoints(intent):
    endpoints = [{"name": "{0}@{1}".format(name, ip), "ip": ip, "namespace": "cover-ns", "labels": spec["selector"]}
                 for name, spec in intent["workloads"].items() for ip in spec["ips"]]
    return endpoints + [{"name": "host@{0}".format(address), "ip": str(address)}
                        for address in _probe_addresses(intent)]


@settings(max_examples=150, deadline=None)
@given(intent=merging_intents())
def test_merging_changes_no_verdict_on_any_pair(intent):
    # Sharing off on both sides: a shared policy's name digests its rules, which merging rewrites
    # (test_shared_policies proves sharing changes no verdict either).
    merged = compile_intent(intent, share_policies=False)
    separate = compile_intent(intent, merge_peers=False, share_policies=False)
    endpoints = _endpoints(intent)
    for traffic in [None] + PORTS:
        assert simulate(merged, "cover-ns/cover-net", endpoints, traffic, ipam=intent["ipam"]) == simulate(
            separate, "cover-ns/cover-net", endpoints, traffic, ipam=intent["ipam"])
    for merged_rule, separate_rule in zip(_rules(merged), _rules(separate)):
        blocks = [_block(peer) for peer in merged_rule if "ipBlock" in peer]
        written = [_block(peer) for peer in separate_rule if "ipBlock" in peer]
        assert len(blocks) <= max(1, len(_addresses(written)))
        assert sum(1 + len(excepts) for _cidr, excepts in blocks) <= sum(1 + len(excepts) for _c, excepts in written)


def _block(peer):
    return peer["ipBlock"]["cidr"], tuple(peer["ipBlock"].get("except", ()))


def _rules(policies):
    """Every rule's peer list, in manifest order."""
    return [rule.get("from", rule.get("to")) for policy in policies for direction in ("ingress", "egress")
            for rule in policy["spec"].get(direction, [])]


def test_merged_and_separate_compilations_differ_only_in_peers():
    intent = {"namespace": "cover-ns", "network": "cover-net", "default_deny": ["ingress"],
              "workloads": {"app": {"selector": {"tier": "app"}, "ips": ["10.61.3.10"]},
                            "web-a": {"selector": {"tier": "web-a"}, "ips": ["10.61.3.20"]},
                            "web-b": {"selector": {"tier": "web-b"}, "ips": ["10.61.3.21"]}},
              "allow": [{"from": ["web-a", "web-b"], "to": "app", "ports": ["tcp/8080"]}]}
    merged = {p["metadata"]["name"]: p for p in compile_intent(intent)}
    separate = {p["metadata"]["name"]: p for p in compile_intent(intent, merge_peers=False)}

    assert merged["cover-net-allow-app"]["spec"]["ingress"] == [
        {"from": [{"ipBlock": {"cidr": "10.61.3.20/31"}}], "ports": [{"protocol": "TCP", "port": 8080}]}]
    assert separate["cover-net-allow-app"]["spec"]["ingress"][0]["from"] == [
        {"ipBlock": {"cidr": "10.61.3.20/32"}}, {"ipBlock": {"cidr": "10.61.3.21/32"}}]
    assert merged.keys() == separate.keys()
    assert merged["cover-net-default-deny"] == separate["cover-net-default-deny"]


def test_the_what_if_names_each_workload_whose_addresses_share_one_block():
    before = {"namespace": "cover-ns", "network": "cover-net",
              "workloads": {"app": {"selector": {"tier": "app"}, "ips": ["10.61.3.10"]},
                            "web-a": {"selector": {"tier": "web-a"}, "ips": ["10.61.3.20"]},
                            "web-b": {"selector": {"tier": "web-b"}, "ips": ["10.61.3.21"]}},
              "allow": [{"from": "web-a", "to": "web-b"}]}
    after = dict(before, allow=before["allow"] + [{"from": ["web-a", "web-b"], "to": "app", "ports": ["tcp/8080"]}])
    app = {p["metadata"]["name"]: p for p in compile_intent(after)}["cover-net-allow-app"]

    assert app["spec"]["ingress"][0]["from"] == [{"ipBlock": {"cidr": "10.61.3.20/31"}}]
    opened = {(flow["from"], flow["to"], flow["traffic"]) for flow in intent_diff(before, after)["opened"]}
    assert opened == {("web-a", "app", "tcp/8080"), ("web-b", "app", "tcp/8080")}


def test_peers_that_all_hold_no_address_leave_one_that_matches_nobody():
    intent = {"namespace": "cover-ns", "network": "cover-net",
              "workloads": {"app": {"selector": {"tier": "app"}, "ips": ["10.61.3.10"]}},
              "endpoints": {"none-a": {"cidr": "10.61.2.0/31", "except": ["10.61.2.0/32", "10.61.2.1/32"]},
                            "none-b": {"cidr": "10.61.2.8/31", "except": ["10.61.2.8/32", "10.61.2.9/32"]}},
              "allow": [{"from": ["none-a", "none-b"], "to": "app"}]}
    policy = {p["metadata"]["name"]: p for p in compile_intent(intent)}["cover-net-allow-app"]

    assert policy["spec"]["ingress"] == [{"from": [
        {"ipBlock": {"cidr": "10.61.2.0/31", "except": ["10.61.2.0/32", "10.61.2.1/32"]}}]}]


def test_the_cover_is_the_cheapest_of_every_possible_one_on_eight_addresses():
    """Exhaustive on 10.61.0.0/29: every ipBlock inside it with any set of covered addresses (its
    excepts the fewest CIDRs of the rest), blocks free to overlap; the cheapest exact cover of each of
    the 255 address sets, by (CIDRs written, ipBlocks), is what exact_cover returns."""
    size = 8
    subsets = sorted((frozenset(a for a in range(size) if mask >> a & 1) for mask in range(1 << size)), key=len)
    blocks = [frozenset(range(start, start + width)) for width in (1, 2, 4, 8) for start in range(0, size, width)]
    choices = [(frozenset(covered),
                1 + len(_addresses([("{0}/32".format(_address(4, a)), ()) for a in block - set(covered)])))
               for block in blocks for r in range(1, len(block) + 1) for covered in combinations(sorted(block), r)]
    cheapest = {frozenset(): (0, 0)}
    for wanted in subsets[1:]:
        cheapest[wanted] = min((cheapest[rest][0] + cost, cheapest[rest][1] + 1)
                               for covered, cost in choices if covered <= wanted
                               for rest in subsets if wanted - covered <= rest < wanted)
    for wanted in subsets[1:]:
        cover = exact_cover([("{0}/32".format(_address(4, a)), ()) for a in wanted])
        assert (sum(1 + len(excepts) for _cidr, excepts in cover), len(cover)) == cheapest[wanted], sorted(wanted)
