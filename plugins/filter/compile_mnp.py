# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter shim: ocpvirt.multinet.compile_mnp -> compiler.compile_intent."""

DOCUMENTATION = r"""
name: compile_mnp
author: ocpvirt.multinet maintainers
version_added: "0.1.0"
short_description: Compile an allow-list intent into MultiNetworkPolicy manifests
description:
  - Turns an intent (schema v1, see C(docs/intent-schema.md)) into MultiNetworkPolicy
    (C(k8s.cni.cncf.io/v1beta1)) manifests for an OVN-Kubernetes secondary network.
  - An C(allow) entry from X to Y becomes an egress rule on X when X is a workload and an ingress
    rule on Y when Y is a workload, so one line opens both ends.
  - Naming a workload in an allow list isolates it in that direction, as NetworkPolicy does.
  - On IPAM-less networks (C(ipam=false), the default) every peer compiles to an C(ipBlock);
    with C(ipam=true) workload peers compile to a C(podSelector).
  - The whole intent is validated first; any problem fails the filter with the field path and
    value of every problem found, and nothing is returned.
  - Output is deterministic (sorted by name, rules merged and sorted), so the same intent gives
    byte-identical manifests.
positional: _input
options:
  _input:
    description:
      - The intent.
      - Keys C(namespace) and C(network) are required; C(name), C(ipam), C(default_deny),
        C(workloads), C(endpoints) and C(allow) are optional.
    type: dict
    required: true
  merge_peers:
    description:
      - Write each rule's ipBlock peers as the fewest ipBlocks matching exactly their addresses
        (V(true)), or one per workload address and endpoint as the intent lists them (V(false)).
    type: bool
    default: true
  share_policies:
    description:
      - Give workloads whose rules are identical, and that select by one label of one key, one
        policy named C(<intent>-shared-<digest>) whose C(podSelector) is C(<key> In [values])
        (V(true)); or one policy per workload, C(<intent>-allow-<workload>) (V(false)).
    type: bool
    default: true
notes:
  - Pure Python, runs on the controller; it does not contact any cluster.
  - Apply the result with M(ocpvirt.multinet.multinetwork_policy), which also prunes policies
    of the same intent that are no longer wanted.
seealso:
  - module: ocpvirt.multinet.multinetwork_policy
"""

EXAMPLES = r"""
- name: Render the seed lab's policies
  ansible.builtin.set_fact:
    mnp_manifests: "{{ intent | ocpvirt.multinet.compile_mnp }}"
  vars:
    intent:
      namespace: llm-demo
      network: llm-demo-localnet-network
      workloads:
        tinypod: {selector: {app: tinypod}, ips: [192.168.77.91]}
        tinypod-01: {selector: {app: tinypod-01}, ips: [192.168.77.92]}
        gold-rabbit: {vm: centos-stream9-gold-rabbit-80, ips: [192.168.77.71]}
      endpoints:
        gateway: 192.168.77.1
        internet: {cidr: 0.0.0.0/0, except: [192.168.77.0/24]}
      allow:
        - {from: tinypod-01, to: tinypod}
        - {from: gold-rabbit, to: [gateway, tinypod-01, internet], ports: [tcp/22, udp/53, tcp/8000-8010]}

- name: Apply them without the policy module
  kubernetes.core.k8s:
    state: present
    definition: "{{ item }}"
  loop: "{{ intent | ocpvirt.multinet.compile_mnp }}"
  loop_control:
    label: "{{ item.metadata.name }}"
"""

RETURN = r"""
_value:
  description:
    - MultiNetworkPolicy manifests sorted by C(metadata.name), namely one C(<intent>-default-deny)
      policy with an empty C(podSelector) when C(default_deny) is not empty, and one
      C(<intent>-allow-<workload>) policy per workload that has rules.
    - Each carries the annotation C(k8s.v1.cni.cncf.io/policy-for=<namespace>/<nad>), explicit
      C(policyTypes), and the labels C(app.kubernetes.io/managed-by=ocpvirt.multinet) and
      C(multinet.ocpvirt.io/intent=<intent name>).
  type: list
  elements: dict
"""


from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.compiler import compile_intent
from ansible_collections.ocpvirt.multinet.plugins.plugin_utils.filter_args import domain_errors, filter_params


def compile_mnp(*args, **kwargs):
    """Validate the filter arguments, then compile the intent."""
    params = filter_params("compile_mnp", DOCUMENTATION, ["_input"], args, kwargs)
    with domain_errors("compile_mnp"):
        return compile_intent(params["_input"], params["merge_peers"], params["share_policies"])


class FilterModule(object):
    """ocpvirt.multinet policy filters."""

    def filters(self):
        return {"compile_mnp": compile_mnp}
