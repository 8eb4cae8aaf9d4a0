#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: ovn_trace
short_description: OVN's own verdict for each pair of endpoints on a localnet network, by ovn-trace, with no guest access
version_added: 0.1.0
description:
  - For every ordered pair of O(endpoints) (at least one of them in the cluster) and every kind
    of traffic in O(ports), traces the pair's first packet (ICMP echo request, or a TCP, UDP or
    SCTP packet to the port) through OVN's logical pipelines with C(ovn-trace --detailed
    --minimal), and returns whether OVN delivers it and the ACLs that decided.
  - OpenShift 4.14+ runs one OVN zone per node, held by that node's C(ovnkube-node) pod. A pair
    is traced on the source's node from its logical switch port (out to the destination's port,
    or to the localnet port when the destination is elsewhere), and, when the destination is a
    pod or VM on another node or the source is an outside host, again on the destination's
    node from the localnet port. It is allowed when every leg is output where it should go.
  - Reads the network's NetworkAttachmentDefinitions and each node's Northbound database
    (C(ovn-nbctl --format=json list), as M(ocpvirt.multinet.ovn_policy_info) does) to find each
    endpoint's logical switch port and MAC by the pod behind it (a VM by its virt-launcher pod),
    then runs all of a node's traces in one exec into its C(ovnkube-node) pod.
  - Needs no access to VM guests, pods' containers or outside hosts, so VM-sourced and
    outside-sourced pairs get a verdict too. It is OVN's verdict on its logical flows, not a
    packet, so a wrong bridge mapping or a guest firewall is not seen (probe for those).
  - Read-only; supports check mode.
