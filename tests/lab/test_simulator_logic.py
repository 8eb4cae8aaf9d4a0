"""Pure reconcile logic of the lab simulator (lab/simulator/*): no API server needed."""
import json
import sys
from pathlib import Path

import jsonschema
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "lab"))

from controlplane import profiles  # noqa: E402
from simulator import crdsets, kubelet, kubevirt, nmstate, nodes, olm, openshift  # noqa: E402
from simulator.conditions import merge_conditions  # noqa: E402
from simulator.kube import is_rejection  # noqa: E402

NOW, LATER = "2024-07-23T03:56:16Z", "2024-07-23T04:00:00Z"
CSV_NAME = "kubernetes-nmstate-operator.4.15.0-202407101936"


def subscription(**spec):
    base = {"name": "kubernetes-nmstate-operator", "source": "redhat-operators",
            "sourceNamespace": "openshift-marketplace", "channel": "stable"}
    return {"apiVersion": "operators.coreos.com/v1alpha1", "kind": "Subscription",
            "metadata": {"name": "kubernetes-nmstate-operator", "namespace": "openshift-nmstate", "uid": "sub-uid"},
            "spec": {**base, **spec}}


PACKAGE = {"metadata": {"name": "kubernetes-nmstate-operator"},
           "status": {"catalogSource": "redhat-operators", "defaultChannel": "stable",
                      "channels": [{"name": "stable", "currentCSV": CSV_NAME,
                                    "currentCSVDesc": {"displayName": "Kubernetes NMState Operator",
                                                       "version": "4.15.0"}}]}}
CATALOG = {"metadata": {"name": "redhat-operators"}}
GROUP = {"metadata": {"name": "openshift-nmstate"}}


# --- OLM ---------------------------------------------------------------------------------------

def test_resolution_picks_the_channel_head():
    resolution = olm.resolve(subscription(), [GROUP], PACKAGE, CATALOG)
    assert resolution.failure is None
    assert resolution.csv_name == CSV_NAME


@pytest.mark.parametrize("sub, groups, package, catalog, reason, words", [
    (subscription(), [GROUP], None, CATALOG, "ConstraintsNotSatisfiable",
     "no operators found in package kubernetes-nmstate-operator"),
    (subscription(channel="fast"), [GROUP], PACKAGE, CATALOG, "ConstraintsNotSatisfiable",
     "no operators found in channel fast"),
    (subscription(), [], PACKAGE, CATALOG, "NoOperatorGroup", "no operator group found"),
    (subscription(), [GROUP, GROUP], PACKAGE, CATALOG, "TooManyOperatorGroups", "multiple operatorgroups"),
    (subscription(), [GROUP], PACKAGE, None, "UnhealthyCatalogSourceFound",
     "targeted catalogsource openshift-marketplace/redhat-operators missing"),
])
def test_resolution_failures_name_the_cause(sub, groups, package, catalog, reason, words):
    resolution = olm.resolve(sub, groups, package, catalog)
    assert resolution.csv_name is None
    assert resolution.failure["reason"] == reason
    assert words in resolution.failure["message"]
    status = olm.subscription_status(sub, resolution, None, None, NOW)
    assert any(c["reason"] == reason and c["status"] == "True" for c in status["conditions"])
    assert status["state"] == ""


@pytest.mark.parametrize("approval, approved", [("Automatic", True), ("Manual", False), (None, True)])
def test_install_plan_approval_follows_the_subscription(approval, approved):
    sub = subscription(**({"installPlanApproval": approval} if approval else {}))
    plan = olm.new_install_plan(sub, CSV_NAME, "install-abcde")
    assert plan["spec"]["approved"] is approved
    assert plan["spec"]["approval"] == (approval or "Automatic")
    assert plan["spec"]["clusterServiceVersionNames"] == [CSV_NAME]
    assert plan["metadata"]["ownerReferences"][0]["uid"] == "sub-uid"


def _plan(approved):
    plan = olm.new_install_plan(subscription(), CSV_NAME, "install-abcde")
    plan["metadata"].update(uid="plan-uid", resourceVersion="7")
    plan["spec"]["approved"] = approved
    return plan


