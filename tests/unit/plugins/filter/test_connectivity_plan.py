"""The connectivity_plan filter and playbooks/plan.yml: two revisions of the intents, no cluster."""
import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.ocpvirt.multinet.plugins.filter import connectivity_plan as plugin

ROOT = Path(__file__).parents[4]
SEED_INTENT = yaml.safe_load((ROOT / "tests" / "unit" / "fixtures" / "seed_intent.yml").read_text())
SEED_VARS = ROOT / "inventory" / "seed_lab" / "group_vars" / "clusters" / "seed_lab.yml"
ADDED = "      - {from: tinypod-02, to: gold-rabbit, ports: [tcp/22]}\n"
REMOVED = "      - {from: green-ferret, to: gateway}\n"


def test_registered_under_its_documented_name():
    assert plugin.FilterModule().filters() == {"connectivity_plan": plugin.connectivity_plan}


def test_intents_are_paired_by_namespace_and_name():
    other = dict(copy.deepcopy(SEED_INTENT), name="second")
    result = plugin.connectivity_plan([SEED_INTENT], [other, SEED_INTENT])
    assert [entry["intent"] for entry in result["intents"]] == [
        "llm-demo/llm-demo-localnet-network", "llm-demo/second"]
    unchanged, new = result["intents"]
    assert unchanged["opened"] == unchanged["closed"] == []
    # A new intent is compared with no policies: everything it does not allow closes.
    assert new["closed"] and result["closed"] == len(new["closed"]) and result["opened"] == 0
    assert result["markdown"].startswith("## Connectivity changes\n\n2 intents: 0 flows opened, ")


def test_an_intent_without_identity_is_named_by_its_place():
    with pytest.raises(AnsibleFilterError, match="before_intents\\[0\\]: namespace: "):
        plugin.connectivity_plan([{"network": "net"}], [])


def test_two_intents_of_one_name_on_one_side_are_refused():
    with pytest.raises(AnsibleFilterError, match="after_intents\\[1\\]"):
        plugin.connectivity_plan([], [SEED_INTENT, SEED_INTENT])


@pytest.mark.parametrize("before_file", [SEED_VARS, ROOT / "tests" / "unit" / "fixtures" / "seed_intent.yml"],
                         ids=["inventory-vars", "one-intent"])
def test_plan_playbook_writes_markdown_and_json(tmp_path, before_file):
    """plan.yml on a revision of the seed lab's inventory vars (their Jinja resolved) against the
    same vars before the change, or against the seed intent written as one intent file."""
    before = SEED_VARS.read_text()
    assert REMOVED in before
    (tmp_path / "before.yml").write_text(before_file.read_text())
    anchor = "      - {from: 192.168.77.92/32, to: gold-rabbit}\n"
    after_text = before.replace(REMOVED, "").replace(anchor, anchor + ADDED)
    (tmp_path / "after.yml").write_text(after_text)
    out = tmp_path / "out"
    result = run_plan(tmp_path / "before.yml", tmp_path / "after.yml", out)
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads((out / "flow-changes.json").read_text())
    assert (data["opened"], data["closed"]) == (1, 1)
    (entry,) = data["intents"]
    assert [(f["from"], f["to"], f["traffic"]) for f in entry["opened"]] == [("tinypod-02", "gold-rabbit", "tcp/22")]
    assert [(f["from"], f["to"], f["traffic"]) for f in entry["closed"]] == [("green-ferret", "gateway", "all")]
    markdown = (out / "flow-changes.md").read_text()
    assert "| closes | green-ferret | gateway | `all` |" in markdown


def run_plan(before, after, out, cwd=ROOT):
    env = dict(os.environ, ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
               ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".venv" / "collections"))
    return subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), str(ROOT / "playbooks" / "plan.yml"),
         "-e", "plan_before={0}".format(before), "-e", "plan_after={0}".format(after),
         "-e", "plan_output_dir={0}".format(out)],
        env=env, capture_output=True, text=True, timeout=180, check=False, cwd=str(cwd))


def test_a_lookup_in_a_compared_file_runs_nothing(tmp_path):
    """A pull request's vars file is data: a pipe lookup in a variable its intents use fails the
    plan naming it, one in a variable they do not use is never rendered; neither runs."""
    used, unused = tmp_path / "used-marker", tmp_path / "unused-marker"
    text = SEED_VARS.read_text()
    assert "\nseed_nad: " in text
    (tmp_path / "before.yml").write_text(text)
    (tmp_path / "unused.yml").write_text(text + "plan_probe: \"{{{{ lookup('ansible.builtin.pipe', 'touch {0}') }}}}\"\n"
                                         .format(unused))
    (tmp_path / "used.yml").write_text(text.replace(
        "\nseed_nad: ", "\nseed_nad: \"{{{{ lookup('ansible.builtin.pipe', 'touch {0}') }}}}\"\nunused_nad: ".format(used)))

    fine = run_plan(tmp_path / "before.yml", tmp_path / "unused.yml", tmp_path / "out")
    refused = run_plan(tmp_path / "before.yml", tmp_path / "used.yml", tmp_path / "out2")

    assert fine.returncode == 0, fine.stdout + fine.stderr
    assert json.loads((tmp_path / "out" / "flow-changes.json").read_text())["opened"] == 0
    assert refused.returncode != 0
    assert "plan_after: seed_nad: cannot render" in refused.stdout + refused.stderr
    assert "'lookup' is undefined" in refused.stdout + refused.stderr
    assert not used.exists() and not unused.exists()


def test_relative_paths_are_taken_from_the_current_directory(tmp_path):
    """As in CI: run from the repository's root with repository-relative paths (they used to be
    looked for under playbooks/)."""
    (tmp_path / "seed_lab.yml").write_text(SEED_VARS.read_text().replace(REMOVED, ""))
    result = run_plan(os.path.relpath(tmp_path / "seed_lab.yml", ROOT), SEED_VARS.relative_to(ROOT),
                      tmp_path / "plan", cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads((tmp_path / "plan" / "flow-changes.json").read_text())
    assert (data["opened"], data["closed"]) == (1, 0)
