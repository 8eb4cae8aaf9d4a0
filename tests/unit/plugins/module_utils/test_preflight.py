"""Checks before the first write: a missing NAD, an intent that would cut every flow, policies of
another intent, intents that generate one policy name."""
import pytest

from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.compiler import compile_intent
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.intent import parse_intent
from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.preflight import (
    PreflightError,
    colliding_intents,
    emptying_problem,
    network_problem,
    ownership_problems,
)


def intent(**overrides):
    raw = {
        "namespace": "team",
        "network": "tenant-net",
        "workloads": {"web": {"selector": {"app": "web"}, "ips": ["10.1.0.10"]},
                      "db": {"vm": "db", "ips": ["10.1.0.20"]}},
        "allow": [{"from": "web", "to": "db", "ports": ["tcp/5432"]}],
    }
    raw.update(overrides)
    return raw


def test_an_existing_nad_passes():
    assert network_problem("team/tenant-net", ["other", "tenant-net"]) is None


def test_a_nad_typo_names_the_nad_the_namespace_and_what_is_there():
    problem = network_problem("team/tenant-nte", ["tenant-net", "storage"])
    message = str(problem)
    assert message.startswith("network: NetworkAttachmentDefinition 'tenant-nte' not found")
    assert "searched namespace 'team'" in message and "NADs there: storage, tenant-net" in message
    assert "require_network: false" in message and "'team/tenant-nte'" in message
    assert "Create it first (an entry in network_attachment_networks, then site.yml --tags network)" in message


def test_a_namespace_without_nads_says_so():
    assert "none (does the namespace exist?)" in str(network_problem("ghost/net", []))


LIVE = compile_intent(intent())


def test_dropping_every_allow_is_refused_naming_the_policies_it_would_delete():
    raw = intent(allow=[])
    problem = emptying_problem(raw, compile_intent(raw), LIVE, confirmed=False)
    assert "tenant-net-allow-db" in str(problem) and "confirm_allow_nothing: true" in str(problem)
    assert str(problem).startswith("allow:")


@pytest.mark.parametrize("written, confirmed", [(None, True), ([], False)])
def test_allow_nothing_needs_both_an_explicit_empty_list_and_the_confirmation(written, confirmed):
    raw = intent()
    del raw["allow"]
    if written is not None:
        raw["allow"] = written
    assert emptying_problem(raw, compile_intent(raw), LIVE, confirmed=confirmed) is not None


def test_allow_nothing_with_both_passes():
    raw = intent(allow=[])
    assert emptying_problem(raw, compile_intent(raw), LIVE, confirmed=True) is None


def test_allow_nothing_on_a_network_without_allow_policies_today_passes():
    raw = intent(allow=[])
    deny_only = [policy for policy in LIVE if policy["metadata"]["name"].endswith("default-deny")]
    assert emptying_problem(raw, compile_intent(raw), deny_only, confirmed=False) is None


def test_an_intent_with_allows_is_never_an_emptying():
    assert emptying_problem(intent(), LIVE, LIVE, confirmed=False) is None


def test_a_policy_of_another_intent_is_refused_naming_both():
    other = compile_intent(intent(name="app-allow-b"))
    workloads = {"b-default-deny": {"vm": "b", "ips": ["10.1.0.30"]}, "db": {"vm": "db", "ips": ["10.1.0.20"]}}
    mine = compile_intent(intent(name="app", workloads=workloads, allow=[{"from": "b-default-deny", "to": "db"}]))
    (problem,) = ownership_problems("app", mine, other)
    assert str(problem).startswith("name: intent 'app' would generate policy 'app-allow-b-default-deny', "
                                   "which belongs to intent 'app-allow-b'")


def test_own_and_unlabelled_policies_are_not_an_ownership_problem():
    unlabelled = [dict(policy, metadata=dict(policy["metadata"], labels={})) for policy in LIVE]
    assert ownership_problems("tenant-net", LIVE, LIVE) == []
    assert ownership_problems("tenant-net", LIVE, unlabelled) == []


def test_two_intents_defaulting_to_one_nad_name_collide():
    first = parse_intent(intent())
    second = parse_intent(intent(workloads={"cache": {"vm": "cache", "ips": ["10.1.0.40"]}},
                                 allow=[{"from": "cache", "to": "10.9.0.0/16"}]))
    assert colliding_intents([first, second]) == {"team/tenant-net-default-deny": ["tenant-net", "tenant-net"]}


def test_a_workload_named_like_another_intents_deny_policy_collides():
    app = parse_intent(intent(name="app", workloads={"b-default-deny": {"vm": "b", "ips": ["10.1.0.30"]}},
                              allow=[{"from": "b-default-deny", "to": "10.9.0.0/16"}]))
    app_allow_b = parse_intent(intent(name="app-allow-b"))
    assert colliding_intents([app, app_allow_b]) == {"team/app-allow-b-default-deny": ["app", "app-allow-b"]}


def test_intents_in_different_namespaces_do_not_collide():
    assert colliding_intents([parse_intent(intent()), parse_intent(intent(namespace="other"))]) == {}


def test_several_problems_are_reported_together():
    error = PreflightError([network_problem("team/x", []), network_problem("team/y", [])])
    assert "'x'" in str(error) and "'y'" in str(error) and error.problems[0].field == "network"