def test_subscription_waits_for_manual_approval_then_reaches_at_latest_known():
    sub, resolution = subscription(), olm.resolve(subscription(), [GROUP], PACKAGE, CATALOG)
    pending = olm.subscription_status(sub, resolution, _plan(False), None, NOW)
    assert pending["state"] == "UpgradePending"
    assert "installedCSV" not in pending
    assert {"type": "InstallPlanPending", "reason": "RequiresApproval"}.items() <= pending["conditions"][-1].items()
    assert olm.install_plan_status(_plan(False), False, NOW)["phase"] == "RequiresApproval"

    csv = {"status": {"phase": "Succeeded"}}
    done = olm.subscription_status(sub, resolution, _plan(True), csv, NOW)
    assert done["state"] == "AtLatestKnown"
    assert done["installedCSV"] == done["currentCSV"] == CSV_NAME
    assert done["installPlanRef"]["name"] == "install-abcde"
    assert olm.install_plan_status(_plan(True), True, NOW)["phase"] == "Complete"


def test_statuses_carry_the_fields_the_olm_crds_require():
    sub, resolution = subscription(), olm.resolve(subscription(), [GROUP], PACKAGE, CATALOG)
    first = olm.subscription_status(sub, resolution, _plan(False), None, NOW)
    assert first["lastUpdated"] == NOW
    sub["status"] = first
    assert olm.subscription_status(sub, resolution, _plan(False), None, LATER) == first  # no change, no new stamp
    assert olm.subscription_status(sub, resolution, _plan(True), None, LATER)["lastUpdated"] == LATER
    assert olm.install_plan_status(_plan(True), False, NOW)["catalogSources"] == ["redhat-operators"]
    crd = {"metadata": {"name": "nmstates.nmstate.io"},
           "spec": {"names": {"kind": "NMState"}, "versions": [{"name": "v1", "storage": True}]}}
    csv = olm.new_csv(_plan(True), PACKAGE, CSV_NAME, [crd])
    for established, state in ((False, "NotPresent"), (True, "Present")):
        requirement, = olm.csv_status(csv, {"nmstates.nmstate.io": established}, NOW)["requirementStatus"]
        assert requirement["status"] == state and requirement["message"]


def test_plan_for_finds_only_this_subscriptions_plan():
    plan = _plan(True)
    assert olm.plan_for(subscription(), [plan], CSV_NAME) is plan
    other = subscription()
    other["metadata"]["uid"] = "other"
    assert olm.plan_for(other, [plan], CSV_NAME) is None


def test_csv_succeeds_only_when_its_crds_are_established():
    crd = {"metadata": {"name": "nmstates.nmstate.io"},
           "spec": {"names": {"kind": "NMState"}, "versions": [{"name": "v1", "storage": True}]}}
    csv = olm.new_csv(_plan(True), PACKAGE, CSV_NAME, [crd])
    assert csv["spec"]["customresourcedefinitions"]["owned"] == [
        {"name": "nmstates.nmstate.io", "kind": "NMState", "version": "v1"}]
    pending = olm.csv_status(csv, {"nmstates.nmstate.io": False}, NOW)
    assert pending["phase"] == "Pending"
    csv["status"] = olm.csv_status(csv, {"nmstates.nmstate.io": True}, NOW)
    assert csv["status"]["phase"] == "Succeeded"
    assert olm.csv_status(csv, {"nmstates.nmstate.io": True}, LATER) == csv["status"]


def test_merge_conditions_keeps_transition_time_while_status_is_unchanged():
    first = merge_conditions(None, [{"type": "Ready", "status": "True"}], NOW)
    again = merge_conditions(first, [{"type": "Ready", "status": "True"}], LATER)
    flipped = merge_conditions(first, [{"type": "Ready", "status": "False"}], LATER)
    assert again[0]["lastTransitionTime"] == NOW
    assert flipped[0]["lastTransitionTime"] == LATER


# --- NMState ----------------------------------------------------------------------------------------

