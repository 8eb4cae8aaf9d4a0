"""The lab simulator's controllers: thin shells that read the API, call the pure logic modules
(olm, nmstate, kubevirt, kubelet, openshift, nodes) and write back only what differs.
"""
import base64
import concurrent.futures
import json
import os
import random
import string
import subprocess
import sys
import threading
from pathlib import Path

import dataplane
from controlplane import profiles

from . import crdsets
from . import kube as k
from . import kubelet, kubevirt, nmstate, nodes, olm, openshift, ovn_node_pods, ovs
from .conditions import is_true, now_iso, status_differs
from .runtime import Controller, KeyLocks

UPSTREAM_CRDS = None  # the upstream CRD folder labctl passes (--upstream-crds); None: the lab's own
PROFILE = profiles.PROFILES[profiles.DEFAULT]  # the lab profile labctl passes (--profile)
# labctl runs the real ovnkube; the simulator plays only ovnkube-node's, the CNI's, Multus' and the
# network operator's parts for it (OvnkubeNodeStandIn, PodController, SandboxController, OvnkubeRollout).


def kubelet_port(state_dir):
    """The kubelet stand-in's port, as labctl chose it for this lab (STATE_DIR/settings.json)."""
    return json.loads((Path(state_dir) / "settings.json").read_text())["kubelet"]


def random_suffix(length=5):
    return "".join(random.choices(string.ascii_lowercase + string.digits, k=length))


class StatusWriter(Controller):
    def write_status(self, obj, desired, resource=None):
        """Write the status (kube.update_status) only when something differs; True when written."""
        if not status_differs(obj.get("status"), desired):
            return False
        resource = resource or self.primary
        if "observedGeneration" in desired and not self.kube.has_status_subresource(resource):
            # Without a status subresource a status change is a change of the object, so the
            # write itself bumps metadata.generation (apiextensions-apiserver
            # pkg/registry/customresource/strategy.go, PrepareForUpdate): report that generation.
            desired = {**desired, "observedGeneration": obj["metadata"].get("generation", 1) + 1}
        self.kube.update_status(resource, obj, desired)
        self.log.info("%s status updated", _name(obj))
        return True


def _name(obj):
    metadata = obj["metadata"]
    return f"{obj.get('kind', '')} {metadata.get('namespace', '') + '/' if metadata.get('namespace') else ''}{metadata['name']}"


# --- OpenShift platform stand-ins ----------------------------------------------------------

class ClusterVersionController(StatusWriter):
    name = "cluster-version"
    primary = k.CLUSTER_VERSIONS

    def reconcile(self, obj):
        if obj["metadata"]["name"] == "version":
            self.write_status(obj, openshift.cluster_version_status(obj, now_iso(), PROFILE.openshift_version,
                                                                    PROFILE.channel))


class CatalogSourceController(StatusWriter):
    name = "marketplace"
    primary = k.CATALOG_SOURCES

    def reconcile(self, obj):
        self.write_status(obj, openshift.catalog_source_status(obj, now_iso()))


class NetworkOperatorController(StatusWriter):
    name = "network-operator"
    primary = k.NETWORKS

    def reconcile(self, obj):
        if obj["metadata"]["name"] == "cluster":
            self.write_status(obj, openshift.network_status(obj, now_iso()))


class NodeController(Controller):
    """Registers the simulated nodes and keeps them Ready, untainted and pointing at the kubelet
    stand-in (the kubelets' part)."""
    name = "nodes"
    primary = k.NODES
    resync_seconds = 60.0

    def startup(self):
        for spec in nodes.NODES:
            if self.kube.create_if_absent(k.NODES, nodes.node_manifest(spec)):
                self.log.info("registered simulated node %s", spec["name"])

    def reconcile(self, obj):
        spec = nodes.spec_for(obj["metadata"]["name"])
        if spec is None:
            return
        # TaintNodesByCondition adds node.kubernetes.io/not-ready on create; with no node
        # lifecycle controller in the lab, the kubelet stand-in removes it by posting Ready.
        taints = nodes.node_taints(spec)
        if (obj["spec"].get("taints") or []) != taints:
            self.kube.merge_patch(k.NODES, spec["name"], {"spec": {"taints": taints or None}})
        port = kubelet_port(self.state_dir)
        if not is_true(obj, "Ready"):
            self.kube.patch_status(k.NODES, obj, nodes.node_status(spec, now_iso(), port, PROFILE.era))
            self.log.info("node %s Ready", spec["name"])
        elif status_differs(obj.get("status"), endpoint := nodes.kubelet_endpoint(spec, port)):
            self.kube.patch_status(k.NODES, obj, endpoint)
            self.log.info("node %s: kubelet endpoint %s:%d", spec["name"], nodes.KUBELET_ADDRESS, port)


