# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter shim: ocpvirt.multinet.ovn_inspection_report -> ovn.inspection_report.build."""

DOCUMENTATION = r"""
name: ovn_inspection_report
author: ocpvirt.multinet maintainers
version_added: "0.1.0"
short_description: Render what ovn_policy_info read as a report, per policy rule -> ACLs -> ports, then the findings
description:
  - For each network, a section per MultiNetworkPolicy joined up as the seed's manual
    C(ovn-nbctl) session assembles it by eye - each rule of the policy, the ACLs built for it
    (peer, direction, priority, match, action, the nodes holding it), the namespace's default
    deny ACLs, then the ports of its port group (pods and VMs) - and the findings in plain
    words, per policy and for the network (bridge mappings per node, the switch).
  - Renders the same blocks as Markdown and as one self-contained HTML page.
positional: _input
options:
  _input:
    description:
      - "C({title, networks}): C(networks) is a list of M(ocpvirt.multinet.ovn_policy_info)
        results (registered loop results are fine)."
    type: dict
    required: true
seealso:
  - module: ocpvirt.multinet.ovn_policy_info
"""

EXAMPLES = r"""
- name: Read what OVN made of the policies
  ocpvirt.multinet.ovn_policy_info:
    network: llm-demo/llm-demo-localnet-network
  register: ovn

- name: Render
  ansible.builtin.set_fact:
    inspection: "{{ {'title': 'OVN inspection', 'networks': [ovn]} | ocpvirt.multinet.ovn_inspection_report }}"

- name: Write the Markdown report
  ansible.builtin.copy:
    content: "{{ inspection.markdown }}"
    dest: reports/inspection.md
    mode: "0644"

- name: Fail with the findings
  ansible.builtin.fail:
    msg: "{{ inspection.text }}"
  when: inspection.failed
"""

RETURN = r"""
_value:
  description:
    - C(markdown) and C(html) (documents as strings); C(findings), every finding as
      C({network, policy, finding}) (C(policy) null for the network's own); C(text), those
      findings one per line; C(summary) (C({networks, policies, findings})); C(failed) (any finding).
  type: dict
"""


from ansible_collections.ocpvirt.multinet.plugins.module_utils.ovn.inspection_report import build
from ansible_collections.ocpvirt.multinet.plugins.plugin_utils.filter_args import domain_errors, filter_params


def ovn_inspection_report(data):
    """Validate the input, then lay out and render."""
    params = filter_params("ovn_inspection_report", DOCUMENTATION, ["_input"], [data], {})
    with domain_errors("ovn_inspection_report"):
        return build(params["_input"])


class FilterModule(object):
    """ocpvirt.multinet OVN inspection report filter."""

    def filters(self):
        return {"ovn_inspection_report": ovn_inspection_report}
