# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The multinetwork_policy module's what-if: the flows a run opens and closes, and its guard.

Pure: no Ansible, no I/O. ``flow_check`` builds the hook ``k8s_apply.reconcile`` calls after it
listed the intent's live policies and before it writes anything: before is what the cluster
holds, after the compiled intent, and the endpoints are the workloads and outside endpoints
the intent names. The hook adds ``flows`` to the result, puts a short list of them above the
policy diffs, and raises ``ClosedFlowsError`` when the run would close more flows than allowed.
"""

from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.errors import MultinetError
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.vocabulary import traffic_name
from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.flow_diff import (
    diff,
    intent_endpoints,
    judged_traffic,
    touched_endpoints,
    unjudged_workloads,
)
from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.flow_report import flow_name, render_text, summary_lines
from ansible_collections.ocpvirt.multinet.plugins.module_utils.simulate.connectivity import (
    parse_endpoints,
    parse_network,
    parse_policies,
)

# Simulation steps (policies matched against endpoints, plus the pairs with an endpoint under a
# changed policy, per kind of traffic and side) a run takes without being asked to: about a
# second of CPU, some 200 workloads with three ports. Larger intents report the flows skipped,
# unless the guard is set, which needs them.
FLOW_BUDGET = 500000
# Flows listed per change in the result (the counts are always whole): a first apply closes
# nearly every pair, and a result is kept by every callback and stored with each AAP job event.
LISTED_FLOWS = 100


class ClosedFlowsError(MultinetError):
    """The change would close more flows than ``max_closed_flows``; ``result`` holds the flows."""

    def __init__(self, flows, limit):
        listed = "; ".join(flow_name(flow) for flow in flows["closed"])
        more = flows["closed_count"] - len(flows["closed"])
        super().__init__("would close {0} flows, more than max_closed_flows allows ({1}); nothing was written. "
                         "Closed: {2}{3}".format(flows["closed_count"], limit, listed,
                                                 "; and {0} more".format(more) if more else ""),
                         "max_closed_flows", limit)
        self.result = {"flows": flows, "changed": False}


def flow_check(model, max_closed_flows=None, budget=FLOW_BUDGET):
    """The before-write hook for the parsed intent ``model``: (plan, existing, desired, result)."""
    if max_closed_flows is not None and max_closed_flows < 0:
        raise MultinetError("must be 0 or more", "max_closed_flows", max_closed_flows)

    def check(plan, existing, desired, result):
        flows = _flows(model, plan, existing, desired, budget if max_closed_flows is None else None)
        flows["warnings"] = unjudged_workloads(model)
        result["flows"] = flows
        if "diff" in result and not plan.empty:
            result["diff"].insert(0, {"prepared": render_text(flows, "Flows of this change")
                                      if "skipped" not in flows else "Flows: {0}\n".format(flows["skipped"])})
        if max_closed_flows is not None and flows["closed_count"] > max_closed_flows:
            raise ClosedFlowsError(flows, max_closed_flows)

    return check


def _flows(model, plan, existing, desired, budget):
    """{traffic, opened, closed, *_count, summary}: none when nothing is written, or skipped over budget.

    The endpoints and the traffic are worked out only when needed: a no-op judges nothing, and
    a change whose matching is over budget with ICMP alone is skipped without reading a policy.
    """
    if plan.empty:
        return _listed([], {"opened": [], "closed": []})
    endpoints = intent_endpoints(model)[0]
    # Each simulation matches every policy against every endpoint, then answers the pairs.
    matching = max(len(existing), len(desired)) * len(endpoints) * 2
    if budget is not None and matching > budget:
        return _skipped([], endpoints, existing, desired, "at least {0}".format(matching), budget)
    # Each manifest, the endpoints and the network are parsed once, here, for the whole what-if.
    sides = [parse_policies(policies, model.target_honours_end_port) for policies in (existing, desired)]
    traffic = judged_traffic(sides)
    names = [traffic_name(kind) for kind in traffic]
    matching *= len(traffic)
    if budget is not None and matching > budget:
        # Over budget whatever the pairs cost: finding the touched endpoints would itself match
        # every changed policy against every endpoint (seconds at 1,000 workloads).
        return _skipped(names, endpoints, existing, desired, "at least {0}".format(matching), budget)
    eps = parse_endpoints(endpoints)
    touched = len(touched_endpoints(sides[0], sides[1], eps))
    pairs = touched * (len(endpoints) - 1) * 2 - touched * (touched - 1)
    cost = matching + pairs * len(traffic) * 2
    if budget is not None and cost > budget:
        return _skipped(names, endpoints, existing, desired, cost, budget)
    return _listed(names, diff(sides[0], sides[1], parse_network(model.network), eps, model.ipam, traffic))


def _skipped(traffic, endpoints, existing, desired, cost, budget):
    return dict(_listed(traffic, {"opened": [], "closed": []}), skipped=(
        "not judged: {0} endpoints, {1} policies and {2} kinds of traffic cost {3} steps to simulate, more "
        "than {4}; set max_closed_flows to judge them anyway".format(
            len(endpoints), max(len(existing), len(desired)), len(traffic) or "1 or more", cost, budget)))


def _listed(traffic, changes):
    flows = {"traffic": traffic}
    for key in ("opened", "closed"):
        flows[key] = changes[key][:LISTED_FLOWS]
        flows[key + "_count"] = len(changes[key])
    flows["summary"] = summary_lines(flows)
    return flows