class OvnkubeNodeController(Controller):
    """The ovnkube-node DaemonSet: one pod per data-plane node, and its exec target (ovn_node_pods)."""
    name = "ovnkube-node"
    primary = k.NODES
    triggers = (k.PODS,)

    def startup(self):
        self.kube.create_if_absent(k.NAMESPACES, ovn_node_pods.namespace_manifest())

    def reconcile(self, node):
        node_name, state_dir = node["metadata"]["name"], Path(self.state_dir)
        if node_name not in dataplane.data_plane_nodes():
            return
        namespace = ovn_node_pods.NAMESPACE
        pods = self.kube.items(k.PODS, namespace, label_selector=f"app={ovn_node_pods.APP}")
        for old in pods:
            if old["spec"].get("nodeName") == node_name and not ovn_node_pods.is_current(old):
                self.kube.delete(k.PODS, old["metadata"]["name"], namespace)
                self.log.info("pod %s/%s deleted: its containers are not the DaemonSet's", namespace,
                              old["metadata"]["name"])
        pod = ovn_node_pods.pods_by_node(pods).get(node_name)
        if pod is None:
            pod = self.kube.create(k.PODS, ovn_node_pods.pod_manifest(node_name, random_suffix()))
            self.log.info("pod %s/%s created on %s", namespace, pod["metadata"]["name"], node_name)
        path = ovn_node_pods.exec_target_path(state_dir, namespace, pod["metadata"]["name"])
        target = ovn_node_pods.exec_target(state_dir, node_name)
        text = ovn_node_pods.exec_target_text(target)
        if not path.exists() or path.read_text() != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        for log_file in target["logs"].values():  # the runtime makes a container's log when it starts
            Path(log_file).parent.mkdir(parents=True, exist_ok=True)
            Path(log_file).touch()
        live = {p["metadata"]["name"] for p in pods} | {pod["metadata"]["name"]}
        for stale in path.parent.glob(f"{ovn_node_pods.APP}-*.json"):
            if stale.stem not in live:
                stale.unlink()


# --- OLM --------------------------------------------------------------------------------------

class SubscriptionController(StatusWriter):
    name = "olm-subscriptions"
    primary = k.SUBSCRIPTIONS
    triggers = (k.OPERATOR_GROUPS, k.INSTALL_PLANS, k.CSVS, k.PACKAGE_MANIFESTS, k.CATALOG_SOURCES)

    def reconcile(self, sub):
        spec, namespace = sub["spec"], sub["metadata"]["namespace"]
        package = self.kube.get(k.PACKAGE_MANIFESTS, spec["name"], spec["sourceNamespace"])
        if package and (package.get("status") or {}).get("catalogSource") != spec["source"]:
            package = None
        resolution = olm.resolve(sub, self.kube.items(k.OPERATOR_GROUPS, namespace), package,
                                 self.kube.get(k.CATALOG_SOURCES, spec["source"], spec["sourceNamespace"]))
        plan = csv = None
        if resolution.csv_name:
            plan = olm.plan_for(sub, self.kube.items(k.INSTALL_PLANS, namespace), resolution.csv_name)
            if plan is None:
                plan = self.kube.create(k.INSTALL_PLANS, olm.new_install_plan(
                    sub, resolution.csv_name, f"install-{random_suffix()}"))
                self.log.info("InstallPlan %s/%s created for %s (%s)", namespace, plan["metadata"]["name"],
                              resolution.csv_name, plan["spec"]["approval"])
            csv = self.kube.get(k.CSVS, resolution.csv_name, namespace)
        written = self.write_status(sub, olm.subscription_status(sub, resolution, plan, csv, now_iso()))
        if written and resolution.failure:
            self.log.info("Subscription %s/%s: %s", namespace, sub["metadata"]["name"],
                          resolution.failure["message"])


