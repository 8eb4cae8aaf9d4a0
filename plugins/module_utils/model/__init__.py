# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The model, pure: errors, the one vocabulary (labels, annotations, the `<ns>/<nad>` and
`<proto>/<port>` formats, name rules), the intent, MultiNetworkPolicies as OVN-Kubernetes reads
them, and the inventory's workloads.

The bottom layer: imports nothing of the collection outside itself; no Ansible import, no I/O.
"""
