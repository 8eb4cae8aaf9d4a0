"""The flows an intent names: the verify report's "expected", read from the intent by name."""
import os

import pytest
import yaml

from ansible_collections.ocpvirt.multinet.plugins.module_utils.simulate import cluster_endpoints as ce
from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.compiler import compile_policies
from ansible_collections.ocpvirt.multinet.plugins.module_utils.simulate.connectivity import simulate
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.intent import parse_intent
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.vocabulary import parse_traffic
from ansible_collections.ocpvirt.multinet.plugins.module_utils.verify.intent_flows import expected_flows

SEED_INTENT = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "seed_intent.yml")
NETWORK = "llm-demo/llm-demo-localnet-network"


def seed_intent(**changes):
    with open(SEED_INTENT) as handle:
        raw = yaml.safe_load(handle)
    raw.update(changes)
    return parse_intent(raw)


def live_pod(name, ip):
    return {"name": name, "object": name, "kind": "pod", "namespace": "llm-demo", "labels": {"app": name},
            "ip": ip, "ips": [ip], "source": "networks-annotation", "pod": name, "running": True}


def allowed(rows):
    return {(row["from"], row["to"]) for row in rows if row["allowed"]}


@pytest.mark.parametrize("port", [None, "tcp/22", "udp/53"])
def test_a_correct_intent_expects_what_its_compiled_policies_allow(port):
    intent = seed_intent()
    endpoints = ce.align_with_intent([], intent, extra=[{"name": "internet", "ip": "8.8.8.8"}])["endpoints"]
    expected = expected_flows(intent, endpoints, parse_traffic(port))
    simulated = simulate(compile_policies(intent), NETWORK, ce.simulation_endpoints(endpoints), port, intent.ipam)
    assert [(r["from"], r["to"]) for r in expected] == [(r["from"], r["to"]) for r in simulated]
    assert allowed(expected) == allowed(simulated)
    assert ("tinypod-01", "tinypod") in allowed(expected)
    assert ("gold-rabbit", "internet") in allowed(expected) and ("tinypod", "internet") not in allowed(expected)


def test_a_wrong_workload_address_in_the_intent_shows_as_a_disagreement():
    """The intent says tinypod is .99; the pod its selector picks is .91. Its compiled policies
    (tinypod-01 may send to 192.168.77.99/32) deny tinypod-01 -> tinypod, and so would the live
    ones compiled from it: only the intent read by name says the pair should work."""
    with open(SEED_INTENT) as handle:
        raw = yaml.safe_load(handle)
    raw["workloads"]["tinypod"]["ips"] = ["192.168.77.99"]
    intent = parse_intent(raw)
    aligned = ce.align_with_intent([live_pod("tinypod", "192.168.77.91"), live_pod("tinypod-01", "192.168.77.92")],
                                   intent)
    endpoints = aligned["endpoints"]
    assert "workload tinypod: pod tinypod has 192.168.77.91, the intent says 192.168.77.99" in aligned["warnings"]
    expected = expected_flows(intent, endpoints)
    live = simulate(compile_policies(intent), NETWORK, ce.simulation_endpoints(endpoints), None, intent.ipam)
    disagree = {(e["from"], e["to"]) for e, s in zip(expected, live) if e["allowed"] != s["allowed"]}
    assert disagree == {("tinypod-01", "tinypod")}
    row = next(r for r in expected if (r["from"], r["to"]) == ("tinypod-01", "tinypod"))
    assert row["reason"] == "intended: egress allow[0]; ingress allow[0]"


def test_denials_name_the_direction_and_the_traffic():
    intent = seed_intent()
    endpoints = [live_pod("tinypod", "192.168.77.91"), live_pod("stray", "192.168.77.50")]
    endpoints = ce.align_with_intent(endpoints, intent)["endpoints"]
    rows = {(r["from"], r["to"]): r for r in expected_flows(intent, endpoints, parse_traffic("tcp/22"))}
    assert rows[("stray", "tinypod")]["reason"] == (
        "egress denied: the intent allows stray no egress to tinypod on tcp/22; "
        "ingress denied: the intent allows tinypod no ingress from stray on tcp/22")
    assert rows[("gateway", "gold-rabbit")]["reason"] == (
        "intended on tcp/22: egress: gateway is not governed by the intent; ingress allow[2]")


def test_without_default_deny_only_named_directions_are_isolated():
    intent = seed_intent(default_deny=[])
    endpoints = ce.align_with_intent([live_pod("stray", "192.168.77.50")], intent)["endpoints"]
    rows = {(r["from"], r["to"]): r for r in expected_flows(intent, endpoints)}
    assert rows[("stray", "gateway")]["allowed"]
    assert rows[("stray", "gateway")]["reason"].startswith("intended: egress: stray not isolated by the intent")
    assert not rows[("stray", "tinypod")]["allowed"]  # tinypod's ingress is named (from tinypod-01)
