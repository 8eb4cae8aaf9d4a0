"""Workloads with identical rules share one policy (issue 23, item 2).

Names and addresses are this file's own (orchard trees, 10.73.0.0/24 and 2001:db8:73::/120),
shared with no scenario.
"""
import pytest
from ansible.errors import AnsibleFilterError
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.ocpvirt.multinet.plugins.filter.compile_mnp import compile_mnp
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.errors import MultinetError
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.vocabulary import (
    INTENT_LABEL,
    MANAGED_BY_LABEL,
    VM_NAME_LABEL,
    WORKLOADS_ANNOTATION,
)
from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.compiler import compile_intent
from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.flow_diff import intent_diff
from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.reconcile import compute_plan, write_phases
from ansible_collections.ocpvirt.multinet.plugins.module_utils.simulate.connectivity import simulate

from test_compiler import load_seed_intent

NETWORK = "orchard-ns/orchard-net"
PORTS = ["tcp/8443", "udp/5353", "tcp/22"]
TREES = ("alder", "birch", "cedar", "damson", "elder", "hazel", "larch")


def orchard(allow, selectors=None):
    """Seven workloads, each one pod selected by `app: <tree>` unless `selectors` says otherwise."""
    selectors = selectors or {}
    return {"name": "orchard", "namespace": "orchard-ns", "network": "orchard-net",
            "workloads": {tree: dict(selectors.get(tree, {"selector": {"app": tree}}),
                                     ips=["10.73.0.{0}".format(10 + index)])
                          for index, tree in enumerate(TREES)},
            "endpoints": {"uplink": "10.73.0.1"},
            "allow": allow}


# alder reaches three servers on 8443, elder two others on 22; the servers' rules are equal per client.
BEFORE = [{"from": "alder", "to": ["birch", "cedar", "damson"], "ports": ["tcp/8443"]},
          {"from": "elder", "to": ["hazel", "larch"], "ports": ["tcp/22"]}]
# damson moves from alder's group to elder's.
AFTER = [{"from": "alder", "to": ["birch", "cedar"], "ports": ["tcp/8443"]},
         {"from": "elder", "to": ["damson", "hazel", "larch"], "ports": ["tcp/22"]}]


def by_name(policies):
    return {policy["metadata"]["name"]: policy for policy in policies}


def shared(policies):
    """Shared policy name -> its members, as the annotation lists them."""
    return {policy["metadata"]["name"]: policy["metadata"]["annotations"][WORKLOADS_ANNOTATION].split(",")
            for policy in policies if WORKLOADS_ANNOTATION in policy["metadata"]["annotations"]}


def test_workloads_with_equal_rules_share_one_policy_that_selects_exactly_them():
    policies = compile_intent(orchard(BEFORE))
    groups = shared(policies)

    assert sorted(groups.values()) == [["birch", "cedar", "damson"], ["hazel", "larch"]]
    assert sorted(by_name(policies)) == sorted(["orchard-allow-alder", "orchard-allow-elder", "orchard-default-deny"]
                                               + list(groups))
    three = by_name(policies)[next(name for name, members in groups.items() if len(members) == 3)]
    assert three["spec"]["podSelector"] == {
        "matchExpressions": [{"key": "app", "operator": "In", "values": ["birch", "cedar", "damson"]}]}
    assert three["spec"]["policyTypes"] == ["Ingress"]
    assert three["spec"]["ingress"] == [{"from": [{"ipBlock": {"cidr": "10.73.0.10/32"}}],
                                         "ports": [{"protocol": "TCP", "port": 8443}]}]
    assert three["metadata"]["labels"][MANAGED_BY_LABEL] == "ocpvirt.multinet"
    assert three["metadata"]["labels"][INTENT_LABEL] == "orchard"
    assert three["metadata"]["name"].startswith("orchard-shared-") and len(three["metadata"]["name"]) == 25


def test_switched_off_every_workload_has_its_own_policy():
    policies = compile_intent(orchard(BEFORE), share_policies=False)

    assert sorted(by_name(policies)) == ["orchard-allow-" + tree for tree in TREES] + ["orchard-default-deny"]
    assert not shared(policies)


def test_the_seed_compiles_the_same_with_and_without_sharing():
    # The seed's workloads have rules of their own: sharing must not change one byte of it.
    assert compile_intent(load_seed_intent()) == compile_intent(load_seed_intent(), share_policies=False)


def test_a_group_keeps_its_name_when_its_members_change():
    before, after = shared(compile_intent(orchard(BEFORE))), shared(compile_intent(orchard(AFTER)))

    assert before.keys() == after.keys()
    assert {name: len(members) for name, members in before.items()} != {
        name: len(members) for name, members in after.items()}