class InstallPlanController(StatusWriter):
    name = "olm-installplans"
    primary = k.INSTALL_PLANS
    triggers = (k.CSVS,)

    def reconcile(self, plan):
        if (plan.get("status") or {}).get("phase") == "Complete":
            return  # a finished plan is history: OLM never re-runs it
        installed = False
        if plan["spec"].get("approved"):
            installed = all(self._install(plan, csv_name) for csv_name in plan["spec"]["clusterServiceVersionNames"])
        self.write_status(plan, olm.install_plan_status(plan, installed, now_iso()))

    def _install(self, plan, csv_name):
        namespace = plan["metadata"]["namespace"]
        if self.kube.get(k.CSVS, csv_name, namespace):
            return True
        subscription = self._subscription(plan)
        if subscription is None:
            return False
        package_name = subscription["spec"]["name"]
        crds = crdsets.operator_crds(package_name, UPSTREAM_CRDS)
        for crd in crds:
            if self.kube.create_if_absent(k.CRDS, crd):
                self.log.info("installed CRD %s for %s", crd["metadata"]["name"], package_name)
        package = self.kube.get(k.PACKAGE_MANIFESTS, package_name, subscription["spec"]["sourceNamespace"]) or {}
        self.kube.create_if_absent(k.CSVS, olm.new_csv(plan, package, csv_name, crds))
        self.log.info("ClusterServiceVersion %s/%s created", namespace, csv_name)
        return True

    def _subscription(self, plan):
        for ref in plan["metadata"].get("ownerReferences") or []:
            if ref.get("kind") == "Subscription":
                return self.kube.get(k.SUBSCRIPTIONS, ref["name"], plan["metadata"]["namespace"])
        return None


class CSVController(StatusWriter):
    name = "olm-csvs"
    primary = k.CSVS
    triggers = (k.CRDS,)

    def reconcile(self, csv):
        owned = (csv["spec"].get("customresourcedefinitions") or {}).get("owned") or []
        established = {o["name"]: is_true(self.kube.get(k.CRDS, o["name"]) or {}, "Established") for o in owned}
        self.write_status(csv, olm.csv_status(csv, established, now_iso()))


# --- NMState -------------------------------------------------------------------------------------

def nmstate_deployed(kube):
    instance = kube.get(k.NMSTATES, "nmstate")
    return instance is not None and is_true(instance, "Available")


class NMStateController(StatusWriter):
    name = "nmstate-operator"
    primary = k.NMSTATES

    def reconcile(self, obj):
        if obj["metadata"]["name"] != "nmstate":
            self.log.info("ignoring NMState %s: the operator only handles the one named nmstate",
                          obj["metadata"]["name"])
            return
        self.write_status(obj, nmstate.nmstate_status(obj, now_iso()))
        for spec in nodes.NODES:  # the handler daemonset reports each node's state
            if self.kube.get(k.NNSS, spec["name"]) is None:
                manifest, status = nmstate.node_network_state(
                    spec["name"], nodes.initial_network_state(spec), now_iso())
                node = self.kube.get(k.NODES, spec["name"])
                if node:
                    manifest["metadata"]["ownerReferences"] = [
                        {"apiVersion": "v1", "kind": "Node", "name": spec["name"], "uid": node["metadata"]["uid"]}]
                created = self.kube.create(k.NNSS, manifest)
                self.kube.patch_status(k.NNSS, created, status)
                self.log.info("NodeNetworkState %s reported", spec["name"])


class NNCPController(StatusWriter):
    """The nmstate handler on every node plus the policy status aggregation."""
    name = "nmstate-handler"
    primary = k.NNCPS
    triggers = (k.NODES, k.NMSTATES)

    def reconcile(self, policy):
        if not nmstate_deployed(self.kube):
            return  # no handler pods yet: policies stay without status, as on a cluster
        name, generation = policy["metadata"]["name"], policy["metadata"].get("generation", 1)
        matching = [n for n in self.kube.items(k.NODES)
                    if nodes.spec_for(n["metadata"]["name"])
                    and nmstate.matches(nmstate.node_selector(policy), n["metadata"].get("labels") or {})]
        matching_names = {n["metadata"]["name"] for n in matching}
        enactments = []
        for enactment in self.kube.items(k.NNCES, label_selector=f"{nmstate.POLICY_LABEL}={name}"):
            if enactment["metadata"]["labels"].get(nmstate.NODE_LABEL) not in matching_names:
                self.kube.delete(k.NNCES, enactment["metadata"]["name"])
        for node_name in sorted(matching_names):
            enactments.append(self._enact(policy, node_name, generation))
        self.write_status(policy, nmstate.policy_status(policy, matching, enactments, now_iso()))

    def _enact(self, policy, node_name, generation):
        name = nmstate.enactment_name(node_name, policy["metadata"]["name"])
        enactment = self.kube.get(k.NNCES, name) or self.kube.create(k.NNCES, nmstate.new_enactment(policy, node_name))
        desired = policy["spec"].get("desiredState") or {}
        state = self.kube.get(k.NNSS, node_name)
        current = ((state or {}).get("status") or {}).get("currentState") or {}
        if nmstate.enactment_result(enactment, generation) is not None:
            # A node's Open_vSwitch database outlives a reboot; the lab's is made anew when its
            # data plane restarts, so put back what the node's state says of this policy's mappings.
            self._write_mappings(node_name, nmstate.recorded_bridge_mappings(desired, current))
            return enactment
        error = nmstate.validate(desired, current)
        if error is None and state is not None:
            applied = nmstate.apply(desired, current)
            self.kube.patch_status(k.NNSS, state, {"currentState": applied, "lastSuccessfulUpdateTime": now_iso()})
            self._write_mappings(node_name, desired)
        status = nmstate.enactment_status(enactment, policy, node_name, error, now_iso())
        self.log.info("policy %s on %s: %s", policy["metadata"]["name"], node_name, error or "SuccessfullyConfigured")
        return self.kube.patch_status(k.NNCES, enactment, status)

    def _write_mappings(self, node_name, desired):
        written = ovs.write_bridge_mappings(self.state_dir, node_name,
                                            lambda live: nmstate.merged_bridge_mappings(desired, live))
        if written is not None:
            self.log.info("node %s: Open_vSwitch external_ids:ovn-bridge-mappings=%s", node_name, written)


