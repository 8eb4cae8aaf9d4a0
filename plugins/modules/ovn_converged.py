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

from ansible_collections.ocpvirt.multinet.plugins.module_utils.k8s.client import run_read_only_module
from ansible_collections.ocpvirt.multinet.plugins.module_utils.k8s.convergence_run import wait_converged
from ansible_collections.ocpvirt.multinet.plugins.module_utils.k8s.ovn_reader import Reader, ovn_access_argspec
from ansible_collections.ocpvirt.multinet.plugins.module_utils.ovn.access import check_access_names, unreadable


def argspec():
    return ovn_access_argspec(timeout=dict(type="int", default=120), interval=dict(type="float", default=0.5))


def run(module):
    check_access_names(module.params)
    reader = Reader(module)
    result = wait_converged(reader, module.params)
    for warning in reader.warnings + unreadable(result["unreadable"]):
        module.warn(warning)
    return dict(result, changed=False)


def main():
    run_read_only_module(argspec(), run)


if __name__ == "__main__":
    main()
