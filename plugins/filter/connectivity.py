# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter shim: ocpvirt.multinet.connectivity -> connectivity.simulate."""

DOCUMENTATION = r"""
name: connectivity
author: ocpvirt.multinet maintainers
version_added: "0.1.0"
short_description: Simulate who may connect to whom on a secondary network under MultiNetworkPolicies
description:
  - Given MultiNetworkPolicy manifests, one network and a list of endpoints, answers for every
    ordered pair of endpoints (at least one of them a pod or VM) whether a connection may be
    initiated, and why, the way OVN-Kubernetes enforces the policies.
  - A policy applies when its C(k8s.v1.cni.cncf.io/policy-for) annotation names the network
    (C(<nad>) means the policy's own namespace; C(<ns>/<nad>); comma-separated lists).
  - It selects pods of its namespace by C(podSelector) (C(matchLabels) and C(matchExpressions)).
    C(policyTypes) is read as written, with no NetworkPolicy defaulting, and only decides which
    directions the selected pods are isolated in; the rules of both directions allow traffic
    whatever C(policyTypes) say, as OVN-K builds ACLs for all of them.
  - A connection needs the source's egress and the destination's ingress; replies to an allowed
    connection always pass, so the matrix is about who may initiate.
  - On a network without IPAM (C(ipam=false), the default) a policy with any C(podSelector) or
    C(namespaceSelector) peer is rejected whole by OVN-K; the reasons say so.
  - A rule with ports never matches ICMP (C(port=null)); a named port matches every port of its
    protocol, as OVN-K does not resolve port names.
positional: _input
options:
  _input:
    description: MultiNetworkPolicy manifests, for example from C(kubernetes.core.k8s_info).
    type: list
    elements: dict
    required: true
  network:
    description:
      - The network the traffic crosses, as one NAD C(<namespace>/<nad name>).
      - "Or the NADs of one OVN network, as a list of them or as C({name, nads}): NADs in several
        namespaces belong to one network when their config has the same C(name), and a policy
        applies when its C(policy-for) names any of them."
    type: raw
    required: true
  endpoints:
    description:
      - The addresses to test, each C({name, ip}); C(ip) may carry a prefix (C(192.168.77.91/24)).
      - Pods and VMs (virt-launcher pods) also give C(namespace) and C(labels) (a VM's pod has
        C(vm.kubevirt.io/name=<vm>)), and optionally C(namespace_labels) for C(namespaceSelector)
        peers (C(kubernetes.io/metadata.name) is always set).
      - A pod or VM may give its C(node). When every pod and VM of the network is listed with
        its node, a connection whose replies its node's switch drops is denied too (a node where
        no policy with rules selects a pod has no stateful ACL, so a default deny drops the
        replies); see docs/connectivity.md of this collection.
      - An endpoint without C(namespace) is an outside host (gateway, a machine on the LAN, the
        internet); no policy isolates it.
    type: list
    elements: dict
    required: true
  port:
    description:
      - The traffic, as C(tcp/22), C(udp/53) or C(sctp/9).
      - Omitted, null or V(icmp) means ICMP-like traffic (a ping), which only rules without ports allow.
    type: str
  ipam:
    description: Whether the network has IPAM (C(subnets) in its NetworkAttachmentDefinition).
    type: bool
    default: false
  target_honours_end_port:
    description:
      - Whether the cluster's OVN-Kubernetes honours C(endPort). None does up to at least
        OpenShift 4.18 (its MultiNetworkPolicy API has no C(endPort)), so by default a port with
        C(endPort) opens only its C(port), and the reasons say so.
      - OpenShift 4.15 and 4.18 ship the same MultiNetworkPolicy CRD, without C(endPort) (the API
        server drops it); 4.19's CRD has it, but whether 4.19's OVN-Kubernetes enforces it is not
        tested by this collection.
    type: bool
    default: false
notes:
  - Pure Python, runs on the controller; it does not contact any cluster.
  - Only the secondary network is simulated. Pods keep their default route on the primary
    network, so a pod's traffic to the internet does not cross these policies; a VM whose only
    NIC is on the secondary network routes everything through it.
seealso:
  - plugin: ocpvirt.multinet.compile_mnp
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Who can ping whom in the seed lab
  ansible.builtin.debug:
    msg: "{{ item.from }} -> {{ item.to }}: {{ item.reason }}"
  loop: "{{ policies | ocpvirt.multinet.connectivity(network='llm-demo/llm-demo-localnet-network', endpoints=endpoints) }}"
  vars:
    endpoints:
      - {name: tinypod, ip: 192.168.77.91, namespace: llm-demo, labels: {app: tinypod}}
      - {name: tinypod-01, ip: 192.168.77.92, namespace: llm-demo, labels: {app: tinypod-01}}
      - {name: gold-rabbit, ip: 192.168.77.71, namespace: llm-demo,
         labels: {vm.kubevirt.io/name: centos-stream9-gold-rabbit-80}}
      - {name: gateway, ip: 192.168.77.1}
      - {name: internet, ip: 8.8.8.8}

- name: Fail when SSH into the VM is open to anyone but the gateway
  ansible.builtin.assert:
    that: allowed_ssh == ['gateway']
  vars:
    allowed_ssh: >-
      {{ policies
         | ocpvirt.multinet.connectivity(network='llm-demo/llm-demo-localnet-network',
                                         endpoints=endpoints, port='tcp/22')
         | selectattr('to', 'equalto', 'gold-rabbit') | selectattr('allowed')
         | map(attribute='from') | list }}

- name: Check what compiled policies would allow before applying them
  ansible.builtin.debug:
    msg: "{{ intent | ocpvirt.multinet.compile_mnp
             | ocpvirt.multinet.connectivity(network='llm-demo/llm-demo-localnet-network', endpoints=endpoints)
             | selectattr('allowed') | map(attribute='reason') | list }}"
"""

RETURN = r"""
_value:
  description:
    - One row per ordered pair of distinct endpoints where at least one is a pod or VM, in the
      order of O(endpoints) (every destination of the first endpoint, then of the second...).
    - C(from) and C(to) are endpoint names, C(allowed) a boolean.
    - >-
      C(reason) names the policies and rules that decided, for example
      C(allowed: egress llm-demo/allow-ipblock-01 egress[0]; ingress llm-demo/allow-ipblock ingress[0])
      or "egress denied: tinypod is isolated for egress by llm-demo/deny-by-default and no egress
      rule allows test-vm (192.168.77.10)", followed by notes on policies OVN-K rejects or
      partly ignores.
  type: list
  elements: dict
"""


from ansible_collections.ocpvirt.multinet.plugins.module_utils.simulate.connectivity import simulate
from ansible_collections.ocpvirt.multinet.plugins.plugin_utils.filter_args import domain_errors, filter_params


def connectivity(*args, **kwargs):
    """Validate the filter arguments, then simulate the matrix."""
    params = filter_params("connectivity", DOCUMENTATION, ["_input", "network", "endpoints", "port", "ipam"],
                           args, kwargs)
    with domain_errors("connectivity"):
        return simulate(params["_input"], params["network"], params["endpoints"], params["port"], params["ipam"],
                        params["target_honours_end_port"])


class FilterModule(object):
    """ocpvirt.multinet connectivity filters."""

    def filters(self):
        return {"connectivity": connectivity}