# --- OpenShift Virtualization ------------------------------------------------------------------------

HCO_NAME = "kubevirt-hyperconverged"


def virtualization_deployed(kube):
    return any(h["metadata"]["name"] == HCO_NAME and is_true(h, "Available")
               for h in kube.items(k.HYPERCONVERGEDS))


class HyperConvergedController(StatusWriter):
    name = "hyperconverged"
    primary = k.HYPERCONVERGEDS
    triggers = (k.NODES,)

    def reconcile(self, hco):
        if hco["metadata"]["name"] != HCO_NAME:
            self.log.info("ignoring HyperConverged %s: HCO only reconciles %s", hco["metadata"]["name"], HCO_NAME)
            return
        self.write_status(hco, kubevirt.hyperconverged_status(hco, now_iso(),
                                                                   PROFILE.era.virtualization_version))
        for spec in nodes.NODES:  # virt-handler marks the nodes it runs on as schedulable
            node = self.kube.get(k.NODES, spec["name"])
            if spec["role"] == "worker" and node and \
                    (node["metadata"].get("labels") or {}).get("kubevirt.io/schedulable") != "true":
                self.kube.merge_patch(k.NODES, spec["name"], {"metadata": {"labels": {"kubevirt.io/schedulable": "true"}}})


class DataSourceController(StatusWriter):
    name = "cdi-datasources"
    primary = k.DATA_SOURCES

    def reconcile(self, ds):
        self.write_status(ds, kubevirt.data_source_status(ds, now_iso()))


class DataVolumeController(StatusWriter):
    name = "cdi-datavolumes"
    primary = k.DATA_VOLUMES
    triggers = (k.DATA_SOURCES,)

    def reconcile(self, dv):
        ref = dv["spec"].get("sourceRef")
        exists = True
        if ref:
            exists = self.kube.get(k.DATA_SOURCES, ref["name"], ref.get("namespace") or dv["metadata"]["namespace"]) is not None
        self.write_status(dv, kubevirt.data_volume_status(dv, exists, now_iso()))


class VirtualMachineController(StatusWriter):
    """virt-controller's VM loop, plus kubemacpool's MAC assignment."""
    name = "kubevirt-vms"
    primary = k.VMS
    triggers = (k.VMIS, k.DATA_VOLUMES, k.HYPERCONVERGEDS)

    def reconcile(self, vm):
        if not virtualization_deployed(self.kube):
            return
        namespace, name = vm["metadata"]["namespace"], vm["metadata"]["name"]
        patch = kubevirt.kubemacpool_patch(vm, kubevirt.used_macs(self.kube.items(k.VMS)), now_iso())
        if patch is not None:
            self.kube.merge_patch(k.VMS, name, patch, namespace)
            self.log.info("kubemacpool: assigned MACs to VM %s/%s", namespace, name)
            return  # the update event reconciles again with the MACs in place
        volumes_ready = self._data_volumes_ready(vm)
        vmi = self.kube.get(k.VMIS, name, namespace)
        wanted = kubevirt.wants_running(vm, vmi)
        phase = ((vmi or {}).get("status") or {}).get("phase")
        if vmi and wanted and phase in ("Failed", "Succeeded") and not vmi["metadata"].get("deletionTimestamp"):
            self.kube.delete(k.VMIS, name, namespace)
            self.log.info("VM %s/%s: VMI %s, restarting", namespace, name, phase)
        elif wanted and vmi is None and volumes_ready:
            vmi = self.kube.create(k.VMIS, kubevirt.new_vmi(vm))
            self.log.info("VM %s/%s started: VMI created", namespace, name)
        elif wanted is False and vmi is not None and not vmi["metadata"].get("deletionTimestamp"):
            self._stop(vmi)
            self.log.info("VM %s/%s stopped: VMI deleted", namespace, name)
            vmi = self.kube.get(k.VMIS, name, namespace)
        self.write_status(vm, kubevirt.vm_status(vm, vmi, volumes_ready, now_iso()))

    def _data_volumes_ready(self, vm):
        ready = True
        for dv in kubevirt.new_data_volumes(vm):
            current = self.kube.get(k.DATA_VOLUMES, dv["metadata"]["name"], dv["metadata"]["namespace"])
            if current is None:
                self.kube.create(k.DATA_VOLUMES, dv)
                ready = False
            elif (current.get("status") or {}).get("phase") != "Succeeded":
                ready = False
        return ready

    def _stop(self, vmi):
        namespace, uid = vmi["metadata"]["namespace"], vmi["metadata"]["uid"]
        self.kube.delete(k.VMIS, vmi["metadata"]["name"], namespace)
        for pod in self.kube.items(k.PODS, namespace, label_selector=f"kubevirt.io/created-by={uid}"):
            self.kube.delete(k.PODS, pod["metadata"]["name"], namespace)