WORKER = nodes.spec_for("worker-0")
SEED_MAPPING = {"ovn": {"bridge-mappings": [{"localnet": "localnet-cnv", "bridge": "br-ex", "state": "present"}]}}
DEDICATED_BRIDGE = {
    "interfaces": [{"name": "ovs-br-cnv", "type": "ovs-bridge", "state": "up",
                    "bridge": {"options": {"stp": True}, "port": [{"name": "enp9s0"}]}}],
    "ovn": {"bridge-mappings": [{"localnet": "localnet-cnv", "bridge": "ovs-br-cnv", "state": "present"}]}}


def test_seed_mappings_are_valid_on_a_simulated_worker():
    state = nodes.initial_network_state(WORKER)
    assert nmstate.validate(SEED_MAPPING, state) is None
    assert nmstate.validate(DEDICATED_BRIDGE, state) is None


def test_bridge_on_a_missing_nic_fails_with_nmstate_message():
    desired = json.loads(json.dumps(DEDICATED_BRIDGE).replace("enp9s0", "enp10s0"))
    error = nmstate.validate(desired, nodes.initial_network_state(WORKER))
    assert "Failed to find interface enp10s0" in error
    assert error.startswith("InvalidArgument")
    message = nmstate.failure_message("worker-0", error)
    assert "NmstateError: InvalidArgument" in message and "worker-0" in message


@pytest.mark.parametrize("desired, words", [
    ({"ovn": {"bridge-mappings": [{"localnet": "x", "bridge": "br-missing"}]}}, "br-missing"),
    ({"interfaces": [{"name": "enp10s0", "type": "ethernet", "state": "up"}]}, "enp10s0"),
    ({"interfaces": [{"name": "br-new", "type": "ovs-bridge", "bridge": {"port": [{"name": "enp1s0"}]}}]},
     "already a port of br-ex"),
])
def test_invalid_desired_states(desired, words):
    assert words in nmstate.validate(desired, nodes.initial_network_state(WORKER))


def test_apply_adds_and_absent_removes_a_mapping_and_deleting_nothing_else():
    state = nmstate.apply(DEDICATED_BRIDGE, nodes.initial_network_state(WORKER))
    assert {"localnet": "localnet-cnv", "bridge": "ovs-br-cnv"} in state["ovn"]["bridge-mappings"]
    assert next(i for i in state["interfaces"] if i["name"] == "enp9s0")["controller"] == "ovs-br-cnv"
    assert nmstate.validate(DEDICATED_BRIDGE, state) is None  # re-applying the same policy is fine
    absent = {"ovn": {"bridge-mappings": [{"localnet": "localnet-cnv", "state": "absent"}]}}
    after = nmstate.apply(absent, state)
    assert [m["localnet"] for m in after["ovn"]["bridge-mappings"]] == ["physnet"]
    assert any(i["name"] == "ovs-br-cnv" for i in after["interfaces"])


def _policy(generation=1):
    return {"metadata": {"name": "mapping", "uid": "p-uid", "generation": generation},
            "spec": {"nodeSelector": {"node-role.kubernetes.io/worker": ""}, "desiredState": SEED_MAPPING}}


def _enactment(node, error, generation=1):
    enactment = nmstate.new_enactment(_policy(generation), node)
    enactment["status"] = nmstate.enactment_status(enactment, _policy(generation), node, error, NOW)
    return enactment


def _conditions(status):
    return {c["type"]: (c["status"], c["reason"], c["message"]) for c in status["conditions"]}


def test_policy_available_when_every_node_succeeded():
    status = nmstate.policy_status(_policy(), ["worker-0", "worker-1"],
                                   [_enactment("worker-0", None), _enactment("worker-1", None)], NOW)
    assert _conditions(status)["Available"] == ("True", "SuccessfullyConfigured", "2/2 nodes successfully configured")
    assert _conditions(status)["Degraded"][0] == "False"


def test_policy_degraded_when_a_node_failed():
    status = nmstate.policy_status(_policy(), ["worker-0", "worker-1"],
                                   [_enactment("worker-0", "InvalidArgument: x"), _enactment("worker-1", None)], NOW)
    assert _conditions(status)["Degraded"] == ("True", "FailedToConfigure", "1/2 nodes failed to configure")
    assert _conditions(status)["Available"][0] == "False"
    failing = _conditions(_enactment("worker-0", "InvalidArgument: x")["status"])["Failing"]
    assert failing[:2] == ("True", "FailedToConfigure") and "InvalidArgument: x" in failing[2]


