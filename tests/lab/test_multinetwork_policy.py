"""ocpvirt.multinet.multinetwork_policy against the lab's real kube-apiserver.

The module runs the way Ansible runs it (an ad-hoc `ansible` call, JSON callback); every
assertion about the cluster is made with the kubernetes client, never with the module's
own report.
"""
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import yaml
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.compiler import compile_intent, intent_selector
from lab_helpers import create_localnet_nad

REPO_DIR = Path(__file__).resolve().parents[2]
ANSIBLE = str(Path(sys.executable).parent / "ansible")
MODULE = "ocpvirt.multinet.multinetwork_policy"
ANSIBLE_ENV = dict(
    os.environ,
    ANSIBLE_COLLECTIONS_PATH=str(REPO_DIR / ".venv" / "collections"),
    ANSIBLE_LOAD_CALLBACK_PLUGINS="1",
    ANSIBLE_STDOUT_CALLBACK="json",
    ANSIBLE_LOCALHOST_WARNING="false",
)
GROUP, VERSION, PLURAL = "k8s.cni.cncf.io", "v1beta1", "multi-networkpolicies"
# The module checks that the intent's NAD exists (require_network) before writing.
NAD_LISTER = {"apiGroups": [GROUP], "resources": ["network-attachment-definitions"], "verbs": ["list"]}
# ... and compares the workloads' ips with the live pods and VMs (check_addresses).
ADDRESS_READERS = [{"apiGroups": [""], "resources": ["pods"], "verbs": ["list"]},
                   {"apiGroups": ["kubevirt.io"], "resources": ["virtualmachines", "virtualmachineinstances"],
                    "verbs": ["list"]}]


def run_module(kubeconfig, intent, *flags, **params):
    """One module run (`flags`: --check, --diff); returns the task result."""
    args = dict(params, intent=intent, kubeconfig=kubeconfig)
    proc = subprocess.run([ANSIBLE, "localhost", "-c", "local", "-m", MODULE, "-a", json.dumps(args), *flags],
                          cwd=REPO_DIR, env=ANSIBLE_ENV, capture_output=True, text=True, check=False)
    try:
        return json.loads(proc.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]
    except (ValueError, KeyError, IndexError):
        pytest.fail("ansible gave no task result (rc {0}):\n{1}\n{2}".format(proc.returncode, proc.stdout, proc.stderr))


def tenant_intent(namespace, **overrides):
    intent = {
        "namespace": namespace,
        "network": "tenant-net",
        "workloads": {
            "web": {"selector": {"app": "web"}, "ips": ["192.168.77.10"]},
            "db": {"vm": "db-vm", "ips": ["192.168.77.20"]},
        },
        "endpoints": {"gateway": "192.168.77.1"},
        "allow": [
            {"from": "web", "to": "db", "ports": ["tcp/5432"]},
            {"from": "db", "to": "gateway"},
        ],
    }
    intent.update(overrides)
    return intent


def names(policies):
    return sorted(p["metadata"]["name"] for p in policies)


@pytest.fixture
def mnp(lab_api, lab_namespace):
    create_localnet_nad(client.CustomObjectsApi(lab_api), lab_namespace, "tenant-net")  # the intent's network
    return PolicyApi(client.CustomObjectsApi(lab_api), lab_namespace)


class PolicyApi:
    """MultiNetworkPolicies of the test namespace, read and edited as another user would."""

    def __init__(self, api, namespace):
        self.api, self.namespace = api, namespace

    def items(self, selector=None):
        found = self.api.list_namespaced_custom_object(GROUP, VERSION, self.namespace, PLURAL,
                                                       label_selector=selector)
        return found["items"]

    def by_name(self, selector=None):
        return {p["metadata"]["name"]: p for p in self.items(selector)}

    def versions(self):
        return {name: p["metadata"]["resourceVersion"] for name, p in self.by_name().items()}

    def create(self, name, spec, labels=None):
        body = {"apiVersion": GROUP + "/" + VERSION, "kind": "MultiNetworkPolicy",
                "metadata": {"name": name, "labels": labels or {}}, "spec": spec}
        return self.api.create_namespaced_custom_object(GROUP, VERSION, self.namespace, PLURAL, body)

    def edit(self, name, patch):
        """A hand edit: a merge patch under kubectl-edit's field manager."""
        return self.api.patch_namespaced_custom_object(GROUP, VERSION, self.namespace, PLURAL, name, patch,
                                                       field_manager="kubectl-edit")


