#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: pod_exec
short_description: Run commands in several pods at once
version_added: 0.1.0
description:
  - Runs each command of O(commands) in its pod through the API server's C(pods/exec), like
    M(kubernetes.core.k8s_exec), but all of them at once (up to O(parallel)) in one task.
    M(kubernetes.core.k8s_exec) cannot run asynchronously, and a loop over it pays a module
    start per pod.
  - A command that cannot be run (pod missing, exec refused) gives a result with C(rc=null)
    and C(msg); the module itself fails only on bad input or a cluster it cannot reach.
  - Does not support check mode (a command may change anything).
author:
  - ocpvirt.multinet maintainers (!UNKNOWN)
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
options:
  commands:
    description:
      - The commands to run, each a mapping with C(namespace) and C(pod) (where), C(command)
        (the command line, split like a shell would with C(shlex) and run without a shell) and
        optionally C(container) (else the pod's first container).
      - C(namespace) must be a DNS-1123 label, C(pod) a DNS-1123 subdomain and C(container) a
        DNS-1123 label, since each goes into the request's path; a bad one fails the module,
        naming the command's index, the key and the value, before any command runs.
      - Other keys are kept and returned in RV(results[].item), so probe batches of
        P(ocpvirt.multinet.probe_batches#filter) can be given as they are.
    type: list
    elements: dict
    required: true
  parallel:
    description: How many commands run at the same time.
    type: int
    default: 8
  timeout:
    description:
      - Seconds after which a command still running is abandoned (C(rc=null)); at least 1 (the
        websocket client reads 0 or less as "wait forever", so they are refused).
    type: int
    default: 60
requirements:
  - kubernetes >= 24.2.0
"""

EXAMPLES = r"""
- name: Probe from every source pod at once
  ocpvirt.multinet.pod_exec:
    commands: "{{ info.probes | ocpvirt.multinet.probe_batches }}"
  register: probed
"""

RETURN = r"""
results:
  description: One per command, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    item:
      description: The entry of O(commands) (with any extra keys it had).
      type: dict
    rc:
      description: The command's exit code; null when it could not be run.
      type: int
    stdout:
      description: Its standard output.
      type: str
    stderr:
      description: Its standard error.
      type: str
    msg:
      description: Why the command could not be run, else empty.
      type: str
"""

import copy

from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.exceptions import CoreException

from ansible_collections.ocpvirt.multinet.plugins.module_utils.k8s.pod_exec import client_configuration, run_all
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.errors import MultinetError
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.names import check_names


def argspec():
    spec = copy.deepcopy(AUTH_ARG_SPEC)
    spec.update(
        commands=dict(type="list", elements="dict", required=True),
        parallel=dict(type="int", default=8),
        timeout=dict(type="int", default=60),
    )
    return spec


def name_checks(commands):
    """(field, value, rule) of every name of every command, for names.check_names."""
    return [("commands[{0}].{1}".format(index, key), item.get(key), rule) for index, item in enumerate(commands)
            for key, rule in (("namespace", "namespace"), ("pod", "object"), ("container", "container"))
            if key != "container" or item.get("container")]


def main():
    module = AnsibleK8SModule(argument_spec=argspec(), check_pyyaml=True)
    for option in ("parallel", "timeout"):
        if module.params[option] < 1:
            module.fail_json(msg="{0}: must be at least 1 (got {1})".format(option, module.params[option]))
    try:
        configuration = client_configuration(module)
    except CoreException as error:
        module.fail_json(msg=str(error))
    commands = module.params["commands"]
    for index, item in enumerate(commands):
        if not isinstance(item.get("command"), str) or not item["command"]:
            module.fail_json(msg="commands[{0}].command: must be a non-empty string, got {1!r}".format(
                index, item.get("command")))
    try:  # each name goes into the exec request's path
        check_names(name_checks(commands))
    except MultinetError as error:
        module.fail_json(msg=str(error))
    results = run_all(configuration, commands, module.params["parallel"], module.params["timeout"])
    module.exit_json(changed=False, results=results)


if __name__ == "__main__":
    main()
