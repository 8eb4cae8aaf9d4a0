"""Every playbook fails, before anything else, when multinet_hosts matches no host of the
inventory (Ansible itself would skip the play and exit 0 having done nothing)."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ANSIBLE_PLAYBOOK = Path(sys.executable).with_name("ansible-playbook")
# The playbooks that run on the clusters of the inventory (plan.yml runs on the controller only).
PLAYBOOKS = sorted(path.name for path in (ROOT / "playbooks").glob("*.yml")
                   if path.name != "hosts_check.yml" and "multinet_hosts" in path.read_text())


def run(tmp_path, playbook, *extra):
    inventory = tmp_path / "hosts.yml"
    inventory.write_text("others:\n  hosts:\n    my-cluster:\n      ansible_connection: local\n")
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")}
    env["ANSIBLE_COLLECTIONS_PATH"] = str(ROOT / ".venv" / "collections")
    return subprocess.run([str(ANSIBLE_PLAYBOOK), "-i", str(inventory), str(ROOT / "playbooks" / playbook), *extra],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)


def test_every_playbook_imports_the_check_first():
    assert PLAYBOOKS == ["inspect.yml", "rbac.yml", "render.yml", "site.yml", "teardown.yml", "verify.yml"]


@pytest.mark.parametrize("playbook", PLAYBOOKS)
def test_no_matching_host_fails_naming_the_pattern_and_the_groups(tmp_path, playbook):
    done = run(tmp_path, playbook)

    assert done.returncode != 0
    assert 'multinet_hosts \\"clusters\\" matches no host' in done.stdout or \
        'multinet_hosts "clusters" matches no host' in done.stdout, done.stdout
    assert '["others"]' in done.stdout
    assert "my-cluster" not in done.stdout.split("PLAY RECAP")[-1]  # no play ran on the host


def test_a_pattern_given_with_e_is_named(tmp_path):
    done = run(tmp_path, "verify.yml", "-e", "multinet_hosts=prod")

    assert done.returncode != 0 and "prod" in done.stdout and "matches no host" in done.stdout


@pytest.mark.parametrize("playbook", PLAYBOOKS)
def test_the_check_runs_under_any_tag(tmp_path, playbook):
    """--tags selecting one stage used to skip the check and exit 0 having done nothing."""
    done = run(tmp_path, playbook, "--tags", "policies", "-e", "multinet_hosts=nomatch")

    assert done.returncode != 0, done.stdout
    assert "nomatch" in done.stdout and "matches no host" in done.stdout
