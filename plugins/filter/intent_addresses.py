# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter shim: ocpvirt.multinet.intent_addresses -> addresses.resolve_intents."""

DOCUMENTATION = r"""
name: intent_addresses
author: ocpvirt.multinet maintainers
version_added: "0.1.0"
short_description: Give intents' workloads their addresses from the inventory, and check the ones written
description:
  - "For each intent in the namespace of O(inventory), a workload without C(ips) takes the
    addresses of the inventory's VMs and test pods it selects (C({vm: pay-db}) takes
    C(workloads_vms[pay-db].ip) without its prefix; a C(selector) takes those of every entry whose
    pod labels it matches)."
  - With O(check), a workload with C(ips) must list the address of every inventory entry it
    selects; else the filter fails naming the intent, the workload, the intent's addresses and
    the entry's.
  - "A workload without C(ips) that selects no entry fails (unless the intent has C(ipam: true))."
  - Malformed intents and workloads are returned untouched for the compiler to report.
positional: _input
options:
  _input:
    description: The intents (schema v1, see C(docs/intent-schema.md)).
    type: list
    elements: raw
    required: true
  inventory:
    description:
      - The workloads role's entries, C({namespace, vms, pods}) (C(workloads_namespace),
        C(workloads_vms), C(workloads_pods)); they are checked as the
        P(ocpvirt.multinet.workload_inventory#filter) filter checks them.
    type: dict
    default: {}
  check:
    description: Compare the C(ips) written in the intents with the inventory.
    type: bool
    default: true
notes:
  - Pure Python, runs on the controller; it does not contact any cluster.
"""

EXAMPLES = r"""
- name: Intents with the inventory's addresses
  ansible.builtin.set_fact:
    intents: >-
      {{ policies_intents | ocpvirt.multinet.intent_addresses({'namespace': workloads_namespace,
         'vms': workloads_vms, 'pods': workloads_pods}) }}
"""

RETURN = r"""
_value:
  description: The intents, each workload with C(ips).
  type: list
  elements: dict
"""

from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.addresses import resolve_intents
from ansible_collections.ocpvirt.multinet.plugins.plugin_utils.filter_args import domain_errors, filter_params, plain_data


def intent_addresses(*args, **kwargs):
    """Validate the filter arguments, then resolve and check the intents' addresses."""
    args, kwargs = plain_data(list(args)), plain_data(kwargs)
    params = filter_params("intent_addresses", DOCUMENTATION, ["_input", "inventory", "check"], args, kwargs)
    with domain_errors("intent_addresses"):
        return resolve_intents(params["_input"], params["inventory"], params["check"])


class FilterModule(object):
    """ocpvirt.multinet intent addresses filter."""

    def filters(self):
        return {"intent_addresses": intent_addresses}