class VirtualMachineInstanceController(StatusWriter):
    """virt-controller's VMI loop and virt-handler's status reporting."""
    name = "kubevirt-vmis"
    primary = k.VMIS
    triggers = (k.PODS,)

    def reconcile(self, vmi):
        if vmi["metadata"].get("deletionTimestamp"):
            return
        namespace, uid = vmi["metadata"]["namespace"], vmi["metadata"]["uid"]
        pods = [p for p in self.kube.items(k.PODS, namespace, label_selector=f"kubevirt.io/created-by={uid}")
                if not p["metadata"].get("deletionTimestamp")]
        pod = pods[0] if pods else None
        phase = (vmi.get("status") or {}).get("phase")
        if pod is None and phase in (None, "", "Pending", "Scheduling"):
            pod = self.kube.create(k.PODS, kubevirt.new_launcher_pod(vmi, PROFILE.era.virtualization_version))
            self.log.info("VMI %s/%s: launcher pod %s created", namespace, vmi["metadata"]["name"], pod["metadata"]["name"])
        if pod and (pod.get("status") or {}).get("phase") == "Running":
            node = pod["spec"].get("nodeName")
            if (pod["metadata"].get("labels") or {}).get("kubevirt.io/nodeName") != node:
                self.kube.merge_patch(k.PODS, pod["metadata"]["name"],
                                      {"metadata": {"labels": {"kubevirt.io/nodeName": node}}}, namespace)
        addresses = kubevirt.guest_addresses(vmi, network_data(self.kube, vmi))
        self.write_status(vmi, kubevirt.vmi_status(vmi, pod, addresses, now_iso(),
                                                       PROFILE.era.virtualization_version))


def network_data(kube, vmi):
    """The VMI's cloud-init networkData text (inline, base64 or from its Secret), or ""."""
    source = kubevirt.network_data_source(vmi)
    if source is None:
        return ""
    kind, value = source
    if kind == "inline":
        return value
    secret = kube.get(k.SECRETS, value, vmi["metadata"]["namespace"]) or {}
    data = secret.get("data") or {}
    encoded = data.get("networkdata") or data.get("networkData") or ""
    return base64.b64decode(encoded).decode() if encoded else ""


# --- kubelet / scheduler / Multus ---------------------------------------------------------------------

