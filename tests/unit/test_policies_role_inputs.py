"""The policies role refuses a policies_* variable it does not know (policies_intent for
policies_intents was a silent no-op) and says when it has nothing to do. No cluster needed:
both happen before the first request."""
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ANSIBLE_PLAYBOOK = Path(sys.executable).with_name("ansible-playbook")
INTENT = {"namespace": "team", "network": "tenant-net", "allow": []}


def run_role(tmp_path, role_vars):
    playbook = tmp_path / "play.yml"
    playbook.write_text(json.dumps([{
        "name": "policies role", "hosts": "localhost", "connection": "local", "gather_facts": False,
        "roles": [{"role": "ocpvirt.multinet.policies", "vars": role_vars}]}]))
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")}
    env["ANSIBLE_COLLECTIONS_PATH"] = str(ROOT / ".venv" / "collections")
    return subprocess.run([str(ANSIBLE_PLAYBOOK), str(playbook)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300, check=False)


def test_a_misspelt_variable_fails_naming_it_and_the_known_ones(tmp_path):
    done = run_role(tmp_path, {"policies_intent": [INTENT]})

    assert done.returncode != 0
    assert 'unknown variable(s) [\\"policies_intent\\"]' in done.stdout or \
        'unknown variable(s) ["policies_intent"]' in done.stdout, done.stdout
    assert "policies_intents" in done.stdout


def test_no_intent_says_there_is_nothing_to_do(tmp_path):
    done = run_role(tmp_path, {})

    assert done.returncode == 0, done.stdout
    assert "policies_intents is empty" in done.stdout