def test_a_workload_moving_between_groups_is_an_update_of_both_selectors():
    live = compile_intent(orchard(BEFORE))
    plan = compute_plan(compile_intent(orchard(AFTER)), live)
    groups = shared(live)

    assert plan.create == [] and plan.delete == []
    assert sorted(update.desired["metadata"]["name"] for update in plan.update) == sorted(
        ["orchard-allow-alder", "orchard-allow-elder"] + list(groups))
    # The group damson joins widens in the first phase; the one it leaves narrows after it.
    joined = next(name for name, members in groups.items() if "hazel" in members)
    left = next(name for name, members in groups.items() if "birch" in members)
    phases = [[write.name for write in phase] for phase in write_phases(plan)]
    assert joined in phases[0] and left in phases[1]


def test_a_group_shrinking_to_one_workload_gives_it_its_own_policy_and_prunes_the_shared_one():
    live = compile_intent(orchard([{"from": "alder", "to": ["birch", "cedar"], "ports": ["tcp/8443"]},
                                   {"from": "elder", "to": ["damson", "hazel"], "ports": ["tcp/8443"]}]))
    desired = compile_intent(orchard([{"from": "alder", "to": "birch", "ports": ["tcp/8443"]},
                                      {"from": "elder", "to": ["cedar", "damson", "hazel"], "ports": ["tcp/8443"]}]))
    plan = compute_plan(desired, live)
    before, after = shared(live), shared(desired)
    left = next(name for name, members in before.items() if "birch" in members)
    joined = next(name for name, members in after.items() if "hazel" in members)

    assert [policy["metadata"]["name"] for policy in plan.create] == ["orchard-allow-birch"]
    assert [policy["metadata"]["name"] for policy in plan.delete] == [left]
    assert sorted(update.desired["metadata"]["name"] for update in plan.update) == sorted(
        ["orchard-allow-alder", "orchard-allow-elder", joined])
    assert joined in before and after[joined] == ["cedar", "damson", "hazel"]


def test_pruning_reaches_only_this_intents_policies():
    live = compile_intent(orchard(BEFORE))
    plan = compute_plan([], live)

    assert {policy["metadata"]["labels"][INTENT_LABEL] for policy in plan.delete} == {"orchard"}
    assert len(plan.delete) == len(live)


def test_selectors_of_several_labels_or_of_other_keys_are_not_shared():
    selectors = {"birch": {"selector": {"app": "birch", "tier": "front"}},
                 "cedar": {"vm": "cedar-vm"},
                 "damson": {"vm": "damson-vm"}}
    policies = by_name(compile_intent(orchard(BEFORE, selectors)))

    assert policies["orchard-allow-birch"]["spec"]["podSelector"] == {"matchLabels": {"app": "birch",
                                                                                      "tier": "front"}}
    assert sorted(shared(policies.values()).values()) == [["cedar", "damson"], ["hazel", "larch"]]
    vms = next(policy for policy in policies.values()
               if policy["metadata"]["annotations"].get(WORKLOADS_ANNOTATION) == "cedar,damson")
    assert vms["spec"]["podSelector"]["matchExpressions"] == [
        {"key": VM_NAME_LABEL, "operator": "In", "values": ["cedar-vm", "damson-vm"]}]


def test_the_what_if_names_the_moved_workloads_flows_not_the_group():
    result = intent_diff(orchard(BEFORE), orchard(AFTER))
    opened = {(flow["from"], flow["to"], flow["traffic"]) for flow in result["opened"]}
    closed = {(flow["from"], flow["to"], flow["traffic"]) for flow in result["closed"]}

    assert ("elder", "damson", "tcp/22") in opened and ("alder", "damson", "tcp/8443") in closed
    names = {end for flows in (opened, closed) for flow in flows for end in flow[:2]}
    assert names <= set(TREES) | {"uplink"}
    assert not {end for flow in opened | closed for end in flow[:2]} & {"birch", "cedar", "hazel", "larch"}


@pytest.mark.parametrize("value", ["maybe", [True]])
def test_the_filter_refuses_a_switch_that_is_not_a_boolean_naming_it(value):
    with pytest.raises(AnsibleFilterError, match="compile_mnp: .*share_policies"):
        compile_mnp(orchard(BEFORE), share_policies=value)


def test_the_filter_shares_unless_told_not_to():
    assert compile_mnp(orchard(BEFORE)) == compile_intent(orchard(BEFORE))
    assert compile_mnp(orchard(BEFORE), share_policies=False) == compile_intent(orchard(BEFORE), share_policies=False)


def test_bad_input_is_still_refused_with_field_and_value():
    intent = orchard(BEFORE + [{"from": "alder", "to": "nobody"}])
    with pytest.raises(MultinetError, match=r"allow\[2\]\.to: unknown name") as raised:
        compile_intent(intent)
    assert raised.value.value == "nobody"


