"""Check mode previews a new setup: site.yml --check --diff on an empty cluster (issue 25, item 3).

The cluster is a lab of its own, started fresh by the lab tooling (labctl with its own
OCPVIRT_LAB_DIR) and purged at the end: nothing applied, the operators' CRDs not installed, as
right after `labctl up`. The inventory is this test's own, sharing nothing with the seed: a
ledger team on a branch LAN, both operators installed by the run.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from kubernetes import client, config
from kubernetes.client.rest import ApiException

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(REPO / "bench"))

import reconcile_bench  # noqa: E402

NAMESPACE, NAD, LOCALNET, MAPPING = "ledger", "branch-lan", "branch-localnet", "branch-map"
CLUSTER = {
    "nmstate_install_operator": True,
    "virtualization_install_operator": True,
    "bridge_mapping_localnet": LOCALNET,
    "bridge_mapping_name": MAPPING,
    "network_attachment_networks": [{"name": NAD, "namespace": NAMESPACE, "localnet": LOCALNET}],
    "network_attachment_known_localnets": [LOCALNET],
    "multinetwork_policy_switch_enabled": True,
    "workloads_namespace": NAMESPACE,
    "workloads_network": NAD,
    "workloads_vms": [{"name": "teller-1", "ip": "10.61.0.21/24", "mac": "02:61:00:00:00:21"}],
    "workloads_pods": [{"name": "audit-probe", "ip": "10.61.0.40/24"}],
    "policies_intents": [{
        "name": "ledger", "namespace": NAMESPACE, "network": NAD,
        "workloads": {"teller": {"vm": "teller-1", "ips": ["10.61.0.21"]},
                      "audit": {"selector": {"app": "audit-probe"}, "ips": ["10.61.0.40"]}},
        "endpoints": {"branch-gw": "10.61.0.1"},
        "allow": [{"from": "audit", "to": "teller", "ports": ["tcp/8443"]}, {"from": "teller", "to": "branch-gw"}],
    }],
}


@pytest.fixture(scope="module")
def empty_lab():
    with reconcile_bench.second_lab(REPO / ".lab" / "check-mode-test") as kubeconfig:
        yield kubeconfig


@pytest.fixture(scope="module")
def api(empty_lab):
    api = config.new_client_from_config(config_file=empty_lab)
    yield api
    api.close()


def site(tmp_path, kubeconfig, *args, **overrides):
    """site.yml on a one-cluster inventory in tmp_path; (return code, output with runs of
    whitespace made one space)."""
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(yaml.safe_dump({"clusters": {"hosts": {"branch": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable,
        "multinet_kubeconfig": kubeconfig, **CLUSTER, **overrides}}}}))
    env = {key: value for key, value in os.environ.items() if not key.startswith(("ANSIBLE_", "K8S_AUTH_"))}
    env.update(ANSIBLE_COLLECTIONS_PATH=str(REPO / ".venv" / "collections"), NO_COLOR="1",
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"))
    result = subprocess.run(
        [str(BIN / "ansible-playbook"), "-i", str(inventory), str(REPO / "playbooks" / "site.yml"),
         "-e", "@" + str(REPO / "playbooks" / "vars" / "lab_timing.yml"), *args],
        check=False, capture_output=True, text=True, cwd=REPO, env=env, timeout=600)
    return result.returncode, " ".join((result.stdout + result.stderr).split())


def crd_exists(api, name):
    try:
        client.ApiextensionsV1Api(api).read_custom_resource_definition(name)
    except ApiException as error:
        if error.status == 404:
            return False
        raise
    return True


def namespaces(api):
    return {item.metadata.name for item in client.CoreV1Api(api).list_namespace().items}


def test_site_check_diff_on_an_empty_cluster_lists_every_stage_and_writes_nothing(empty_lab, api, tmp_path):
    assert not crd_exists(api, "nmstates.nmstate.io") and not crd_exists(api, "hyperconvergeds.hco.kubevirt.io")
    before = namespaces(api)
    returncode, output = site(tmp_path, empty_lab, "--check", "--diff")
    assert returncode == 0, output[-4000:]
    # operators: the OLM objects wait for their namespace, the instances for the operators' CRDs
    for line in ("would create OperatorGroup openshift-nmstate/openshift-nmstate; it cannot be previewed until "
                 "namespace openshift-nmstate exists (this run creates it first",
                 "would create Subscription openshift-nmstate/kubernetes-nmstate-operator",
                 "would create NMState nmstate; it cannot be previewed until its CRD exists (API group nmstate.io, "
                 "served by an operator this run installs first",
                 "would create Subscription openshift-cnv/kubevirt-hyperconverged",
                 "would create HyperConverged openshift-cnv/kubevirt-hyperconverged; it cannot be previewed until its "
                 "CRD exists (API group hco.kubevirt.io",
                 # mapping, network, workloads
                 f"would create NodeNetworkConfigurationPolicy {MAPPING}; it cannot be previewed until its CRD "
                 "exists (API group nmstate.io",
                 f"would create NetworkAttachmentDefinition {NAMESPACE}/{NAD}; it cannot be previewed until namespace "
                 f"{NAMESPACE} exists",
                 f"would create VirtualMachine {NAMESPACE}/teller-1; it cannot be previewed until its CRD exists "
                 "(API group kubevirt.io",
                 f"would create Pod {NAMESPACE}/audit-probe; it cannot be previewed until namespace {NAMESPACE} exists"):
        assert line in output, f"{line!r} not in: {output[-6000:]}"
    # switch: the JSON patch is previewed as on any cluster
    assert ("TASK [ocpvirt.multinet.multinetwork_policy_switch : Set spec.useMultiNetworkPolicy, recording the value "
            "before our first change, with a JSON patch]") in output
    # policies: the compiled policies, the flows, and what the preview took as given
    assert 'created ["ledger-allow-audit", "ledger-allow-teller", "ledger-default-deny"]' in output
    assert (f"NetworkAttachmentDefinition {NAMESPACE}/{NAD} does not exist yet; taken as present (assume_present: an "
            f"earlier stage of this run creates it); namespace {NAMESPACE} does not exist yet either, so 3 policies "
            "were not sent to the API server as dry runs") in output
    assert "failed=0" in output
    # nothing was written
    assert namespaces(api) == before
    assert not crd_exists(api, "nmstates.nmstate.io") and not crd_exists(api, "hyperconvergeds.hco.kubevirt.io")


def test_policies_alone_preview_a_nad_the_network_stage_declares(empty_lab, tmp_path):
    returncode, output = site(tmp_path, empty_lab, "--tags", "policies", "--check")
    assert returncode == 0, output[-4000:]
    assert 'created ["ledger-allow-audit", "ledger-allow-teller", "ledger-default-deny"]' in output
    assert f"NetworkAttachmentDefinition {NAMESPACE}/{NAD} does not exist yet; taken as present" in output


def test_policies_alone_still_fail_on_a_nad_nothing_in_the_run_creates(empty_lab, tmp_path):
    returncode, output = site(tmp_path, empty_lab, "--tags", "policies", "--check", network_attachment_networks=[])
    assert returncode != 0
    assert (f"network: NetworkAttachmentDefinition '{NAD}' not found; searched namespace '{NAMESPACE}', NADs there: "
            "none (does the namespace exist?). Create it first (an entry in network_attachment_networks, then "
            "site.yml --tags network)") in output
    assert "created [" not in output


def test_a_missing_operator_names_the_switch_that_installs_it(empty_lab, tmp_path):
    returncode, output = site(tmp_path, empty_lab, "--tags", "mapping", "--check", nmstate_install_operator=False)
    assert returncode != 0
    assert "set nmstate_install_operator: true and run the nmstate stage (site.yml --tags nmstate)" in output


def test_the_mapping_diff_shows_only_what_we_own(empty_lab, api, tmp_path):
    returncode, output = site(tmp_path, empty_lab, "--tags", "nmstate,mapping")
    assert returncode == 0, output[-4000:]
    returncode, output = site(tmp_path, empty_lab, "--tags", "mapping", "--check", "--diff",
                              bridge_mapping_node_selector={"kubernetes.io/hostname": "worker-1"})
    assert returncode == 0, output[-4000:]
    task = output.split("TASK [ocpvirt.multinet.bridge_mapping : Apply the NodeNetworkConfigurationPolicy")[1]
    diff = task.split("TASK [")[0]
    assert "+ kubernetes.io/hostname: worker-1" in diff and "- node-role.kubernetes.io/worker: ''" in diff, diff
    for noise in ("managedFields", "uid:", "creationTimestamp", "time:", "resourceVersion", "generation:", "status:"):
        assert noise not in diff, f"{noise} in the diff: {diff}"
