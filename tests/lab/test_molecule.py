"""Run the Molecule scenarios (delegated driver) against the lab control plane.

Each scenario is one `molecule test -s <name>`: cleanup, converge, idempotence, verify, cleanup
(see molecule/<name>/molecule.yml). The lab's kubeconfig reaches the scenarios through
MULTINET_KUBECONFIG, the same path `lab/labctl.py up` printed for the lab_kubeconfig fixture.
MULTINET_MOLECULE_SCENARIOS=full,render limits the run to some scenarios.
"""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO_DIR = Path(__file__).resolve().parents[2]
BIN_DIR = Path(sys.executable).parent
SCENARIOS = sorted(p.parent.name for p in (REPO_DIR / "molecule").glob("*/molecule.yml"))
SELECTED = [s for s in os.environ.get("MULTINET_MOLECULE_SCENARIOS", "").split(",") if s]
# A whole scenario, operators included, must finish within this many seconds.
SCENARIO_TIMEOUT = 1200


def _env(kubeconfig):
    env = dict(os.environ)
    env["MULTINET_KUBECONFIG"] = kubeconfig
    env["PATH"] = "{0}{1}{2}".format(BIN_DIR, os.pathsep, env.get("PATH", ""))
    env["ANSIBLE_COLLECTIONS_PATH"] = str(REPO_DIR / ".venv" / "collections")
    env["ANSIBLE_FORCE_COLOR"] = "0"
    env["PY_COLORS"] = "0"
    env["NO_COLOR"] = "1"
    return env


def _run(args, kubeconfig):
    return subprocess.run(args, cwd=REPO_DIR, env=_env(kubeconfig), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=SCENARIO_TIMEOUT, check=False)


@pytest.mark.parametrize("scenario", [s for s in SCENARIOS if not SELECTED or s in SELECTED])
def test_molecule_scenario(scenario, lab_kubeconfig):
    result = _run([str(BIN_DIR / "molecule"), "test", "-s", scenario], lab_kubeconfig)
    assert result.returncode == 0, result.stdout[-8000:]


@pytest.mark.skipif(SELECTED and "full" not in SELECTED, reason="full scenario not selected")
def test_teardown_twice_changes_nothing_the_second_time(lab_kubeconfig):
    """teardown.yml on an already torn-down lab (the full scenario ends with one) is a no-op."""
    playbook = [str(BIN_DIR / "ansible-playbook"), "-i", "inventory/seed_lab", "playbooks/teardown.yml",
                "-e", "@playbooks/vars/lab_timing.yml"]
    first = _run(playbook, lab_kubeconfig)
    assert first.returncode == 0, first.stdout[-8000:]
    second = _run(playbook, lab_kubeconfig)
    assert second.returncode == 0, second.stdout[-8000:]
    assert re.search(r"seed-lab\s*:\s*ok=\d+\s+changed=0\s", second.stdout), second.stdout[-3000:]