def test_policy_progressing_until_enactments_of_this_generation_finish():
    status = nmstate.policy_status(_policy(2), ["worker-0"], [_enactment("worker-0", None, generation=1)], NOW)
    assert _conditions(status)["Progressing"] == ("True", "ConfigurationProgressing",
                                                  "Policy is progressing 0/1 nodes finished")


def test_policy_matching_no_node():
    status = nmstate.policy_status(_policy(), [], [], NOW)
    assert _conditions(status)["Available"][:2] == ("False", "NoMatchingNode")


def test_node_selector_matching():
    assert nmstate.matches({"node-role.kubernetes.io/worker": ""}, {"node-role.kubernetes.io/worker": ""})
    assert not nmstate.matches({"node-role.kubernetes.io/worker": ""}, {"node-role.kubernetes.io/master": ""})


# --- KubeVirt -----------------------------------------------------------------------------------------

SEED_NETWORK_DATA = "ethernets:\n  eth0:\n    addresses:\n      - 192.168.77.71\n    gateway4: 192.168.77.1\nversion: 2\n"


def vm(run_strategy="Always", mac="02:00:a3:00:00:01"):
    interface = {"name": "nic-yellow-duck-37", "bridge": {}, "model": "virtio"}
    if mac:
        interface["macAddress"] = mac
    return {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine",
            "metadata": {"name": "vm-71", "namespace": "llm-demo", "uid": "vm-uid", "resourceVersion": "5",
                         "generation": 1},
            "spec": {"runStrategy": run_strategy, "template": {
                "metadata": {"labels": {"kubevirt.io/domain": "vm-71", "app": "vm-71"}},
                "spec": {"domain": {"devices": {"interfaces": [interface]}},
                         "networks": [{"name": "nic-yellow-duck-37",
                                       "multus": {"networkName": "llm-demo-localnet-network"}}],
                         "volumes": [{"name": "cloudinitdisk",
                                      "cloudInitNoCloud": {"networkData": SEED_NETWORK_DATA}}]}}}}


@pytest.mark.parametrize("spec, expected", [
    ({"runStrategy": "Always"}, True), ({"runStrategy": "Halted"}, False), ({"runStrategy": "Manual"}, None),
    ({"running": True}, True), ({"running": False}, False)])
def test_run_strategy(spec, expected):
    machine = vm()
    machine["spec"].pop("runStrategy")
    machine["spec"].update(spec)
    assert kubevirt.wants_running(machine, None) is expected


def test_kubemacpool_assigns_a_free_mac_and_stamps_the_transaction():
    patch = kubevirt.kubemacpool_patch(vm(mac=None), {"02:5a:c3:00:00:01"}, NOW)
    interfaces = patch["spec"]["template"]["spec"]["domain"]["devices"]["interfaces"]
    assert interfaces[0]["macAddress"] == "02:5a:c3:00:00:02"
    assert patch["metadata"]["annotations"] == {kubevirt.KUBEMACPOOL_ANNOTATION: NOW}
    assert patch["metadata"]["resourceVersion"] == "5"
    assert kubevirt.kubemacpool_patch(vm(), set(), NOW) is None


def _running_vmi():
    vmi = kubevirt.new_vmi(vm())
    vmi["metadata"]["uid"] = "vmi-uid"
    return vmi


def test_vmi_and_launcher_pod_carry_kubevirt_labels_and_multus_request():
    vmi = _running_vmi()
    assert vmi["metadata"]["labels"]["vm.kubevirt.io/name"] == "vm-71"
    assert vmi["metadata"]["ownerReferences"][0] == {
        "apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine", "name": "vm-71", "uid": "vm-uid",
        "controller": True, "blockOwnerDeletion": True}
    pod = kubevirt.new_launcher_pod(vmi)
    labels = pod["metadata"]["labels"]
    assert pod["metadata"]["generateName"] == "virt-launcher-vm-71-"
    assert labels["kubevirt.io"] == "virt-launcher" and labels["vm.kubevirt.io/name"] == "vm-71"
    assert labels["app"] == "vm-71" and labels["kubevirt.io/created-by"] == "vmi-uid"
    # The seed's launcher pod: interface podffec3d98bf3 for network nic-yellow-duck-37.
    assert json.loads(pod["metadata"]["annotations"]["k8s.v1.cni.cncf.io/networks"]) == [
        {"name": "llm-demo-localnet-network", "namespace": "llm-demo", "mac": "02:00:a3:00:00:01",
         "interface": "podffec3d98bf3"}]


