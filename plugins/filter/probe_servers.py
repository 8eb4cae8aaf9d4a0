# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter shim: ocpvirt.multinet.probe_servers -> probe_batch.servers."""

DOCUMENTATION = r"""
name: probe_servers
author: ocpvirt.multinet maintainers
version_added: "0.1.0"
short_description: The UDP listeners a probe plan needs, each once
description:
  - Takes the C(probes) plan of M(ocpvirt.multinet.connectivity_info) run with C(probe_udp)
    (possibly several plans flattened into one list) and returns the C(server) of its runnable
    UDP steps, each once, C({via, namespace, pod, command, clients, lifetime}); a guest's
    (C(via=guest), planned by P(ocpvirt.multinet.guest_probes#filter)) also has C(vm) and
    C(ip), and its C(command) runs on the controller.
  - Start them all at once (each waits for its senders) before the steps' commands, the
    C(via=pod) ones e.g. with M(ocpvirt.multinet.pod_exec) (C(parallel) at least their number,
    C(async)), the C(via=guest) ones as async commands, and give their results to
    P(ocpvirt.multinet.probe_runs#filter) as C(servers).
positional: _input
options:
  _input:
    description: The probe plan, a list of C({from, to, port, namespace, pod, command, server, skip}).
    type: list
    elements: dict
    required: true
seealso:
  - plugin: ocpvirt.multinet.probe_runs
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Start the UDP listeners
  ocpvirt.multinet.pod_exec:
    commands: "{{ info.results | map(attribute='probes') | flatten | ocpvirt.multinet.probe_servers
                  | rejectattr('via', 'equalto', 'guest') }}"
  async: 60
  poll: 0
  register: listeners
"""

RETURN = r"""
_value:
  description: "C([{via, namespace, pod, command, clients, lifetime}]), in plan order."
  type: list
  elements: dict
"""

from ansible_collections.ocpvirt.multinet.plugins.module_utils.verify.probe_batch import servers
from ansible_collections.ocpvirt.multinet.plugins.plugin_utils.filter_args import domain_errors, filter_params


def probe_servers(*args, **kwargs):
    params = filter_params("probe_servers", DOCUMENTATION, ["_input"], args, kwargs)
    with domain_errors("probe_servers"):
        return servers(params["_input"])


class FilterModule(object):
    """ocpvirt.multinet UDP listener filter."""

    def filters(self):
        return {"probe_servers": probe_servers}
