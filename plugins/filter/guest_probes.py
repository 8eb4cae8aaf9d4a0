# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter shim: ocpvirt.multinet.guest_probes -> probe_batch.guest_probes."""

DOCUMENTATION = r"""
name: guest_probes
author: ocpvirt.multinet maintainers
version_added: "0.1.0"
short_description: Probe a plan's VM-sourced pairs from the VMs' guests
description:
  - A VM's launcher pod is not its guest, so M(ocpvirt.multinet.connectivity_info) skips pairs
    that start at a VM. This filter gives them a probe command to run inside the guest
    (C(via=guest), C(vm), C(ip)) when O(guest_command) names a way in, and otherwise sets
    C(skip) to say that none was given. Every other step gets C(via=pod).
  - A guest routes with its own routes, so targets outside the network's subnet are probed too.
  - With O(udp), UDP pairs to and from running guests are probed too. A UDP pair whose target
    is a guest gets a C(server) with C(via=guest), C(vm) and C(ip) whose C(command) is
    O(guest_command) filled in (run it on the controller, before the pairs' commands), and
    every UDP listener of the plan is planned again to count the guests among its senders.
  - With O(tcp), TCP pairs to running guests get a listener the same way.
positional: _input
options:
  _input:
    description: The probe plan of M(ocpvirt.multinet.connectivity_info).
    type: list
    elements: dict
    required: true
  endpoints:
    description: The endpoints returned with the plan.
    type: list
    elements: dict
    required: true
  guest_command:
    description: The way into guests (see P(ocpvirt.multinet.probe_batches#filter)); empty for none.
    type: str
    default: ""
  timeout:
    description: Seconds each probe waits for an answer.
    type: int
    default: 2
  udp:
    description:
      - Whether UDP listeners are started (as M(ocpvirt.multinet.connectivity_info)'s
        C(probe_udp), which should have the same value); V(false) leaves every UDP pair of a
        guest skipped with the reason.
    type: bool
    default: false
  tcp:
    description:
      - Whether TCP listeners are started (as M(ocpvirt.multinet.connectivity_info)'s
        C(probe_tcp_listeners), which should have the same value); V(true) gives a TCP pair
        whose target is a running guest a C(server) in the guest too, and makes the guests'
        TCP clients retry a refused connect while the listeners start.
    type: bool
    default: false
seealso:
  - plugin: ocpvirt.multinet.probe_batches
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Probe VMs through SSH as well
  ansible.builtin.set_fact:
    plan: "{{ info.probes | ocpvirt.multinet.guest_probes(info.endpoints, 'ssh -i vm_key cloud-user@{ip} {command}') }}"
"""

RETURN = r"""
_value:
  description: The plan, each step with C(via) (C(pod) or C(guest)); guest steps also carry C(vm) and C(ip).
  type: list
  elements: dict
"""

from ansible_collections.ocpvirt.multinet.plugins.module_utils.verify.probe_batch import guest_probes as plan_guests
from ansible_collections.ocpvirt.multinet.plugins.plugin_utils.filter_args import domain_errors, filter_params


def guest_probes(*args, **kwargs):
    params = filter_params("guest_probes", DOCUMENTATION, ["_input", "endpoints", "guest_command", "timeout"],
                           args, kwargs)
    with domain_errors("guest_probes"):
        return plan_guests(params["_input"], params["endpoints"], params["guest_command"], params["timeout"],
                           params["udp"], params["tcp"])


class FilterModule(object):
    """ocpvirt.multinet guest probing filter."""

    def filters(self):
        return {"guest_probes": guest_probes}
