# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of ocpvirt.multinet.multinetwork_policy: finds O(src) on the controller.

As kubernetes.core's action plugin does for the C(src) of its k8s modules
(plugins/action/k8s_info.py, ActionModule.run): with a local connection a relative path is
looked for in the role's and the playbook's files/ folders, then relative to the playbook, and
the module gets the path found. With another connection the path is the target's, as given.
The task's other arguments pass through untouched (no copy of a large intent).
"""

from ansible.errors import AnsibleError
from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        module_args = dict(self._task.args)
        src = module_args.get("src")
        if src and self._connection.transport == "local":
            try:
                module_args["src"] = self._find_needle("files", src)
            except AnsibleError as error:
                result.update(failed=True, msg="src: cannot find the intent file {0!r}: {1}".format(src, error.message))
                return result
        result.update(self._execute_module(module_args=module_args, task_vars=task_vars))
        return result
