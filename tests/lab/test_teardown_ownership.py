"""teardown.yml deletes only what this automation made for this inventory, as a user sees it.

- Our label is shared (every intent's policies, rbac.yml's Role and RoleBinding carry it), so a
  namespace site.yml created keeps itself when it holds another intent's policy, what rbac.yml
  made, or a ConfigMap owned by a Node, and the run names each.
- Operators: an NMState and a HyperConverged someone else installed stay; ones our apply created
  (the multinet.ocpvirt.io/created mark) go, with their Subscriptions, CSVs and namespaces.
- owned_namespace takes names, not paths: a path-shaped name is refused and nothing is deleted.

Names and addresses share nothing with the seed (no llm-demo, no 192.168.77.x).
"""
import json
import os
import subprocess
import sys
import uuid

import pytest
import yaml
from kubernetes import client

from lab_helpers import OLM, wait_for
from test_teardown_safety import BIN, REPO, exists, nad_vars, playbook

MNP = ("k8s.cni.cncf.io", "v1beta1")
OURS = {"app.kubernetes.io/managed-by": "ocpvirt.multinet"}
CREATED = "multinet.ocpvirt.io/created"
HCO = ("hco.kubevirt.io", "v1beta1")
NMSTATE = ("nmstate.io", "v1", "nmstates", "nmstate")
LAB_TIMING = str(REPO / "playbooks" / "vars" / "lab_timing.yml")
# Seconds for a site or teardown run of both operators: 7 min 47 s measured on two cores shared
# with seven other sessions' runs.
OPERATOR_RUN = 1200


def ledger_intent(namespace):
    return {"name": "ledger", "namespace": namespace, "network": "teardown-net",
            "workloads": {"teller": {"selector": {"app": "teller"}, "ips": ["10.213.4.11"]}},
            "endpoints": {"branch": "10.213.4.1"},
            "allow": [{"from": "branch", "to": "teller", "ports": ["tcp/8443"]}]}