def test_first_run_creates_and_second_run_writes_nothing(lab_kubeconfig, mnp):
    intent = tenant_intent(mnp.namespace)
    first = run_module(lab_kubeconfig, intent)
    assert first["changed"] and not first.get("failed")
    assert first["created"] == names(compile_intent(intent)) and first["updated"] == first["deleted"] == []
    live = mnp.by_name(intent_selector(intent))
    for policy in compile_intent(intent):
        assert live[policy["metadata"]["name"]]["spec"] == policy["spec"]
        assert any(m["manager"] == "ocpvirt.multinet" and m["operation"] == "Apply"
                   for m in live[policy["metadata"]["name"]]["metadata"]["managedFields"])

    versions = mnp.versions()
    second = run_module(lab_kubeconfig, intent)
    assert not second["changed"] and second["created"] == second["updated"] == second["deleted"] == []
    assert mnp.versions() == versions
    # by default no manifest comes back (return_policies: names); every name always does
    assert first["policies"] == second["policies"] == []
    assert first["policy_names"] == second["policy_names"] == names(compile_intent(intent))


def test_labels_and_annotations_added_by_others_are_left_alone(lab_kubeconfig, mnp):
    intent = tenant_intent(mnp.namespace)
    run_module(lab_kubeconfig, intent)
    mnp.edit("tenant-net-default-deny", {"metadata": {"labels": {"team": "blue"},
                                                      "annotations": {"example.com/audited": "yes"}}})
    versions = mnp.versions()
    assert not run_module(lab_kubeconfig, intent)["changed"]
    assert mnp.versions() == versions


def test_a_hand_edit_is_put_back_and_reported(lab_kubeconfig, mnp):
    intent = tenant_intent(mnp.namespace)
    run_module(lab_kubeconfig, intent)
    mnp.edit("tenant-net-allow-db", {"spec": {"ingress": [{"from": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]}]}})
    # a key the compiled policy does not set: server-side apply alone would keep it
    mnp.edit("tenant-net-allow-web", {"spec": {"ingress": [{}], "policyTypes": ["Egress", "Ingress"]}})

    result = run_module(lab_kubeconfig, intent)
    assert result["changed"] and result["updated"] == ["tenant-net-allow-db", "tenant-net-allow-web"]
    assert result["created"] == result["deleted"] == []
    live = mnp.by_name()
    for policy in compile_intent(intent):
        assert live[policy["metadata"]["name"]]["spec"] == policy["spec"]
    assert not run_module(lab_kubeconfig, intent)["changed"]


def test_diff_and_check_mode_show_the_edit_without_writing(lab_kubeconfig, mnp):
    intent = tenant_intent(mnp.namespace)
    run_module(lab_kubeconfig, intent)
    mnp.edit("tenant-net-allow-db", {"spec": {"ingress": [{"from": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]}]}})
    versions = mnp.versions()

    result = run_module(lab_kubeconfig, intent, "--check", "--diff")
    assert result["changed"] and result["updated"] == ["tenant-net-allow-db"]
    flows, diff = result["diff"]
    # Putting the edit back closes what it opened: the gateway may no longer reach db.
    assert flows["prepared"].splitlines()[1:] == ["  closes gateway -> db all"]
    assert diff["before"]["spec"]["ingress"] == [{"from": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]}]
    assert diff["after"]["spec"]["ingress"][0]["from"] == [{"ipBlock": {"cidr": "192.168.77.10/32"}}]
    assert mnp.versions() == versions


def test_check_mode_creates_nothing(lab_kubeconfig, mnp):
    intent = tenant_intent(mnp.namespace)
    result = run_module(lab_kubeconfig, intent, "--check")
    assert result["changed"] and result["created"] == names(compile_intent(intent))
    assert mnp.items() == []


