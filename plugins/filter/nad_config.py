# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter shim: ocpvirt.multinet.nad_config -> nad.nad_config."""

DOCUMENTATION = r"""
name: nad_config
author: ocpvirt.multinet maintainers
version_added: "0.1.0"
short_description: Build the spec.config of an OVN-Kubernetes localnet NetworkAttachmentDefinition
description:
  - Returns the JSON string OVN-Kubernetes reads from a localnet NAD's C(spec.config), namely
    C(type=ovn-k8s-cni-overlay), C(topology=localnet), C(name), optional C(physicalNetworkName),
    C(subnets), C(excludeSubnets), C(vlanID), C(mtu), and C(netAttachDefName=<namespace>/<name>),
    always in this key order, so the same entry gives the same string.
  - C(name) in the config is the entry's C(localnet) (the bridge mapping's localnet name); with
    C(network_name) (OpenShift 4.18 and later) it is C(network_name) and the localnet goes to
    C(physicalNetworkName).
  - Checks the entry first and fails naming the field and value, namely unknown keys, names that are not
    DNS-1123, a localnet no declared bridge mapping knows, C(vlan_id) outside 1-4094, C(mtu)
    outside 576-65535, invalid or host-bit CIDRs, C(exclude_subnets) without C(subnets) or outside
    them, NADs of the same network that disagree on subnets, VLAN or MTU, and a
    C(physicalNetworkName) (a C(network_name) other than the localnet) for a cluster older than
    OpenShift 4.18 or of unknown version, whose OVN-Kubernetes would ignore it and map the
    network by its name.
positional: _input
options:
  _input:
    description:
      - The NAD entry with keys C(name), C(namespace), C(localnet) (required), C(network_name),
        C(subnets), C(exclude_subnets) (list or comma-separated string), C(vlan_id), C(mtu),
        C(cni_version) (default C(0.3.1)) and C(state) (ignored here).
    type: dict
    required: true
  known_localnets:
    description: Localnet names of the declared bridge mappings; empty means unknown (no check).
    type: list
    elements: str
    default: []
  networks:
    description: All NAD entries of the run; the ones of the same network must agree with this one.
    type: list
    elements: dict
    default: []
  cluster_version:
    description:
      - The target cluster's ClusterVersion C(version) object (as C(k8s_info) returns it) or its
        OpenShift version string such as C(4.18.3). Only a C(network_name) other than the
        localnet needs it; unset means unknown, and such an entry is refused.
    type: raw
notes:
  - Pure Python, runs on the controller; it does not contact any cluster.
"""

EXAMPLES = r"""
- name: Build the seed lab's NAD
  kubernetes.core.k8s:
    definition:
      apiVersion: k8s.cni.cncf.io/v1
      kind: NetworkAttachmentDefinition
      metadata: {name: llm-demo-localnet-network, namespace: llm-demo}
      spec:
        config: "{{ nad | ocpvirt.multinet.nad_config(known_localnets=['localnet-cnv']) }}"
  vars:
    nad: {name: llm-demo-localnet-network, namespace: llm-demo, localnet: localnet-cnv}
"""

RETURN = r"""
_value:
  description: The config as a one-line JSON string in a fixed key order.
  type: str
"""


from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy import nad
from ansible_collections.ocpvirt.multinet.plugins.plugin_utils.filter_args import domain_errors, filter_params


def nad_config(*args, **kwargs):
    """Validate the filter arguments, then build the config string."""
    params = filter_params("nad_config", DOCUMENTATION, ["_input", "known_localnets", "networks", "cluster_version"],
                           args, kwargs)
    with domain_errors("nad_config"):
        return nad.nad_config(params["_input"], params["known_localnets"], params["networks"],
                              params["cluster_version"])


class FilterModule(object):
    """ocpvirt.multinet NAD filter."""

    def filters(self):
        return {"nad_config": nad_config}
