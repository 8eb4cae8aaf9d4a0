"""flow_diff: the flows a policy or intent change opens, closes and decides differently."""
import copy
from pathlib import Path

import pytest
import yaml

from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.compiler import compile_intent
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.errors import MultinetError
from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy import flow_diff
from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.flow_diff import (
    connectivity_diff,
    intent_diff,
    intent_endpoints,
    judged_traffic,
    parse_ports,
    touched_endpoints,
)
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.intent import parse_intent
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.vocabulary import traffic_name
from ansible_collections.ocpvirt.multinet.plugins.module_utils.simulate.connectivity import (
    parse_endpoints,
    parse_policies,
)

SEED_INTENT = yaml.safe_load((Path(__file__).parents[2] / "fixtures" / "seed_intent.yml").read_text())
ADDED = {"from": "tinypod-02", "to": "gold-rabbit", "ports": ["tcp/22"]}
REMOVED = {"from": "green-ferret", "to": "gateway"}


def changed_intent(add=(), remove=()):
    intent = copy.deepcopy(SEED_INTENT)
    intent["allow"] = [entry for entry in intent["allow"] if entry not in remove] + list(add)
    return intent


def flows(found):
    return [(flow["from"], flow["to"], flow["traffic"]) for flow in found]


def test_a_pair_changed_for_only_some_kinds_lists_each_kind():
    # tcp/22 from tinypod to gateway was allowed by a port rule; the port rule goes and a
    # rule for every port takes its place: ICMP opens, tcp/22 stays allowed.
    before = changed_intent(add=[{"from": "tinypod", "to": "gateway", "ports": ["tcp/22"]}])
    after = changed_intent(add=[{"from": "tinypod", "to": "gateway"}])
    diff = intent_diff(before, after)
    assert flows(diff["opened"]) == [("tinypod", "gateway", "icmp and other ports")]
    assert diff["closed"] == [] and diff["traffic"] == ["icmp", "tcp/22"]


def test_the_issue_example_opens_one_flow_and_closes_one():
    diff = intent_diff(SEED_INTENT, changed_intent(add=[ADDED], remove=[REMOVED]))
    assert flows(diff["opened"]) == [("tinypod-02", "gold-rabbit", "tcp/22")]
    assert flows(diff["closed"]) == [("green-ferret", "gateway", "all")]
    assert diff["traffic"] == ["icmp", "tcp/22"]
    assert diff["network"] == "llm-demo/llm-demo-localnet-network" and diff["warnings"] == []


def test_each_flow_names_the_rules_that_decide_it():
    diff = intent_diff(SEED_INTENT, changed_intent(add=[ADDED], remove=[REMOVED]))
    opened, closed = diff["opened"][0], diff["closed"][0]
    assert opened["before"].startswith("egress denied: tinypod-02 is isolated")
    assert opened["after"].startswith("allowed on tcp/22: egress llm-demo/llm-demo-localnet-network-allow-tinypod-02")
    assert "ingress llm-demo/llm-demo-localnet-network-allow-gold-rabbit" in opened["after"]
    assert closed["before"].startswith("allowed: egress llm-demo/llm-demo-localnet-network-allow-green-ferret")
    assert closed["after"].startswith("egress denied: green-ferret is isolated for egress")


def test_removing_a_port_closes_that_ports_flows():
    with_port = changed_intent(add=[{"from": "tinypod", "to": ["tinypod-01", "gateway"], "ports": ["tcp/8080"]}])
    diff = intent_diff(with_port, SEED_INTENT)
    assert diff["traffic"] == ["icmp", "tcp/8080"]
    assert flows(diff["closed"]) == [("tinypod", "tinypod-01", "tcp/8080"), ("tinypod", "gateway", "tcp/8080")]
    assert diff["opened"] == []


def test_reordering_the_intent_changes_nothing():
    reordered = copy.deepcopy(SEED_INTENT)
    reordered["allow"].reverse()
    reordered["workloads"] = dict(reversed(list(reordered["workloads"].items())))
    diff = intent_diff(SEED_INTENT, reordered)
    assert diff["opened"] == diff["closed"] == diff["reason_changed"] == []


def test_an_allowed_flow_under_another_rule_is_a_reason_change():
    # gold-rabbit -> tinypod on tcp/22 only, then on everything: the port rule goes and the
    # rule without ports (egress[0], with gateway, tinypod-01 and the internet) takes it in.
    before = changed_intent(add=[{"from": "gold-rabbit", "to": "tinypod", "ports": ["tcp/22"]}])
    after = changed_intent(add=[{"from": "gold-rabbit", "to": "tinypod"}])
    diff = intent_diff(before, after)
    assert flows(diff["opened"]) == [("gold-rabbit", "tinypod", "icmp and other ports")] and diff["closed"] == []
    assert flows(diff["reason_changed"]) == [("gold-rabbit", "tinypod", "tcp/22")]
    changed = diff["reason_changed"][0]
    assert "allow-gold-rabbit egress[1]" in changed["before"] and "allow-gold-rabbit egress[0]" in changed["after"]