def test_prune_removes_only_this_intents_stale_policies(lab_kubeconfig, mnp):
    unmanaged = mnp.create("hand-made", {"podSelector": {}, "policyTypes": ["Ingress"]},
                           labels={"app.kubernetes.io/managed-by": "someone-else"})
    intent = tenant_intent(mnp.namespace)
    other = tenant_intent(mnp.namespace, name="other")
    run_module(lab_kubeconfig, intent)
    run_module(lab_kubeconfig, other)

    smaller = tenant_intent(mnp.namespace, allow=[{"from": "db", "to": "gateway"}])
    result = run_module(lab_kubeconfig, smaller)
    assert result["deleted"] == ["tenant-net-allow-web"] and result["created"] == []
    assert set(mnp.by_name()) == {"hand-made", "tenant-net-allow-db", "tenant-net-default-deny",
                                  *names(compile_intent(other))}
    assert mnp.by_name()["hand-made"]["metadata"]["resourceVersion"] == unmanaged["metadata"]["resourceVersion"]


def test_without_prune_stale_policies_stay(lab_kubeconfig, mnp):
    run_module(lab_kubeconfig, tenant_intent(mnp.namespace))
    smaller = tenant_intent(mnp.namespace, allow=[{"from": "db", "to": "gateway"}])
    result = run_module(lab_kubeconfig, smaller, prune=False)
    assert result["deleted"] == [] and "tenant-net-allow-web" in mnp.by_name()


def test_state_absent_deletes_only_this_intents_policies(lab_kubeconfig, mnp):
    mnp.create("hand-made", {"podSelector": {}, "policyTypes": ["Ingress"]})
    intent = tenant_intent(mnp.namespace)
    other = tenant_intent(mnp.namespace, name="other")
    run_module(lab_kubeconfig, intent)
    run_module(lab_kubeconfig, other)

    result = run_module(lab_kubeconfig, intent, state="absent")
    assert result["changed"] and result["deleted"] == names(compile_intent(intent)) and result["policies"] == []
    assert set(mnp.by_name()) == {"hand-made", *names(compile_intent(other))}
    assert not run_module(lab_kubeconfig, intent, state="absent")["changed"]


def test_an_invalid_intent_applies_nothing(lab_kubeconfig, mnp):
    broken = tenant_intent(mnp.namespace)
    broken["allow"] = broken["allow"] + [{"from": "web", "to": "gateway", "ports": ["tcp/http"]}]
    result = run_module(lab_kubeconfig, broken)
    assert result["failed"] and not result["changed"]
    assert "allow[2].ports" in result["msg"] and "tcp/http" in result["msg"]
    assert mnp.items() == []


def _served_end_port(lab_api):
    crd = json.loads(client.ApiextensionsV1Api(lab_api).read_custom_resource_definition(
        "multi-networkpolicies.k8s.cni.cncf.io", _preload_content=False).data)
    [served] = [v for v in crd["spec"]["versions"] if v["name"] == VERSION]
    ingress = served["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]["ingress"]
    return "endPort" in ingress["items"]["properties"]["ports"]["items"]["properties"]


def test_a_port_range_on_a_schema_without_end_port_changes_nothing_or_is_stored_whole(lab_kubeconfig, lab_api, mnp):
    """OpenShift 4.15's MultiNetworkPolicy CRD (the lab's, with the upstream CRDs) has no endPort:
    a port range either compiles to policies the schema accepts, stored as compiled, or the run
    fails before its first write and the namespace holds exactly what it held before."""
    first = tenant_intent(mnp.namespace)
    assert not run_module(lab_kubeconfig, first).get("failed")
    before = mnp.by_name()
    ranged = tenant_intent(mnp.namespace, allow=[
        {"from": "web", "to": "db", "ports": ["tcp/5432", "tcp/8000-8010"]},
        {"from": "db", "to": "gateway", "ports": ["udp/53"]},
        {"from": "db", "to": "web", "ports": ["tcp/9000-9003"]}])
    result = run_module(lab_kubeconfig, ranged)
    if result.get("failed"):
        assert result["created"] == result["updated"] == result["deleted"] == []
        assert "nothing was written" in result["msg"]
        if not _served_end_port(lab_api):
            assert "endPort: field not declared in schema" in result["msg"]
        assert mnp.by_name() == before  # resourceVersions included: not one write happened
    else:
        live = mnp.by_name(intent_selector(ranged))
        assert sorted(live) == names(compile_intent(ranged))
        for policy in compile_intent(ranged):
            assert live[policy["metadata"]["name"]]["spec"] == policy["spec"]  # no range silently shrunk


def test_a_missing_namespace_is_a_clear_failure(lab_kubeconfig):
    ghost = "ghost-" + uuid.uuid4().hex[:8]
    result = run_module(lab_kubeconfig, tenant_intent(ghost), require_network=False)
    assert result["failed"]
    assert result["msg"] == ("Failed to apply MultiNetworkPolicy {0}/tenant-net-allow-db: namespace '{0}' does not exist"
                             " (refused by the server-side dry run that precedes every write: nothing was written)"
                             .format(ghost))


def serviceaccount_kubeconfig(lab_api, namespace, name, rules=()):
    """Kubeconfig of a new ServiceAccount allowed `rules` in `namespace` (none: no rights at all)."""
    core, rbac = client.CoreV1Api(lab_api), client.RbacAuthorizationV1Api(lab_api)
    core.create_namespaced_service_account(namespace, {"metadata": {"name": name}})
    if rules:
        rbac.create_namespaced_role(namespace, {"metadata": {"name": name}, "rules": list(rules)})
        rbac.create_namespaced_role_binding(namespace, {
            "metadata": {"name": name},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
            "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": namespace}]})
    out = subprocess.run([sys.executable, str(REPO_DIR / "lab" / "labctl.py"), "kubeconfig-for-serviceaccount",
                          namespace, name], check=True, capture_output=True, text=True).stdout
    return out.strip().splitlines()[-1]


