#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: ovn_converged
short_description: Wait until OVN enforces the live MultiNetworkPolicies of a localnet network
version_added: 0.1.0
description:
  - After MultiNetworkPolicies change, OVN-Kubernetes writes each node's Northbound database (one
    OVN zone per node on OpenShift 4.14+), ovn-northd turns it into Southbound logical flows and
    ovn-controller into OpenFlow rules. A probe or trace made before the last step sees the old
    policies. This module waits, by OVN's own state and not a fixed sleep, until every step is done.
  - First, until every zone's Northbound database holds each policy of the network as the API
    server has it (its port group, with the ports of the pods its podSelector picks there, and one
    ACL per rule, ipBlock and protocol, with the policy's CIDRs and ports) and no port group of a
    policy that is gone. It reads the zones as M(ocpvirt.multinet.ovn_policy_info) does
    (C(ovn-nbctl --format=json list) in each C(ovnkube-node) pod through the exec API), every
    O(interval) seconds.
  - Then, in each zone, C(ovn-nbctl --wait=hv sync), which returns once ovn-northd has written the
    Southbound database (NB_Global C(sb_cfg)) and every chassis' ovn-controller has installed the
    OpenFlow rules for it (C(hv_cfg)). It raises NB_Global C(nb_cfg) by one, as every C(ovn-nbctl
    --wait) does; nothing else is written.
  - Fails after O(timeout) seconds naming what is still pending, per policy and zone, or the stage
    (ovn-northd, ovn-controller) a zone waits for.
  - With C(useMultiNetworkPolicy) off OVN-Kubernetes applies no policy, so the first step is skipped
    (RV(skipped_policies) says why).
author:
  - ocpvirt.multinet maintainers (!UNKNOWN)
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - ocpvirt.multinet.ovn_access
options:
  container:
    description:
      - Container of the C(ovnkube-node) pods that has C(ovn-nbctl) and reaches the node's
        Northbound database (V(ovn-controller) on OpenShift 4.14+, as in the seed).
  timeout:
    description: Seconds to wait for both steps together.
    type: int
    default: 120
  interval:
    description: Seconds between two reads of the Northbound databases while a policy is pending.
    type: float
    default: 0.5
requirements:
  - python >= 3.9
  - kubernetes >= 24.2.0
notes:
  - Needs C(create) on C(pods/exec) in O(ovn_namespace), as M(ocpvirt.multinet.ovn_trace) does.
  - A node whose C(ovnkube-node) pod cannot be exec'ed is not waited for; it is named in
    RV(unreadable) and a warning. The module fails when no node can be read.
  - Supports check mode (the same run; it changes no policy).
seealso:
  - module: ocpvirt.multinet.ovn_policy_info
  - module: ocpvirt.multinet.ovn_trace
  - name: ovn-nbctl(8)
    description: C(--wait=hv) and NB_Global's nb_cfg, sb_cfg and hv_cfg.
    link: https://www.ovn.org/support/dist-docs/ovn-nbctl.8.html
"""

EXAMPLES = r"""
- name: Apply the intent
  ocpvirt.multinet.multinetwork_policy:
    intent: "{{ my_intent }}"

- name: Wait until OVN enforces it on every node before probing
  ocpvirt.multinet.ovn_converged:
    network: "{{ my_intent.network }}"
    timeout: 60
"""

RETURN = r"""
nodes:
  description:
    - Per node whose zone was read, the seconds from the module's start until its Northbound
      database held the policies (C(nb)) and until C(ovn-nbctl --wait=hv sync) returned (C(hv)).
  returned: always
  type: dict
  sample: {worker-0: {nb: 0.4, hv: 0.6}}
seconds:
  description: Seconds the module waited in all.
  returned: always
  type: float
policies:
  description: The MultiNetworkPolicies of the network waited for, as C(<namespace>/<name>).
  returned: always
  type: list
  elements: str
skipped_policies:
  description: Why the policies were not waited for (C(useMultiNetworkPolicy) off), or an empty string.
  returned: always
  type: str
unreadable:
  description: Nodes whose zones could not be read, with the reason.
  returned: always
  type: dict
"""

import time

from ansible_collections.ocpvirt.multinet.plugins.module_utils.k8s.client import run_read_only_module
from ansible_collections.ocpvirt.multinet.plugins.module_utils.k8s.ovn_reader import Reader, ovn_access_argspec
from ansible_collections.ocpvirt.multinet.plugins.module_utils.k8s.snapshot import NAD, POD, POLICY
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.errors import MultinetError
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.vocabulary import nad_ref, parse_nad_ref
from ansible_collections.ocpvirt.multinet.plugins.module_utils.ovn import convergence, ovsdb, policy_map
from ansible_collections.ocpvirt.multinet.plugins.module_utils.ovn.access import check_access_names

NETWORK_CONFIG = ("Network", "operator.openshift.io/v1")
CFG_COMMAND = ["ovn-nbctl", "get", "NB_Global", ".", "nb_cfg", "sb_cfg", "hv_cfg"]


def argspec():
    return ovn_access_argspec(timeout=dict(type="int", default=120), interval=dict(type="float", default=0.5))


def unreadable_message(errors):
    return "; ".join("node {0}: {1}".format(node, why) for node, why in errors.items())


def read_zones(reader, params, read):
    """read_nodes with the failure of a run where no zone can be read."""
    return reader.read_nodes(params, read, lambda why: "no zone could be read: " + unreadable_message(why))


def wait_for_nb(reader, params, network, policies, pods, deadline, started):
    """({node: {"nb": seconds until its NB held the policies}}, {node: pod}, {node: why unreadable})."""
    done = {}
    while True:
        zones, ovnkube_pods, errors = read_zones(reader, params, lambda run: ovsdb.parse_nb_output(
            run(ovsdb.NB_COMMAND)))
        pending = []
        for node, nb in sorted(zones.items()):
            found = convergence.zone_pending(network, node, nb, policies, pods)
            pending += found
            if not found:
                done.setdefault(node, {"nb": round(time.monotonic() - started, 2)})
        if not pending:
            return done, ovnkube_pods, errors
        if time.monotonic() > deadline:
            raise MultinetError("OVN-Kubernetes has not written every policy into the zones within the timeout "
                                "of {0} s; still pending: {1}".format(params["timeout"], "; ".join(pending)))
        time.sleep(params["interval"])


def wait_for_chassis(reader, params, nodes, ovnkube_pods, deadline, started):
    """`ovn-nbctl --wait=hv sync` in each node's pod within the time left; nodes[node]["hv"] is
    the second it returned."""
    namespace, container = params["ovn_namespace"], params["container"]
    pending = []
    for node in sorted(nodes):
        left = max(1, int(deadline - time.monotonic()))
        try:
            reader.exec(namespace, ovnkube_pods[node], container,
                        ["ovn-nbctl", "--timeout={0}".format(left), "--wait=hv", "sync"])
            nodes[node]["hv"] = round(time.monotonic() - started, 2)
        except MultinetError as error:
            try:
                stage = convergence.sync_stage(*(int(value) for value in reader.exec(
                    namespace, ovnkube_pods[node], container, CFG_COMMAND).split()))
            except (MultinetError, ValueError) as why:
                stage = "NB_Global could not be read ({0})".format(why)
            pending.append("zone {0}: {1}".format(node, stage or "ovn-nbctl --wait=hv sync failed: {0}".format(error)))
    if pending:
        raise MultinetError("OVN has not caught up with the policies within the timeout of {0} s; still pending: "
                            "{1}".format(params["timeout"], "; ".join(pending)))


def run(module):
    params = module.params
    check_access_names(params)
    started = time.monotonic()
    deadline = started + params["timeout"]
    nad_key = nad_ref(*parse_nad_ref(params["network"]))
    reader = Reader(module)
    network = policy_map.network_of(nad_key, reader.list(NAD))
    policies = [p for p in reader.list(POLICY) if policy_map.applies(p, network)]
    cluster = reader.get(NETWORK_CONFIG, "cluster")
    skipped = "" if cluster is None or (cluster.get("spec") or {}).get("useMultiNetworkPolicy") else \
        "useMultiNetworkPolicy is off (Network.operator.openshift.io cluster): OVN-Kubernetes applies no policy"
    if skipped:
        zones, ovnkube_pods, errors = read_zones(reader, params, lambda run: run(CFG_COMMAND))
        nodes = {node: {} for node in zones}
    else:
        namespaces = sorted({parse_nad_ref(key)[0] for key in network["nads"]} |
                            {p["metadata"]["namespace"] for p in policies})
        pods = [pod for namespace in namespaces for pod in reader.list(POD, namespace)]
        nodes, ovnkube_pods, errors = wait_for_nb(reader, params, network, policies, pods, deadline, started)
    wait_for_chassis(reader, params, nodes, ovnkube_pods, deadline, started)
    for warning in reader.warnings + ["node {0}: not waited for, its zone could not be read: {1}".format(node, why)
                                      for node, why in errors.items()]:
        module.warn(warning)
    keys = sorted("{0}/{1}".format(p["metadata"]["namespace"], p["metadata"]["name"]) for p in policies)
    return dict(changed=False, nodes=nodes, seconds=round(time.monotonic() - started, 2), unreadable=errors,
                skipped_policies=skipped, policies=keys)


def main():
    run_read_only_module(argspec(), run)


if __name__ == "__main__":
    main()