def test_guest_addresses_from_cloud_init_network_data():
    vmi = _running_vmi()
    assert kubevirt.guest_addresses(vmi, SEED_NETWORK_DATA) == {"nic-yellow-duck-37": ["192.168.77.71"]}
    v1 = ("version: 1\nconfig:\n- type: physical\n  name: eth0\n  mac_address: '02:00:a3:00:00:01'\n"
          "  subnets:\n  - type: static\n    address: 192.168.77.72/24\n")
    assert kubevirt.guest_addresses(vmi, v1) == {"nic-yellow-duck-37": ["192.168.77.72"]}
    assert kubevirt.network_data_source(vmi) == ("inline", SEED_NETWORK_DATA)


def test_vmi_running_when_launcher_pod_runs_and_vm_reports_ready():
    vmi = _running_vmi()
    pod = {"metadata": {"uid": "pod-uid"}, "spec": {"nodeName": "worker-0"},
           "status": {"phase": "Running", "podIP": "10.128.2.10"}}
    vmi["status"] = kubevirt.vmi_status(vmi, pod, {"nic-yellow-duck-37": ["192.168.77.71"]}, NOW)
    assert vmi["status"]["phase"] == "Running" and vmi["status"]["nodeName"] == "worker-0"
    assert vmi["status"]["interfaces"][0]["ipAddress"] == "192.168.77.71"
    vm_status = kubevirt.vm_status(vm(), vmi, True, NOW)
    assert (vm_status["printableStatus"], vm_status["ready"], vm_status["created"]) == ("Running", True, True)
    pending = kubevirt.vmi_status(_running_vmi(), {**pod, "spec": {}, "status": {"phase": "Pending"}}, {}, NOW)
    assert pending["phase"] == "Scheduling"


def test_vm_status_stopped_and_provisioning():
    stopped = kubevirt.vm_status(vm("Halted"), None, True, NOW)
    assert (stopped["printableStatus"], stopped["ready"], stopped["created"]) == ("Stopped", False, False)
    assert kubevirt.vm_status(vm(), None, False, NOW)["printableStatus"] == "Provisioning"


def test_data_volume_waits_for_its_data_source():
    dv = {"metadata": {"name": "root", "namespace": "llm-demo"},
          "spec": {"sourceRef": {"kind": "DataSource", "name": "centos-stream9",
                                 "namespace": "openshift-virtualization-os-images"}}}
    assert kubevirt.data_volume_status(dv, True, NOW)["phase"] == "Succeeded"
    missing = kubevirt.data_volume_status(dv, False, NOW)
    assert missing["phase"] == "Pending"
    assert "openshift-virtualization-os-images/centos-stream9 not found" in missing["conditions"][1]["message"]


# --- kubelet / Multus ---------------------------------------------------------------------------------------

SEED_POD_NETWORKS = ('[ { "name": "llm-demo-localnet-network", "_mac": "02:03:04:05:06:07", '
                     '"_interface": "myiface1", "ips": [ "192.168.77.91/24" ] } ]')


def pod(annotations=None, **spec):
    return {"metadata": {"name": "tinypod", "namespace": "llm-demo", "uid": "pod-uid",
                         "annotations": annotations or {}},
            "spec": {"containers": [{"name": "c", "image": "img"}], **spec}}


def _node(name):
    return nodes.node_manifest(nodes.spec_for(name))


def test_scheduler_avoids_master_taint_and_honours_node_selector():
    all_nodes = [_node("master-0"), _node("worker-0"), _node("worker-1")]
    assert kubelet.pick_node(pod(), all_nodes, {"worker-0": 3}) == "worker-1"
    assert kubelet.pick_node(pod(nodeSelector={"kubevirt.io/schedulable": "true"}), all_nodes, {}) is None
    tolerant = pod(tolerations=[{"key": "node-role.kubernetes.io/master", "operator": "Exists"}],
                   nodeSelector={"node-role.kubernetes.io/master": ""})
    assert kubelet.pick_node(tolerant, all_nodes, {}) == "master-0"


