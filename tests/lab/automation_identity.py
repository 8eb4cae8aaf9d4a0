"""The automation identity of deploy/rbac/ created in the lab, for tests that act as it.

The shipped ServiceAccount, ClusterRole and ClusterRoleBinding are renamed per use so that tests
running side by side cannot see each other's rules; the rules are passed in (the shipped ones, or
the shipped ones with something taken away).
"""
import copy
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import yaml
from kubernetes.dynamic import DynamicClient

REPO = Path(__file__).resolve().parents[2]
RBAC = REPO / "deploy" / "rbac"
LABCTL = REPO / "lab" / "labctl.py"
FIELD_MANAGER = "ocpvirt-multinet-tests"


def rbac_documents():
    documents = []
    for name in ("serviceaccount.yml", "clusterrole.yml", "clusterrolebinding.yml"):
        documents.extend(yaml.safe_load_all((RBAC / name).read_text(encoding="utf-8")))
    return {document["kind"]: document for document in documents if document}


def identity(namespace, suffix, rules):
    """The shipped ServiceAccount/ClusterRole/ClusterRoleBinding, moved to a test namespace."""
    shipped = rbac_documents()
    account = copy.deepcopy(shipped["ServiceAccount"])
    account["metadata"].update(namespace=namespace)
    role = copy.deepcopy(shipped["ClusterRole"])
    role["metadata"]["name"] = f"{role['metadata']['name']}-{suffix}"
    role["rules"] = rules
    binding = copy.deepcopy(shipped["ClusterRoleBinding"])
    binding["metadata"]["name"] = role["metadata"]["name"]
    binding["roleRef"]["name"] = role["metadata"]["name"]
    binding["subjects"] = [{"kind": "ServiceAccount", "name": account["metadata"]["name"], "namespace": namespace}]
    return [account, role, binding]


def shipped_rules():
    return rbac_documents()["ClusterRole"]["rules"]


def without_verb(rules, api_group, resource, verb):
    """The rules with one verb on one resource taken away (the rule is split if it covers more)."""
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
    assert reduced != rules, f"no rule grants {verb} on {resource}.{api_group}"
    return reduced


@pytest.fixture
def automation_kubeconfig(lab_api, lab_namespace):
    """Returns kubeconfig(rules): a token kubeconfig of the automation ServiceAccount bound to rules."""
    dynamic = DynamicClient(lab_api)
    created = []

    def kubeconfig_for(rules):
        suffix = uuid.uuid4().hex[:8]
        for document in identity(lab_namespace, suffix, rules):
            resource = dynamic.resources.get(api_version=document["apiVersion"], kind=document["kind"])
            resource.server_side_apply(body=document, name=document["metadata"]["name"],
                                       namespace=document["metadata"].get("namespace"),
                                       field_manager=FIELD_MANAGER)
            created.append((resource, document))
        account = rbac_documents()["ServiceAccount"]["metadata"]["name"]
        output = subprocess.run([sys.executable, str(LABCTL), "kubeconfig-for-serviceaccount", lab_namespace, account],
                                check=True, capture_output=True, text=True).stdout
        return output.strip().splitlines()[-1]

    yield kubeconfig_for
    for resource, document in reversed(created):
        if document["kind"] != "ServiceAccount":  # goes with the namespace
            resource.delete(name=document["metadata"]["name"])
