"""what_if: the multinetwork_policy module's flows and its max_closed_flows guard."""
import copy
from pathlib import Path

import pytest
import yaml

from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.compiler import compile_intent
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.errors import MultinetError
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.intent import parse_intent
from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.reconcile import compute_plan
from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy import what_if
from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.what_if import ClosedFlowsError, flow_check

SEED_INTENT = yaml.safe_load((Path(__file__).parents[2] / "fixtures" / "seed_intent.yml").read_text())
CHANGED = copy.deepcopy(SEED_INTENT)
CHANGED["allow"] = [entry for entry in CHANGED["allow"] if entry != {"from": "green-ferret", "to": "gateway"}]
CHANGED["allow"].append({"from": "tinypod-02", "to": "gold-rabbit", "ports": ["tcp/22"]})


def run(check, live, intent, diff=False):
    desired = compile_intent(intent)
    plan = compute_plan(desired, live)
    result = {"diff": []} if diff else {}
    check(plan, live, desired, result)
    return result


def names(flows):
    return [(flow["from"], flow["to"], flow["traffic"]) for flow in flows]


def test_the_change_reports_its_flows_and_lists_them_above_the_diffs():
    result = run(flow_check(parse_intent(CHANGED)), compile_intent(SEED_INTENT), CHANGED, diff=True)
    assert names(result["flows"]["opened"]) == [("tinypod-02", "gold-rabbit", "tcp/22")]
    assert names(result["flows"]["closed"]) == [("green-ferret", "gateway", "all")]
    assert result["flows"]["summary"] == [
        "opens tinypod-02 -> gold-rabbit tcp/22", "closes green-ferret -> gateway all"]
    assert result["diff"][0]["prepared"].splitlines()[1:] == [
        "  opens tinypod-02 -> gold-rabbit tcp/22", "  closes green-ferret -> gateway all"]


def test_a_run_that_writes_nothing_judges_nothing():
    result = run(flow_check(parse_intent(SEED_INTENT)), compile_intent(SEED_INTENT), SEED_INTENT, diff=True)
    assert result["flows"] == {"traffic": [], "opened": [], "closed": [], "opened_count": 0, "closed_count": 0,
                               "summary": [], "warnings": []}
    assert result["diff"] == []


def test_the_guard_stops_a_change_that_closes_too_many_flows():
    check = flow_check(parse_intent(CHANGED), max_closed_flows=0)
    with pytest.raises(ClosedFlowsError) as caught:
        run(check, compile_intent(SEED_INTENT), CHANGED)
    assert "would close 1 flows, more than max_closed_flows allows (0)" in str(caught.value)
    assert "green-ferret -> gateway all" in str(caught.value)
    assert names(caught.value.result["flows"]["closed"]) == [("green-ferret", "gateway", "all")]
    assert run(flow_check(parse_intent(CHANGED), max_closed_flows=1), compile_intent(SEED_INTENT), CHANGED)


def test_a_negative_limit_is_refused():
    with pytest.raises(MultinetError, match="max_closed_flows"):
        flow_check(parse_intent(CHANGED), max_closed_flows=-1)


def test_over_budget_the_flows_are_skipped_unless_the_guard_needs_them():
    live = compile_intent(SEED_INTENT)
    skipped = run(flow_check(parse_intent(CHANGED), budget=10), live, CHANGED)["flows"]
    assert skipped["opened"] == skipped["closed"] == [] and "more than 10" in skipped["skipped"]
    guarded = flow_check(parse_intent(CHANGED), max_closed_flows=5, budget=10)
    assert names(run(guarded, live, CHANGED)["flows"]["closed"]) == [("green-ferret", "gateway", "all")]


def test_a_change_over_budget_with_icmp_alone_reads_no_policy(monkeypatch):
    def unread(*args, **kwargs):
        raise AssertionError("the policies' ports were read")
    monkeypatch.setattr(what_if, "judged_traffic", unread)
    live = compile_intent(SEED_INTENT)
    # the policies times the endpoints times two sides is over 10 before any port is counted
    flows = run(flow_check(parse_intent(CHANGED), budget=10), live, CHANGED)["flows"]
    assert flows["traffic"] == [] and flows["opened_count"] == flows["closed_count"] == 0
    assert "1 or more kinds of traffic cost at least" in flows["skipped"] and "more than 10" in flows["skipped"]


def test_a_first_apply_lists_the_first_flows_and_counts_them_all(monkeypatch):
    monkeypatch.setattr(what_if, "LISTED_FLOWS", 10)
    result = run(flow_check(parse_intent(SEED_INTENT)), [], SEED_INTENT, diff=True)
    flows = result["flows"]
    # Before, nothing isolated anyone: the first apply closes every pair the intent does not allow.
    assert flows["opened_count"] == 0 and flows["closed_count"] == 33
    assert len(flows["closed"]) == 10
    assert flows["summary"][-1] == "... and 23 more closed"
    assert "0 flows opened, 33 closed" in result["diff"][0]["prepared"]
