# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""OVN inspection, pure: parse what ovn-nbctl, ovs-vsctl and ovn-trace print, and map the
Northbound objects OVN-Kubernetes made for a secondary network back to its MultiNetworkPolicies.

No Ansible import and no I/O: the module ovn_policy_info runs the commands and passes their text.
"""