def test_multus_network_status_lists_default_then_secondary_with_static_ip():
    seeded = pod({kubelet.NETWORKS_ANNOTATION: SEED_POD_NETWORKS})
    requests = kubelet.parse_networks(seeded)
    assert requests[0]["namespace"] == "llm-demo"
    status = json.loads(kubelet.network_status(seeded, "10.128.2.10", requests))
    assert status[0]["default"] is True and status[0]["ips"] == ["10.128.2.10"]
    assert status[0]["mac"] == "0a:58:0a:80:02:0a"  # OVN-K: 0a:58 + the IP's octets
    assert status[1]["name"] == "llm-demo/llm-demo-localnet-network"
    assert status[1]["interface"] == "net1" and status[1]["ips"] == ["192.168.77.91"]
    assert status[1]["mac"] == "0a:58:c0:a8:4d:5b"  # the seed's tinypod net1: from the static IP


def test_short_networks_annotation_and_invalid_json():
    requests = kubelet.parse_networks(pod({kubelet.NETWORKS_ANNOTATION: "other/nad-a@eth9, nad-b"}))
    assert requests == [{"name": "nad-a", "namespace": "other", "interface": "eth9"},
                        {"name": "nad-b", "namespace": "llm-demo"}]
    with pytest.raises(kubelet.NetworksAnnotationError):
        kubelet.parse_networks(pod({kubelet.NETWORKS_ANNOTATION: "[{"}))


def test_pod_ip_allocation_skips_used_addresses():
    assert kubelet.allocate_pod_ip("10.128.2.0/23", set()) == "10.128.2.10"
    assert kubelet.allocate_pod_ip("10.128.2.0/23", {"10.128.2.10"}) == "10.128.2.11"


def test_running_status_is_stable_across_reconciles():
    first = kubelet.running_status(pod(), "192.168.99.24", "10.128.2.10", NOW)
    again = kubelet.running_status(pod(), "192.168.99.24", "10.128.2.10", LATER, first)
    assert first == again and first["phase"] == "Running"


# --- OpenShift stand-ins --------------------------------------------------------------------------------------

def test_network_operator_reports_the_multi_network_policy_switch():
    network = {"metadata": {"name": "cluster", "generation": 3}, "spec": {"useMultiNetworkPolicy": True}}
    status = openshift.network_status(network, NOW)
    assert status["observedGeneration"] == 3
    assert "useMultiNetworkPolicy=true" in status["conditions"][0]["message"]
    network["spec"]["useMultiNetworkPolicy"] = False
    assert "useMultiNetworkPolicy=false" in openshift.network_status(network, NOW)["conditions"][0]["message"]


