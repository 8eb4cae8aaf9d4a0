# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter shim: ocpvirt.multinet.network_switch_patch -> network_switch.switch_patch."""

DOCUMENTATION = r"""
name: network_switch_patch
author: ocpvirt.multinet maintainers
version_added: "0.1.0"
short_description: The JSON patch that sets spec.useMultiNetworkPolicy of the cluster Network and nothing else
description:
  - Returns RFC 6902 operations for network.operator.openshift.io/cluster that set only
    C(spec.useMultiNetworkPolicy) and the annotation C(multinet.ocpvirt.io/previous-use-multi-network-policy).
  - The first operations C(test) that C(spec) and the annotations are still those of the object
    given, so the server refuses the patch (nothing written) when anything changed since it was read.
  - An empty list when nothing would change.
positional: _input
options:
  _input:
    description: The Network object as read from the cluster.
    type: dict
    required: true
  enabled:
    description: The value to set; C(unset) removes the field.
    type: str
    choices: ["true", "false", unset]
    required: true
  record:
    description:
      - The record annotation (the value before our first change) to write, C(drop) to remove it,
        or C(keep) to leave it as it is.
    type: str
    choices: ["true", "false", unset, drop, keep]
    default: keep
notes:
  - Pure Python, runs on the controller; send the result with M(kubernetes.core.k8s_json_patch).
"""

EXAMPLES = r"""
- name: Turn multi-network policy on, recording the value before
  kubernetes.core.k8s_json_patch:
    api_version: operator.openshift.io/v1
    kind: Network
    name: cluster
    patch: "{{ network | ocpvirt.multinet.network_switch_patch(enabled='true', record='unset') }}"
"""

RETURN = r"""
_value:
  description: JSON patch operations (C(test) operations first), or an empty list.
  type: list
  elements: dict
"""

from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.network_switch import DROP, switch_patch
from ansible_collections.ocpvirt.multinet.plugins.plugin_utils.filter_args import domain_errors, filter_params

ENABLED = {"true": True, "false": False, "unset": None}
RECORD = {"keep": None, "drop": DROP}


def network_switch_patch(*args, **kwargs):
    """Validate the filter arguments, then build the patch."""
    params = filter_params("network_switch_patch", DOCUMENTATION, ["_input"], args, kwargs)
    with domain_errors("network_switch_patch"):
        return switch_patch(params["_input"], ENABLED[params["enabled"]],
                            RECORD.get(params["record"], params["record"]))


class FilterModule(object):
    """ocpvirt.multinet Network switch filter."""

    def filters(self):
        return {"network_switch_patch": network_switch_patch}
