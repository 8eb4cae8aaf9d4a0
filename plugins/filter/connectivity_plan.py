# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter shim: ocpvirt.multinet.connectivity_plan -> flow_diff.plan_changes."""

DOCUMENTATION = r"""
name: connectivity_plan
author: ocpvirt.multinet maintainers
version_added: "0.1.0"
short_description: The flows two revisions of a list of intents open and close, as data and as Markdown
description:
  - Pairs the intents of two lists (for example C(policies_intents) of an inventory before and
    after a pull request) by namespace and intent name, and compares each pair with the
    P(ocpvirt.multinet.connectivity_diff#filter) filter. An intent on one side only is new or
    removed (compared with no policies at all).
  - Needs no cluster; playbooks/plan.yml writes its result as Markdown for a pull-request
    comment and as JSON.
positional: _input, after
options:
  _input:
    description: The intents before (schema v1).
    type: list
    elements: dict
    required: true
  after:
    description: The intents after.
    type: list
    elements: dict
    required: true
  ports:
    description: More traffic to judge besides ICMP and the ports the rules name, as C(tcp/443).
    type: list
    elements: str
    default: []
notes:
  - Pure Python, runs on the controller; it does not contact any cluster.
seealso:
  - plugin: ocpvirt.multinet.connectivity_diff
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Write the flow changes of a pull request as a comment
  ansible.builtin.copy:
    content: "{{ (base_intents | ocpvirt.multinet.connectivity_plan(head_intents)).markdown }}"
    dest: flow-changes.md
    mode: "0644"
"""

RETURN = r"""
_value:
  description: The flow changes per intent, and as Markdown.
  type: dict
  contains:
    intents:
      description:
        - One entry per intent, sorted by C(intent) (C(<namespace>/<intent name>)), with C(network)
          and the keys the P(ocpvirt.multinet.connectivity_diff#filter) filter returns with
          intents (C(traffic), C(opened), C(closed), C(reason_changed), C(warnings)).
      type: list
      elements: dict
    opened:
      description: How many flows open, over every intent.
      type: int
    closed:
      description: How many flows close, over every intent.
      type: int
    markdown:
      description: The totals, then a table of opened and closed flows per intent.
      type: str
"""


from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.flow_diff import plan_changes
from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.flow_report import render_plan_markdown
from ansible_collections.ocpvirt.multinet.plugins.plugin_utils.filter_args import domain_errors, filter_params


def connectivity_plan(*args, **kwargs):
    """Validate the filter arguments, then compare the two lists of intents."""
    params = filter_params("connectivity_plan", DOCUMENTATION, ["_input", "after"], args, kwargs)
    with domain_errors("connectivity_plan"):
        plan = plan_changes(params["_input"], params["after"], params["ports"])
    return {"intents": plan, "opened": sum(len(entry["opened"]) for entry in plan),
            "closed": sum(len(entry["closed"]) for entry in plan), "markdown": render_plan_markdown(plan)}


class FilterModule(object):
    """ocpvirt.multinet connectivity_plan filter."""

    def filters(self):
        return {"connectivity_plan": connectivity_plan}
