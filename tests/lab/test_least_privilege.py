"""deploy/rbac/ is enough for site.yml, verify.yml and teardown.yml, each grant is needed (a grant
less is a 403 naming the task and the resource), and nothing beyond the inventory's objects is
granted (real RBAC in the lab).

The tests run in file order: the full run first (the grant tests then find the seed lab in place
and run only the stage a grant serves), teardown last.
"""
import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from kubernetes import client, config

pytest.register_assert_rewrite("automation_identity")
from automation_identity import seed_namespace, shipped, without_verb  # noqa: E402  pylint: disable=wrong-import-position
from lab_helpers import wait_for  # noqa: E402  pylint: disable=wrong-import-position

# The automation_kubeconfig fixture.
pytest_plugins = ["automation_identity"]

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SEED = seed_namespace()


def lab_timing():
    """The lab's shorter waits, when the playbooks ship them."""
    timing = REPO / "playbooks" / "vars" / "lab_timing.yml"
    return ["-e", f"@{timing}"] if timing.is_file() else []


def run_playbook(playbook, kubeconfig, *args):
    env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(REPO / ".venv" / "collections"), "NO_COLOR": "1",
           "ANSIBLE_FORCE_COLOR": "0"}
    return subprocess.run(
        [str(BIN / "ansible-playbook"), "-i", str(REPO / "inventory" / "seed_lab"), str(REPO / "playbooks" / playbook),
         "-e", json.dumps({"multinet_kubeconfig": kubeconfig}), *lab_timing(), *args],
        check=False, capture_output=True, text=True, cwd=REPO, env=env,
    )


def assert_succeeded(result):
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "failed=0" in result.stdout


def failed_task(output):
    """The name of the task whose failure stopped the run (the TASK header before the first
    failure), without its role prefix."""
    failure = re.search(r"^(fatal|failed): \[", output, flags=re.MULTILINE)  # failed: for a loop's item
    before = output[:failure.start()] if failure else ""
    headers = re.findall(r"^TASK \[(?:[\w.]+ : )?(.*)\] \**$", before, flags=re.MULTILINE)
    return headers[-1] if headers else None


def test_site_and_verify_succeed_with_exactly_the_shipped_rules(automation_kubeconfig, tmp_path):
    kubeconfig = automation_kubeconfig(shipped())
    assert_succeeded(run_playbook("site.yml", kubeconfig))
    assert_succeeded(run_playbook("verify.yml", kubeconfig, "-e", f"multinet_report_dir={tmp_path}"))


# One grant per stage, each taken away in turn: (where, api group, resource, verb, --tags, task that fails).
# where: None for the ClusterRole, else the namespace of the Role.
GRANTS = [
    (None, "operator.openshift.io", "networks", "patch", "switch",
     "Set spec.useMultiNetworkPolicy with a merge patch"),
    (None, "", "namespaces", "patch", "network",
     "Check the manifests with a server-side dry run (nothing is written)"),
    (None, "nmstate.io", "nodenetworkconfigurationpolicies", "list", "network",
     "Read the NodeNetworkConfigurationPolicies on the cluster"),
    ("openshift-marketplace", "packages.operators.coreos.com", "packagemanifests", "get", "nmstate",
     "Look up the package in the catalog"),
    (SEED, "k8s.cni.cncf.io", "multi-networkpolicies", "list", "policies",
     "Apply each intent's MultiNetworkPolicies"),
]


@pytest.mark.parametrize("where,group,resource,verb,tags,task", GRANTS,
                         ids=[f"{g[3]}-{g[2]}-{g[0] or 'cluster'}" for g in GRANTS])
def test_a_missing_grant_fails_its_task_with_a_403_naming_it(automation_kubeconfig, where, group, resource, verb,
                                                            tags, task):
    result = run_playbook("site.yml", automation_kubeconfig(without_verb(shipped(), group, resource, verb, where)),
                          "--tags", tags)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-4000:]
    assert failed_task(result.stdout) == task, output[-4000:]
    # The API server's message, quoted as is or JSON-escaped inside kubernetes.core's, maybe wrapped.
    message = f'cannot {verb} resource "{resource}" in API group "{group}"' + (f' in the namespace "{where}"' if where else "")
    pattern = r"\s+".join(re.escape(word).replace('"', r'\\?"') for word in message.split())
    assert re.search(pattern, output), output[-4000:]


def test_rules_grant_no_wildcards():
    """Least privilege: every verb, resource and group is named."""
    for rule in shipped(delete_namespaces=True).all_rules():
        assert "*" not in rule["verbs"] + rule["resources"] + rule["apiGroups"], rule


def test_secrets_are_granted_only_in_the_workload_namespace_by_name_and_never_listed():
    for namespace, rules in shipped(delete_namespaces=True).roles.items():
        for rule in rules:
            if "secrets" in rule["resources"]:
                assert namespace == SEED and rule.get("resourceNames") and "list" not in rule["verbs"], rule
    assert not [rule for rule in shipped(delete_namespaces=True).cluster if "secrets" in rule["resources"]]


