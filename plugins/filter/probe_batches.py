# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter shim: ocpvirt.multinet.probe_batches -> probe_batch.batches."""

DOCUMENTATION = r"""
name: probe_batches
author: ocpvirt.multinet maintainers
version_added: "0.1.0"
short_description: Group a probe plan into one parallel shell script per source pod
description:
  - Takes the C(probes) plan of M(ocpvirt.multinet.connectivity_info) (possibly several plans
    flattened into one list) and returns one batch per source pod, C({namespace, pod, steps,
    command}), where C(command) is an C(sh -c) script for M(kubernetes.core.k8s_exec) that runs
    every step's command at once in the background and prints one line per step.
  - Steps with C(via=guest) (see P(ocpvirt.multinet.guest_probes#filter)) are grouped per VM
    and their C(command) is O(guest_command) filled in, to run on the controller.
  - Skipped steps (C(skip) set) are left out. Feed the registered exec results to
    P(ocpvirt.multinet.probe_runs#filter).
positional: _input
options:
  _input:
    description: The probe plan, a list of C({from, to, port, namespace, pod, command, skip}).
    type: list
    elements: dict
    required: true
  guest_command:
    description:
      - Command line template for guest batches, with C({namespace}), C({vm}), C({ip}) and
        C({command}) (the batch script as one shell-quoted word).
    type: str
    default: ""
seealso:
  - plugin: ocpvirt.multinet.probe_runs
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Probe each source pod's pairs at once
  kubernetes.core.k8s_exec:
    namespace: "{{ item.namespace }}"
    pod: "{{ item.pod }}"
    command: "{{ item.command }}"
  loop: "{{ info.probes | ocpvirt.multinet.probe_batches }}"
  register: probe_batches
  failed_when: false
"""

RETURN = r"""
_value:
  description: "C([{namespace, pod, via, steps, command}]), one per source pod or guest, in plan order."
  type: list
  elements: dict
"""

from ansible_collections.ocpvirt.multinet.plugins.module_utils.verify.probe_batch import batches
from ansible_collections.ocpvirt.multinet.plugins.plugin_utils.filter_args import domain_errors, filter_params


def probe_batches(*args, **kwargs):
    params = filter_params("probe_batches", DOCUMENTATION, ["_input", "guest_command"], args, kwargs)
    with domain_errors("probe_batches"):
        return batches(params["_input"], params["guest_command"])


class FilterModule(object):
    """ocpvirt.multinet probe batching filter."""

    def filters(self):
        return {"probe_batches": probe_batches}
