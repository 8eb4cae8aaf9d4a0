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

from ansible_collections.ocpvirt.multinet.plugins.module_utils.errors import MultinetError
from ansible_collections.ocpvirt.multinet.plugins.module_utils.flow_diff import (
    connectivity_diff,
    intent_endpoints,
    judged_traffic,
)
from ansible_collections.ocpvirt.multinet.plugins.module_utils.flow_report import flow_name, render_text, summary_lines

# Simulated rows (ordered pairs x kinds of traffic x both sides) a run judges without being
# asked to: about two seconds of CPU. Larger intents report the flows skipped, unless the
# guard is set, which needs them.
FLOW_BUDGET = 200000


class ClosedFlowsError(MultinetError):
    """The change would close more flows than ``max_closed_flows``; ``result`` holds the flows."""

    def __init__(self, flows, limit):
        closed = flows["closed"]
        super().__init__("would close {0} flows, more than max_closed_flows allows ({1}); nothing was written. "
                         "Closed: {2}".format(len(closed), limit, "; ".join(flow_name(flow) for flow in closed)),
                         "max_closed_flows", limit)
        self.result = {"flows": flows, "changed": False}


def flow_check(model, max_closed_flows=None, budget=FLOW_BUDGET):
    """The before-write hook for the parsed intent ``model``: (plan, existing, desired, result)."""
    if max_closed_flows is not None and max_closed_flows < 0:
        raise MultinetError("must be 0 or more", "max_closed_flows", max_closed_flows)
    endpoints, warnings = intent_endpoints(model)

    def check(plan, existing, desired, result):
        flows = _flows(model, endpoints, plan, existing, desired, budget if max_closed_flows is None else None)
        flows["warnings"] = warnings
        result["flows"] = flows
        if "diff" in result and not plan.empty:
            result["diff"].insert(0, {"prepared": render_text(flows, "Flows of this change")
                                      if "skipped" not in flows else "Flows: {0}\n".format(flows["skipped"])})
        if max_closed_flows is not None and len(flows["closed"]) > max_closed_flows:
            raise ClosedFlowsError(flows, max_closed_flows)

    return check


def _flows(model, endpoints, plan, existing, desired, budget):
    """{traffic, opened, closed, summary}, empty when nothing is written, or {.., skipped} over budget."""
    if plan.empty:
        return {"traffic": [], "opened": [], "closed": [], "summary": []}
    traffic = judged_traffic((existing, desired), model.target_honours_end_port)
    rows = len(endpoints) * (len(endpoints) - 1) * len(traffic) * 2
    if budget is not None and rows > budget:
        return {"traffic": traffic, "opened": [], "closed": [], "summary": [], "skipped": (
            "not judged: {0} endpoints and {1} kinds of traffic are {2} simulated rows, more than {3}; set "
            "max_closed_flows to judge them anyway".format(len(endpoints), len(traffic), rows, budget))}
    changes = connectivity_diff(existing, desired, model.network, endpoints, model.ipam,
                                model.target_honours_end_port)
    flows = {key: changes[key] for key in ("traffic", "opened", "closed")}
    flows["summary"] = summary_lines(flows)
    return flows
