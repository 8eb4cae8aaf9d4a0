# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of ocpvirt.multinet.k8s_json_patch: kubernetes.core.k8s_json_patch, retried (see plugin_utils/retrying_k8s.py)."""

from ansible_collections.ocpvirt.multinet.plugins.plugin_utils.retrying_k8s import RetryingK8sAction


class ActionModule(RetryingK8sAction):
    DELEGATE = "kubernetes.core.k8s_json_patch"