author:
  - ocpvirt.multinet maintainers (!UNKNOWN)
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - ocpvirt.multinet.ovn_access
options:
  endpoints:
    description:
      - The endpoints, as M(ocpvirt.multinet.connectivity_info) returns them in C(endpoints),
        each with C(name), C(ip), C(kind) (C(pod), C(vm), C(vmi) or C(outside)) and, for pods
        and VMs, C(namespace) and C(pod) (a VM's virt-launcher pod).
      - The MAC of an outside host is not known to the cluster; a placeholder that no logical
        port holds is used, which OVN sends to the localnet port as it sends the real one.
    type: list
    elements: dict
    required: true
  ports:
    description: Kinds of traffic, V(icmp) or C(<tcp|udp|sctp>/<port>); RV(results) has one entry per kind.
    type: list
    elements: str
    default: [icmp]
  container:
    description:
      - Container of the C(ovnkube-node) pods that has C(ovn-nbctl) and C(ovn-trace) and reaches
        the node's Northbound and Southbound databases.
requirements:
  - python >= 3.9
  - kubernetes >= 24.2.0
notes:
  - Needs C(create) on C(pods/exec) in O(ovn_namespace), like C(oc exec) into C(ovnkube-node).
  - Fails when no C(ovnkube-node) pod runs or none can be exec'ed; a node that cannot be read
    leaves the pairs that need it without a verdict (C(allowed) null, with the node and the
    reason) and is listed in RV(unreadable).
seealso:
  - module: ocpvirt.multinet.connectivity_info
  - module: ocpvirt.multinet.ovn_policy_info
  - name: ovn-trace(8)
    description: >-
      The OVN command this module runs; the verify role's traced verdict next to the simulated
      and probed ones is described in docs/verification.md of this collection.
    link: https://www.ovn.org/support/dist-docs/ovn-trace.8.html
"""

EXAMPLES = r"""
- name: Endpoints of the seed's network
  ocpvirt.multinet.connectivity_info:
    network: llm-demo/llm-demo-localnet-network
    endpoints:
      - {name: gateway, ip: 192.168.77.1}
  register: info

- name: What OVN does with each pair, VMs included
  ocpvirt.multinet.ovn_trace:
    network: "{{ info.network }}"
    endpoints: "{{ info.endpoints }}"
    ports: [icmp, tcp/22]
  register: traced

- name: Show the pairs OVN drops and why
  ansible.builtin.debug:
    msg: "{{ item.from }} -> {{ item.to }}: {{ item.detail }}"
  loop: "{{ traced.results[0].rows | rejectattr('allowed') }}"
"""

RETURN = r"""
network:
  description: The network traced, C(<namespace>/<nad>), and its OVN network name.
  returned: always
  type: dict
  sample: {nad: llm-demo/llm-demo-localnet-network, name: localnet-cnv}
nodes:
  description: The nodes whose zones were read and traced in.
  returned: always
  type: list
  elements: str
unreadable:
  description:
    - The nodes whose C(ovnkube-node) pod runs but whose OVN databases could not be read or
      traced in (exec refused, a dead C(ovsdb-server), ...), each with the reason. The pairs
      that need such a node are not traced and say so, naming the node.
  returned: always
  type: dict
  sample: {worker-1: "exited 1: ovn-nbctl: unix:/var/run/ovn/ovnnb_db.sock: database connection failed"}
traces:
  description: How many ovn-trace runs each node took.
  returned: always
  type: dict
  sample: {worker-0: 36, worker-1: 26}
results:
  description: One entry per kind of traffic in O(ports).
  returned: always
  type: list
  elements: dict
  contains:
    port:
      description: The kind of traffic, as given.
      type: str
    rows:
      description:
        - One row per ordered pair, C({from, to, allowed, detail, acls}). C(allowed) is true when
          OVN delivers the packet, false when it drops it (or outputs it elsewhere), null when
          the pair could not be traced; C(detail) says where and by which ACL; C(acls) names the
          Northbound ACLs whose flows the trace hit (C(NP:<ns>:<policy>:<Ingress|Egress>:<rule>),
          C(NP:<ns>:<direction>) for a namespace's default deny).
      type: list
      elements: dict
"""

from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.errors import MultinetError
from ansible_collections.ocpvirt.multinet.plugins.module_utils.k8s.client import run_read_only_module
from ansible_collections.ocpvirt.multinet.plugins.module_utils.ovn import policy_map, trace_plan
from ansible_collections.ocpvirt.multinet.plugins.module_utils.ovn.access import check_access_names, none_readable, trace_zone
from ansible_collections.ocpvirt.multinet.plugins.module_utils.k8s.ovn_reader import Reader, ovn_access_argspec
from ansible_collections.ocpvirt.multinet.plugins.module_utils.k8s.snapshot import NAD
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.vocabulary import parse_nad_ref


def argspec():
    return ovn_access_argspec(
        endpoints=dict(type="list", elements="dict", required=True),
        ports=dict(type="list", elements="str", default=["icmp"]),
    )


def read_zones(reader, params, network_name):
    """{node: the network's objects in its NB}, {node: ovnkube-node pod}, {node: why unreadable}."""
    return reader.read_nodes(params, trace_zone(network_name), none_readable)


def run_traces(reader, params, pods, steps, errors):
    """{node: parse_batch output} running each node's batch in its ovnkube-node pod."""
    outputs = {}
    for node, scripts in trace_plan.batches(steps).items():
        if node in errors:
            continue
        try:
            outputs[node] = {}
            for argv in scripts:
                outputs[node].update(trace_plan.parse_batch(
                    reader.exec(params["ovn_namespace"], pods[node], params["container"], argv)))
        except MultinetError as error:
            errors[node] = str(error)
    return outputs


def run(module):
    params = module.params
    check_access_names(params)
    trace_plan.check_endpoints(params["endpoints"])
    reader = Reader(module)
    network = policy_map.network_of("/".join(parse_nad_ref(params["network"])), reader.list(NAD))
    zones, pods, errors = read_zones(reader, params, network["name"])
    steps = trace_plan.plan(params["endpoints"], zones, params["ports"], errors)
    outputs = run_traces(reader, params, pods, steps, errors)
    results = {entry["port"]: entry["rows"] for entry in
               trace_plan.verdicts(steps, outputs, {node: zone["acls"] for node, zone in zones.items()}, errors)}
    for warning in reader.warnings:
        module.warn(warning)
    return dict(changed=False, network={"nad": network["nad"], "name": network["name"]}, nodes=sorted(zones),
                unreadable=dict(sorted(errors.items())),
                traces={node: sum(1 for step in steps for leg in step["legs"] or [] if leg["node"] == node)
                        for node in sorted(zones)},
                results=[{"port": port, "rows": results.get(port, [])} for port in params["ports"]])


def main():
    run_read_only_module(argspec(), run)


if __name__ == "__main__":
    main()
