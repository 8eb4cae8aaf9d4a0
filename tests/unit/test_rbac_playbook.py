"""playbooks/rbac.yml writes deploy/rbac/ for the seed inventory, and only the example's names for it."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ANSIBLE_PLAYBOOK = Path(sys.executable).with_name("ansible-playbook")
GENERATED = ("clusterrole.yml", "roles.yml", "delete-namespaces.yml", "create-namespaces.yml", "ovn-inspection.yml")


def render(inventory, out):
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")}
    done = subprocess.run([str(ANSIBLE_PLAYBOOK), "-i", inventory, "playbooks/rbac.yml", "-e", f"rbac_output_dir={out}"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="module")
def seed_output(tmp_path_factory):
    out = tmp_path_factory.mktemp("seed")
    render("inventory/seed_lab", out)
    return out


@pytest.mark.parametrize("name", GENERATED)
def test_deploy_rbac_is_the_playbooks_output_for_the_seed_inventory(seed_output, name):
    assert (seed_output / name).read_text() == (ROOT / "deploy" / "rbac" / name).read_text(), (
        f"deploy/rbac/{name} is stale: run ansible-playbook -i inventory/seed_lab playbooks/rbac.yml "
        "-e rbac_output_dir=deploy/rbac")


def test_the_example_inventory_gets_its_own_namespaces_only(tmp_path):
    render("inventory/example", tmp_path)
    text = "".join((tmp_path / name).read_text() for name in GENERATED)
    assert "namespace: my-team" in text
    for seed_value in ("llm-demo", "tinypod", "cloud-init", "openshift-nmstate", "packagemanifests"):
        assert seed_value not in text, seed_value