class PodController(Controller):
    name = "kubelet"
    primary = k.PODS
    triggers = (k.NADS,)
    workers = 4  # pods start at once, as on nodes; a pod is never worked on twice at once (WorkQueue)

    def __init__(self, kube, state_dir=None):
        super().__init__(kube, state_dir)
        self.allocation_lock = threading.Lock()  # two workers must not hand out one pod IP twice

    def reconcile(self, pod):
        metadata, spec = pod["metadata"], pod["spec"]
        node_name = spec.get("nodeName")
        if node_name and nodes.spec_for(node_name) is None:
            return  # not on a simulated node
        if metadata.get("deletionTimestamp"):
            if node_name:  # graceful deletion ends when the kubelet confirms the containers stopped
                self.kube.delete(k.PODS, metadata["name"], metadata["namespace"], grace_period_seconds=0,
                                 uid=metadata["uid"])
            return
        if not node_name:
            node_name = self._schedule(pod)
            if node_name is None:
                return
            pod = self.kube.get(k.PODS, metadata["name"], metadata["namespace"])
        status = pod.get("status") or {}
        if status.get("phase") == "Running" and status.get("podIP"):
            return
        self._run(pod, nodes.spec_for(node_name))

    def _schedule(self, pod):
        candidates = [n for n in self.kube.items(k.NODES) if nodes.spec_for(n["metadata"]["name"])]
        counts = {}
        for other in self.kube.items(k.PODS):
            if other["spec"].get("nodeName"):
                counts[other["spec"]["nodeName"]] = counts.get(other["spec"]["nodeName"], 0) + 1
        node_name = kubelet.pick_node(pod, candidates, counts)
        if node_name is None:
            self.log.info("pod %s/%s: no simulated node fits (nodeSelector/taints)",
                          pod["metadata"]["namespace"], pod["metadata"]["name"])
            return None
        self.kube.bind_pod(pod, node_name)
        self.log.info("pod %s/%s bound to %s", pod["metadata"]["namespace"], pod["metadata"]["name"], node_name)
        return node_name

    def _run(self, pod, node_spec):
        metadata, now = pod["metadata"], now_iso()
        previous = pod.get("status") or {}
        try:
            requests = kubelet.parse_networks(pod)
        except kubelet.NetworksAnnotationError as error:
            self._write_pod_status(pod, kubelet.waiting_status(pod, str(error), now, previous))
            return
        for request in requests:
            if self.kube.get(k.NADS, request["name"], request["namespace"]) is None:
                message = (f"cannot find a network-attachment-definition ({request['name']}) in namespace "
                           f"({request['namespace']}): network-attachment-definitions.k8s.cni.cncf.io "
                           f"\"{request['name']}\" not found")
                if self._write_pod_status(pod, kubelet.waiting_status(pod, message, now, previous)):
                    self.log.info("pod %s/%s waits: %s", metadata["namespace"], metadata["name"], message)
                return
        networks = kubelet.pod_networks(pod)
        waiting = kubelet.unannotated(requests, kubelet.localnet_networks(self.kube.items(k.NADS)), networks)
        if waiting:
            message = f"waiting for OVN-Kubernetes' {kubelet.POD_NETWORKS_ANNOTATION} for {', '.join(waiting)}"
            self._write_pod_status(pod, kubelet.waiting_status(pod, message, now, previous))
            return
        pod_ip = previous.get("podIP") or kubelet.default_pod_ip(networks)
        if pod_ip:
            self._start(pod, node_spec, pod_ip, requests, networks, now)
            return
        with self.allocation_lock:  # the node's pods listed only here: with hundreds, a long read
            used = {p["status"].get("podIP") for p in self.kube.items(
                k.PODS, field_selector=f"spec.nodeName={node_spec['name']}") if p.get("status")}
            self._start(pod, node_spec, kubelet.allocate_pod_ip(node_spec["pod_cidr"], used), requests, networks,
                        now)

    def _start(self, pod, node_spec, pod_ip, requests, networks, now):
        """The pod Running with `pod_ip` (and Multus' network-status when it asked for networks)."""
        metadata, previous = pod["metadata"], pod.get("status") or {}
        if requests:
            annotation = kubelet.network_status(pod, pod_ip, requests, networks)
            self.kube.merge_patch(k.PODS, metadata["name"], {"metadata": {"annotations": {
                kubelet.NETWORK_STATUS_ANNOTATION: annotation}}}, metadata["namespace"])
        self.kube.patch_status(k.PODS, pod, kubelet.running_status(pod, node_spec["address"], pod_ip, now, previous))
        self.log.info("pod %s/%s Running on %s (%s)", metadata["namespace"], metadata["name"], node_spec["name"], pod_ip)

    def _write_pod_status(self, pod, status):
        if not status_differs(pod.get("status"), status):
            return False
        self.kube.patch_status(k.PODS, pod, status)
        return True


# --- OVN-Kubernetes (secondary localnet networks) -----------------------------------------------------

class OvnkubeNodeStandIn(Controller):
    """The node annotations ovnkube-node writes that the real ovnkube-controller
    needs from a data-plane node: its zone (go-controller/pkg/node/default_node_network_controller.go
    Start, util.SetNodeZone; one zone per node) and its chassis, the node's OVS system-id
    (pkg/util/node_annotations.go SetL3GatewayConfig via util.GetNodeChassisID; without it the
    controller deletes the node's SB Chassis on every sync). The gateway, host-address and
    management-port annotations are not written: their absence only makes the default network's
    node setup retry, which the secondary localnet network does not use. Both keys are the same at
    both profiles' commits (pkg/util/node_annotations.go: OvnNodeChassisID :66 and OvnNodeZoneName
    :87 at dad2fde5a, :74 and :117 at 6c366bb49). What changed between the eras is written by the
    real ovnkube itself, so each profile gets its era's shape: the gateway router's LRP address
    (cluster manager; `node-gateway-router-lrp-ifaddr` at dad2fde5a node_annotations.go:72,
    `...-ifaddrs` keyed by network at 6c366bb49 :92) and `k8s.ovn.org/pod-networks` (controller;
    `role` added at 6c366bb49 pkg/util/pod_annotation.go:123), which the CNI stand-in only reads."""
    name = "ovnkube-node-standin"
    primary = k.NODES

    def reconcile(self, node):
        node_name = node["metadata"]["name"]
        if node_name not in dataplane.data_plane_nodes():
            return
        wanted = {"k8s.ovn.org/zone-name": node_name,
                  "k8s.ovn.org/node-chassis-id": ovs.system_id(self.state_dir, node_name)}
        current = node["metadata"].get("annotations") or {}
        if any(current.get(key) != value for key, value in wanted.items()):
            self.kube.merge_patch(k.NODES, node_name, {"metadata": {"annotations": wanted}})
            self.log.info("node %s: zone and chassis annotated (%s)", node_name, wanted)


