"""Fixtures for tests against the lab control plane (real etcd, kube-apiserver, controller-manager).

The lab is started through `lab/labctl.py up`, the same entry point as `make lab-up`, and is
left running after the session so `make demo` and later sessions reuse it; set
OCPVIRT_LAB_TEARDOWN=1 to stop it when the session ends.
"""
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from kubernetes import client, config
from kubernetes.client.rest import ApiException

from lab_helpers import condition, installed_csv, subscribe, wait_for

REPO_DIR = Path(__file__).resolve().parents[2]
LABCTL = REPO_DIR / "lab" / "labctl.py"
sys.path.insert(0, str(REPO_DIR / "lab"))
# The lab labctl runs for this environment ($OCPVIRT_LAB_DIR, else the profile's folder).
from controlplane.state import STATE_DIR as LAB_STATE_DIR  # noqa: E402
# Every write of the simulator that the API server rejects lands here (lab/simulator/kube.py).
REJECTED_WRITES = LAB_STATE_DIR / "simulator-rejected.log"


def pytest_configure(config):
    config.addinivalue_line("markers", "lab: needs the lab control plane (started on demand)")


def pytest_collection_modifyitems(items):
    lab_dir = Path(__file__).parent
    for item in items:
        if lab_dir in Path(item.fspath).parents:
            item.add_marker(pytest.mark.lab)


def labctl(*args):
    """Run labctl with this interpreter; stderr (progress) goes to the terminal."""
    result = subprocess.run([sys.executable, str(LABCTL), *args], check=True, stdout=subprocess.PIPE, text=True)
    return result.stdout.strip().splitlines()[-1]


def _rejected_writes():
    return REJECTED_WRITES.read_text().splitlines() if REJECTED_WRITES.exists() else []


@pytest.fixture(autouse=True)
def no_rejected_simulator_writes():
    """A simulator write the API server rejects (a status field the real schema lacks or
    requires, a status subresource the real CRD does not have) fails the test it happened in
    (or, when it surfaces only later, the next one)."""
    before = len(_rejected_writes())
    yield
    new = _rejected_writes()[before:]
    assert not new, f"the API server rejected {len(new)} simulator write(s) ({REJECTED_WRITES}):\n" + "\n".join(new)


