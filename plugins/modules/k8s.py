#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: k8s
short_description: M(kubernetes.core.k8s), retried when the API server asks for it
version_added: 0.1.0
description:
  - Runs M(kubernetes.core.k8s) (its action plugin and module) with the task's arguments; every
    option, return value and check mode behaviour is that module's. The play's C(module_defaults)
    for M(kubernetes.core.k8s) (and its C(group/kubernetes.core.k8s)) apply to this module too.
  - A run that failed with a 429 from the API server, or a 500, 502, 503 or 504 when running the
    task again is safe, is run again, the collection's one retry policy for every API call
    (C(plugins/module_utils/k8s/retry.py)) deciding how often and when; it waits the answer's
    C(Retry-After), else backs off exponentially, at most 5 runs; a C(Retry-After) over 30
    seconds ends the task.
  - A final failure with such a status is one line in C(msg) naming the call, the status and what
    to do, without the client's exception or the answer's headers.
  - With C(--diff), the diff leaves out the API server's bookkeeping (C(metadata.managedFields),
    C(uid), C(creationTimestamp), C(resourceVersion), C(generation)) and C(status).
author:
  - ocpvirt.multinet maintainers (!UNKNOWN)
notes:
  - This collection's roles use it for every M(kubernetes.core.k8s) task.
seealso:
  - module: kubernetes.core.k8s
"""

EXAMPLES = r"""
- name: The same task as with kubernetes.core.k8s
  ocpvirt.multinet.k8s:
    definition:
      apiVersion: v1
      kind: ConfigMap
      metadata: {name: example, namespace: example-ns}
      data: {key: value}
"""

RETURN = r"""
# The return values of kubernetes.core.k8s.
"""
