"""playbooks/rbac.yml writes deploy/rbac/ for the seed inventory, and only the example's names for it."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ANSIBLE_PLAYBOOK = Path(sys.executable).with_name("ansible-playbook")
GENERATED = ("clusterrole.yml", "roles.yml", "delete-namespaces.yml", "create-namespaces.yml", "ovn-inspection.yml",
             "admission-policies.yml")


def run(inventory, out, *extra):
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")}
    return subprocess.run([str(ANSIBLE_PLAYBOOK), "-i", inventory, "playbooks/rbac.yml", "-e", f"rbac_output_dir={out}",
                           *extra], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)


def render(inventory, out):
    done = run(inventory, out)
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


# (extra vars, the message's start): each refused before anything is written.
REFUSED = [
    ({"rbac_name": "bad name"}, "name (rbac.yml: rbac_name): must be a DNS-1123 subdomain"),
    ({"rbac_account_namespace": "../x"}, "account_namespace (rbac.yml: rbac_account_namespace): must be a DNS-1123 label"),
    ({"policies_intents": [{"name": "blue", "namespace": "", "network": "blue-net"}]},
     "policies_intents[0].namespace: must be a DNS-1123 label"),
    ({"policies_intents": [{"name": "blue", "namespace": "../x", "network": "blue-net"}]},
     "policies_intents[0].namespace: must be a DNS-1123 label"),
    ({"policies_intents": [{"name": "blue", "namespace": "kube-system", "network": "blue-net"}]},
     "policies_intents[0].namespace: is a system namespace"),
    ({"network_attachment_networks": [{"name": "blue-net", "namespace": "openshift-config", "localnet": "blue"}]},
     "network_attachment_networks[0].namespace: is a system namespace"),
    ({"workloads_namespace": "default", "workloads_pods": [{"name": "blue-probe"}]},
     "workloads_namespace: is a system namespace"),
]


@pytest.mark.parametrize("extra,message", REFUSED, ids=[message.split(":")[0] for _extra, message in REFUSED])
def test_bad_names_and_system_namespaces_are_refused_writing_nothing(tmp_path, extra, message):
    done = run("inventory/example", tmp_path, "-e", json.dumps(extra))
    output = " ".join((done.stdout + done.stderr).split())
    assert done.returncode != 0, output[-3000:]
    assert message in output, output[-3000:]
    value = next(iter(extra.values()))
    shown = value if isinstance(value, str) else (value[0].get("namespace"))
    assert "(got '{0}')".format(shown) in output, output[-3000:]
    assert list(tmp_path.iterdir()) == []
