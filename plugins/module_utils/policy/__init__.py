# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Applying policies and reviewing changes, pure: the intent compiled into
MultiNetworkPolicies, reconcile, the checks before writes, the what-if (flow diff and its
report), and what the collection writes besides policies (NAD config, the network switch
patch, namespace ownership, RBAC).

Imports model/ and simulate/; no Ansible or client import. The one file read is an intent file
(intent_file.py).
"""
