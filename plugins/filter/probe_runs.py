# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter shim: ocpvirt.multinet.probe_runs -> probe_batch.runs."""

DOCUMENTATION = r"""
name: probe_runs
author: ocpvirt.multinet maintainers
version_added: "0.1.0"
short_description: Split the results of batched probes into one result per probed pair
description:
  - Takes the registered loop results of M(kubernetes.core.k8s_exec) over
    P(ocpvirt.multinet.probe_batches#filter) and returns one result per plan step,
    C({item, rc, stdout, stderr, msg}), the shape P(ocpvirt.multinet.connectivity_report#filter)
    reads as C(runs).
  - A step without a result line (the exec failed, or the pod has no shell) gets C(rc=null)
    and a C(msg) saying why, so the report shows it as not probed.
  - With O(servers), a UDP step that got no echo while its listener did not run gets
    C(rc=null) and C(no_verdict) with the reason.
positional: _input
options:
  _input:
    description: The registered loop's C(results).
    type: list
    elements: dict
    required: true
  servers:
    description:
      - The C(results) of M(ocpvirt.multinet.pod_exec) over
        P(ocpvirt.multinet.probe_servers#filter) (the UDP listeners), plus those of the guests'
        listeners run on the controller, each with C(item) the listener.
    type: list
    elements: dict
    default: []
seealso:
  - plugin: ocpvirt.multinet.probe_batches
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Keep one result per probed pair
  ansible.builtin.set_fact:
    runs: "{{ probe_batches.results | ocpvirt.multinet.probe_runs }}"
"""

RETURN = r"""
_value:
  description: "C([{item, rc, stdout, stderr, msg}]) where C(item) is the plan step."
  type: list
  elements: dict
"""


from ansible_collections.ocpvirt.multinet.plugins.module_utils.verify.probe_batch import runs
from ansible_collections.ocpvirt.multinet.plugins.plugin_utils.filter_args import domain_errors, filter_params


def probe_runs(*args, **kwargs):
    params = filter_params("probe_runs", DOCUMENTATION, ["_input", "servers"], args, kwargs)
    with domain_errors("probe_runs"):
        return runs(params["_input"], params["servers"])


class FilterModule(object):
    """ocpvirt.multinet probe result filter."""

    def filters(self):
        return {"probe_runs": probe_runs}
