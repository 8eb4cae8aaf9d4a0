# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter shim: ocpvirt.multinet.connectivity_diff -> flow_diff.connectivity_diff / intent_diff."""

DOCUMENTATION = r"""
name: connectivity_diff
author: ocpvirt.multinet maintainers
version_added: "0.1.0"
short_description: Which flows a policy or intent change opens and closes on a secondary network
description:
  - Simulates the before and the after MultiNetworkPolicies with the
    P(ocpvirt.multinet.connectivity#filter) simulator over the same endpoints and compares them
    pair by pair, for ICMP and for every port any rule of either side names, so removing a
    C(tcp/8080) allow shows its flows closed.
  - Each flow names C(from) and C(to) (endpoint names), C(traffic) (C(icmp), C(tcp/22)) and the
    simulator's reason C(before) and C(after), which names the rules that allow it or the
    policies that isolate it.
  - Two ways to call it. With O(network) and O(endpoints), the input and O(after) are lists of
    policy manifests (for example from C(kubernetes.core.k8s_info) and
    P(ocpvirt.multinet.compile_mnp#filter)). Without them, both are intents (schema v1, or null
    for an intent that is new or removed), each compiled, and the endpoints are the workloads
    (at their first address) and the outside endpoints the intents name, by their intent names.
positional: _input, after
options:
  _input:
    description: The policies before (manifests), or the intent before (a mapping, or null).
    type: raw
    required: true
  after:
    description: The policies after (manifests), or the intent after (a mapping, or null).
    type: raw
    required: true
  network:
    description:
      - With policies, the network the traffic crosses, as for P(ocpvirt.multinet.connectivity#filter).
      - Omitted with intents (the intents name it, and both must name the same one).
    type: raw
  endpoints:
    description:
      - With policies, the endpoints to judge, as for P(ocpvirt.multinet.connectivity#filter).
      - Omitted with intents.
    type: list
    elements: dict
  ports:
    description: More traffic to judge besides ICMP and the ports the rules name, as C(tcp/443).
    type: list
    elements: str
    default: []
  ipam:
    description: With policies, whether the network has IPAM. With intents, the newer intent's C(ipam) is used.
    type: bool
    default: false
  target_honours_end_port:
    description:
      - With policies, whether the cluster's OVN-Kubernetes honours C(endPort) (none does up to
        at least OpenShift 4.18). With intents, the newer intent's key is used.
    type: bool
    default: false
notes:
  - Pure Python, runs on the controller; it does not contact any cluster.
  - It costs two simulations per kind of traffic, each over every ordered pair of endpoints.
seealso:
  - plugin: ocpvirt.multinet.connectivity
    plugin_type: filter
  - plugin: ocpvirt.multinet.compile_mnp
    plugin_type: filter
  - module: ocpvirt.multinet.multinetwork_policy
"""

EXAMPLES = r"""
- name: What a change of the intent would open and close (no cluster needed)
  ansible.builtin.debug:
    msg: "{{ (old_intent | ocpvirt.multinet.connectivity_diff(new_intent)).text }}"

- name: Fail when a change closes SSH into the VM
  ansible.builtin.assert:
    that: changes.closed | selectattr('to', 'equalto', 'gold-rabbit') | selectattr('traffic', 'equalto', 'tcp/22') | list | length == 0
  vars:
    changes: "{{ old_intent | ocpvirt.multinet.connectivity_diff(new_intent) }}"

- name: Compare the live policies with edited manifests
  ansible.builtin.set_fact:
    changes: >-
      {{ live.resources | ocpvirt.multinet.connectivity_diff(edited, network='llm-demo/llm-demo-localnet-network',
                                                             endpoints=endpoints) }}
"""

RETURN = r"""
_value:
  description: The flow changes.
  type: dict
  contains:
    traffic:
      description: What was judged, C(icmp) first, then every port the rules name, sorted.
      type: list
      elements: str
      sample: [icmp, tcp/22]
    opened:
      description: Flows allowed after and not before, each C({from, to, traffic, before, after}).
      type: list
      elements: dict
      sample:
        - from: tinypod-02
          to: gold-rabbit
          traffic: tcp/22
          before: "egress denied: tinypod-02 is isolated for egress by llm-demo/llm-demo-localnet-network-default-deny ..."
          after: "allowed on tcp/22: egress llm-demo/llm-demo-localnet-network-allow-tinypod-02 egress[0]; ingress ..."
    closed:
      description: Flows allowed before and not after, in the same form.
      type: list
      elements: dict
    reason_changed:
      description: Flows with the same verdict on both sides for another reason (another rule decides).
      type: list
      elements: dict
    network:
      description: With intents, the network they are on.
      type: str
      returned: with intents
    warnings:
      description: With intents, what could not be judged (a workload without C(ips)).
      type: list
      elements: str
      returned: with intents
    text:
      description: A short human list, one line per opened or closed flow.
      type: str
    markdown:
      description: The changes as Markdown, fit for a pull-request comment.
      type: str
"""


from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.errors import MultinetError
from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.flow_diff import connectivity_diff as diff_policies
from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.flow_diff import intent_diff
from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.flow_report import render_markdown, render_text
from ansible_collections.ocpvirt.multinet.plugins.plugin_utils.filter_args import domain_errors, filter_params


def connectivity_diff(*args, **kwargs):
    """Validate the filter arguments, then compare policies, or intents."""
    params = filter_params("connectivity_diff", DOCUMENTATION, ["_input", "after"], args, kwargs)
    with domain_errors("connectivity_diff"):
        if (params["network"] is None) != (params["endpoints"] is None):
            raise MultinetError("give both network and endpoints (to compare policies) or neither (intents)",
                                "network" if params["network"] is None else "endpoints", None)
        if params["network"] is None:
            changes = intent_diff(_intent(params["_input"], "_input"), _intent(params["after"], "after"),
                                  params["ports"])
        else:
            changes = diff_policies(params["_input"], params["after"], params["network"], params["endpoints"],
                                    params["ipam"], params["target_honours_end_port"], params["ports"])
    changes.update(text=render_text(changes), markdown=render_markdown(changes))
    return changes


def _intent(value, field):
    if value is not None and not isinstance(value, dict):
        raise MultinetError("must be an intent (a mapping) or null when network and endpoints are not given",
                            field, value)
    return value


class FilterModule(object):
    """ocpvirt.multinet connectivity_diff filter."""

    def filters(self):
        return {"connectivity_diff": connectivity_diff}
