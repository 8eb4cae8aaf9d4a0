# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter shim: ocpvirt.multinet.ownership_record -> namespace_ownership.inventory_record."""

DOCUMENTATION = r"""
name: ownership_record
author: ocpvirt.multinet maintainers
version_added: "0.1.0"
short_description: What site.yml creates in each namespace for an inventory, as teardown's record
description:
  - Returns, per namespace, the C(Kind/name) of every object the inventory has site.yml create
    there (NADs, VMs, their C(<vm>-cloud-init) Secrets, test pods) and the names of its intents,
    the record M(ocpvirt.multinet.owned_namespace) takes as O(ocpvirt.multinet.owned_namespace#module:owned)
    and O(ocpvirt.multinet.owned_namespace#module:intents) before it deletes a namespace.
  - An intent's name is its C(name), default the NAD name of its C(network).
positional: _input
options:
  _input:
    description:
      - The inventory's values, keys C(networks) (C(network_attachment_networks)), C(intents)
        (C(policies_intents)), C(workloads_namespace), C(vms) (C(workloads_vms)) and C(pods)
        (C(workloads_pods)); each may be missing.
    type: dict
    required: true
notes:
  - Pure Python, runs on the controller; it does not contact any cluster.
"""

EXAMPLES = r"""
- name: Tell owned_namespace what is ours in the NADs' namespaces
  ansible.builtin.set_fact:
    record: >-
      {{ {'networks': network_attachment_networks, 'intents': policies_intents,
          'workloads_namespace': workloads_namespace, 'vms': workloads_vms, 'pods': workloads_pods}
         | ocpvirt.multinet.ownership_record }}
"""

RETURN = r"""
_value:
  description: "Per namespace C(owned) (C(Kind/name) of each object) and C(intents) (names), each list sorted."
  type: dict
"""


from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.errors import MultinetError
from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.namespace_ownership import inventory_record
from ansible_collections.ocpvirt.multinet.plugins.plugin_utils.filter_args import domain_errors, filter_params

KEYS = ("networks", "intents", "workloads_namespace", "vms", "pods")


def ownership_record(*args, **kwargs):
    """Validate the filter argument, then build the record."""
    params = filter_params("ownership_record", DOCUMENTATION, ["_input"], args, kwargs)
    unknown = sorted(set(params["_input"]) - set(KEYS))
    with domain_errors("ownership_record"):
        if unknown:
            raise MultinetError("unknown key(s) {0}; known: {1}".format(", ".join(unknown), ", ".join(KEYS)))
        return inventory_record(**{key: params["_input"].get(key) for key in KEYS})


class FilterModule(object):
    """ocpvirt.multinet ownership record filter."""

    def filters(self):
        return {"ownership_record": ownership_record}
