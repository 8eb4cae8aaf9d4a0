"""What-if against the lab's real kube-apiserver: the flows multinetwork_policy reports.

The seed intent is applied in a fresh namespace, then changed as issue 14 describes (allow
tinypod-02 -> gold-rabbit on tcp/22, drop green-ferret -> gateway). Check mode must report
exactly one opened and one closed flow and leave the stored policies untouched; the real run
must report the same flows, and the policies the API server then holds, read back with the
kubernetes client and simulated, must open and close exactly those. The lab has no data plane
here, so no packet is sent: the verify role's probes are not part of this test.
"""
import copy
from pathlib import Path

import pytest
import yaml
from kubernetes import client

from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.compiler import intent_selector
from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.flow_diff import connectivity_diff, intent_endpoints
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.intent import parse_intent

from lab_helpers import create_localnet_nad
from test_multinetwork_policy import mnp, run_module  # noqa: F401  (mnp is a fixture used by name)

SEED_INTENT = yaml.safe_load((Path(__file__).parents[1] / "unit" / "fixtures" / "seed_intent.yml").read_text())
ADDED = {"from": "tinypod-02", "to": "gold-rabbit", "ports": ["tcp/22"]}
REMOVED = {"from": "green-ferret", "to": "gateway"}
OPENED = [("tinypod-02", "gold-rabbit", "tcp/22")]
CLOSED = [("green-ferret", "gateway", "all")]


def in_namespace(intent, namespace):
    intent = copy.deepcopy(intent)
    intent["namespace"] = namespace
    intent["network"] = "{0}/llm-demo-localnet-network".format(namespace)
    return intent


def changed(intent):
    intent = copy.deepcopy(intent)
    intent["allow"] = [entry for entry in intent["allow"] if entry != REMOVED] + [ADDED]
    return intent


def flows(found):
    return [(flow["from"], flow["to"], flow["traffic"]) for flow in found]


def stored(mnp, intent):
    """{name: (resourceVersion, spec)} of the intent's policies, as the API server holds them."""
    return {item["metadata"]["name"]: (item["metadata"]["resourceVersion"], item["spec"])
            for item in mnp.items(intent_selector(intent))}


@pytest.fixture
def seeded(lab_kubeconfig, lab_api, lab_namespace, mnp):
    """The seed intent applied in the test namespace; returns (seed intent, changed intent)."""
    seed = in_namespace(SEED_INTENT, lab_namespace)
    create_localnet_nad(client.CustomObjectsApi(lab_api), lab_namespace, "llm-demo-localnet-network")
    first = run_module(lab_kubeconfig, seed)
    assert first.get("failed") is not True, first
    assert first["changed"] and first["created"]
    return seed, changed(seed)


def test_check_mode_reports_the_flows_and_writes_nothing(lab_kubeconfig, mnp, seeded):
    seed, after = seeded
    before = stored(mnp, seed)
    result = run_module(lab_kubeconfig, after, "--check", "--diff")
    assert result.get("failed") is not True, result
    assert flows(result["flows"]["opened"]) == OPENED
    assert flows(result["flows"]["closed"]) == CLOSED
    assert result["flows"]["summary"] == ["opens tinypod-02 -> gold-rabbit tcp/22", "closes green-ferret -> gateway all"]
    # The short list comes first in the diff, above the policies' before/after pairs.
    assert result["diff"][0]["prepared"].splitlines()[1:] == ["  opens tinypod-02 -> gold-rabbit tcp/22",
                                                              "  closes green-ferret -> gateway all"]
    assert all("before" in entry for entry in result["diff"][1:]) and len(result["diff"]) > 1
    assert result["changed"] and stored(mnp, seed) == before


def test_the_real_run_opens_and_closes_exactly_those(lab_kubeconfig, mnp, seeded):
    seed, after = seeded
    live_before = mnp.items(intent_selector(seed))
    checked = run_module(lab_kubeconfig, after, "--check")
    applied = run_module(lab_kubeconfig, after)
    assert applied.get("failed") is not True, applied
    assert applied["changed"] and applied["flows"]["opened"] == checked["flows"]["opened"]
    assert flows(applied["flows"]["opened"]) == OPENED and flows(applied["flows"]["closed"]) == CLOSED
    # What the API server now stores, simulated against what it stored before.
    live_after = mnp.items(intent_selector(after))
    model = parse_intent(after)
    endpoints, _warnings = intent_endpoints(model)
    read_back = connectivity_diff(live_before, live_after, model.network, endpoints, model.ipam)
    assert flows(read_back["opened"]) == OPENED and flows(read_back["closed"]) == CLOSED
    again = run_module(lab_kubeconfig, after)
    assert not again["changed"] and again["flows"]["opened"] == again["flows"]["closed"] == []


def test_max_closed_flows_stops_the_run_before_any_write(lab_kubeconfig, mnp, seeded):
    seed, after = seeded
    before = stored(mnp, seed)
    result = run_module(lab_kubeconfig, after, max_closed_flows=0)
    assert result.get("failed") is True and not result["changed"]
    assert "would close 1 flows, more than max_closed_flows allows (0)" in result["msg"]
    assert "green-ferret -> gateway all" in result["msg"]
    assert flows(result["flows"]["closed"]) == CLOSED
    assert stored(mnp, seed) == before
    allowed = run_module(lab_kubeconfig, after, max_closed_flows=1)
    assert allowed.get("failed") is not True and allowed["changed"], allowed