def lab_was_running():
    """labctl status exits 3 when nothing of the lab runs."""
    status = subprocess.run([sys.executable, str(LABCTL), "status"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, check=False)
    return status.returncode != 3


@pytest.fixture(scope="session")
def lab_kubeconfig():
    """The lab, started when needed; a lab this session started is stopped at its end (so
    `make test` leaves no daemon or namespace behind), one already running is left running
    unless OCPVIRT_LAB_TEARDOWN=1."""
    started_here = not lab_was_running()
    kubeconfig = labctl("up")
    yield kubeconfig
    if started_here or os.environ.get("OCPVIRT_LAB_TEARDOWN") == "1":
        subprocess.run([sys.executable, str(LABCTL), "down"], check=True, stdout=subprocess.DEVNULL)


@pytest.fixture(scope="session")
def lab_api(lab_kubeconfig):
    api = config.new_client_from_config(config_file=lab_kubeconfig)
    yield api
    api.close()


@pytest.fixture
def lab_namespace(lab_api):
    """A fresh namespace per test, deleted afterwards (the namespace controller cleans up)."""
    name = f"labtest-{uuid.uuid4().hex[:8]}"
    core = client.CoreV1Api(lab_api)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    yield name
    core.delete_namespace(name)


@pytest.fixture
def serviceaccount_api(lab_api, lab_namespace):
    """Returns api(name): an ApiClient authenticated as a new ServiceAccount via TokenRequest."""
    def api_for(name):
        client.CoreV1Api(lab_api).create_namespaced_service_account(
            lab_namespace, client.V1ServiceAccount(metadata=client.V1ObjectMeta(name=name)))
        kubeconfig = labctl("kubeconfig-for-serviceaccount", lab_namespace, name)
        return config.new_client_from_config(config_file=kubeconfig)
    return api_for


# --- API clients and operators shared by the test modules ----------------------------------------

@pytest.fixture(scope="module")
def custom(lab_api):
    return client.CustomObjectsApi(lab_api)


@pytest.fixture(scope="module")
def core(lab_api):
    return client.CoreV1Api(lab_api)


@pytest.fixture(scope="module")
def operator_namespace(lab_api):
    core = client.CoreV1Api(lab_api)
    name = f"labtest-operators-{uuid.uuid4().hex[:6]}"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    yield name
    core.delete_namespace(name)


@pytest.fixture(scope="module")
def nmstate_installed(custom, operator_namespace):
    subscribe(custom, operator_namespace, "kubernetes-nmstate-operator")
    csv = installed_csv(custom, operator_namespace, "kubernetes-nmstate-operator")
    try:
        custom.create_cluster_custom_object("nmstate.io", "v1", "nmstates", {
            "apiVersion": "nmstate.io/v1", "kind": "NMState", "metadata": {"name": "nmstate"}})
    except ApiException as error:
        if error.status != 409:
            raise
    wait_for("NMState nmstate Available", lambda: condition(
        custom.get_cluster_custom_object("nmstate.io", "v1", "nmstates", "nmstate"), "Available").get("status") == "True")
    return csv


@pytest.fixture(scope="module")
def virtualization_installed(custom, operator_namespace):
    subscribe(custom, operator_namespace, "kubevirt-hyperconverged")
    installed_csv(custom, operator_namespace, "kubevirt-hyperconverged")
    custom.create_namespaced_custom_object("hco.kubevirt.io", "v1beta1", operator_namespace, "hyperconvergeds", {
        "apiVersion": "hco.kubevirt.io/v1beta1", "kind": "HyperConverged",
        "metadata": {"name": "kubevirt-hyperconverged"}, "spec": {}})
    return wait_for("HyperConverged Available", lambda: condition(
        custom.get_namespaced_custom_object("hco.kubevirt.io", "v1beta1", operator_namespace, "hyperconvergeds",
                                            "kubevirt-hyperconverged"), "Available").get("status") == "True")


@pytest.fixture
def nncp(custom, nmstate_installed):
    """Returns make(desiredState): a new NodeNetworkConfigurationPolicy on the workers, its name; deleted afterwards."""
    created = []

    def make(desired_state):
        name = f"labtest-{uuid.uuid4().hex[:6]}"
        custom.create_cluster_custom_object("nmstate.io", "v1", "nodenetworkconfigurationpolicies", {
            "apiVersion": "nmstate.io/v1", "kind": "NodeNetworkConfigurationPolicy", "metadata": {"name": name},
            "spec": {"nodeSelector": {"node-role.kubernetes.io/worker": ""}, "desiredState": desired_state}})
        created.append(name)
        return name

    yield make
    for name in created:
        try:
            custom.delete_cluster_custom_object("nmstate.io", "v1", "nodenetworkconfigurationpolicies", name)
        except ApiException as error:
            if error.status != 404:
                raise


@pytest.fixture(scope="module")
def no_bridge_mapping_policies(custom):
    """Set aside the NodeNetworkConfigurationPolicies (make demo's or an earlier test's `mapping`)
    for this module: the nmstate handler stand-in puts back a policy's bridge mappings when it
    reconciles, which resets a mapping a test changes by hand for a localnet a policy names (it
    keeps those of other localnets). Deleting a policy leaves what it configured, as nmstate does;
    the policies are created again afterwards."""
    group = ("nmstate.io", "v1", "nodenetworkconfigurationpolicies")
    try:
        policies = custom.list_cluster_custom_object(*group)["items"]
    except ApiException:  # nmstate not installed: nothing to set aside
        policies = []
    for policy in policies:
        custom.delete_cluster_custom_object(*group, policy["metadata"]["name"])
    yield
    for policy in policies:
        meta = {key: policy["metadata"][key] for key in ("name", "labels", "annotations") if key in policy["metadata"]}
        custom.create_cluster_custom_object(*group, {"apiVersion": policy["apiVersion"], "kind": policy["kind"],
                                                     "metadata": meta, "spec": policy["spec"]})
