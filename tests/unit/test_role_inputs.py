"""Role inputs refused before anything is rendered or applied, each naming the variable, entry
and value: unknown `<role>_*` variables (every role that includes known_variables), the
workloads role's entries and user data, and intent addresses that differ from the inventory's.
No cluster needed: render mode, and every check runs before the first request."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ANSIBLE_PLAYBOOK = Path(sys.executable).with_name("ansible-playbook")
CHECKED_ROLES = sorted(path.parent.parent.name for path in (ROOT / "roles").glob("*/tasks/main.yml")
                       if "ocpvirt.multinet.known_variables" in path.read_text())
WORKLOADS = {"workloads_namespace": "ledger", "workloads_network": "ledger-lan",
             "workloads_vms": [{"name": "ledger-db", "ip": "10.57.3.30/24"}],
             "workloads_pods": [{"name": "ledger-probe", "ip": "10.57.3.40/24"}]}
INTENT = {"name": "ledger", "namespace": "ledger", "network": "ledger-lan",
          "workloads": {"db": {"vm": "ledger-db"}, "probe": {"selector": {"app": "ledger-probe"}}},
          "allow": [{"from": "probe", "to": "db", "ports": ["tcp/5432"]}]}


def run_roles(tmp_path, roles, play_vars):
    playbook = tmp_path / "play.yml"
    playbook.write_text(json.dumps([{
        "name": "roles", "hosts": "localhost", "connection": "local", "gather_facts": False,
        "vars": play_vars, "roles": [{"role": "ocpvirt.multinet." + role} for role in roles]}]))
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")}
    env["ANSIBLE_COLLECTIONS_PATH"] = str(ROOT / ".venv" / "collections")
    return subprocess.run([str(ANSIBLE_PLAYBOOK), str(playbook)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300, check=False)


def test_every_user_facing_role_checks_its_variables():
    assert CHECKED_ROLES == ["bridge_mapping", "inspect", "multinetwork_policy_switch", "network_attachment",
                             "nmstate", "policies", "verify", "virtualization", "workloads"]


@pytest.mark.parametrize("role", CHECKED_ROLES)
def test_an_unknown_role_variable_fails_naming_it_and_the_known_ones(tmp_path, role):
    typo = role + "_no_such_setting"
    done = run_roles(tmp_path, [role], {typo: 1})

    assert done.returncode != 0
    assert "{0}: unknown variable(s) [\\\"{1}\\\"]".format(role, typo) in done.stdout or \
        '{0}: unknown variable(s) ["{1}"]'.format(role, typo) in done.stdout, done.stdout
    assert "this role reads" in done.stdout


def test_a_misspelt_gateway_is_refused_not_dropped(tmp_path):
    done = run_roles(tmp_path, ["workloads"], dict(WORKLOADS, workloads_vm_gatway="10.57.3.1",
                                                   workloads_render_dir=str(tmp_path / "out")))

    assert done.returncode != 0 and "workloads_vm_gatway" in done.stdout and "workloads_vm_gateway" in done.stdout
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("changes, words", [
    ({"workloads_vms": [{"name": "Bad_VM", "ip": "10.57.3.30/24"}]},
     "workloads_vms[Bad_VM].name: name must be a DNS-1123 subdomain"),
    ({"workloads_pods": [{"name": "ledger-probe", "ip": "10.57.3.300/24"}]},
     "workloads_pods[ledger-probe].ip: not an address with a prefix"),
    ({"workloads_vm_gateway": "300.1.1.1"}, "workloads_vm_gateway: not an IP address (got '300.1.1.1')"),
    ({"workloads_vms": [{"name": "ledger-db", "mac": "02:00:00:00:00:01"}]},
     "workloads_vms[ledger-db].ip: required, the address with its prefix"),
])
def test_a_bad_workload_entry_fails_naming_it_and_renders_nothing(tmp_path, changes, words):
    done = run_roles(tmp_path, ["workloads"], dict(WORKLOADS, workloads_render_dir=str(tmp_path / "out"), **changes))

    assert done.returncode != 0
    assert words in done.stdout.replace("\\'", "'").replace("''", "'"), done.stdout
    assert not (tmp_path / "out").exists()


def test_user_data_that_is_not_cloud_config_is_refused_without_showing_it(tmp_path):
    done = run_roles(tmp_path, ["workloads"], dict(WORKLOADS, workloads_render_dir=str(tmp_path / "out"),
                                                   workloads_vm_user_data="#cloud-config\npassword: pw-x9q\nusers: [ops\n"))

    assert done.returncode != 0 and "workloads_vm_user_data: is not valid YAML at line" in done.stdout
    assert "pw-x9q" not in done.stdout + done.stderr
    assert not (tmp_path / "out").exists()


def test_intent_workloads_take_their_addresses_from_the_inventory(tmp_path):
    done = run_roles(tmp_path, ["workloads", "policies"], dict(
        WORKLOADS, workloads_render_dir=str(tmp_path / "w"), policies_render_dir=str(tmp_path / "p"),
        policies_intents=[INTENT]))

    assert done.returncode == 0, done.stdout
    rendered = "".join(path.read_text() for path in sorted((tmp_path / "p").glob("*.yaml")))
    assert "cidr: 10.57.3.30/32" in rendered and "cidr: 10.57.3.40/32" in rendered


def test_an_intent_address_that_differs_from_the_inventory_fails_naming_both(tmp_path):
    intent = dict(INTENT, workloads=dict(INTENT["workloads"], db={"vm": "ledger-db", "ips": ["10.57.3.31"]}))
    done = run_roles(tmp_path, ["policies"], dict(WORKLOADS, policies_render_dir=str(tmp_path / "p"),
                                                  policies_intents=[intent]))

    assert done.returncode != 0
    assert "workloads.db.ips: VM ledger-db is at 10.57.3.30 in the inventory" in done.stdout
    assert "10.57.3.31" in done.stdout
    assert not (tmp_path / "p").exists()


def test_plan_takes_the_addresses_an_intent_leaves_out_from_the_files_inventory(tmp_path):
    sides = {}
    for side, allow in (("before", []), ("after", [{"from": "probe", "to": "db", "ports": ["tcp/5432"]}])):
        sides[side] = tmp_path / (side + ".yml")
        sides[side].write_text(json.dumps(dict(WORKLOADS, policies_intents=[dict(INTENT, allow=allow)])))
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")}
    env["ANSIBLE_COLLECTIONS_PATH"] = str(ROOT / ".venv" / "collections")
    done = subprocess.run([str(ANSIBLE_PLAYBOOK), str(ROOT / "playbooks" / "plan.yml"), "-e", "plan_before=" + str(sides["before"]),
                           "-e", "plan_after=" + str(sides["after"]), "-e", "plan_output_dir=" + str(tmp_path / "out")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)

    assert done.returncode == 0, done.stdout
    plan = (tmp_path / "out" / "flow-changes.md").read_text()
    assert "| opens | probe | db | `tcp/5432` |" in plan and "db (10.57.3.30)" in plan and "probe (10.57.3.40)" in plan