class OvnkubeRollout(Controller):
    """The Cluster Network Operator's rollout of ovnkube when the Network's
    useMultiNetworkPolicy changes (openshift/cluster-network-operator pkg/network/ovn_kubernetes.go
    renderOVNKubernetes: UseMultiNetworkPolicy -> OVN_MULTI_NETWORK_POLICY_ENABLE, and a hash of the
    rendered config in the ovnkube pods' template, so they restart). labctl owns the processes:
    `labctl roll-ovnkube` renders the flags again and restarts those whose command line changed."""
    name = "ovnkube-rollout"
    primary = k.NETWORKS

    def __init__(self, kube, state_dir=None):
        super().__init__(kube, state_dir)
        self.rolled = object()  # the switch value last rolled out (none yet)

    def reconcile(self, obj):
        if obj["metadata"]["name"] != "cluster":
            return
        switch = bool((obj.get("spec") or {}).get("useMultiNetworkPolicy"))
        if switch == self.rolled:
            return
        labctl = Path(__file__).resolve().parents[1] / "labctl.py"
        env = {**os.environ, "OCPVIRT_LAB_DIR": str(self.state_dir)}
        subprocess.run([sys.executable, str(labctl), "roll-ovnkube"], env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.rolled = switch
        self.log.info("ovnkube rolled out with useMultiNetworkPolicy=%s", switch)


class SandboxController(Controller):
    """The kubelet's CNI step on the data-plane nodes (lab/dataplane/): for each Running pod on
    a localnet network a network namespace plugged into its node's br-int with the pod's MAC
    and IPs; for a VM's virt-launcher pod, the VM's guest instead (the VM's MAC, cloud-init's
    addresses and routes). Deleted pods and VMs lose their namespace. Each namespace gets an
    exec target, STATE_DIR/exec-targets/{pods,guests}/<namespace>/<name>.json.
    As kubelets do, the nodes work at once (one worker per node) and each node's sandboxes are
    plugged and unplugged by a pool of threads, one sandbox's work at a time (self.sandbox_locks)."""
    name = "kubelet-sandboxes"
    primary = k.NODES
    triggers = (k.PODS, k.VMIS, k.NADS)
    sandbox_threads = 6  # shared by the nodes: each plug is a few short processes

    def __init__(self, kube, state_dir=None):
        super().__init__(kube, state_dir)
        self.workers = len(dataplane.data_plane_nodes())
        self.pool = concurrent.futures.ThreadPoolExecutor(self.sandbox_threads, thread_name_prefix=self.name)
        self.sandbox_locks = KeyLocks()
        self.files_lock = threading.Lock()  # exec-target folders: made and removed by several threads

    def reconcile(self, node):
        node_name = node["metadata"]["name"]
        if node_name not in dataplane.data_plane_nodes():
            return
        if not (dataplane.node_dir(self.state_dir, node_name) / "db.sock").exists():
            self.log.info("node %s: data plane not running, no sandboxes", node_name)
            return
        pods = self.kube.items(k.PODS, field_selector=f"spec.nodeName={node_name}")
        vms = {(p["metadata"]["namespace"], p["metadata"]["labels"][kubelet.VM_NAME_LABEL])
               for p in pods if (p["metadata"].get("labels") or {}).get(kubelet.VM_NAME_LABEL)}
        nics = {}
        for namespace, name in vms:
            vmi = self.kube.get(k.VMIS, name, namespace)
            if vmi:
                nics[(namespace, name)] = kubevirt.guest_nics(vmi, network_data(self.kube, vmi))
        desired = kubelet.sandboxes(pods, kubelet.localnet_networks(self.kube.items(k.NADS)), nics)
        existing = self._existing(node_name)
        changed = [key for key in sorted(desired.keys() | existing.keys()) if self._stale(desired.get(key),
                                                                                         existing.get(key))]
        # Removals first, as before: a new pod may get the MAC and IP a deleted one had.
        removed = [key for key in changed if key not in desired]
        errors = self._run_jobs(node_name, removed, desired) + \
            self._run_jobs(node_name, [key for key in changed if key in desired], desired)
        if errors:
            raise RuntimeError(f"{len(errors)} of {len(changed)} sandboxes on {node_name} failed, first: {errors[0]!r}")

    def _run_jobs(self, node_name, keys, desired):
        """Each key's sandbox converged by the pool; the errors, once every job has ended."""
        jobs = [self.pool.submit(self._converge, node_name, key, desired.get(key)) for key in keys]
        return [job.exception() for job in jobs if job.exception()]

    @staticmethod
    def _stale(wanted, target):
        """Whether a sandbox needs work: wanted and not made, made and not wanted as it is, or gone."""
        if target is None:
            return wanted is not None
        return wanted != target.get("sandbox") or not dataplane.shell.netns_exists(target["netns"])

    def _converge(self, node_name, key, wanted):
        """Key's sandbox on `node_name` made as `wanted` (None: removed). Read again under its lock:
        the other node's worker may have moved it (a VM's launcher pod on another node)."""
        with self.sandbox_locks.held(key):
            target = self._existing_target(node_name, key)
            if not self._stale(wanted, target):
                return
            if target is not None:
                dataplane.unplug(self.state_dir, node_name, target["netns"])
                path = self._target_file(key)
                with self.files_lock:
                    path.unlink()
                    if not any(path.parent.iterdir()):
                        path.parent.rmdir()
                self.log.info("%s %s/%s: sandbox %s removed", key[0], key[1], key[2], target["netns"])
            if wanted is not None:
                self._create(key, wanted)

    def _netns(self, key):
        kind, namespace, name = key
        return f"{dataplane.topology.netns_prefix(self.state_dir)}{kind[:-1]}-{namespace}.{name}"

    def _target_file(self, key):
        kind, namespace, name = key
        return Path(self.state_dir, "exec-targets", kind, namespace, f"{name}.json")

    def _existing(self, node_name):
        """Sandboxes this controller made on the node: exec targets naming one of its namespaces."""
        with self.files_lock:  # not while a folder goes
            paths = [path for kind in ("pods", "guests")
                     for path in Path(self.state_dir, "exec-targets", kind).glob("*/*.json")]
        found = {}
        for path in paths:
            key = (path.parent.parent.name, path.parent.name, path.stem)
            target = self._existing_target(node_name, key)
            if target is not None:
                found[key] = target
        return found

    def _existing_target(self, node_name, key):
        """Key's exec target if this controller made it on the node (None if gone meanwhile)."""
        try:
            target = json.loads(self._target_file(key).read_text())
        except FileNotFoundError:
            return None
        if target.get("netns") == self._netns(key) and \
                dataplane.plugged_node(self.state_dir, target["netns"]) == node_name:
            return target
        return None

    def _create(self, key, sandbox):
        netns = self._netns(key)
        previous_node = dataplane.plugged_node(self.state_dir, netns)
        if previous_node:  # a half-made sandbox, or the same name's on another node before
            dataplane.unplug(self.state_dir, previous_node, netns)
        for iface in sandbox["interfaces"]:
            dataplane.plug(self.state_dir, sandbox["node"], netns, ifname=iface["ifname"], mac=iface["mac"],
                           addresses=iface["addresses"], routes=iface["routes"], iface_id=iface["iface_id"],
                           iface_id_ver=iface["iface_id_ver"])
        path = self._target_file(key)
        with self.files_lock:
            path.parent.mkdir(parents=True, exist_ok=True)
            dataplane.shell.replace_file(path, json.dumps({"netns": netns, "env": {}, "sandbox": sandbox}, indent=2))
        self.log.info("%s %s/%s: sandbox %s plugged into %s (%s)", key[0], key[1], key[2], netns, sandbox["node"],
                      ", ".join(f"{i['ifname']} {i['mac']} {' '.join(i['addresses'])}" for i in sandbox["interfaces"]))


ALL_CONTROLLERS = [
    NodeController, OvnkubeNodeController, ClusterVersionController, CatalogSourceController, NetworkOperatorController,
    SubscriptionController, InstallPlanController, CSVController,
    NMStateController, NNCPController,
    HyperConvergedController, DataSourceController, DataVolumeController,
    VirtualMachineController, VirtualMachineInstanceController, PodController, SandboxController,
    OvnkubeNodeStandIn, OvnkubeRollout,
]