def test_a_denied_flow_isolated_by_other_policies_is_no_change():
    # Removing green-ferret's only egress entry drops its allow policy's egress side; the flows
    # green-ferret was already denied stay denied, so only the flow to the gateway is reported.
    diff = intent_diff(SEED_INTENT, changed_intent(remove=[REMOVED]))
    assert flows(diff["closed"]) == [("green-ferret", "gateway", "all")]
    assert diff["opened"] == diff["reason_changed"] == []


def test_a_new_intent_opens_and_isolates_from_nothing():
    diff = intent_diff(None, SEED_INTENT)
    # Before, nothing isolated anyone, so every flow was allowed: the new intent closes the rest.
    assert diff["opened"] == []
    assert ("tinypod", "gateway", "all") in flows(diff["closed"])
    assert not [flow for flow in diff["closed"] if (flow["from"], flow["to"]) == ("tinypod-01", "tinypod")]


def test_intents_of_two_networks_are_refused():
    other = dict(SEED_INTENT, network="llm-demo/other-network")
    with pytest.raises(MultinetError, match="one network"):
        intent_diff(SEED_INTENT, other)
    with pytest.raises(MultinetError, match="at least one"):
        intent_diff(None, None)


def test_policies_are_compared_over_given_endpoints():
    before = compile_intent(SEED_INTENT)
    after = compile_intent(changed_intent(remove=[REMOVED]))
    endpoints = [{"name": "ferret", "ip": "192.168.77.72", "namespace": "llm-demo",
                  "labels": {"vm.kubevirt.io/name": "centos-stream9-green-ferret-41"}},
                 {"name": "gw", "ip": "192.168.77.1"}]
    diff = connectivity_diff(before, after, "llm-demo/llm-demo-localnet-network", endpoints, ports=["udp/53"])
    assert diff["traffic"] == ["icmp", "udp/53"]
    # Closed for ICMP and for udp/53 (asked for, no rule names it): every kind, one flow of all traffic.
    assert flows(diff["closed"]) == [("ferret", "gw", "all")]
    assert diff["closed"][0]["before"].startswith("allowed: egress")


def test_judged_traffic_reads_every_rule_of_both_sides():
    policy = {"apiVersion": "k8s.cni.cncf.io/v1beta1", "kind": "MultiNetworkPolicy",
              "metadata": {"name": "p", "namespace": "ns"},
              "spec": {"podSelector": {}, "ingress": [{"ports": [{"protocol": "UDP", "port": 53},
                                                                 {"protocol": "TCP", "port": 8000, "endPort": 8002},
                                                                 {"protocol": "TCP", "port": "http"}]}]}}

    def names(traffic):
        return [traffic_name(kind) for kind in traffic]

    assert names(judged_traffic(([], parse_policies([policy])))) == ["icmp", "tcp/8000", "udp/53"]
    assert names(judged_traffic((parse_policies([policy], honours_end_port=True), []), parse_ports(["sctp/9"]))) == [
        "icmp", "sctp/9", "tcp/8000", "tcp/8002", "udp/53"]
    with pytest.raises(MultinetError, match="ports\\[0\\]"):
        parse_ports(["tcp/http"])


def test_intent_endpoints_use_the_intent_names_and_skip_workloads_without_addresses():
    intent = dict(SEED_INTENT, ipam=True)
    intent["workloads"] = dict(SEED_INTENT["workloads"], web={"selector": {"app": "web"}})
    endpoints, warnings = intent_endpoints(parse_intent(intent))
    names = [endpoint["name"] for endpoint in endpoints]  # workloads sorted by name, as the model keeps them
    assert names == ["gold-rabbit", "green-ferret", "tinypod", "tinypod-01", "tinypod-02", "gateway", "internet"]
    assert endpoints[-1] == {"name": "internet", "ip": "0.0.0.1"}
    assert endpoints[0]["labels"] == {"vm.kubevirt.io/name": "centos-stream9-gold-rabbit-80"}
    assert warnings == ["workload web: the intent gives no ips, so its flows are not judged"]


def test_only_pairs_under_changed_policies_are_judged():
    before = compile_intent(SEED_INTENT)
    after = compile_intent(changed_intent(add=[ADDED], remove=[REMOVED]))
    endpoints, _warnings = intent_endpoints(parse_intent(SEED_INTENT))
    # allow-tinypod-02 is new; allow-gold-rabbit and allow-green-ferret change; the rest stay.
    before, after, endpoints = parse_policies(before), parse_policies(after), parse_endpoints(endpoints)
    assert touched_endpoints(before, after, endpoints) == {"tinypod-02", "gold-rabbit", "green-ferret"}
    assert touched_endpoints(before, parse_policies(compile_intent(SEED_INTENT)), endpoints) == frozenset()


@pytest.mark.parametrize("change", [
    {"add": [ADDED], "remove": [REMOVED]},
    {"remove": [{"from": "tinypod-01", "to": "tinypod"}]},
    {"add": [{"from": "internet", "to": "tinypod", "ports": ["udp/53"]}]},
])
def test_judging_only_touched_pairs_finds_what_judging_every_pair_finds(monkeypatch, change):
    after = changed_intent(**change)
    restricted = intent_diff(SEED_INTENT, after)
    monkeypatch.setattr(flow_diff, "touched_endpoints", lambda *args: None)
    assert intent_diff(SEED_INTENT, after) == restricted
