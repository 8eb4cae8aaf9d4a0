"""deploy/rbac/ is enough for site.yml, and a rule less is a clear failure (real RBAC in the lab).

The ServiceAccount, ClusterRole and ClusterRoleBinding are the shipped manifests, renamed per
test so that tests running side by side cannot see each other's rules; the rules themselves are
used as they are (or with exactly one verb taken away).
"""
import copy
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import yaml
from kubernetes import client, config
from kubernetes.dynamic import DynamicClient

REPO = Path(__file__).resolve().parents[2]
RBAC = REPO / "deploy" / "rbac"
LABCTL = REPO / "lab" / "labctl.py"
BIN = Path(sys.executable).parent
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


def run_site(kubeconfig, *args):
    env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(REPO / ".venv" / "collections"), "NO_COLOR": "1",
           "ANSIBLE_FORCE_COLOR": "0"}
    return subprocess.run(
        [str(BIN / "ansible-playbook"), "-i", str(REPO / "inventory" / "seed_lab"), str(REPO / "playbooks" / "site.yml"),
         "-e", json.dumps({"multinet_kubeconfig": kubeconfig}), *args],
        capture_output=True, text=True, cwd=REPO, env=env,
    )


def shipped_rules():
    return rbac_documents()["ClusterRole"]["rules"]


def test_site_succeeds_with_exactly_the_shipped_rules(automation_kubeconfig):
    result = run_site(automation_kubeconfig(shipped_rules()))
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "failed=0" in result.stdout


def test_a_missing_rule_fails_with_a_403_naming_the_resource(automation_kubeconfig):
    rules = without_verb(shipped_rules(), "operator.openshift.io", "networks", "patch")
    result = run_site(automation_kubeconfig(rules), "--tags", "switch")
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-4000:]
    assert "403" in output or "Forbidden" in output, output[-4000:]
    assert 'cannot patch resource "networks" in API group "operator.openshift.io"' in output, output[-4000:]


def test_rules_grant_no_wildcards():
    """Least privilege: every verb, resource and group is named."""
    for rule in shipped_rules():
        assert "*" not in rule["verbs"] + rule["resources"] + rule["apiGroups"], rule


def test_serviceaccount_has_no_rights_it_was_not_given(automation_kubeconfig):
    """Here: nothing on RBAC itself, so the identity cannot widen its own rights."""
    api = config.new_client_from_config(config_file=automation_kubeconfig(shipped_rules()))
    with pytest.raises(client.ApiException) as error:
        client.RbacAuthorizationV1Api(api).list_cluster_role()
    assert error.value.status == 403
