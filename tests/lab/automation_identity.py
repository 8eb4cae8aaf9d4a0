"""The automation identity of deploy/rbac/ created in the lab, for tests that act as it.

deploy/rbac/ holds playbooks/rbac.yml's output for inventory/seed_lab: a ClusterRole for
cluster-scoped objects, a Role per namespace, the optional grants to delete and to create
namespaces, and the ValidatingAdmissionPolicies that limit the fields it may change. Tests
take those rules as `Grants` (the shipped ones, or with something taken away) and
`automation_kubeconfig` binds them to a ServiceAccount in the test's namespace; every role,
binding and admission policy is renamed per use (the policies made to match that ServiceAccount)
so that tests running side by side cannot see each other's rules.
"""
import copy
import subprocess
import sys
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest
import yaml
from kubernetes import client
from kubernetes.dynamic import DynamicClient

from lab_helpers import wait_for

REPO = Path(__file__).resolve().parents[2]
RBAC = REPO / "deploy" / "rbac"
LABCTL = REPO / "lab" / "labctl.py"
FIELD_MANAGER = "ocpvirt-multinet-tests"
ACCOUNT = "ocpvirt-multinet-automation"
RBAC_API = "rbac.authorization.k8s.io/v1"


def rbac_documents(name):
    return [document for document in yaml.safe_load_all((RBAC / name).read_text(encoding="utf-8")) if document]


@dataclass(frozen=True)
class Grants:
    """Rules of the ClusterRole, of each namespace's Role, and of the optional ClusterRoles."""
    cluster: list
    roles: dict
    delete_namespaces: list = field(default_factory=list)
    create_namespaces: list = field(default_factory=list)
    admission: list = field(default_factory=list)  # ValidatingAdmissionPolicies and their bindings

    def all_rules(self):
        return (self.cluster + self.delete_namespaces + self.create_namespaces
                + [rule for rules in self.roles.values() for rule in rules])


def _role_rules(name, kind):
    return [document["rules"] for document in rbac_documents(name) if document["kind"] == kind]


def shipped(delete_namespaces=False, create_namespaces=False):
    """The shipped grants and admission policies; with delete_namespaces / create_namespaces, that
    optional grant bound too."""
    roles = {document["metadata"]["namespace"]: document["rules"]
             for document in rbac_documents("roles.yml") if document["kind"] == "Role"}
    return Grants(cluster=_role_rules("clusterrole.yml", "ClusterRole")[0], roles=roles,
                  delete_namespaces=_role_rules("delete-namespaces.yml", "ClusterRole")[0] if delete_namespaces else [],
                  create_namespaces=_role_rules("create-namespaces.yml", "ClusterRole")[0] if create_namespaces else [],
                  admission=rbac_documents("admission-policies.yml"))


def seed_namespace():
    """The namespace of the seed inventory's workloads (the Role that holds Secrets)."""
    return next(namespace for namespace, rules in shipped().roles.items()
                if any("secrets" in rule["resources"] for rule in rules))


def managing(grants, namespace):
    """The grants with `namespace` managed like the seed's workload namespace (its Role copied there)."""
    return replace(grants, roles={**grants.roles, namespace: copy.deepcopy(grants.roles[seed_namespace()])})


def _without(rules, api_group, resource, verb):
    reduced = []
    for rule in copy.deepcopy(rules):
        if api_group in rule["apiGroups"] and resource in rule["resources"] and verb in rule["verbs"]:
            others = [name for name in rule["resources"] if name != resource]
            if others:
                reduced.append({**rule, "resources": others})
            remaining = [name for name in rule["verbs"] if name != verb]
            if remaining:
                reduced.append({**rule, "resources": [resource], "verbs": remaining})
        else:
            reduced.append(rule)
    return reduced


def without_verb(grants, api_group, resource, verb, namespace=None):
    """The grants with one verb on one resource taken away (from the ClusterRole, or the Role of
    `namespace`); a rule that covers more is split."""
    if namespace is None:
        reduced = replace(grants, cluster=_without(grants.cluster, api_group, resource, verb))
    else:
        reduced = replace(grants, roles={**grants.roles,
                                         namespace: _without(grants.roles[namespace], api_group, resource, verb)})
    assert reduced != grants, f"no rule grants {verb} on {resource}.{api_group} ({namespace or 'cluster'})"
    return reduced


