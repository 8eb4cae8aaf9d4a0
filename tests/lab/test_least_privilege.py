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

from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.namespace_ownership import (  # noqa: E402
    CREATED_ANNOTATION)  # pylint: disable=wrong-import-position
from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.network_switch import (  # noqa: E402
    RECORD_ANNOTATION, switch_patch)  # pylint: disable=wrong-import-position

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
     "Set spec.useMultiNetworkPolicy, recording the value before our first change, with a JSON patch"),
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
def test_a_missing_grant_fails_its_task_with_a_403_naming_it(automation_kubeconfig, custom, where, group, resource,
                                                            verb, tags, task):
    kubeconfig = automation_kubeconfig(without_verb(shipped(), group, resource, verb, where))
    if resource == "networks":
        # The switch writes only a change: with it on (an earlier test's run), nothing would be patched.
        network = ("operator.openshift.io", "v1", "networks", "cluster")
        before = custom.get_cluster_custom_object(*network)["spec"].get("useMultiNetworkPolicy")
        custom.patch_cluster_custom_object(*network, {"spec": {"useMultiNetworkPolicy": False}})
        try:
            result = run_playbook("site.yml", kubeconfig, "--tags", tags)
        finally:
            custom.patch_cluster_custom_object(*network, {"spec": {"useMultiNetworkPolicy": before}})
    else:
        result = run_playbook("site.yml", kubeconfig, "--tags", tags)
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
    assert not allowed(api, "create", "pods", SEED, subresource="exec", name="virt-launcher-not-ours")
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


NETWORK = ("operator.openshift.io", "v1", "networks", "cluster")
JSON_PATCH = "application/json-patch+json"


def refusal(call):
    """The API server's refusal of `call` as (status, message), or None when it was accepted."""
    try:
        call()
    except client.ApiException as error:
        return error.status, json.loads(error.body).get("message", "")
    return None


def admission_refusal(call):
    """The refusal of `call` by one of our admission policies, once the API server has loaded them."""
    def refused():
        answer = refusal(call)
        return answer[1] if answer and "ValidatingAdmissionPolicy" in answer[1] else None
    return wait_for("the admission policies to be in force", refused, timeout=60)


def test_the_identity_may_change_only_the_switch_of_the_network(automation_kubeconfig):
    """RBAC lets the identity patch network.operator.openshift.io/cluster; its admission policy
    refuses every change but spec.useMultiNetworkPolicy and the record annotation (server dry runs)."""
    api = config.new_client_from_config(config_file=automation_kubeconfig(shipped()))
    custom = client.CustomObjectsApi(api)

    def dry_patch(body):
        return lambda: custom.patch_cluster_custom_object(*NETWORK, body, dry_run="All")
    message = admission_refusal(dry_patch({"spec": {"disableMultiNetwork": True}}))
    assert "may change only spec.useMultiNetworkPolicy" in message, message
    for body in ({"spec": {"logLevel": "TraceAll"}},
                 {"spec": {"clusterNetwork": [{"cidr": "10.0.0.0/8", "hostPrefix": 23}]}},
                 {"metadata": {"annotations": {"someone/else": "x"}}},
                 {"metadata": {"labels": {"someone": "else"}}}):
        status, message = refusal(dry_patch(body))
        assert status == 403 and "ValidatingAdmissionPolicy" in message, (body, status, message)
    for body in ({"spec": {"useMultiNetworkPolicy": False}}, {"metadata": {"annotations": {RECORD_ANNOTATION: "true"}}}):
        assert refusal(dry_patch(body)) is None, body
    api.close()


def test_the_switchs_json_patch_is_refused_when_the_network_changed_since_it_was_read(automation_kubeconfig, lab_api):
    """The test operations of the switch's patch are kube-apiserver's to check: a patch built from
    a read whose spec or annotations differ from the stored object is refused (422), one built from
    the stored object is accepted (server dry runs, as the identity)."""
    network = client.CustomObjectsApi(lab_api).get_cluster_custom_object(*NETWORK)
    api = config.new_client_from_config(config_file=automation_kubeconfig(shipped()))
    custom = client.CustomObjectsApi(api)
    enabled = not network["spec"].get("useMultiNetworkPolicy", False)
    stale_spec = {**network, "spec": {**network["spec"], "logLevel": "Debug"}}
    stale_annotations = {**network, "metadata": {**network["metadata"], "annotations": None}}
    if not network["metadata"].get("annotations"):
        stale_annotations["metadata"]["annotations"] = {"someone/else": "x"}
    for stale in (stale_spec, stale_annotations):
        status, message = refusal(lambda read=stale: custom.patch_cluster_custom_object(
            *NETWORK, switch_patch(read, enabled), dry_run="All", _content_type=JSON_PATCH))
        # kube-apiserver words a failed `test` as "the server rejected our request due to an error in our request".
        assert status == 422, message
    assert refusal(lambda: custom.patch_cluster_custom_object(*NETWORK, switch_patch(network, enabled),
                                                              dry_run="All", _content_type=JSON_PATCH)) is None
    api.close()


def test_namespace_patches_are_limited_to_our_label(automation_kubeconfig):
    """No pod-security change, no other label, no annotation (the created-namespace record above all)."""
    api = config.new_client_from_config(config_file=automation_kubeconfig(shipped()))
    core = client.CoreV1Api(api)

    def dry_patch(metadata):
        return lambda: core.patch_namespace(SEED, {"metadata": metadata}, dry_run="All")
    message = admission_refusal(dry_patch({"labels": {"pod-security.kubernetes.io/enforce": "privileged"}}))
    assert "may set only the label app.kubernetes.io/managed-by=ocpvirt.multinet" in message, message
    for metadata in ({"annotations": {CREATED_ANNOTATION: "ocpvirt.multinet"}},
                     {"labels": {"app.kubernetes.io/managed-by": "someone-else"}}):
        status, message = refusal(dry_patch(metadata))
        assert status == 403 and "ValidatingAdmissionPolicy" in message, (metadata, status, message)
    assert refusal(dry_patch({"labels": {"app.kubernetes.io/managed-by": "ocpvirt.multinet"}})) is None
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