def test_a_serviceaccount_without_rights_gets_a_clear_403(lab_kubeconfig, lab_api, mnp):
    kubeconfig = serviceaccount_kubeconfig(lab_api, mnp.namespace, "nobody")
    result = run_module(kubeconfig, tenant_intent(mnp.namespace))
    assert result["failed"] and not result["changed"]
    assert result["msg"].startswith("Failed to list MultiNetworkPolicies in namespace '{0}'".format(mnp.namespace))
    assert "Forbidden (403)" in result["msg"] and "system:serviceaccount:{0}:nobody".format(mnp.namespace) in result["msg"]
    assert "Traceback" not in result["msg"]


def test_a_serviceaccount_that_may_only_read_fails_on_the_first_write(lab_kubeconfig, lab_api, mnp):
    reader = {"apiGroups": [GROUP], "resources": [PLURAL], "verbs": ["get", "list"]}
    # The intent's Lease (one writer per intent) is taken before the first write.
    lease = {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["get", "create", "update", "delete"]}
    kubeconfig = serviceaccount_kubeconfig(lab_api, mnp.namespace, "reader", [reader, NAD_LISTER, lease] + ADDRESS_READERS)
    result = run_module(kubeconfig, tenant_intent(mnp.namespace))
    assert result["failed"] and result["created"] == []
    assert result["msg"].startswith("Failed to apply MultiNetworkPolicy {0}/tenant-net-allow-db: Forbidden (403): ".format(mnp.namespace))
    assert mnp.items() == []


def test_a_no_op_run_sends_no_write_request(lab_kubeconfig, lab_api, mnp):
    """resourceVersions cannot show it (a no-op apply is not persisted): a reader can run it."""
    intent = tenant_intent(mnp.namespace)
    run_module(lab_kubeconfig, intent)
    reader = {"apiGroups": [GROUP], "resources": [PLURAL], "verbs": ["list"]}
    result = run_module(serviceaccount_kubeconfig(lab_api, mnp.namespace, "lister", [reader, NAD_LISTER] + ADDRESS_READERS),
                        intent,
                        return_policies="all")
    assert not result.get("failed"), result.get("msg")
    assert not result["changed"] and result["policies"] == compile_intent(intent)