@pytest.fixture
def rbac_objects(tmp_path, lab_kubeconfig, core):
    """Returns make(namespace, account): what playbooks/rbac.yml makes in `namespace` (its Role and
    RoleBinding, the ServiceAccount when the account namespace is that one), created as rbac.yml's
    own apply would; their kinds and names."""
    def make(namespace, account):
        out = tmp_path / "rbac"
        out.mkdir()
        variables = {"rbac_output_dir": str(out), "rbac_name": account, "rbac_account_namespace": namespace,
                     "network_attachment_networks": [{"name": "teardown-net", "namespace": namespace,
                                                      "localnet": "localnet-teardown-test"}]}
        playbook(tmp_path, lab_kubeconfig, "rbac.yml", variables)
        documents = [doc for doc in yaml.safe_load_all((out / "roles.yml").read_text()) if doc]
        mine = [doc for doc in documents if doc["kind"] in ("Role", "RoleBinding")
                and doc["metadata"].get("namespace") == namespace]
        # rbac.yml's ServiceAccount (applied, not written), in the namespace when it is the account's.
        mine.append({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": account, "namespace": namespace}})
        rbac = client.RbacAuthorizationV1Api(core.api_client)
        create = {"Role": rbac.create_namespaced_role, "RoleBinding": rbac.create_namespaced_role_binding,
                  "ServiceAccount": core.create_namespaced_service_account}
        for doc in mine:
            create[doc["kind"]](namespace, doc, field_manager="ocpvirt.multinet-rbac")
        return sorted(f"{doc['kind']}/{doc['metadata']['name']}" for doc in mine)
    return make


def test_a_namespace_we_created_keeps_another_intents_policy_rbacs_objects_and_a_node_owned_configmap(
        rbac_objects, core, custom, lab_kubeconfig, tmp_path):
    namespace = f"ledger-{uuid.uuid4().hex[:6]}"
    variables = dict(nad_vars(namespace), policies_intents=[ledger_intent(namespace)])
    playbook(tmp_path, lab_kubeconfig, "site.yml", variables, "--tags", "network,policies")
    try:
        assert "multinet.ocpvirt.io/created-namespace" in (core.read_namespace(namespace).metadata.annotations or {})
        ours = [p["metadata"]["name"] for p in custom.list_namespaced_custom_object(
            *MNP, namespace, "multi-networkpolicies")["items"]]
        assert len(ours) == 2, ours
        # Another team's intent on the same network, written by this collection too (same label).
        custom.create_namespaced_custom_object(*MNP, namespace, "multi-networkpolicies", {
            "apiVersion": "k8s.cni.cncf.io/v1beta1", "kind": "MultiNetworkPolicy",
            "metadata": {"name": "vault-team-allow-db", "labels": {**OURS, "multinet.ocpvirt.io/intent": "vault-team"},
                         "annotations": {"k8s.v1.cni.cncf.io/policy-for": "teardown-net"}},
            "spec": {"podSelector": {"matchLabels": {"app": "vault"}}, "policyTypes": ["Ingress"]}})
        account = f"ledger-automation-{uuid.uuid4().hex[:4]}"
        made_by_rbac = rbac_objects(namespace, account)
        assert made_by_rbac == [f"Role/{account}", f"RoleBinding/{account}", f"ServiceAccount/{account}"]
        node = core.list_node().items[0]
        core.create_namespaced_config_map(namespace, client.V1ConfigMap(
            metadata=client.V1ObjectMeta(name="node-inventory", owner_references=[client.V1OwnerReference(
                api_version="v1", kind="Node", name=node.metadata.name, uid=node.metadata.uid)]),
            data={"disks": "2"}))

        teardown = playbook(tmp_path, lab_kubeconfig, "teardown.yml", variables, "--tags", "policies,network")

        assert exists(lambda: core.read_namespace(namespace)), teardown
        left = [p["metadata"]["name"] for p in custom.list_namespaced_custom_object(
            *MNP, namespace, "multi-networkpolicies")["items"]]
        assert left == ["vault-team-allow-db"], teardown
        assert exists(lambda: client.RbacAuthorizationV1Api(core.api_client).read_namespaced_role(account, namespace))
        assert exists(lambda: client.RbacAuthorizationV1Api(core.api_client).read_namespaced_role_binding(
            account, namespace))
        assert exists(lambda: core.read_namespaced_service_account(account, namespace))
        assert core.read_namespaced_config_map("node-inventory", namespace).data == {"disks": "2"}
        assert not exists(lambda: custom.get_namespaced_custom_object(
            "k8s.cni.cncf.io", "v1", namespace, "network-attachment-definitions", "teardown-net")), teardown
        kept = teardown[teardown.find("Say which namespaces were kept"):][:2500]
        for shown in ("MultiNetworkPolicy/vault-team-allow-db (of intent vault-team)",
                      f"Role/{account} (our label, but not made by site.yml for this inventory)",
                      f"RoleBinding/{account} (our label, but not made by site.yml for this inventory)",
                      f"ServiceAccount/{account}",
                      f"ConfigMap/node-inventory (owned by Node/{node.metadata.name})"):
            assert shown in teardown, (shown, kept)
        assert f"namespace {namespace} was created by ocpvirt.multinet but holds objects of others" in teardown
        # The policies' removal says what it deleted and what that means, not an empty flow list.
        assert "intent ledger removed, deleted 2 policies" in teardown, teardown
        assert all(f'"{name}"' in teardown for name in ours), teardown
        assert "flows []" not in teardown, teardown
    finally:
        core.delete_namespace(namespace)


def operator_vars(nmstate_namespace, virtualization_namespace, install):
    return {"nmstate_namespace": nmstate_namespace, "virtualization_namespace": virtualization_namespace,
            "nmstate_install_operator": install, "virtualization_install_operator": install}


def annotations(obj):
    return obj["metadata"].get("annotations") or {}


def test_operators_someone_else_installed_stay_and_are_named(nmstate_installed, virtualization_installed,
                                                             operator_namespace, custom, lab_kubeconfig, tmp_path):
    variables = operator_vars(operator_namespace, operator_namespace, install=True)
    playbook(tmp_path, lab_kubeconfig, "site.yml", variables, "-e", "@" + LAB_TIMING,
             "--tags", "nmstate,virtualization", timeout=OPERATOR_RUN)
    assert CREATED not in annotations(custom.get_cluster_custom_object(*NMSTATE)), "a NMState of others was marked"

    teardown = playbook(tmp_path, lab_kubeconfig, "teardown.yml", variables, "-e", "@" + LAB_TIMING,
                        "--tags", "operators", timeout=OPERATOR_RUN)

    assert exists(lambda: custom.get_cluster_custom_object(*NMSTATE)), teardown
    assert exists(lambda: custom.get_namespaced_custom_object(*HCO, operator_namespace, "hyperconvergeds",
                                                              "kubevirt-hyperconverged")), teardown
    for package in ("kubernetes-nmstate-operator", "kubevirt-hyperconverged"):
        assert exists(lambda: custom.get_namespaced_custom_object(*OLM, operator_namespace, "subscriptions", package))
        assert f"Subscription {operator_namespace}/{package} was not created by ocpvirt.multinet" in teardown
    assert exists(lambda: custom.get_namespaced_custom_object(*OLM, operator_namespace, "clusterserviceversions",
                                                              nmstate_installed["metadata"]["name"]))
    assert "NMState nmstate was not created by ocpvirt.multinet (no multinet.ocpvirt.io/created annotation): " \
           "kept, installed by someone else" in teardown, teardown
    assert f"HyperConverged {operator_namespace}/kubevirt-hyperconverged was not created by ocpvirt.multinet" \
           in teardown, teardown


@pytest.fixture
def no_nmstate_instance(custom):
    """The cluster-wide NMState set aside, so our apply creates it; put back (unmarked) afterwards
    when it existed."""
    try:
        before = custom.get_cluster_custom_object(*NMSTATE)
    except client.exceptions.ApiException as error:
        if error.status != 404:
            raise
        before = None
    if before is not None:
        custom.delete_cluster_custom_object(*NMSTATE)
    yield
    # Ours (the test's apply made it) goes; the one set aside comes back unmarked.
    if exists(lambda: custom.get_cluster_custom_object(*NMSTATE)) and CREATED in annotations(
            custom.get_cluster_custom_object(*NMSTATE)):
        custom.delete_cluster_custom_object(*NMSTATE)
        wait_for("our NMState to be gone", lambda: not exists(lambda: custom.get_cluster_custom_object(*NMSTATE)))
    if before is not None and not exists(lambda: custom.get_cluster_custom_object(*NMSTATE)):
        custom.create_cluster_custom_object(*NMSTATE[:3], {"apiVersion": "nmstate.io/v1", "kind": "NMState",
                                                           "metadata": {"name": "nmstate"}})


def test_operators_we_installed_are_removed_with_their_namespace(no_nmstate_instance, core, custom, lab_kubeconfig,
                                                                 tmp_path):
    suffix = uuid.uuid4().hex[:6]
    namespaces = {"kubernetes-nmstate-operator": f"ops-nm-{suffix}", "kubevirt-hyperconverged": f"ops-cnv-{suffix}"}
    variables = operator_vars(*namespaces.values(), install=True)
    playbook(tmp_path, lab_kubeconfig, "site.yml", variables, "-e", "@" + LAB_TIMING,
             "--tags", "nmstate,virtualization", timeout=OPERATOR_RUN)
    try:
        assert annotations(custom.get_cluster_custom_object(*NMSTATE))[CREATED] == "ocpvirt.multinet"
        assert annotations(custom.get_namespaced_custom_object(
            *HCO, namespaces["kubevirt-hyperconverged"], "hyperconvergeds",
            "kubevirt-hyperconverged"))[CREATED] == "ocpvirt.multinet"
        for package, namespace in namespaces.items():
            assert annotations(custom.get_namespaced_custom_object(
                *OLM, namespace, "subscriptions", package))[CREATED] == "ocpvirt.multinet"

        teardown = playbook(tmp_path, lab_kubeconfig, "teardown.yml", variables, "-e", "@" + LAB_TIMING,
                            "--tags", "operators", timeout=OPERATOR_RUN)

        assert not exists(lambda: custom.get_cluster_custom_object(*NMSTATE)), teardown
        for namespace in namespaces.values():  # with the HyperConverged, Subscriptions and CSVs in them
            assert not exists(lambda: core.read_namespace(namespace)), teardown
        assert "was not created by ocpvirt.multinet" not in teardown, teardown
    finally:
        for namespace in namespaces.values():
            if exists(lambda: core.read_namespace(namespace)):
                core.delete_namespace(namespace)


def test_a_path_as_namespace_name_is_refused_and_deletes_nothing(core, lab_kubeconfig, tmp_path):
    namespace = f"vault-{uuid.uuid4().hex[:6]}"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=namespace)))
    try:
        # Marked as a namespace of ours would be: before names were checked, GET and DELETE of
        # /api/v1/namespaces/<ns>/configmaps/<cm> read this ConfigMap as "our namespace" and deleted it.
        core.create_namespaced_config_map(namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(
            name="vault-keys", annotations={"multinet.ocpvirt.io/created-namespace": "ocpvirt.multinet"}),
            data={"k": "v"}))
        env = {key: value for key, value in os.environ.items() if not key.startswith(("ANSIBLE_", "K8S_AUTH_"))}
        env.update(ANSIBLE_COLLECTIONS_PATH=str(REPO / ".venv" / "collections"), NO_COLOR="1",
                   ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"))
        for name in (f"{namespace}/configmaps/vault-keys", f"{namespace}?dryRun=All", ""):
            result = subprocess.run(
                [str(BIN / "ansible"), "localhost", "-e", f"ansible_python_interpreter={sys.executable}",
                 "-m", "ocpvirt.multinet.owned_namespace",
                 "-a", json.dumps({"name": name, "state": "absent", "kubeconfig": lab_kubeconfig})],
                check=False, capture_output=True, text=True, cwd=REPO, env=env, timeout=120)
            output = result.stdout + result.stderr
            assert result.returncode != 0, output
            assert f"name: must {'not be empty' if not name else 'be a DNS-1123 label'}" in output, output
            assert repr(name) in output, output
        assert core.read_namespaced_config_map("vault-keys", namespace).data == {"k": "v"}
    finally:
        core.delete_namespace(namespace)
