"""The lab simulator against the lab's real kube-apiserver: what roles wait on must happen.

Uses the `lab_kubeconfig`/`lab_api`/`lab_namespace` fixtures (tests/lab/conftest.py), which
start the lab through `lab/labctl.py up`; labctl starts the simulator. Operator installs are
cluster-wide (CRDs), so the tests tolerate operators already installed by earlier runs.
"""
import ipaddress
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from lab_helpers import OLM, condition, create_localnet_nad, get_subscription, installed_csv, subscribe, wait_for

REPO_DIR = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_DIR / "lab"))
from simulator import crdsets  # noqa: E402
from simulator import kube as simulator_kube  # noqa: E402


def crd_established(lab_api, name):
    crd = client.ApiextensionsV1Api(lab_api).read_custom_resource_definition(name)
    return any(c.type == "Established" and c.status == "True" for c in crd.status.conditions or [])


# --- CRDs and the simulator's writes --------------------------------------------------------------

UPSTREAM = crdsets.upstream_dir()


@pytest.mark.skipif(UPSTREAM is None, reason=f"no upstream CRD folder at {crdsets.upstream_location()}")
def test_the_lab_serves_the_upstream_crds_and_says_so(lab_api):
    status = subprocess.run([sys.executable, str(REPO_DIR / "lab" / "labctl.py"), "status"],
                            capture_output=True, text=True, check=False).stdout
    assert f"upstream OpenShift 4.15 ({UPSTREAM})" in status
    assert "packagemanifests.packages.operators.coreos.com (no CRD upstream)" in status
    extensions = client.ApiextensionsV1Api(lab_api)
    upstream = crdsets.crds_in(UPSTREAM)

    def served(name):
        return json.loads(extensions.read_custom_resource_definition(name, _preload_content=False).data)

    for name in ("multi-networkpolicies.k8s.cni.cncf.io", "networks.operator.openshift.io",
                 "subscriptions.operators.coreos.com", "datasources.cdi.kubevirt.io"):
        assert [(v["name"], v.get("subresources")) for v in served(name)["spec"]["versions"]] == \
            [(v["name"], v.get("subresources")) for v in upstream[name]["spec"]["versions"]]
    [mnp] = served("multi-networkpolicies.k8s.cni.cncf.io")["spec"]["versions"]
    ports = mnp["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]["ingress"]["items"] \
        ["properties"]["ports"]["items"]["properties"]
    assert "endPort" not in ports  # OpenShift 4.15's MultiNetworkPolicy has no port ranges


@pytest.mark.skipif(UPSTREAM is None, reason="the lab's own Network CRD keeps status free-form")
def test_a_status_field_the_schema_lacks_is_a_rejected_and_logged_write(lab_kubeconfig, tmp_path):
    """The simulator's writes are strict: what a real schema would silently prune is refused,
    and every refusal is logged for the autouse check in conftest.py."""
    log = tmp_path / "rejected.log"
    kube = simulator_kube.Kube(lab_kubeconfig, str(log))
    network = kube.get(simulator_kube.NETWORKS, "cluster")
    with pytest.raises(ApiException) as refused:
        kube.update_status(simulator_kube.NETWORKS, network, {"noSuchStatusField": "x"})
    assert refused.value.status == 400 and "noSuchStatusField" in refused.value.body
    [line] = log.read_text().splitlines()
    assert "/apis/operator.openshift.io/v1/networks/cluster" in line and "noSuchStatusField" in line


# --- platform -------------------------------------------------------------------------------------

def test_cluster_reports_openshift_4_15_and_ready_simulated_nodes(custom, core):
    version = wait_for("ClusterVersion status", lambda: custom.get_cluster_custom_object(
        "config.openshift.io", "v1", "clusterversions", "version").get("status"))
    assert version["desired"]["version"].startswith("4.15.")
    assert version["history"][0]["state"] == "Completed"
    workers = wait_for("two Ready workers", lambda: [
        n for n in core.list_node(label_selector="node-role.kubernetes.io/worker").items
        if any(c.type == "Ready" and c.status == "True" for c in n.status.conditions or [])
        and not n.spec.taints])
    assert sorted(n.metadata.name for n in workers) == ["worker-0", "worker-1"]


# --- OLM -------------------------------------------------------------------------------------------

def test_automatic_subscription_installs_csv_and_operator_crds(lab_api, nmstate_installed):
    assert nmstate_installed["status"]["phase"] == "Succeeded"
    owned = [o["name"] for o in nmstate_installed["spec"]["customresourcedefinitions"]["owned"]]
    assert "nodenetworkconfigurationpolicies.nmstate.io" in owned
    assert all(crd_established(lab_api, name) for name in owned)


def test_manual_approval_blocks_until_the_plan_is_approved(custom, lab_namespace):
    subscribe(custom, lab_namespace, "kubevirt-hyperconverged", approval="Manual")
    sub = wait_for("an InstallPlan reference", lambda: (s := get_subscription(
        custom, lab_namespace, "kubevirt-hyperconverged")).get("status", {}).get("installPlanRef") and s)
    plan_name = sub["status"]["installPlanRef"]["name"]
    plan = wait_for("InstallPlan phase RequiresApproval", lambda: (p := custom.get_namespaced_custom_object(
        *OLM, lab_namespace, "installplans", plan_name)).get("status", {}).get("phase") == "RequiresApproval" and p)
    assert plan["spec"]["approved"] is False and plan["spec"]["approval"] == "Manual"
    time.sleep(3)
    assert custom.list_namespaced_custom_object(*OLM, lab_namespace, "clusterserviceversions")["items"] == []
    assert get_subscription(custom, lab_namespace, "kubevirt-hyperconverged")["status"]["state"] == "UpgradePending"

    custom.patch_namespaced_custom_object(*OLM, lab_namespace, "installplans", plan_name, {"spec": {"approved": True}})
    csv = installed_csv(custom, lab_namespace, "kubevirt-hyperconverged")
    assert csv["status"]["phase"] == "Succeeded"


def test_unknown_package_fails_resolution_with_olm_message(custom, lab_namespace):
    subscribe(custom, lab_namespace, "no-such-operator")
    failed = wait_for("ResolutionFailed", lambda: condition(
        get_subscription(custom, lab_namespace, "no-such-operator"), "ResolutionFailed"))
    assert failed["status"] == "True" and failed["reason"] == "ConstraintsNotSatisfiable"
    assert "no operators found in package no-such-operator" in failed["message"]


# --- NMState ---------------------------------------------------------------------------------------------

def policy_condition(custom, name, type_):
    return condition(custom.get_cluster_custom_object("nmstate.io", "v1", "nodenetworkconfigurationpolicies",
                                                      name), type_)


def enactments(custom, policy):
    return custom.list_cluster_custom_object("nmstate.io", "v1beta1", "nodenetworkconfigurationenactments",
                                             label_selector=f"nmstate.io/policy={policy}")["items"]


def test_bridge_mapping_on_br_ex_becomes_available_and_deleting_removes_enactments(custom, nncp):
    name = nncp({"ovn": {"bridge-mappings": [{"localnet": "labtest-net", "bridge": "br-ex", "state": "present"}]}})
    available = wait_for("NNCP Available", lambda: (c := policy_condition(custom, name, "Available"))
                         .get("status") == "True" and c)
    assert available["reason"] == "SuccessfullyConfigured"
    assert available["message"] == "2/2 nodes successfully configured"
    assert sorted(e["metadata"]["name"] for e in enactments(custom, name)) == [f"worker-0.{name}", f"worker-1.{name}"]
    state = custom.get_cluster_custom_object("nmstate.io", "v1beta1", "nodenetworkstates", "worker-0")
    assert {"localnet": "labtest-net", "bridge": "br-ex"} in state["status"]["currentState"]["ovn"]["bridge-mappings"]

    custom.delete_cluster_custom_object("nmstate.io", "v1", "nodenetworkconfigurationpolicies", name)
    wait_for("enactments garbage-collected", lambda: enactments(custom, name) == [])


def test_bridge_on_missing_nic_is_degraded_with_the_enactment_message(custom, nncp):
    name = nncp({"interfaces": [{"name": "ovs-br-lab", "type": "ovs-bridge", "state": "up",
                                 "bridge": {"port": [{"name": "enp10s0"}]}}],
                 "ovn": {"bridge-mappings": [{"localnet": "labtest-x", "bridge": "ovs-br-lab", "state": "present"}]}})
    degraded = wait_for("NNCP Degraded", lambda: (c := policy_condition(custom, name, "Degraded"))
                        .get("status") == "True" and c)
    assert degraded["reason"] == "FailedToConfigure"
    assert degraded["message"] == "2/2 nodes failed to configure"
    assert policy_condition(custom, name, "Available")["status"] == "False"
    failing = condition(enactments(custom, name)[0], "Failing")
    assert failing["status"] == "True" and "Failed to find interface enp10s0" in failing["message"]


# --- network operator ------------------------------------------------------------------------------------------

def test_use_multi_network_policy_is_observed(custom):
    group = ("operator.openshift.io", "v1", "networks", "cluster")
    original = bool(custom.get_cluster_custom_object(*group)["spec"].get("useMultiNetworkPolicy"))
    try:
        for value in (not original, original):
            patched = custom.patch_cluster_custom_object(*group, {"spec": {"useMultiNetworkPolicy": value}})
            generation = patched["metadata"]["generation"]
            # Upstream, Network has no status subresource: the operator's status write is itself a
            # change that bumps metadata.generation, so "observed" means observedGeneration equals
            # the current generation, which is at least the one of our patch.
            network = wait_for("Network status observedGeneration", lambda: (n := custom.get_cluster_custom_object(
                *group)).get("status", {}).get("observedGeneration") == n["metadata"]["generation"] >= generation and n)
            assert f"useMultiNetworkPolicy={str(value).lower()}" in condition(network, "Available")["message"]
    finally:
        custom.patch_cluster_custom_object(*group, {"spec": {"useMultiNetworkPolicy": original}})


# --- KubeVirt and the kubelet stand-in ------------------------------------------------------------------------------

NAD = "llm-demo-localnet-network"


def vm_manifest(name, mac=None, run_strategy="Always"):
    interface = {"name": "nic0", "bridge": {}, "model": "virtio"}
    if mac:
        interface["macAddress"] = mac
    network_data = "ethernets:\n  eth0:\n    addresses:\n      - 192.168.77.71/24\n    gateway4: 192.168.77.1\nversion: 2\n"
    return {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine", "metadata": {"name": name},
            "spec": {"runStrategy": run_strategy,
                     "dataVolumeTemplates": [{"metadata": {"name": name}, "spec": {
                         "sourceRef": {"kind": "DataSource", "name": "centos-stream9",
                                       "namespace": "openshift-virtualization-os-images"},
                         "storage": {"resources": {"requests": {"storage": "30Gi"}}}}}],
                     "template": {"metadata": {"labels": {"app": name}}, "spec": {
                         "domain": {"devices": {"interfaces": [interface], "disks": []}},
                         "networks": [{"name": "nic0", "multus": {"networkName": NAD}}],
                         "volumes": [{"name": "cloudinitdisk", "cloudInitNoCloud": {"networkData": network_data}}]}}}}


def get_vm(custom, namespace, name, plural="virtualmachines"):
    return custom.get_namespaced_custom_object("kubevirt.io", "v1", namespace, plural, name)


def launcher_pods(core, namespace, name):
    return core.list_namespaced_pod(namespace, label_selector=f"kubevirt.io=virt-launcher,vm.kubevirt.io/name={name}").items


def test_vm_runs_with_launcher_pod_and_stops(custom, core, lab_namespace, virtualization_installed):
    create_localnet_nad(custom, lab_namespace, NAD)
    custom.create_namespaced_custom_object("kubevirt.io", "v1", lab_namespace, "virtualmachines",
                                           vm_manifest("vm-71", mac="02:00:a3:00:00:01"))
    vmi = wait_for("VMI Ready", lambda: (v := get_vm(custom, lab_namespace, "vm-71", "virtualmachineinstances"))
                   and condition(v, "Ready").get("status") == "True" and v)
    assert vmi["status"]["phase"] == "Running"
    assert vmi["status"]["interfaces"][0]["ipAddress"] == "192.168.77.71"
    assert vmi["metadata"]["ownerReferences"][0]["kind"] == "VirtualMachine"

    [pod] = launcher_pods(core, lab_namespace, "vm-71")
    assert pod.metadata.name.startswith("virt-launcher-vm-71-") and len(pod.metadata.name) == len("virt-launcher-vm-71-") + 5
    assert pod.metadata.labels["app"] == "vm-71" and pod.status.phase == "Running"
    assert pod.spec.node_name in ("worker-0", "worker-1")
    networks = json.loads(pod.metadata.annotations["k8s.v1.cni.cncf.io/networks"])
    assert networks[0]["name"] == NAD and networks[0]["mac"] == "02:00:a3:00:00:01"
    status = json.loads(pod.metadata.annotations["k8s.v1.cni.cncf.io/network-status"])
    assert status[0]["default"] is True
    assert status[1]["name"] == f"{lab_namespace}/{NAD}" and status[1]["mac"] == "02:00:a3:00:00:01"

    vm = wait_for("VM Running", lambda: (v := get_vm(custom, lab_namespace, "vm-71"))
                  .get("status", {}).get("printableStatus") == "Running" and v)
    assert vm["status"]["ready"] is True and condition(vm, "Ready")["status"] == "True"

    custom.patch_namespaced_custom_object("kubevirt.io", "v1", lab_namespace, "virtualmachines", "vm-71",
                                          {"spec": {"runStrategy": "Halted"}})
    wait_for("VM Stopped", lambda: get_vm(custom, lab_namespace, "vm-71").get("status", {})
             .get("printableStatus") == "Stopped")
    wait_for("VMI deleted", lambda: not _exists(lambda: get_vm(custom, lab_namespace, "vm-71", "virtualmachineinstances")))
    wait_for("launcher pod deleted", lambda: launcher_pods(core, lab_namespace, "vm-71") == [])


def _exists(read):
    try:
        read()
        return True
    except ApiException as error:
        if error.status == 404:
            return False
        raise


def test_kubemacpool_assigns_mac_and_stamps_transaction(custom, lab_namespace, virtualization_installed):
    create_localnet_nad(custom, lab_namespace, NAD)
    custom.create_namespaced_custom_object("kubevirt.io", "v1", lab_namespace, "virtualmachines",
                                           vm_manifest("vm-nomac", run_strategy="Halted"))
    vm = wait_for("kubemacpool MAC", lambda: (v := get_vm(custom, lab_namespace, "vm-nomac"))["spec"]["template"]
                  ["spec"]["domain"]["devices"]["interfaces"][0].get("macAddress") and v)
    assert vm["spec"]["template"]["spec"]["domain"]["devices"]["interfaces"][0]["macAddress"].startswith("02:")
    assert "kubemacpool.io/transaction-timestamp" in vm["metadata"]["annotations"]


def seed_pod(name, networks):
    return client.V1Pod(
        metadata=client.V1ObjectMeta(name=name, labels={"app": name},
                                     annotations={"k8s.v1.cni.cncf.io/networks": json.dumps(networks)}),
        spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="quay.io/example/tiny:1")]))


