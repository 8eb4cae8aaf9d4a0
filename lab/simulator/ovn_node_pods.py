"""ovnkube-node pods and exec targets (pure).

On OpenShift, the `ovnkube-node` DaemonSet of namespace `openshift-ovn-kubernetes` runs one pod
per node (`ovnkube-node-<5 chars>`, label `app: ovnkube-node`) whose containers `ovn-controller`,
`nbdb`, `northd` ... see that node's OVN zone (one zone per node since 4.14), so `oc exec` into it
runs ovn-nbctl, ovn-sbctl, ovs-vsctl and ovn-trace against that node's databases, and whose
`ovnkube-controller` container logs what OVN-Kubernetes refuses. Layout after the
cluster-network-operator's bindata/network/ovn-kubernetes/common/ovnkube-node.yaml (container
names) in openshift/cluster-network-operator.

In the lab such a pod's exec target (DATAPLANE.md) is the node's network namespace with
OVS_RUNDIR/OVN_RUNDIR pointing at the node's directory STATE_DIR/ovn/<node>/, which the data plane
(lab/dataplane/) fills with the node's sockets, and the `ovnkube-controller` container's log file
(everything that node's real ovnkube-controller writes, through lab/controlplane/conmon.py), which
the kubelet stand-in serves as the container's log.
"""
import json
from pathlib import Path

from dataplane import node_dir, node_env, node_netns

NAMESPACE = "openshift-ovn-kubernetes"
APP = "ovnkube-node"
CONTROLLER_CONTAINER = "ovnkube-controller"
CONTAINERS = ("ovn-controller", "nbdb", "northd", CONTROLLER_CONTAINER)
# The controller container's log in the node's directory; labctl's conmon writes it
# (lab/controlplane/ovnkube.py CONTAINER_LOG names the same file).
CONTROLLER_LOG = "ovnkube-controller.log"


def namespace_manifest():
    return {"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": NAMESPACE, "labels": {"openshift.io/run-level": "0"}}}


def pod_manifest(node, suffix):
    """The DaemonSet's pod for `node`, already bound to it as the DaemonSet controller does."""
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": f"{APP}-{suffix}", "namespace": NAMESPACE,
                         "labels": {"app": APP, "component": "network", "type": "infra",
                                    "kubernetes.io/os": "linux"},
                         "annotations": {"lab.ocpvirt.io/simulated": "true"}},
            "spec": {"nodeName": node,
                     "tolerations": [{"operator": "Exists"}],
                     "containers": [{"name": name, "image": "quay.io/openshift-release-dev/ocp-v4.0-art-dev"}
                                    for name in CONTAINERS]}}


def is_current(pod):
    """The pod has the template's containers (else the DaemonSet rolls it: deleted, made anew)."""
    return [c["name"] for c in pod["spec"].get("containers") or []] == list(CONTAINERS)


def pods_by_node(pods):
    """Live, current ovnkube-node pods keyed by node name (the first by name when a node has several)."""
    found = {}
    for pod in sorted(pods, key=lambda p: p["metadata"]["name"]):
        if not pod["metadata"].get("deletionTimestamp") and is_current(pod):
            found.setdefault(pod["spec"].get("nodeName"), pod)
    return found


def exec_target(state_dir, node):
    """The exec-target document (DATAPLANE.md) of the node's ovnkube-node pod, with the log file of
    its `ovnkube-controller` container (`logs`, read by the kubelet stand-in's /containerLogs)."""
    return {"netns": node_netns(state_dir, node), "env": node_env(state_dir, node),
            "logs": {CONTROLLER_CONTAINER: str(Path(node_dir(state_dir, node)) / CONTROLLER_LOG)}}


def exec_target_path(state_dir, namespace, pod):
    return Path(state_dir) / "exec-targets" / "pods" / namespace / f"{pod}.json"


def exec_target_text(target):
    return json.dumps(target, indent=2, sort_keys=True) + "\n"
