#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: ovn_policy_info
short_description: What OVN-Kubernetes really made of each MultiNetworkPolicy of a localnet network
version_added: 0.1.0
description:
  - For one OVN-Kubernetes localnet secondary network, reads the Northbound database of every
    node (OpenShift 4.14+ runs one OVN zone per node, held by that node's C(ovnkube-node) pod)
    and maps its port groups, ACLs and ports back to the MultiNetworkPolicies, pods and VMs.
  - Runs C(ovn-nbctl --format=json list) for C(Logical_Switch), C(Logical_Switch_Port),
    C(Port_Group), C(ACL) and C(Address_Set), and C(ovs-vsctl --format=json list Open_vSwitch)
    for C(ovn-bridge-mappings), inside each C(ovnkube-node) pod through the Kubernetes exec API
    (the websocket stream of M(kubernetes.core.k8s_exec)). Objects are chosen by the
    C(k8s.ovn.org/*) external_ids OVN-Kubernetes writes, never by parsing C(ovn-nbctl show).
  - Reads the NetworkAttachmentDefinitions and MultiNetworkPolicies of all namespaces, the pods
    of the namespaces involved (their labels name the VMs behind virt-launcher pods) and the
    Network C(cluster) (C(useMultiNetworkPolicy)). When a policy has no port group, reads the
    O(log_container) log of the C(ovnkube-node) pods to quote why OVN-Kubernetes refused it.
  - Reports findings in plain words, per policy (refused and why, selects nothing on this
    network, ACL CIDRs that differ from the policy's ipBlocks) and for the network (a node whose
    bridge mappings lack the network's localnet name, a node without the network's switch, a pod
    in no port group while its namespace has a deny-all, C(useMultiNetworkPolicy) off).
  - Read-only; supports check mode.
author:
  - ocpvirt.multinet maintainers (!UNKNOWN)
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - ocpvirt.multinet.ovn_access
options:
  container:
    description:
      - Container of the C(ovnkube-node) pods that has C(ovn-nbctl) and C(ovs-vsctl) and reaches
        the node's databases. V(ovn-controller) on OpenShift 4.14+ (as in the seed); V(nbdb) on
        releases that run the Northbound database in its own container.
  log_container:
    description:
      - Container whose log holds C(ovnkube-controller)'s messages about refused policies.
      - Read only when a policy has no port group; an empty string never reads logs.
    type: str
    default: ovnkube-controller
requirements:
  - python >= 3.9
  - kubernetes >= 24.2.0
notes:
  - Needs C(create) on C(pods/exec) in O(ovn_namespace), like C(oc exec) in the seed, and C(get) on C(pods/log) to quote the log (else a warning).
  - A node whose C(ovnkube-node) pod cannot be exec'ed is named in RV(findings) and left out;
    the module fails only when no node can be read.
seealso:
  - module: ocpvirt.multinet.connectivity_info
  - module: kubernetes.core.k8s_exec
  - name: ovn-nbctl(8)
    description: >-
      The OVN Northbound database commands this module reads with; the seed's manual session
      next to this module is in docs/inspection.md of this collection.
    link: https://www.ovn.org/support/dist-docs/ovn-nbctl.8.html
"""

EXAMPLES = r"""
- name: What OVN made of the policies of the seed's localnet network
  ocpvirt.multinet.ovn_policy_info:
    network: llm-demo/llm-demo-localnet-network
  register: ovn

- name: Each policy's ACLs next to the rule they came from
  ansible.builtin.debug:
    msg: "{{ item.0.name }}: {{ item.1.rule }} -> {{ item.1.ovn_direction }} {{ item.1.priority }} {{ item.1.match }} {{ item.1.action }}"
  loop: "{{ ovn.policies | subelements('acls') }}"

- name: Fail on anything OVN-Kubernetes did not do as written
  ansible.builtin.assert:
    that: (ovn.findings + (ovn.policies | map(attribute='findings') | flatten)) | length == 0
    fail_msg: "{{ ovn.findings + (ovn.policies | map(attribute='findings') | flatten) }}"
"""

RETURN = r"""
network:
  description: The network read; C(name) is the OVN network name, C(physical) the bridge mapping name.
  returned: always
  type: dict
  sample: {name: localnet-cnv, physical: localnet-cnv, ipam: false, nad: llm-demo/llm-demo-localnet-network,
           nads: [llm-demo/llm-demo-localnet-network]}
nodes:
  description: The nodes whose OVN databases were read.
  returned: always
  type: list
  elements: str
switches:
  description: Per node, the network's logical switch (null when the node has none).
  returned: always
  type: dict
  sample: {worker-0: localnet.cnv_ovn_localnet_switch}
ports:
  description: Every logical switch port of the network with its node, pod, VM and addresses.
  returned: always
  type: list
  elements: dict
address_sets:
  description: Address sets owned by the network's controller, per node.
  returned: always
  type: list
  elements: dict
policies:
  description: One entry per MultiNetworkPolicy whose C(policy-for) names a NAD of the network.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Policy name.
      type: str
    namespace:
      description: Policy namespace.
      type: str
    port_groups:
      description: Its port group names (C(a) + FNV-1a hash of C(<net>_<ns>_<policy>)).
      type: list
      elements: str
    ports:
      description: The pods and VMs in its port group on any node (C(port), C(node), C(namespace), C(pod), C(vm), C(addresses)).
      type: list
      elements: dict
    acls:
      description:
        - Its ACLs and, for the directions of its C(policyTypes), its namespace's default deny ACLs.
        - C(direction) (Ingress/Egress), C(ovn_direction), C(priority), C(match), C(action), C(name),
          C(port_group), C(nodes) holding it, C(rule) (such as C(spec.ingress[0].from[1])),
          C(rule_spec) (that rule of the policy) and C(ip_block) (the peer the ACL came from).
      type: list
      elements: dict
    findings:
      description: What is wrong with this policy on this network, in plain words.
      type: list
      elements: str
findings:
  description: What belongs to no single policy (bridge mappings, switches, unprotected pods, nodes not read).
  returned: always
  type: list
  elements: str
  sample: ["node worker-1: ovn-bridge-mappings (physnet:br-ex) has no entry for localnet-cnv, ..."]
"""

from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.vocabulary import nad_ref, parse_nad_ref
from ansible_collections.ocpvirt.multinet.plugins.module_utils.k8s.client import run_read_only_module
from ansible_collections.ocpvirt.multinet.plugins.module_utils.ovn import policy_map
from ansible_collections.ocpvirt.multinet.plugins.module_utils.ovn.access import check_access_names, policy_zone, unreadable
from ansible_collections.ocpvirt.multinet.plugins.module_utils.k8s.snapshot import NAD, POD, POLICY
from ansible_collections.ocpvirt.multinet.plugins.module_utils.k8s.ovn_reader import Reader, ovn_access_argspec

NETWORK_CONFIG = ("Network", "operator.openshift.io/v1")


def argspec():
    return ovn_access_argspec(log_container=dict(type="str", default="ovnkube-controller"))


def read_zones(reader, params):
    """{node: {"nb", "bridge_mappings"}} from each running ovnkube-node pod, {node: pod name}, and
    findings for the nodes that could not be read."""
    zones, pods, errors = reader.read_nodes(params, policy_zone, lambda errors: "; ".join(unreadable(errors)))
    return zones, pods, unreadable(errors)


def read_logs(reader, params, pods):
    if not params["log_container"]:
        return []
    return [line for pod in pods.values()
            for line in reader.log_lines(params["ovn_namespace"], pod, params["log_container"])]


def run(module):
    params = module.params
    check_access_names(params, "log_container")
    nad_key = nad_ref(*parse_nad_ref(params["network"]))
    reader = Reader(module)
    network = policy_map.network_of(nad_key, reader.list(NAD))
    policies = [p for p in reader.list(POLICY) if policy_map.applies(p, network)]
    namespaces = sorted({parse_nad_ref(key)[0] for key in network["nads"]} | {p["metadata"]["namespace"] for p in policies})
    workload_pods = [pod for namespace in namespaces for pod in reader.list(POD, namespace)]
    cluster = reader.get(NETWORK_CONFIG, "cluster")
    if cluster is None:
        reader.warnings.append("the Network operator config `cluster` could not be read: useMultiNetworkPolicy not checked")
    enabled = cluster is None or bool((cluster.get("spec") or {}).get("useMultiNetworkPolicy"))
    zones, ovnkube_pods, node_findings = read_zones(reader, params)
    view = policy_map.inspect_network(network, zones, policies, workload_pods, enabled)
    if any(not policy["port_groups"] for policy in view["policies"]):
        logs = read_logs(reader, params, ovnkube_pods)
        view = policy_map.inspect_network(network, zones, policies, workload_pods, enabled, logs)
    for warning in reader.warnings:
        module.warn(warning)
    return dict(changed=False, nodes=sorted(zones), **dict(view, findings=node_findings + view["findings"]))


def main():
    run_read_only_module(argspec(), run)


if __name__ == "__main__":
    main()