def test_pod_with_static_secondary_ip_runs_and_deletes(custom, core, lab_namespace):
    create_localnet_nad(custom, lab_namespace, NAD)
    core.create_namespaced_pod(lab_namespace, seed_pod("tinypod", [{"name": NAD, "ips": ["192.168.77.91/24"]}]))
    pod = wait_for("pod Running", lambda: (p := core.read_namespaced_pod("tinypod", lab_namespace))
                   .status.phase == "Running" and p)
    assert pod.spec.node_name in ("worker-0", "worker-1")
    # the pod IP is the one ovnkube allocated on the default network, inside the Network's
    # clusterNetwork 10.128.0.0/14 (lab/crds/base-objects/10-cluster-config.yaml)
    chosen = json.loads(pod.metadata.annotations["k8s.ovn.org/pod-networks"])["default"]["ip_addresses"]
    assert [pod.status.pod_ip] == [ip.split("/")[0] for ip in chosen]
    assert ipaddress.ip_address(pod.status.pod_ip) in ipaddress.ip_network("10.128.0.0/14")
    assert any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions)
    status = json.loads(pod.metadata.annotations["k8s.v1.cni.cncf.io/network-status"])
    assert status[1]["ips"] == ["192.168.77.91"]

    core.delete_namespaced_pod("tinypod", lab_namespace)
    wait_for("pod deletion to finish", lambda: not _exists(lambda: core.read_namespaced_pod("tinypod", lab_namespace)))


def test_pod_on_missing_network_stays_container_creating(core, lab_namespace):
    core.create_namespaced_pod(lab_namespace, seed_pod("orphan", [{"name": "no-such-nad"}]))
    pod = wait_for("pod bound and waiting", lambda: (p := core.read_namespaced_pod("orphan", lab_namespace))
                   .status.container_statuses and p)
    assert pod.status.phase == "Pending"
    assert pod.status.container_statuses[0].state.waiting.reason == "ContainerCreating"
