# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""kubernetes.core's API client for a module, with an error that names the kubeconfig file.

kubernetes.core declares ``kubeconfig`` no_log (it may be a dict holding credentials), so Ansible
would print its value as ``********`` even when it is only a path, and the client's own error
("Invalid kube-config file. No configuration found.") does not say which file. A path is not a
credential: when the client cannot be built from a kubeconfig path, the error names the path and
the path is shown; a kubeconfig given as a dict stays hidden.
"""
import os

from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.exceptions import CoreException

from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.errors import MultinetError


def api_client(module):
    """get_api_client(module); a kubeconfig path it cannot use raises CoreException naming it."""
    try:
        return get_api_client(module=module)
    except CoreException as error:  # "Could not create API client: <why>" (other errors pass as they are)
        path = module.params.get("kubeconfig")
        if not isinstance(path, str) or not path:
            raise
        # AnsibleK8SModule keeps the AnsibleModule (whose no_log values mask output) in _module.
        getattr(getattr(module, "_module", module), "no_log_values", set()).discard(path)
        raise CoreException(kubeconfig_error(path, os.path.exists(os.path.expanduser(path)), error)) from error


def kubeconfig_error(path, exists, error):
    """The message for a client that could not be built from the kubeconfig at `path`."""
    if not exists:
        return "kubeconfig {0!r}: no such file (option kubeconfig, or K8S_AUTH_KUBECONFIG)".format(path)
    reason = str(error)
    prefix = "Could not create API client: "
    reason = reason[len(prefix):] if reason.startswith(prefix) else reason
    return "Could not create an API client from kubeconfig {0!r}: {1}".format(path, reason)


def run_read_only_module(argument_spec, run):
    """main() of a read-only module (check mode is the same run): ``run(module)`` returns the
    result; our errors and kubernetes.core's (with their partial result) fail the module with
    their message, as kubernetes.core's own modules do."""
    module = AnsibleK8SModule(argument_spec=argument_spec, supports_check_mode=True, check_pyyaml=False)
    try:
        result = run(module)
    except MultinetError as error:
        module.fail_json(msg=str(error))
    except CoreException as error:
        module.fail_json(msg=str(error), **getattr(error, "result", {}))
    module.exit_json(**result)