def nullable_as_json_schema(schema):
    """An OpenAPI v3 CRD schema as JSON Schema: `nullable: true` becomes a "null" type."""
    if isinstance(schema, list):
        return [nullable_as_json_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    result = {key: nullable_as_json_schema(value) for key, value in schema.items()}
    if result.pop("nullable", False) and "type" in result:
        result["type"] = [result["type"], "null"]
    return result


@pytest.mark.parametrize("name", sorted(profiles.PROFILES))
def test_cluster_version_reports_the_profiles_release_valid_for_its_crd(name):
    profile = profiles.PROFILES[name]
    status = openshift.cluster_version_status({"metadata": {"name": "version", "generation": 1}}, NOW,
                                              profile.openshift_version, profile.channel)
    assert status["desired"]["version"].startswith(f"{name}.") and status["desired"]["channels"] == [profile.channel]
    assert status["history"][0]["state"] == "Completed" and status["history"][0]["version"] == profile.openshift_version
    upstream = crdsets.upstream_dir(folder=profile.crds)
    if upstream is None:
        pytest.skip(f"no upstream CRD folder at {crdsets.upstream_location(folder=profile.crds)}")
    crd = crdsets.crds_in(upstream)["clusterversions.config.openshift.io"]
    [served] = [v for v in crd["spec"]["versions"] if v["storage"]]
    schema = served["schema"]["openAPIV3Schema"]["properties"]["status"]
    jsonschema.validate(status, nullable_as_json_schema(schema))


# --- runtime ----------------------------------------------------------------------------------------

def test_work_queue_runs_a_key_queued_twice_once_in_order():
    from simulator.runtime import WorkQueue
    queue = WorkQueue()
    for key in [("ns", "a"), ("ns", "b"), ("ns", "a")]:
        queue.add(key)
    assert [queue.get(), queue.get()] == [("ns", "a"), ("ns", "b")]
    queue.done(("ns", "a"))
    queue.add(("ns", "a"))  # processed keys may be queued again
    assert queue.get() == ("ns", "a")


# --- CRD sets and rejected writes ------------------------------------------------------------------

def _crd(name, kind):
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": name}, "spec": {"names": {"kind": kind}}}


@pytest.fixture
def crd_folders(tmp_path):
    import yaml
    lab, upstream = tmp_path / "lab" / "crds", tmp_path / "upstream"
    for path, docs in {lab / "base" / "a.yaml": [_crd("subscriptions.operators.coreos.com", "OwnSub"),
                                                 _crd("packagemanifests.packages.operators.coreos.com", "PM")],
                       lab / "operators" / "nmstate-op" / "b.yaml": [_crd("nmstates.nmstate.io", "OwnNMState")],
                       upstream / "subs.yaml": [_crd("subscriptions.operators.coreos.com", "Sub")],
                       upstream / "nmstates.yaml": [_crd("nmstates.nmstate.io", "NMState")],
                       upstream / "nads.yaml": [_crd("network-attachment-definitions.k8s.cni.cncf.io", "NAD")]}.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump_all(docs))
    return lab, upstream


def test_upstream_crds_replace_the_labs_own_except_where_upstream_has_none(crd_folders):
    lab, upstream = crd_folders
    crds, kept = crdsets.base_crds(upstream, lab)
    assert [c["spec"]["names"]["kind"] for c in crds] == ["NAD", "Sub", "PM"]  # nmstates waits for its CSV
    assert kept == ["packagemanifests.packages.operators.coreos.com"]
    assert [c["spec"]["names"]["kind"] for c in crdsets.operator_crds("nmstate-op", upstream, lab)] == ["NMState"]
    assert "upstream" in crdsets.describe(upstream, kept, upstream) and "packagemanifests" in crdsets.describe(upstream, kept, upstream)


def test_without_the_upstream_folder_the_lab_uses_its_own_and_says_so(crd_folders, tmp_path):
    lab, _ = crd_folders
    missing = tmp_path / "nowhere"
    assert crdsets.upstream_dir({crdsets.UPSTREAM_ENV: str(missing)}) is None
    crds, kept = crdsets.base_crds(None, lab)
    assert [c["spec"]["names"]["kind"] for c in crds] == ["OwnSub", "PM"]
    assert [c["spec"]["names"]["kind"] for c in crdsets.operator_crds("nmstate-op", None, lab)] == ["OwnNMState"]
    assert f"no upstream CRD folder at {missing}" in crdsets.describe(None, kept, missing)


def test_default_upstream_folder_sits_next_to_the_repository(tmp_path):
    (tmp_path / "shared" / "upstream-crds").mkdir(parents=True)
    assert crdsets.upstream_dir({}, tmp_path / "repo") == (tmp_path / "shared" / "upstream-crds").resolve()


@pytest.mark.parametrize("method, status, body, rejected", [
    ("PATCH", 422, "{}", True),
    ("PUT", 400, '{"message": "strict decoding error: unknown field"}', True),
    ("PATCH", 404, '{"reason": "NotFound", "details": {}}', True),  # no status subresource
    ("PUT", 404, '{"reason": "NotFound", "details": {"name": "x"}}', False),  # object deleted meanwhile
    ("PUT", 409, "{}", False),
    ("POST", 403, "{}", False),
    ("GET", 500, "{}", False),
])
def test_which_failed_writes_count_as_rejected(method, status, body, rejected):
    assert is_rejection(method, status, body) is rejected
