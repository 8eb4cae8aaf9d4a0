# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The exec of the pod_exec module: commands in pods over the exec websocket, several at once.

The client's configuration comes from ``k8s.retrying.connect`` (``k8s.client.api_client``, so a
kubeconfig it cannot use is named, with its first requests retried); each command then gets its own ApiClient, because ``kubernetes.stream.stream`` patches
the client it is given and threads must not share one. The exit code is read from the status on
channel 3, as kubernetes.core's ``k8s_exec`` reads it.
"""
import shlex
from concurrent.futures import ThreadPoolExecutor, wait

from ansible_collections.ocpvirt.multinet.plugins.module_utils.k8s.retrying import connect, exec_error, exec_stream

try:
    import yaml
    from kubernetes.client import ApiClient, CoreV1Api
    from kubernetes.stream import stream
except ImportError:
    # AnsibleK8SModule reports the missing kubernetes library.
    pass

ERROR_CHANNEL = 3


def exit_code(status):
    """The exit code in the error channel's Status (as kubernetes.core.k8s_exec reads it)."""
    status = yaml.safe_load(status) if status else None
    if not status:
        return None
    if status.get("status") == "Success":
        return 0
    for cause in (status.get("details") or {}).get("causes") or []:
        if cause.get("reason") == "ExitCode":
            return int(cause["message"])
    raise RuntimeError(status.get("message") or "exec failed: {0}".format(status))


def run_one(configuration, item, timeout):
    """One command in its own ApiClient: stream() patches the client it is given, so threads
    must not share one."""
    api = CoreV1Api(ApiClient(configuration))
    result = {"item": item, "rc": None, "stdout": "", "stderr": "", "msg": ""}
    try:
        kwargs = {"container": item["container"]} if item.get("container") else {}
        resp = exec_stream(lambda: stream(api.connect_get_namespaced_pod_exec, item["pod"], item["namespace"],
                                          command=shlex.split(item["command"]), stdout=True, stderr=True,
                                          stdin=False, tty=False, _preload_content=False, **kwargs))
        resp.run_forever(timeout=timeout)
        result.update(stdout=resp.read_stdout() or "", stderr=resp.read_stderr() or "")
        if resp.is_open():
            resp.close()
            result["msg"] = "still running after {0}s".format(timeout)
        else:
            result["rc"] = exit_code(resp.read_channel(ERROR_CHANNEL))
    except Exception as error:  # any failure of one exec is that command's result
        result["msg"] = "exec into {0}/{1} failed: {2}".format(item["namespace"], item["pod"], exec_error(error))
    return result


def client_configuration(module):
    """The configuration of the module's client; CoreException (naming the kubeconfig) if none."""
    return connect(module).client.configuration


def run_all(configuration, commands, parallel, timeout):
    """Every command's result, in the order given, at most ``parallel`` at once."""
    with ThreadPoolExecutor(max_workers=min(parallel, max(len(commands), 1))) as pool:
        futures = [pool.submit(run_one, configuration, item, timeout) for item in commands]
        wait(futures)
    return [future.result() for future in futures]
