# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# Options of the modules that read a localnet network's OVN objects in the ovnkube-node pods
# (ovn_policy_info, ovn_trace). Their argspec is ovn_access_argspec() of
# plugins/module_utils/k8s/ovn_reader.py.


class ModuleDocFragment(object):
    # `container` has no description here: each module describes it, naming the commands it
    # runs there (a module's own keys of an option are merged over the fragment's).
    DOCUMENTATION = r"""
options:
  network:
    description:
      - The localnet network as C(<namespace>/<nad>) of one of its NetworkAttachmentDefinitions.
      - This, O(ovn_namespace) and the container names go into API paths, so each is checked by
        its kind's rule (DNS-1123 label or subdomain) before any request; a bad one fails naming
        the option and the value.
    type: str
    required: true
  container:
    type: str
    default: ovn-controller
  ovn_namespace:
    description: Namespace of the C(ovnkube-node) pods.
    type: str
    default: openshift-ovn-kubernetes
  ovnkube_node_selector:
    description: Label selector of the C(ovnkube-node) pods, one per node.
    type: str
    default: app=ovnkube-node
"""
