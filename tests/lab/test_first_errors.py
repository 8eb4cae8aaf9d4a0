"""The first errors of docs/troubleshooting.md, provoked through site.yml, say what the doc says.

Each case breaks one thing in an otherwise working run against the lab and checks the message a
user reads, so the troubleshooting page cannot drift from what really happens.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from kubernetes.client.rest import ApiException

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
DOC = (REPO / "docs" / "troubleshooting.md").read_text(encoding="utf-8")


def run_site(tmp_path, extra_vars, *args, python=None):
    env = {key: value for key, value in os.environ.items() if not key.startswith(("ANSIBLE_", "K8S_AUTH_"))}
    # A home without ~/.kube/config, so nothing is found by accident.
    env.update(HOME=str(tmp_path), ANSIBLE_COLLECTIONS_PATH=str(REPO / ".venv" / "collections"), NO_COLOR="1",
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"))
    if python:
        extra_vars = {**extra_vars, "ansible_python_interpreter": python}
    result = subprocess.run(
        [str(BIN / "ansible-playbook"), "-i", str(REPO / "inventory" / "seed_lab"), str(REPO / "playbooks" / "site.yml"),
         "-e", json.dumps(extra_vars), *args],
        check=False, capture_output=True, text=True, cwd=REPO, env=env, timeout=300,
    )
    return result.returncode, result.stdout + result.stderr


def assert_fails_saying(outcome, *phrases):
    returncode, output = outcome
    assert returncode != 0, output[-3000:]
    flat = " ".join(output.split())
    for phrase in phrases:
        assert phrase in flat, f"{phrase!r} not in: {output[-3000:]}"
        assert phrase in " ".join(DOC.split()), f"docs/troubleshooting.md does not show {phrase!r}"


def test_missing_kubeconfig_file(tmp_path):
    outcome = run_site(tmp_path, {"multinet_kubeconfig": str(tmp_path / "missing")})
    assert_fails_saying(outcome, "Could not find or access", "on the Ansible Controller")


def test_no_kubeconfig_at_all(tmp_path):
    outcome = run_site(tmp_path, {"multinet_kubeconfig": ""})
    assert_fails_saying(outcome, "Could not create API client: Invalid kube-config file. No configuration found.")


def test_context_missing_from_kubeconfig(tmp_path, lab_kubeconfig):
    outcome = run_site(tmp_path, {"multinet_kubeconfig": lab_kubeconfig, "multinet_context": "prod-east"})
    assert_fails_saying(outcome, "Invalid kube-config file. Expected object with name prod-east in")


def test_unreachable_api_server(tmp_path):
    outcome = run_site(tmp_path, {"multinet_kubeconfig": "", "multinet_api_host": "https://127.0.0.1:1",
                                  "multinet_api_key": "not-a-token"})
    assert_fails_saying(outcome, "Max retries exceeded with url: /version", "Connection refused")


def python_without_kubernetes():
    for candidate in ("/usr/bin/python3", "/usr/local/bin/python3"):
        if Path(candidate).exists() and subprocess.run([candidate, "-c", "import kubernetes"],
                                                       check=False, capture_output=True).returncode != 0:
            return candidate
    return None


@pytest.mark.skipif(python_without_kubernetes() is None, reason="every Python here has the kubernetes package")
def test_python_without_the_kubernetes_package(tmp_path, lab_kubeconfig):
    outcome = run_site(tmp_path, {"multinet_kubeconfig": lab_kubeconfig}, python=python_without_kubernetes())
    assert_fails_saying(outcome, "Failed to import the required Python library (kubernetes)")


def test_operator_package_missing_from_the_catalog(tmp_path, lab_kubeconfig):
    outcome = run_site(tmp_path, {"multinet_kubeconfig": lab_kubeconfig,
                                  "nmstate_operator_package": "kubernetes-nmstate-operator-typo"}, "--tags", "nmstate")
    assert_fails_saying(outcome, 'package "kubernetes-nmstate-operator-typo" is not offered by any catalog',
                        "oc get packagemanifests -n openshift-marketplace")


def _nmstate_footprint(custom, core):
    """What the nmstate stage could create or change: the NMState instance and the operator's
    namespace with its OperatorGroups and Subscriptions (names and resourceVersions)."""
    def version(read):
        try:
            found = read()
        except ApiException as error:
            if error.status == 404:
                return None
            raise
        return found["metadata"]["resourceVersion"] if isinstance(found, dict) else found.metadata.resource_version
    footprint = {"nmstate": version(lambda: custom.get_cluster_custom_object("nmstate.io", "v1", "nmstates", "nmstate")),
                 "namespace": version(lambda: core.read_namespace("openshift-nmstate"))}
    if footprint["namespace"]:
        for group, api, plural in (("operators.coreos.com", "v1", "operatorgroups"),
                                   ("operators.coreos.com", "v1alpha1", "subscriptions")):
            items = custom.list_namespaced_custom_object(group, api, "openshift-nmstate", plural)["items"]
            footprint[plural] = {i["metadata"]["name"]: i["metadata"]["resourceVersion"] for i in items}
    return footprint


def test_a_typo_under_nmstate_spec_fails_before_anything_is_created(tmp_path, lab_kubeconfig, custom, core,
                                                                    nmstate_installed):
    before = _nmstate_footprint(custom, core)
    outcome = run_site(tmp_path, {"multinet_kubeconfig": lab_kubeconfig,
                                  "nmstate_spec": {"nodeSelectr": {"node-role.kubernetes.io/worker": ""}}},
                       "--tags", "nmstate")
    assert_fails_saying(outcome, "Check the NMState instance before anything is written",
                        "Check the manifests with a server-side dry run", "field not declared in schema")
    assert ".spec.nodeSelectr: field not declared in schema" in outcome[1]
    assert _nmstate_footprint(custom, core) == before