def _binding(kind, name, role_kind, namespace, account_namespace):
    metadata = {"name": name, **({"namespace": namespace} if namespace else {})}
    return {"apiVersion": RBAC_API, "kind": kind, "metadata": metadata,
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": name},
            "subjects": [{"kind": "ServiceAccount", "name": ACCOUNT, "namespace": account_namespace}]}


def _admission_for(documents, account_namespace, suffix):
    """The shipped admission policies renamed with `suffix`, matching the ServiceAccount in `account_namespace`."""
    shipped_user = "system:serviceaccount:ocpvirt-multinet:" + ACCOUNT
    renamed = []
    for document in copy.deepcopy(documents):
        document["metadata"] = {"name": f"{document['metadata']['name']}-{suffix}"}
        spec = document["spec"]
        if document["kind"] == "ValidatingAdmissionPolicyBinding":
            spec["policyName"] = f"{spec['policyName']}-{suffix}"
        for condition in spec.get("matchConditions", []):
            assert shipped_user in condition["expression"], condition
            condition["expression"] = condition["expression"].replace(
                shipped_user, f"system:serviceaccount:{account_namespace}:{ACCOUNT}")
        renamed.append(document)
    return renamed


def identity(account_namespace, suffix, grants):
    """Namespaces, ServiceAccount, roles, bindings and admission policies for `grants`, names suffixed."""
    name = f"{ACCOUNT}-{suffix}"
    documents = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}
                 for namespace in sorted(grants.roles)]
    documents.append({"apiVersion": "v1", "kind": "ServiceAccount",
                      "metadata": {"name": ACCOUNT, "namespace": account_namespace}})
    for role_name, rules in ((name, grants.cluster), (f"{name}-delete-namespaces", grants.delete_namespaces),
                             (f"{name}-create-namespaces", grants.create_namespaces)):
        if rules:
            documents.append({"apiVersion": RBAC_API, "kind": "ClusterRole", "metadata": {"name": role_name},
                              "rules": rules})
            documents.append(_binding("ClusterRoleBinding", role_name, "ClusterRole", None, account_namespace))
    for namespace, rules in sorted(grants.roles.items()):
        documents.append({"apiVersion": RBAC_API, "kind": "Role", "metadata": {"name": name, "namespace": namespace},
                          "rules": rules})
        documents.append(_binding("RoleBinding", name, "Role", namespace, account_namespace))
    return documents + _admission_for(grants.admission, account_namespace, suffix)


def _not_terminating(core, namespace):
    try:
        return core.read_namespace(namespace).status.phase != "Terminating"
    except client.ApiException as error:
        if error.status == 404:
            return True
        raise


@pytest.fixture
def automation_kubeconfig(lab_api, lab_namespace):
    """Returns kubeconfig(grants): a token kubeconfig of the automation ServiceAccount bound to grants."""
    dynamic = DynamicClient(lab_api)
    created = []

    def kubeconfig_for(grants):
        # A namespace a teardown deleted must be gone before its Role can be made again.
        core = client.CoreV1Api(lab_api)
        for namespace in grants.roles:
            wait_for(f"namespace {namespace} to finish terminating",
                     lambda ns=namespace: _not_terminating(core, ns), timeout=180)
        for document in identity(lab_namespace, uuid.uuid4().hex[:8], grants):
            resource = dynamic.resources.get(api_version=document["apiVersion"], kind=document["kind"])
            resource.server_side_apply(body=document, name=document["metadata"]["name"],
                                       namespace=document["metadata"].get("namespace"),
                                       field_manager=FIELD_MANAGER)
            if document["kind"] not in ("Namespace", "ServiceAccount"):  # those stay for the next test
                created.append((resource, document))
        output = subprocess.run([sys.executable, str(LABCTL), "kubeconfig-for-serviceaccount", lab_namespace, ACCOUNT],
                                check=True, capture_output=True, text=True).stdout
        return output.strip().splitlines()[-1]

    yield kubeconfig_for
    for resource, document in reversed(created):
        try:
            resource.delete(name=document["metadata"]["name"], namespace=document["metadata"].get("namespace"))
        except Exception as error:  # pylint: disable=broad-except
            if getattr(error, "status", None) != 404:  # gone with a namespace teardown deleted
                raise
