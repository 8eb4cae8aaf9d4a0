"""verify fails, naming what it could not read, when its identity may not list the VMs, pods or
MultiNetworkPolicies it simulates; against the lab's real kube-apiserver and RBAC.

The identity is a ServiceAccount of the test's namespace bound to a ClusterRole that grants
everything connectivity_info reads except one list; the run must fail with the API server's 403
in its message (not pass with "0 disagree" and the refusal only as a warning in the report).
"""
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from kubernetes import client, config
from kubernetes.client.rest import ApiException

from lab_helpers import create_localnet_nad, wait_for
from test_connectivity_info import NAD, run_module

REPO_DIR = Path(__file__).resolve().parents[2]
LABCTL = REPO_DIR / "lab" / "labctl.py"
# What connectivity_info reads: (API group, resource) -> verbs.
READS = {("", "pods"): ["get", "list"], ("", "secrets"): ["get"],
         ("k8s.cni.cncf.io", "network-attachment-definitions"): ["get", "list"],
         ("k8s.cni.cncf.io", "multi-networkpolicies"): ["get", "list"],
         ("kubevirt.io", "virtualmachines"): ["get", "list"],
         ("kubevirt.io", "virtualmachineinstances"): ["get", "list"]}


@pytest.fixture
def reader_without(lab_api, lab_namespace):
    """reader_without((group, resource)) -> kubeconfig of an identity that may read all of
    READS but list that resource."""
    rbac = client.RbacAuthorizationV1Api(lab_api)
    made = []

    def kubeconfig(missing):
        name = f"verify-reader-{uuid.uuid4().hex[:8]}"
        rules = [client.V1PolicyRule(api_groups=[group], resources=[resource],
                                     verbs=[verb for verb in verbs if (group, resource, verb) != (*missing, "list")])
                 for (group, resource), verbs in READS.items()]
        client.CoreV1Api(lab_api).create_namespaced_service_account(
            lab_namespace, client.V1ServiceAccount(metadata=client.V1ObjectMeta(name=name)))
        rbac.create_cluster_role(client.V1ClusterRole(metadata=client.V1ObjectMeta(name=name), rules=rules))
        rbac.create_cluster_role_binding(client.V1ClusterRoleBinding(
            metadata=client.V1ObjectMeta(name=name),
            role_ref=client.V1RoleRef(api_group="rbac.authorization.k8s.io", kind="ClusterRole", name=name),
            subjects=[client.RbacV1Subject(kind="ServiceAccount", name=name, namespace=lab_namespace)]))
        made.append(name)
        output = subprocess.run([sys.executable, str(LABCTL), "kubeconfig-for-serviceaccount", lab_namespace, name],
                                check=True, capture_output=True, text=True).stdout
        path = output.strip().splitlines()[-1]
        # The API server's RBAC cache learns the new binding a moment later: wait until the
        # identity may list NADs (always granted), so the refusal seen is the one meant.
        nads = client.CustomObjectsApi(config.new_client_from_config(config_file=path))
        wait_for("the new binding in effect", lambda: _may(lambda: nads.list_namespaced_custom_object(
            "k8s.cni.cncf.io", "v1", lab_namespace, "network-attachment-definitions")))
        return path
    yield kubeconfig
    for name in made:
        rbac.delete_cluster_role_binding(name)
        rbac.delete_cluster_role(name)


def _may(call):
    try:
        call()
    except ApiException as error:
        if error.status != 403:
            raise
        return False
    return True


@pytest.mark.parametrize("missing, kind", [
    (("kubevirt.io", "virtualmachines"), "VirtualMachine (kubevirt.io/v1)"),
    (("", "pods"), "Pod (v1)"),
    (("k8s.cni.cncf.io", "multi-networkpolicies"), "MultiNetworkPolicy (k8s.cni.cncf.io/v1beta1)"),
])
def test_connectivity_info_fails_naming_the_list_it_may_not_read(reader_without, lab_namespace, custom,
                                                                 missing, kind):
    create_localnet_nad(custom, lab_namespace, NAD)

    result = run_module(reader_without(missing), network=f"{lab_namespace}/{NAD}")

    assert result.get("failed") is True, result
    assert result["msg"].startswith(f"Failed to list {kind} in namespace {lab_namespace!r}: Forbidden (403): ")
    assert f'cannot list resource "{missing[1]}"' in result["msg"]


def test_the_verify_playbook_fails_when_it_may_not_list_the_vms(reader_without):
    """As a user runs it, on the seed inventory, with an identity that may not list VMs."""
    kubeconfig = reader_without(("kubevirt.io", "virtualmachines"))
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")}
    env.update(ANSIBLE_COLLECTIONS_PATH=str(REPO_DIR / ".venv" / "collections"), MULTINET_KUBECONFIG=kubeconfig)
    report_dir = REPO_DIR / ".lab" / f"verify-rights-{uuid.uuid4().hex[:8]}"
    run = subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "-i",
                          str(REPO_DIR / "inventory" / "seed_lab"), str(REPO_DIR / "playbooks" / "verify.yml"),
                          "-e", json.dumps({"verify_probe": False, "multinet_report_dir": str(report_dir)})],
                         capture_output=True, text=True, cwd=REPO_DIR, env=env, timeout=900, check=False)
    output = run.stdout + run.stderr
    assert run.returncode != 0, output
    assert "Failed to list VirtualMachine (kubevirt.io/v1) in namespace 'llm-demo': Forbidden (403)" in output
    assert "0 disagree" not in output
