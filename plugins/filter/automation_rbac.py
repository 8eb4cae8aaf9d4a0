# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter shim: ocpvirt.multinet.automation_rbac -> rbac.automation_rbac(rbac.scope_from_settings(...))."""

DOCUMENTATION = r"""
name: automation_rbac
author: ocpvirt.multinet maintainers
version_added: "0.1.0"
short_description: Least-privilege RBAC for the automation identity, from the inventory's role variables
description:
  - Returns the ClusterRole, Roles and bindings the identity that runs C(site.yml), C(verify.yml)
    and C(teardown.yml) needs for what one inventory manages, and nothing more.
  - Namespaced objects get a Role in each namespace that holds them (Secrets only the VMs'
    cloud-init Secrets, by name); cluster-scoped objects get one ClusterRole, by name where the
    name is known (the Network C(cluster), the NNCP, the NMState instance, the managed namespaces).
  - The identity creates no namespace; the admin creates those of the Roles first. Creating
    namespaces is a separate ClusterRole and binding (key C(create_namespaces)) on every name, as
    RBAC cannot limit a create to names.
  - Deleting namespaces is a separate ClusterRole and binding (key C(delete_namespaces)), to bind
    only when teardown may delete them.
positional: _input
options:
  _input:
    description:
      - The role variables C(site.yml) runs with (the inventory's value, else the role default), at least
        C(workloads_namespace), C(workloads_vms), C(workloads_pods), C(workloads_vm_datasource_name),
        C(workloads_vm_datasource_namespace), C(network_attachment_networks), C(policies_intents),
        C(nmstate_install_operator), C(nmstate_namespace), C(nmstate_operator_package),
        C(nmstate_operator_source_namespace), C(virtualization_install_operator), C(virtualization_namespace),
        C(virtualization_operator_package), C(virtualization_operator_group_name),
        C(virtualization_operator_source_namespace) and C(bridge_mapping_name).
    type: dict
    required: true
  name:
    description: Name of the ServiceAccount, roles and bindings.
    type: str
    default: ocpvirt-multinet-automation
  account_namespace:
    description: Namespace of the ServiceAccount.
    type: str
    default: ocpvirt-multinet
  ovn_namespace:
    description: Namespace of the C(ovnkube-node) pods, for the optional grant of M(ocpvirt.multinet.ovn_policy_info).
    type: str
    default: openshift-ovn-kubernetes
notes:
  - Pure Python, runs on the controller; C(playbooks/rbac.yml) writes or applies the result.
"""

EXAMPLES = r"""
- name: The automation identity's RBAC for this inventory
  ansible.builtin.set_fact:
    rbac: "{{ settings | ocpvirt.multinet.automation_rbac }}"
"""

RETURN = r"""
_value:
  description:
    - C(cluster) (ClusterRole and ClusterRoleBinding), C(namespaced) (a Role and RoleBinding per
      namespace), C(namespaces) (the namespaces of those Roles, which must exist before their
      RoleBindings), C(delete_namespaces) (the optional grant to delete the managed namespaces),
      C(create_namespaces) (the optional grant to create namespaces, any name),
      C(ovn_inspection) (the optional grant M(ocpvirt.multinet.ovn_policy_info) needs).
  type: dict
"""

from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.rbac import automation_rbac as build, scope_from_settings
from ansible_collections.ocpvirt.multinet.plugins.plugin_utils.filter_args import domain_errors, filter_params


def automation_rbac(*args, **kwargs):
    """Validate the filter arguments, then build the manifests."""
    params = filter_params("automation_rbac", DOCUMENTATION, ["_input"], args, kwargs)
    with domain_errors("automation_rbac"):
        return build(scope_from_settings(params["_input"], params["name"], params["account_namespace"],
                                         params["ovn_namespace"]))


class FilterModule(object):
    """ocpvirt.multinet RBAC filter."""

    def filters(self):
        return {"automation_rbac": automation_rbac}
