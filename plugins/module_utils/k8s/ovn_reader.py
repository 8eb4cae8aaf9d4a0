# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The I/O of ovn_policy_info: Kubernetes objects through kubernetes.core's client, and commands
run inside the ovnkube-node pods over the exec websocket on that same client.

The exec follows kubernetes.core's own `plugins/modules/k8s_exec.py` (`kubernetes.stream.stream`
on `connect_get_namespaced_pod_exec`, stdout and stderr read until the stream closes, the exit
code from the status on channel 3); that module exits instead of returning, so its steps are
repeated here, not imported. What is read is parsed by the pure `ovn/` package (`ovn/access.py`
says what to read from each node and checks the names of the options).

It also holds what the modules reading OVN this way share: the argspec of the options of the
doc fragment ocpvirt.multinet.ovn_access, and the reading of every node's zone.
"""
import copy
import functools

from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.exceptions import CoreException
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.service import K8sService

from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.errors import MultinetError
from ansible_collections.ocpvirt.multinet.plugins.module_utils.k8s.retrying import connect, exec_error, exec_stream, retried

try:
    import yaml
    from kubernetes.client.api import core_v1_api
    from kubernetes.stream import stream
except ImportError:  # reported by AnsibleK8SModule's own dependency check
    pass

HIDDEN = ["metadata.managedFields"]
LOG_TAIL_LINES = 2000


def ovn_access_argspec(**options):
    """kubernetes.core's auth options, the options of the doc fragment ocpvirt.multinet.ovn_access
    (plugins/doc_fragments/ovn_access.py) and the module's own `options`."""
    spec = copy.deepcopy(AUTH_ARG_SPEC)
    spec.update(
        network=dict(type="str", required=True),
        container=dict(type="str", default="ovn-controller"),
        ovn_namespace=dict(type="str", default="openshift-ovn-kubernetes"),
        ovnkube_node_selector=dict(type="str", default="app=ovnkube-node"),
        **options
    )
    return spec


def exit_code(status_text):
    """The command's exit code from the exec status (channel 3), as k8s_exec reads it."""
    status = yaml.safe_load(status_text or "") or {}
    if status.get("status") == "Success":
        return 0
    for cause in (status.get("details") or {}).get("causes") or []:
        if cause.get("reason") == "ExitCode":
            return int(cause["message"])
    raise MultinetError("exec failed: " + (status.get("message") or "no exit status"), "exec", status_text)


class Reader:
    """Lists, gets, exec and logs through one kubernetes.core client; optional reads warn."""

    def __init__(self, module):
        self.client = connect(module)
        self.service = K8sService(self.client, module)
        self.core = core_v1_api.CoreV1Api(self.client.client.client)
        self.warnings = []

    def list(self, kind, namespace=None, label_selectors=None, optional=False):
        try:
            found = retried("GET", lambda: self.service.find(kind=kind[0], api_version=kind[1], namespace=namespace,
                                                             label_selectors=label_selectors, hidden_fields=HIDDEN))
        except CoreException as error:
            if not optional:
                raise
            self.warnings.append("cannot list {0}: {1}".format(kind[0], error))
            return []
        if not found.get("api_found"):
            if not optional:
                raise CoreException(found.get("msg"))
            self.warnings.append("{0} ({1}) is not served by this cluster".format(*kind))
        return found.get("resources") or []

    def get(self, kind, name, namespace=None):
        """The object, or None (with a warning) when it cannot be read."""
        try:
            found = retried("GET", lambda: self.service.find(
                kind=kind[0], api_version=kind[1], namespace=namespace, name=name))
        except CoreException as error:
            self.warnings.append("cannot read {0} {1}: {2}".format(kind[0], name, error))
            return None
        return (found.get("resources") or [None])[0]

    def exec(self, namespace, pod, container, argv):
        """stdout of `argv` run in the container; MultinetError names the pod when it fails."""
        where = "{0}/{1} container {2}".format(namespace, pod, container)
        try:
            response = exec_stream(lambda: stream(
                self.core.connect_get_namespaced_pod_exec, pod, namespace, command=argv, container=container,
                stdout=True, stderr=True, stdin=False, tty=False, _preload_content=False))
            stdout, stderr = [], []
            while response.is_open():
                response.update(timeout=1)
                if response.peek_stdout():
                    stdout.append(response.read_stdout())
                if response.peek_stderr():
                    stderr.append(response.read_stderr())
            code = exit_code(response.read_channel(3))
        except MultinetError as error:
            raise MultinetError(str(error), where, argv[0])
        except Exception as error:  # the websocket client raises its own and ApiException
            raise MultinetError("cannot exec: {0}".format(exec_error(error)), where, argv[0])
        if code:
            raise MultinetError("exited {0}: {1}".format(code, "".join(stderr).strip()), where, " ".join(argv))
        return "".join(stdout)

    def log_lines(self, namespace, pod, container):
        """The container's last log lines, or [] with a warning when they cannot be read."""
        try:
            text = retried("GET", lambda: self.core.read_namespaced_pod_log(
                pod, namespace, container=container, tail_lines=LOG_TAIL_LINES))
        except Exception as error:  # ApiException, or no log endpoint
            self.warnings.append("cannot read the log of {0}/{1} container {2}: {3}".format(
                namespace, pod, container, str(error).splitlines()[0] if str(error) else error))
            return []
        return text.splitlines()

    def ovnkube_pods(self, namespace, selector):
        """The running ovnkube-node pods (one per node, each holding its node's OVN zone)."""
        pods = [p for p in self.list(("Pod", "v1"), namespace, [selector])
                if (p.get("status") or {}).get("phase") == "Running"]
        if not pods:
            raise MultinetError("no running pod matches {0}".format(selector), "ovn_namespace", namespace)
        return pods

    def read_nodes(self, params, read, failure):
        """What `read` returns for each node, from its running ovnkube-node pod (chosen by the
        ovn_access options in `params`). `read` gets one argument, a function that runs an argv in
        the pod's `container` and returns its stdout.

        Returns {node: what read returned}, {node: pod name} and {node: why it could not be read},
        each in the order the pods are listed; a MultinetError of the exec or of `read` leaves that
        node out. Fails, naming `container`, with the message `failure({node: why})` when no node
        could be read.
        """
        namespace, container = params["ovn_namespace"], params["container"]
        values, pods, errors = {}, {}, {}
        for pod in self.ovnkube_pods(namespace, params["ovnkube_node_selector"]):
            node = pod["spec"].get("nodeName")
            pods[node] = pod["metadata"]["name"]
            try:
                values[node] = read(functools.partial(self.exec, namespace, pods[node], container))
            except MultinetError as error:
                errors[node] = str(error)
        if not values:
            raise MultinetError(failure(errors), "container", container)
        return values, pods, errors
