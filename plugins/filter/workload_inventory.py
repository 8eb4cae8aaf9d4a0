# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter shim: ocpvirt.multinet.workload_inventory -> workload_inventory.check_inventory."""

DOCUMENTATION = r"""
name: workload_inventory
author: ocpvirt.multinet maintainers
version_added: "0.1.0"
short_description: Check the workloads role's VMs, test pods and user data and fill in what may be left out
description:
  - Checks every entry of C(workloads_vms) and C(workloads_pods) and fails with every problem at
    once, each naming the entry (C(workloads_vms[pay-db].ip)), the one field and its value.
    Names must be DNS-1123 subdomains of at most 63 characters; C(ip) an address with its
    prefix that a host can have (not the network's own address, its broadcast, loopback,
    multicast or reserved); a VM's C(gateway) (or
    O(gateway)) an IPv4 address inside the VM's subnet; C(dns) addresses; C(mac) a unicast MAC;
    C(labels) valid label keys and values; no name, address or MAC used twice.
  - Returns C({vms, pods}); a VM without C(mac) gets a stable locally administered MAC made from
    O(namespace) and its name.
positional: _input
options:
  _input:
    description: The VMs (C(workloads_vms)).
    type: list
    elements: raw
    required: true
  pods:
    description: The test pods (C(workloads_pods)).
    type: list
    elements: raw
    default: []
  gateway:
    description: The default gateway of every VM (C(workloads_vm_gateway)).
    type: str
    default: ""
  namespace:
    description: The workloads' namespace (C(workloads_namespace)), part of a generated MAC.
    type: str
    default: ""
  user_data:
    description:
      - The VMs' cloud-init user data (C(workloads_vm_user_data)); when set, it must be YAML
        cloud-config (first line C(#cloud-config), then a mapping). A problem names the line,
        never the content.
    type: str
    default: ""
notes:
  - Pure Python, runs on the controller; it does not contact any cluster.
"""

EXAMPLES = r"""
- name: Check the workloads
  ansible.builtin.set_fact:
    checked: "{{ workloads_vms | ocpvirt.multinet.workload_inventory(pods=workloads_pods, namespace='payments') }}"
"""

RETURN = r"""
_value:
  description: C({vms, pods}), the entries as given with a VM's missing C(mac) filled in.
  type: dict
"""

from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.workload_inventory import check_inventory
from ansible_collections.ocpvirt.multinet.plugins.plugin_utils.filter_args import domain_errors, filter_params, plain_data


def workload_inventory(*args, **kwargs):
    """Validate the filter arguments, then check and complete the entries."""
    args, kwargs = plain_data(list(args)), plain_data(kwargs)
    params = filter_params("workload_inventory", DOCUMENTATION, ["_input", "pods"], args, kwargs, no_log=("user_data",))
    with domain_errors("workload_inventory"):
        return check_inventory(params["_input"], params["pods"], params["gateway"], params["namespace"],
                               params["user_data"])


class FilterModule(object):
    """ocpvirt.multinet workload inventory filter."""

    def filters(self):
        return {"workload_inventory": workload_inventory}
