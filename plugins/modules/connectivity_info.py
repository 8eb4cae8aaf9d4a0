#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: connectivity_info
short_description: Who can reach whom on a secondary network, simulated from the live MultiNetworkPolicies
version_added: 0.1.0
description:
  - Reads the MultiNetworkPolicies, pods, VirtualMachines and VirtualMachineInstances of the
    given namespaces, finds every endpoint attached to one secondary network, and simulates
    which ordered pairs may open a connection, the way OVN-Kubernetes enforces the policies.
  - "Pod addresses come from the C(k8s.v1.cni.cncf.io/network-status) annotation, else from
    the C(ips) of the C(k8s.v1.cni.cncf.io/networks) annotation (the only place an IPAM-less
    pod's address is written). VM addresses come from the guest agent (VMI status), else from
    the virt-launcher pod, else from cloud-init C(networkData) (C(cloudInitNoCloud) or
    C(cloudInitConfigDrive); inline, base64, or in the Secret of C(networkDataSecretRef))
    matched to the VM's interface on the network by MAC address or C(eth<index>)."
  - A virt-launcher pod is counted as its VM, with the pod's labels (what a policy selects).
  - Secrets are read only for their networkData key and nothing of them is returned.
  - The cluster is read once per run; each kind of traffic in O(ports) gets its own entry in
    RV(results) from that one read.
  - With O(intent), each entry also has the C(expected) matrix over the same endpoints, the flows
    the intent names (read by workload name), with live endpoints named after the intent's workloads.
  - Read-only; supports check mode.
author:
  - ocpvirt.multinet maintainers (!UNKNOWN)
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
options:
  network:
    description:
      - The secondary network as C(<namespace>/<nad>).
      - Required unless O(intent) is given, which then provides it.
      - Each part is checked (a DNS-1123 label, a DNS-1123 subdomain) before any request.
    type: str
  namespaces:
    description:
      - Namespaces whose pods, VMs and policies are read.
      - Defaults to the intent's namespace, else the namespace of O(network).
      - With several namespaces, endpoint names are C(<namespace>/<name>).
      - Each must be a DNS-1123 label; a bad one fails before any request.
    type: list
    elements: str
    aliases: [namespace]
  ports:
    description:
      - The kinds of traffic to simulate, each C(icmp) (ping, which no rule with ports admits) or
        C(<protocol>/<port>) with C(tcp), C(udp) or C(sctp), such as V([icmp, tcp/22, udp/53]).
        RV(results) has one entry per kind, in this order (repeats dropped).
      - The cluster is read once for all of them.
      - Unset means the traffic the intent names (RV(intent_traffic)) with O(intent), else V([icmp]).
      - The alias O(port) (one kind, the option's old name) is deprecated.
    type: list
    elements: str
    aliases: [port]
  probe_timeout:
    description: Seconds each command of RV(results[].probes) waits for an answer.
    type: int
    default: 2
  probe_udp:
    description:
      - Plan UDP probes. UDP has no handshake, so silence from a port says nothing (the
        packet may have been dropped by a policy, or no one listens, or the answer was lost);
        only an echo from a listener started on purpose on the target proves a pair open.
      - When V(true), a UDP pair whose target is a running pod in the cluster gets a
        C(server) (a UDP echo for the target pod, the same for every pair to that pod, to
        start once) and a C(command) that resends a token for half the server's C(lifetime)
        (C(max(20, 10 x probe_timeout)) seconds) and succeeds only when it comes back;
        whoever runs the plan must start the server first.
        Other UDP pairs (targets that are outside hosts, where nothing can be started, or VM
        guests, which this module cannot enter) are skipped with that reason;
        P(ocpvirt.multinet.guest_probes#filter) plans the ones to and from guests where a way
        into them is given.
      - Both need C(python3) (else C(socat)) and C(timeout) in the pods' images.
      - When V(false), every UDP pair is skipped with the reason.
    type: bool
    default: false
  probe_tcp_listeners:
    description:
      - Give every TCP pair whose target is a running pod a C(server), a TCP listener on the
        target's address for the port (C(python3), else C(nc), else C(socat), under C(timeout)),
        the same for every pair to that pod and port, to start once before C(command); it exits
        once each of its C(clients) connected, else after C(lifetime) seconds. An open port is
        then proven open, not only reached. The C(command) retries a refused connect for half
        the listener's lifetime, while the listener starts.
      - A TCP pair is probed either way; without a listener (off, a target where none can be
        started, or the port taken by a real service, which then answers) a refused connect
        reads "reached (refused)", since the target's kernel answered and the packet got through.
    type: bool
    default: false
  ipam:
    description:
      - Whether the network has IPAM. On IPAM-less networks OVN-Kubernetes rejects every
        policy with a podSelector or namespaceSelector peer, and the simulation does too.
      - When unset, taken from the intent if given, else from the NAD's C(spec.config)
        (C(subnets) present), else V(false).
    type: bool
  target_honours_end_port:
    description:
      - Whether the cluster's OVN-Kubernetes honours C(endPort) in MultiNetworkPolicy ports.
        None does up to at least OpenShift 4.18 (its MultiNetworkPolicy API has no C(endPort)),
        so a port with C(endPort) opens only its C(port), and the reasons say so. OpenShift 4.15
        and 4.18 ship the same CRD, without C(endPort); 4.19's has it, untested here.
      - When unset, taken from the intent's C(target_honours_end_port) if given, else V(false).
    type: bool
  endpoints:
    description:
      - Hosts outside the cluster to include in the matrix, such as the gateway.
      - With O(intent), a host named like one of the intent's endpoints replaces the address
        chosen for it (the first address of its CIDR outside its C(except) blocks).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Name shown in the matrix.
        type: str
        required: true
      ip:
        description: A single IPv4 or IPv6 address.
        type: str
        required: true
  intent:
    description:
      - An intent (schema v1, see M(ocpvirt.multinet.multinetwork_policy)) to compare with.
      - Adds the intent's outside endpoints and workloads that are missing in the cluster (at
        their intent address), and fills C(expected) in each entry of RV(results).
    type: dict
  read_secrets:
    description:
      - Read the Secrets that VMs reference in C(networkDataSecretRef) to learn their addresses.
      - When V(false), or when reading is forbidden, such VMs are listed in RV(unresolved).
    type: bool
    default: true
requirements:
  - python >= 3.9
  - kubernetes >= 24.2.0
notes:
  - Rows exist for every ordered pair of distinct endpoints where at least one side is a pod
    or VM; pairs of two outside hosts are not governed by any policy.
  - Stopped VMs are included (C(running=false)) with the labels KubeVirt will give their pod.
seealso:
  - module: ocpvirt.multinet.multinetwork_policy
  - name: MultiNetworkPolicy (Multus) specification and reference implementation
    description: >-
      The policy semantics this module simulates; the verify role and its report are in
      docs/verification.md of this collection.
    link: https://github.com/k8snetworkplumbingwg/multi-networkpolicy
"""

EXAMPLES = r"""
- name: Simulate ping between everything on the seed's localnet network
  ocpvirt.multinet.connectivity_info:
    network: llm-demo/llm-demo-localnet-network
    endpoints:
      - {name: gateway, ip: 192.168.77.1}
      - {name: outside-host, ip: 192.168.77.10}
  register: ping_matrix

- name: Show who may reach whom
  ansible.builtin.debug:
    msg: "{{ item.from }} -> {{ item.to }}"
  loop: "{{ ping_matrix.results[0].matrix | selectattr('allowed') }}"

- name: Ping, SSH and DNS matrices from one read, compared with what an intent wants
  ocpvirt.multinet.connectivity_info:
    intent: "{{ lookup('ansible.builtin.file', 'intents/llm-demo.yml') | from_yaml }}"
    ports: [icmp, tcp/22, udp/53]
    kubeconfig: ~/.kube/config
  register: live

- name: Fail when the live policies do not do what the intent says
  ansible.builtin.assert:
    that: item.matrix | map(attribute='allowed') | list == item.expected | map(attribute='allowed') | list
  loop: "{{ live.results }}"
  loop_control:
    label: "{{ item.port }}"
"""

RETURN = r"""
network:
  description: The network simulated, C(<namespace>/<nad>).
  returned: always
  type: str
  sample: llm-demo/llm-demo-localnet-network
nads:
  description:
    - The NADs of the network, C(<namespace>/<nad>), the one given and every NAD the read
      policies name whose config has the same network C(name) (NADs of one OVN network can live
      in several namespaces; a policy naming any of them applies).
  returned: always
  type: list
  elements: str
  sample: [llm-demo/llm-demo-localnet-network]
ipam:
  description: Whether the network was treated as having IPAM, and RV(ipam_source) says why.
  returned: always
  type: bool
ipam_source:
  description: Where RV(ipam) came from, C(parameter), C(intent), C(nad) or C(default).
  returned: always
  type: str
endpoints:
  description: Every endpoint with an address, cluster ones sorted by namespace and name, then outside hosts.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Name used in the matrix.
      type: str
    kind:
      description: "C(pod), C(vm), C(vmi) or C(outside)."
      type: str
    object:
      description: Name of the pod, VM or VMI; null for outside hosts.
      type: str
    namespace:
      description: Namespace; absent for outside hosts.
      type: str
    labels:
      description: Labels policies select on (a VM's are its launcher pod's).
      type: dict
    ip:
      description: The address simulated (the first of RV(endpoints[].ips)).
      type: str
    ips:
      description: All addresses found on the network.
      type: list
      elements: str
    cidr:
      description: The address with its prefix when known.
      type: str
    source:
      description: >-
        Where the address came from: C(network-status), C(networks-annotation), C(vmi-status),
        C(launcher-pod), C(cloud-init), C(cloud-init-secret), C(parameter), C(intent).
      type: str
    interface:
      description: Pod interface or VM interface name on the network.
      type: str
    pod:
      description: Pod to exec into for probes (a VM's launcher pod); null if none.
      type: str
    running:
      description: Whether the pod is Running (for a VM, whether it has a launcher pod).
      type: bool
    node:
      description: The node the pod (a VM's launcher pod) is scheduled on; null if none.
      type: str
    workload:
      description: The intent workload this endpoint is (with O(intent)).
      type: str
    present:
      description: False for an intent workload not found in the cluster.
      type: bool
  sample:
    - {name: tinypod, kind: pod, object: tinypod, namespace: llm-demo, labels: {app: tinypod}, ip: 192.168.77.91,
       ips: [192.168.77.91], cidr: 192.168.77.91/24, source: networks-annotation, interface: null, pod: tinypod, running: true}
unresolved:
  description: Pods and VMs attached to the network whose address could not be found, with the reason.
  returned: always
  type: list
  elements: dict
policies:
  description: The live MultiNetworkPolicies that apply to the network, as C(<namespace>/<name>).
  returned: always
  type: list
  elements: str
  sample: [llm-demo/deny-by-default, llm-demo/allow-ipblock]
results:
  description: One entry per kind of traffic of O(ports), in that order, all from one read of the cluster.
  returned: always
  type: list
  elements: dict
  contains:
    port:
      description: The traffic, V(icmp) or C(<protocol>/<port>).
      type: str
      sample: tcp/22
    matrix:
      description: The simulation of the live policies, one row C({from, to, allowed, reason}) per ordered pair.
      type: list
      elements: dict
      sample:
        - {from: tinypod-01, to: tinypod, allowed: true,
           reason: "allowed: egress llm-demo/allow-ipblock-01 egress[0]; ingress llm-demo/allow-ipblock ingress[0]"}
    expected:
      description:
        - With O(intent), the flows the intent names over the same endpoints, rows in the same
          order as C(matrix).
        - Read from the intent by name, not by simulating its compiled policies, so a wrong
          workload address in the intent (compiled into a wrong ipBlock) shows as a pair where
          C(matrix) and C(expected) disagree.
      type: list
      elements: dict
    probes:
      description:
        - How to probe each ordered pair that starts at a pod or VM, for a playbook to run with
          M(kubernetes.core.k8s_exec) (the module itself runs nothing).
        - C(skip) says why a pair cannot be probed, such as a VM source (its launcher pod is
          not the guest), UDP without O(probe_udp) or without a pod to listen on, or a target
          outside the source's subnet; then C(command) is null.
        - C(server) (UDP, and TCP with O(probe_tcp_listeners); else null) is C({via, protocol,
          namespace, pod, command, clients, lifetime}) (C(via=pod)), the listener to start in
          the target pod before C(command) runs, once per target pod and port; it echoes every
          datagram (or accepts every connection) and exits 0 once it has heard from C(clients)
          source addresses, else C(timeout) stops it after C(lifetime) seconds (exit 124).
      type: list
      elements: dict
      sample:
        - {from: tinypod-01, to: tinypod, port: icmp, namespace: llm-demo, pod: tinypod-01,
           command: ping -c 1 -W 2 -I net1 192.168.77.91, server: null, skip: null}
expected_policies:
  description: Names of the policies the intent compiles to.
  returned: when O(intent) is given
  type: list
  elements: str
intent_traffic:
  description: The kinds of traffic the intent mentions, V(icmp) first, then each protocol/port (both ends of a range).
  returned: when O(intent) is given
  type: list
  elements: str
  sample: [icmp, tcp/22, tcp/8000, tcp/8010]
revision:
  description:
    - What this run compared, for a report to name (see docs/verification.md, "The header").
    - C(intent) is C(sha256:) and 12 hex digits of the intent as JSON with sorted keys (null
      without O(intent)); C(policies) the same over the namespace, name, policy-for annotation
      and spec of each policy of RV(policies); C(policy_count) their number.
  returned: always
  type: dict
  sample: {intent: "sha256:3f1c0a9b7d2e", policies: "sha256:9a41c6e0b513", policy_count: 5}
server:
  description: The API server URL the module read the cluster through (no credentials).
  returned: always
  type: str
  sample: https://api.cluster.example.com:6443
warnings_list:
  description: Things a person should know, such as missing KubeVirt APIs, workloads not found, or RV(unresolved) endpoints.
  returned: always
  type: list
  elements: str
"""

import copy

from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC

from ansible_collections.ocpvirt.multinet.plugins.module_utils.k8s.client import run_read_only_module
from ansible_collections.ocpvirt.multinet.plugins.module_utils.k8s.snapshot import ClusterReader, read_snapshot
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.intent import parse_intent
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.names import check_names, network_checks
from ansible_collections.ocpvirt.multinet.plugins.module_utils.verify.report import public_url
from ansible_collections.ocpvirt.multinet.plugins.module_utils.verify.run import connectivity, resolve_scope, traffic_list


def argspec():
    spec = copy.deepcopy(AUTH_ARG_SPEC)
    spec.update(
        network=dict(type="str"),
        namespaces=dict(type="list", elements="str", aliases=["namespace"]),
        ports=dict(type="list", elements="str", aliases=["port"], deprecated_aliases=[
            dict(name="port", version="1.0.0", collection_name="ocpvirt.multinet")]),
        probe_timeout=dict(type="int", default=2),
        probe_udp=dict(type="bool", default=False),
        probe_tcp_listeners=dict(type="bool", default=False),
        ipam=dict(type="bool"),
        target_honours_end_port=dict(type="bool"),
        endpoints=dict(type="list", elements="dict", default=[], options=dict(
            name=dict(type="str", required=True), ip=dict(type="str", required=True))),
        intent=dict(type="dict"),
        read_secrets=dict(type="bool", default=True, no_log=False),
    )
    return spec


def check_scope_names(params):
    """The network and namespaces given go into API paths: checked before the first request."""
    check_names((network_checks("network", params["network"]) if params["network"] is not None else [])
                + [("namespaces[{0}]".format(index), namespace, "namespace")
                   for index, namespace in enumerate(params["namespaces"] or [])])


def run(module):
    params = module.params
    check_scope_names(params)
    intent = parse_intent(params["intent"]) if params["intent"] is not None else None
    network_ref, namespaces, ipam, ipam_source = resolve_scope(params, intent)
    traffic = traffic_list(params["ports"], intent)  # a bad port fails before the cluster is read
    reader = ClusterReader(module)
    snapshot = read_snapshot(reader, network_ref, namespaces, params["read_secrets"])
    return dict(connectivity(snapshot, params, intent, traffic, network_ref, ipam, ipam_source),
                server=public_url(reader.server))


def main():
    run_read_only_module(argspec(), run)


if __name__ == "__main__":
    main()