def allowed(api, verb, resource, namespace=None, name=None, group="", subresource=None):
    review = client.V1SelfSubjectAccessReview(spec=client.V1SelfSubjectAccessReviewSpec(
        resource_attributes=client.V1ResourceAttributes(verb=verb, group=group, resource=resource, namespace=namespace,
                                                        name=name, subresource=subresource)))
    return client.AuthorizationV1Api(api).create_self_subject_access_review(review).status.allowed


@pytest.fixture
def foreign_secret(lab_api):
    """Another team's namespace with a Secret (not in the inventory)."""
    namespace = f"other-team-{uuid.uuid4().hex[:6]}"
    core = client.CoreV1Api(lab_api)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=namespace)))
    core.create_namespaced_secret(namespace, client.V1Secret(metadata=client.V1ObjectMeta(name="db-password"),
                                                             string_data={"password": "s3cret"}))
    yield namespace
    core.delete_namespace(namespace)


def test_the_identity_stays_in_what_the_inventory_manages(automation_kubeconfig, foreign_secret):
    api = config.new_client_from_config(config_file=automation_kubeconfig(shipped()))
    core = client.CoreV1Api(api)
    for call in (lambda: core.read_namespaced_secret("db-password", foreign_secret),
                 lambda: core.list_namespaced_secret(SEED)):
        with pytest.raises(client.ApiException) as error:
            call()
        assert error.value.status == 403
    cloud_init = next(rule["resourceNames"][0] for rule in shipped().roles[SEED] if "secrets" in rule["resources"])
    assert allowed(api, "get", "secrets", SEED, cloud_init)
    assert not allowed(api, "get", "secrets", SEED, "db-password")
    assert allowed(api, "create", "pods", SEED, subresource="exec", name="tinypod")
    for namespace in (foreign_secret, "kube-system", "openshift-ovn-kubernetes"):
        assert not allowed(api, "create", "pods", namespace, subresource="exec", name="any")
        assert not allowed(api, "create", "pods", namespace, name="any")
    assert allowed(api, "patch", "networks", name="cluster", group="operator.openshift.io")
    assert not allowed(api, "patch", "networks", name="other", group="operator.openshift.io")
    assert not allowed(api, "patch", "networks", name="cluster", group="config.openshift.io")
    for namespace in (SEED, "openshift-nmstate", "openshift-marketplace", foreign_secret):
        assert not allowed(api, "delete", "namespaces", name=namespace)
    for group, resource in (("operators.coreos.com", "subscriptions"), ("operators.coreos.com", "operatorgroups"),
                            ("operators.coreos.com", "clusterserviceversions")):
        assert not allowed(api, "delete", resource, "openshift-marketplace", "any", group)
    with pytest.raises(client.ApiException) as error:  # nothing on RBAC: it cannot widen its own rights
        client.RbacAuthorizationV1Api(api).list_cluster_role()
    assert error.value.status == 403
    api.close()


def test_namespace_deletion_is_a_separate_grant_for_the_managed_namespaces_only(automation_kubeconfig):
    api = config.new_client_from_config(config_file=automation_kubeconfig(shipped(delete_namespaces=True)))
    assert allowed(api, "delete", "namespaces", name=SEED)
    for namespace in ("openshift-marketplace", "kube-system", "default"):
        assert not allowed(api, "delete", "namespaces", name=namespace)
    api.close()


def test_namespace_creation_is_an_opt_in_grant_on_every_name(automation_kubeconfig, lab_api):
    """rbac.yml creates the managed namespaces, so the identity creates none, not even one of
    them (a `create` limited by name would read as allowed for a name, yet a POST carries none);
    the optional grant lets it create a namespace of any name."""
    name = f"made-by-automation-{uuid.uuid4().hex[:6]}"
    namespace = client.V1Namespace(metadata=client.V1ObjectMeta(name=name))
    api = config.new_client_from_config(config_file=automation_kubeconfig(shipped()))
    assert not allowed(api, "create", "namespaces") and not allowed(api, "create", "namespaces", name=SEED)
    with pytest.raises(client.ApiException) as error:
        client.CoreV1Api(api).create_namespace(namespace)
    assert error.value.status == 403
    api.close()
    api = config.new_client_from_config(config_file=automation_kubeconfig(shipped(create_namespaces=True)))
    try:
        wait_for("the namespace creation grant", lambda: allowed(api, "create", "namespaces"))
        client.CoreV1Api(api).create_namespace(namespace)
    finally:
        api.close()
        try:
            client.CoreV1Api(lab_api).delete_namespace(name)
        except client.ApiException as missing:
            if missing.status != 404:
                raise


def test_teardown_succeeds_with_the_shipped_rules_and_the_namespace_deletion_grant(automation_kubeconfig):
    assert_succeeded(run_playbook("teardown.yml", automation_kubeconfig(shipped(delete_namespaces=True))))
