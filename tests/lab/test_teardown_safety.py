"""teardown.yml undoes only what site.yml did, as a user running both against a cluster sees it.

Small inventories and --tags keep each case to the stages it is about: the multi-network-policy
switch is put back to the value it had before site.yml (on stays on), a namespace that existed
before keeps itself and what others put in it, a namespace site.yml created and that holds only
ours is deleted, and an operator's namespace that existed before keeps a team's ConfigMap.
"""
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import yaml
from kubernetes import client
from kubernetes.client.rest import ApiException

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
NETWORK = ("operator.openshift.io", "v1", "networks", "cluster")
RECORD = "multinet.ocpvirt.io/previous-use-multi-network-policy"
MNP = ("k8s.cni.cncf.io", "v1beta1")
LOCALNET = "localnet-teardown-test"


def playbook(tmp_path, kubeconfig, name, variables, *args, timeout=300):
    """ansible-playbook <name> on a one-cluster inventory; returns its output, failing on rc != 0."""
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(yaml.safe_dump({"clusters": {"hosts": {"lab": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable,
        "multinet_kubeconfig": kubeconfig}}}}))
    env = {key: value for key, value in os.environ.items() if not key.startswith(("ANSIBLE_", "K8S_AUTH_"))}
    env.update(ANSIBLE_COLLECTIONS_PATH=str(REPO / ".venv" / "collections"), NO_COLOR="1",
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"))
    result = subprocess.run(
        [str(BIN / "ansible-playbook"), "-i", str(inventory), str(REPO / "playbooks" / name),
         "-e", json.dumps(variables), *args],
        check=False, capture_output=True, text=True, cwd=REPO, env=env, timeout=timeout)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    return " ".join(output.split())


def nad_vars(*namespaces):
    return {"network_attachment_networks": [{"name": "teardown-net", "namespace": ns, "localnet": LOCALNET}
                                            for ns in namespaces],
            "network_attachment_known_localnets": [LOCALNET],
            "network_attachment_read_cluster_mappings": False}


def exists(read):
    try:
        read()
    except ApiException as error:
        if error.status == 404:
            return False
        raise
    return True


@pytest.fixture
def switch(custom):
    """Sets spec.useMultiNetworkPolicy before a test (True/False/None = unset) and puts the
    object's spec and annotations back afterwards, as other tests found them."""
    before = custom.get_cluster_custom_object(*NETWORK)

    def set_to(value):
        custom.patch_cluster_custom_object(*NETWORK, {"metadata": {"annotations": {RECORD: None}},
                                                      "spec": {"useMultiNetworkPolicy": value}})
    yield set_to
    custom.patch_cluster_custom_object(*NETWORK, {
        "metadata": {"annotations": {RECORD: (before["metadata"].get("annotations") or {}).get(RECORD)}},
        "spec": {"useMultiNetworkPolicy": before["spec"].get("useMultiNetworkPolicy")}})


@pytest.mark.parametrize("before", [True, False], ids=["on", "off"])
def test_switch_is_put_back_as_it_was_before_site(before, switch, custom, lab_kubeconfig, tmp_path):
    switch(before)
    site = playbook(tmp_path, lab_kubeconfig, "site.yml", {"multinetwork_policy_switch_enabled": True},
                    "--tags", "switch")
    network = custom.get_cluster_custom_object(*NETWORK)
    assert network["spec"]["useMultiNetworkPolicy"] is True, site
    assert network["metadata"]["annotations"][RECORD] == str(before).lower(), site

    teardown = playbook(tmp_path, lab_kubeconfig, "teardown.yml", {}, "--tags", "switch")
    network = custom.get_cluster_custom_object(*NETWORK)
    assert network["spec"].get("useMultiNetworkPolicy") is before, teardown
    assert RECORD not in (network["metadata"].get("annotations") or {}), teardown
    assert f"spec.useMultiNetworkPolicy put back to {str(before).lower()}" in teardown, teardown


@pytest.fixture
def team_namespace(core, custom):
    """A namespace of another team, with its ConfigMap and MultiNetworkPolicy, made before us."""
    name = f"team-{uuid.uuid4().hex[:6]}"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    core.create_namespaced_config_map(name, client.V1ConfigMap(
        metadata=client.V1ObjectMeta(name="team-settings"), data={"owner": "team"}))
    custom.create_namespaced_custom_object(*MNP, name, "multi-networkpolicies", {
        "apiVersion": "k8s.cni.cncf.io/v1beta1", "kind": "MultiNetworkPolicy",
        "metadata": {"name": "team-policy", "annotations": {"k8s.v1.cni.cncf.io/policy-for": "other-net"}},
        "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}})
    yield name
    core.delete_namespace(name)


def test_teardown_deletes_only_the_namespace_it_created_that_holds_only_ours(team_namespace, core, custom,
                                                                            lab_kubeconfig, tmp_path):
    ours, shared = f"ours-{uuid.uuid4().hex[:6]}", f"ours-{uuid.uuid4().hex[:6]}"
    variables = nad_vars(team_namespace, ours, shared)
    playbook(tmp_path, lab_kubeconfig, "site.yml", variables, "--tags", "network")
    assert exists(lambda: core.read_namespace(ours)) and exists(lambda: core.read_namespace(shared))
    nad = ("k8s.cni.cncf.io", "v1", team_namespace, "network-attachment-definitions", "teardown-net")
    assert exists(lambda: custom.get_namespaced_custom_object(*nad))
    annotations = core.read_namespace(team_namespace).metadata.annotations or {}
    assert "multinet.ocpvirt.io/created-namespace" not in annotations, "a namespace that existed was marked as ours"
    # A team puts its Secret into a namespace site.yml created.
    core.create_namespaced_secret(shared, client.V1Secret(metadata=client.V1ObjectMeta(name="db-password"),
                                                          string_data={"password": "team"}))
    try:
        teardown = playbook(tmp_path, lab_kubeconfig, "teardown.yml", variables, "--tags", "network")
        assert not exists(lambda: core.read_namespace(ours)), teardown
        assert not exists(lambda: custom.get_namespaced_custom_object(*nad)), "our NAD was left behind"
        assert core.read_namespaced_config_map("team-settings", team_namespace).data == {"owner": "team"}
        assert exists(lambda: custom.get_namespaced_custom_object(*MNP, team_namespace, "multi-networkpolicies",
                                                                  "team-policy"))
        assert f"namespace {team_namespace} was not created by ocpvirt.multinet" in teardown, teardown
        assert core.read_namespaced_secret("db-password", shared).data, teardown
        assert f"namespace {shared} was created by ocpvirt.multinet but holds objects of others: kept with " \
               "Secret/db-password" in teardown, teardown
    finally:
        core.delete_namespace(shared)


def test_an_operator_namespace_that_existed_keeps_a_teams_configmap(core, lab_kubeconfig, tmp_path):
    namespace = f"nmstate-{uuid.uuid4().hex[:6]}"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=namespace)))
    core.create_namespaced_config_map(namespace, client.V1ConfigMap(
        metadata=client.V1ObjectMeta(name="team-settings"), data={"owner": "team"}))
    variables = {"nmstate_namespace": namespace, "nmstate_install_operator": True, "nmstate_wait_delay": 1,
                 "multinet_teardown_operators": True}
    try:
        playbook(tmp_path, lab_kubeconfig, "site.yml", variables, "--tags", "nmstate")
        teardown = playbook(tmp_path, lab_kubeconfig, "teardown.yml", variables, "--tags", "nmstate")
        assert core.read_namespaced_config_map("team-settings", namespace).data == {"owner": "team"}, teardown
        assert f"namespace {namespace} was not created by ocpvirt.multinet" in teardown, teardown
    finally:
        core.delete_namespace(namespace)
