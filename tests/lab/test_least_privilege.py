"""deploy/rbac/ is enough for site.yml, and a rule less is a clear failure (real RBAC in the lab)."""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from kubernetes import client, config

pytest.register_assert_rewrite("automation_identity")
from automation_identity import shipped_rules, without_verb  # noqa: E402  pylint: disable=wrong-import-position

# The automation_kubeconfig fixture.
pytest_plugins = ["automation_identity"]

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def lab_timing():
    """The lab's shorter waits, when the playbooks ship them."""
    timing = REPO / "playbooks" / "vars" / "lab_timing.yml"
    return ["-e", f"@{timing}"] if timing.is_file() else []


def run_site(kubeconfig, *args):
    env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(REPO / ".venv" / "collections"), "NO_COLOR": "1",
           "ANSIBLE_FORCE_COLOR": "0"}
    return subprocess.run(
        [str(BIN / "ansible-playbook"), "-i", str(REPO / "inventory" / "seed_lab"), str(REPO / "playbooks" / "site.yml"),
         "-e", json.dumps({"multinet_kubeconfig": kubeconfig}), *lab_timing(), *args],
        check=False, capture_output=True, text=True, cwd=REPO, env=env,
    )


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
    # The API server's message, quoted as is or JSON-escaped inside kubernetes.core's.
    assert re.search(r'cannot patch resource \\?"networks\\?" in API group \\?"operator.openshift.io\\?"', output), (
        output[-4000:])


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