# ---------------------------------------------------------------------------------------------
# Property: sharing changes no verdict on any pair, and selects no pod beyond the workloads'
# ---------------------------------------------------------------------------------------------
@st.composite
def orchards(draw):
    """Workloads selected by `app`, by `role`, by a VM name or by two labels; a few rule shapes
    drawn once and given to several workloads, so that groups form; endpoints and literals."""
    count = draw(st.integers(2, 7))
    workloads = {}
    for index in range(count):
        kind = draw(st.sampled_from(["app", "app", "app", "role", "vm", "vm", "two"]))
        name = TREES[index]
        selector = {"app": {"selector": {"app": name}}, "role": {"selector": {"role": name}},
                    "vm": {"vm": name + "-vm"}, "two": {"selector": {"app": name, "zone": "east"}}}[kind]
        family = draw(st.sampled_from([4, 4, 6]))
        address = "10.73.0.{0}".format(10 + index) if family == 4 else "2001:db8:73::{0:x}".format(16 + index)
        workloads[name] = dict(selector, ips=[address])
    names = sorted(workloads)
    endpoints = {"uplink": "10.73.0.1", "mirror": "2001:db8:73::/124"}
    others = names + sorted(endpoints) + ["10.73.0.128/25"]
    shapes = [(draw(st.lists(st.sampled_from(others), min_size=1, max_size=3, unique=True)),
               draw(st.one_of(st.none(), st.lists(st.sampled_from(PORTS), min_size=1, max_size=2, unique=True))),
               draw(st.booleans()))
              for _shape in range(draw(st.integers(1, 2)))]
    allow = []
    for name in names:
        for peers, ports, inbound in draw(st.lists(st.sampled_from(shapes), min_size=1, max_size=2, unique_by=repr)):
            entry = {"from": peers, "to": name} if inbound else {"from": name, "to": peers}
            if ports is not None:
                entry["ports"] = ports
            allow.append(entry)
    return {"name": "orchard", "namespace": "orchard-ns", "network": "orchard-net", "ipam": draw(st.booleans()),
            "default_deny": draw(st.sampled_from([[], ["ingress"], ["egress"], ["ingress", "egress"]])),
            "workloads": workloads, "endpoints": endpoints, "allow": allow}


def orchard_endpoints(intent):
    """A pod per workload (its labels, and for a VM the launcher's label), plus pods that match
    part of a selector or carry a label value of another key: a shared selector that is too
    wide would select them. Then hosts outside."""
    endpoints = []
    for index, (name, spec) in enumerate(sorted(intent["workloads"].items())):
        labels = dict(spec["selector"]) if "selector" in spec else {VM_NAME_LABEL: spec["vm"]}
        endpoints.append({"name": name, "ip": spec["ips"][0], "namespace": "orchard-ns", "labels": labels})
        strangers = [{key: value for key, value in labels.items() if key != "zone"},
                     {"other": next(iter(labels.values()))}, {"app": name + "-x"}, {"role": name, "zone": "west"}]
        for offset, stranger in enumerate(strangers):
            endpoints.append({"name": "{0}-stranger-{1}".format(name, offset), "namespace": "orchard-ns",
                              "ip": "10.73.0.{0}".format(100 + 4 * index + offset), "labels": stranger})
    return endpoints + [{"name": "uplink-host", "ip": "10.73.0.1"}, {"name": "far-host", "ip": "10.73.0.200"},
                        {"name": "mirror-host", "ip": "2001:db8:73::3"}]


def verdicts(policies, intent, endpoints, traffic):
    rows = simulate(policies, NETWORK, endpoints, traffic, ipam=intent["ipam"])
    return [(row["from"], row["to"], row["allowed"]) for row in rows]


@settings(max_examples=150, deadline=None)
@given(intent=orchards())
def test_sharing_changes_no_verdict_on_any_pair(intent):
    together, apart = compile_intent(intent), compile_intent(intent, share_policies=False)
    endpoints = orchard_endpoints(intent)
    for traffic in [None] + PORTS:
        assert verdicts(together, intent, endpoints, traffic) == verdicts(apart, intent, endpoints, traffic)
    assert len(together) <= len(apart)
    # A policy is shared only where it lowers the count: every shared one stands for two or more.
    assert all(len(members) >= 2 for members in shared(together).values())
    assert len(apart) - len(together) == sum(len(members) - 1 for members in shared(together).values())


@settings(max_examples=50, deadline=None)
@given(intent=orchards())
def test_sharing_compiles_byte_identical_output_for_any_workload_order(intent):
    again = dict(intent, workloads=dict(reversed(list(intent["workloads"].items()))),
                 allow=list(reversed(intent["allow"])))
    assert compile_intent(again) == compile_intent(intent)
    assert all(policy["metadata"]["name"] != other["metadata"]["name"]
               for index, policy in enumerate(compile_intent(intent))
               for other in compile_intent(intent)[index + 1:])
