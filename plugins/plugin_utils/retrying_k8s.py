# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The action of ocpvirt.multinet.k8s, k8s_info and k8s_json_patch: kubernetes.core's, retried.

Runs kubernetes.core's action plugin of the same module (which finds ``src`` and ``kubeconfig``
on the controller and runs the module) with the task's arguments and the play's
``module_defaults`` for the kubernetes.core name (``group/kubernetes.core.k8s`` keeps working).
A failed run whose answer was a 429, or a 500/502/503/504 to a task that is safe to run again
(api_failure.task_method), is run again as retry.py says: after the answer's Retry-After, else
with backoff, at most MAX_ATTEMPTS runs. A final 429/5xx failure, or one whose message is the
client's raw exception, becomes one line (api_failure.final_message). A diff leaves out the API
server's bookkeeping (server_fields.SERVER_FIELDS).
"""
import time

from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.ocpvirt.multinet.plugins.module_utils.k8s.api_failure import (
    api_message, call_name, failed_answer, final_message, task_method)
from ansible_collections.ocpvirt.multinet.plugins.module_utils.k8s.retry import (
    RETRYABLE_STATUSES, parse_retry_after, retry_delay, retryable)
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.server_fields import diff_without_server_fields

try:  # ansible-core 2.19+
    from ansible.executor.module_common import _apply_action_arg_defaults
except ImportError:  # 2.16 - 2.18
    from ansible.executor.module_common import get_action_args_with_defaults

    def _apply_action_arg_defaults(action, task, action_args, templar):
        return get_action_args_with_defaults(action, action_args, task.module_defaults, templar,
                                             action_groups=task._parent._play._action_groups)

display = Display()
RAW_EXCEPTION = "HTTP response headers"


class RetryingK8sAction(ActionBase):
    """Subclasses name the kubernetes.core module they run (DELEGATE)."""

    DELEGATE = None
    TRANSFERS_FILES = True

    def run(self, tmp=None, task_vars=None):
        task = self._task.copy()
        task.action = self.DELEGATE
        task.args = _apply_action_arg_defaults(self.DELEGATE, self._task, dict(self._task.args), self._templar)
        method, call = task_method(self.DELEGATE, task.args), call_name(self.DELEGATE, task.args)
        attempt = 1
        while True:
            handler = self._shared_loader_obj.action_loader.get(
                self.DELEGATE, task=task, connection=self._connection, play_context=self._play_context,
                loader=self._loader, templar=self._templar, shared_loader_obj=self._shared_loader_obj)
            try:
                result = handler.run(task_vars=task_vars)
            finally:
                handler.cleanup()
            status, retry_after = failed_answer(dict(result, exception=_exception_text(result.get("exception"))))
            if status is None:
                if "diff" in result:
                    result["diff"] = diff_without_server_fields(result["diff"])
                return result
            wait = parse_retry_after(retry_after)
            delay = retry_delay(attempt, wait) if retryable(method, status) else None
            if delay is None:
                return _one_line(result, call, status, attempt, wait)
            display.vv("{0}: {1} on attempt {2}, again in {3:g} s".format(call, status, attempt, delay))
            time.sleep(delay)
            attempt += 1


def _exception_text(exception):
    """The messages of a module's exception: ansible-core 2.19 reports it as an error summary
    (event, chained events) rather than as the traceback text."""
    texts, event = [], getattr(exception, "event", None)
    while event is not None:
        texts.append(str(getattr(event, "msg", "")))
        event = getattr(getattr(event, "chain", None), "event", None)
    return "\n".join(texts) if texts else exception


def _one_line(result, call, status, attempts, retry_after):
    """The result of a call that failed for good: a 429/5xx, or any status the client reported
    as its raw exception (headers, traceback), says it in one line."""
    raw = "\n".join(str(_exception_text(result.get(key))) for key in ("msg", "exception"))
    if status not in RETRYABLE_STATUSES and RAW_EXCEPTION not in raw:
        return result
    message = api_message({"msg": raw})
    result = dict(result, msg=final_message(call, status, attempts, message, retry_after), status=status)
    result.pop("exception", None)  # the same raw exception, with the answer's headers
    if not isinstance(result.get("error"), int):
        result.pop("error", None)
    return result