@pytest.fixture
def deny_open_ipblocks(lab_api, lab_namespace):
    """A ValidatingAdmissionPolicy, as a platform team would install, refusing 0.0.0.0/0 peers."""
    admission = client.AdmissionregistrationV1Api(lab_api)
    name = "deny-open-ipblock-" + lab_namespace
    admission.create_validating_admission_policy({
        "metadata": {"name": name},
        "spec": {
            "failurePolicy": "Fail",
            "matchConstraints": {"resourceRules": [{"apiGroups": [GROUP], "apiVersions": [VERSION],
                                                    "operations": ["CREATE", "UPDATE"], "resources": [PLURAL]}]},
            "validations": [{
                "expression": "!has(object.spec.egress) || object.spec.egress.all(r, !has(r.to) || "
                              "r.to.all(p, !has(p.ipBlock) || p.ipBlock.cidr != '0.0.0.0/0'))",
                "message": "egress to 0.0.0.0/0 is not allowed in this cluster"}]}})
    admission.create_validating_admission_policy_binding({
        "metadata": {"name": name},
        "spec": {"policyName": name, "validationActions": ["Deny"],
                 "matchResources": {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": lab_namespace}}}}})
    _wait_until_enforced(client.CustomObjectsApi(lab_api), lab_namespace)
    yield
    admission.delete_validating_admission_policy_binding(name)
    admission.delete_validating_admission_policy(name)


def _wait_until_enforced(api, namespace, timeout=30):
    probe = {"apiVersion": GROUP + "/" + VERSION, "kind": "MultiNetworkPolicy", "metadata": {"name": "probe"},
             "spec": {"podSelector": {}, "egress": [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]}]}}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            api.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, probe, dry_run="All")
        except ApiException as error:
            if error.status == 422:
                return
            raise
        time.sleep(0.5)
    pytest.fail("the ValidatingAdmissionPolicy was not enforced within {0}s".format(timeout))


def test_a_422_from_the_server_is_a_clear_failure(lab_kubeconfig, mnp, deny_open_ipblocks):
    intent = tenant_intent(mnp.namespace, endpoints={"gateway": "192.168.77.1", "internet": "0.0.0.0/0"})
    intent["allow"] = intent["allow"] + [{"from": "db", "to": "internet"}]
    result = run_module(lab_kubeconfig, intent)
    assert result["failed"] and result["created"] == []
    assert result["msg"].startswith("Failed to apply MultiNetworkPolicy {0}/tenant-net-allow-db: Invalid (422): ".format(mnp.namespace))
    assert "egress to 0.0.0.0/0 is not allowed in this cluster" in result["msg"]
    assert mnp.items() == []


def run_playbook(playbook, *flags):
    """One ansible-playbook run of `playbook` (a path); returns its tasks' results on localhost."""
    proc = subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), str(playbook), *flags],
                          cwd=REPO_DIR, env=ANSIBLE_ENV, capture_output=True, text=True, check=False)
    try:
        return [task["hosts"]["localhost"] for task in json.loads(proc.stdout)["plays"][0]["tasks"]]
    except (ValueError, KeyError, IndexError):
        pytest.fail("ansible-playbook gave no result (rc {0}):\n{1}\n{2}".format(proc.returncode, proc.stdout, proc.stderr))


def test_an_intent_file_is_found_next_to_the_playbook_and_applied(lab_kubeconfig, mnp, tmp_path):
    intent = tenant_intent(mnp.namespace)
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "tenant.yaml").write_text(yaml.safe_dump(intent))
    (tmp_path / "broken.json").write_text('{"namespace": "%s", "network": ' % mnp.namespace)
    task = {"ocpvirt.multinet.multinetwork_policy": {"src": "tenant.yaml", "kubeconfig": lab_kubeconfig},
            "ignore_errors": True}
    tasks = [task, task,
             {**task, "ocpvirt.multinet.multinetwork_policy": {"src": "tenant.yml", "kubeconfig": lab_kubeconfig}},
             {**task, "ocpvirt.multinet.multinetwork_policy": {"src": "broken.json", "kubeconfig": lab_kubeconfig}},
             {**task, "ocpvirt.multinet.multinetwork_policy": {"src": "tenant.yaml", "intent": intent,
                                                               "kubeconfig": lab_kubeconfig}}]
    playbook = tmp_path / "apply.yml"
    playbook.write_text(yaml.safe_dump([{"hosts": "localhost", "connection": "local", "gather_facts": False,
                                         "tasks": tasks}]))
    first, second, missing, broken, both = run_playbook(playbook)
    assert first["changed"] and first["created"] == names(compile_intent(intent))  # found in files/
    assert not second["changed"] and second["created"] == second["updated"] == []
    assert missing["failed"] and missing["msg"].startswith("src: cannot find the intent file 'tenant.yml'")
    assert broken["failed"] and "src: is neither JSON nor valid YAML" in broken["msg"]
    assert str(tmp_path / "broken.json") in broken["msg"]
    assert both["failed"] and "mutually exclusive: intent|src" in both["msg"]
    assert set(mnp.by_name()) == set(names(compile_intent(intent)))
