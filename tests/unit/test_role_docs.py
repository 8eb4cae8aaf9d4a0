"""Every role documents itself the way ansible-doc and users expect.

Each role has a README and a meta/argument_specs.yml that `ansible-doc -t role` renders, and
every public default (not prefixed `__`) is a documented option of the main entry point.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
ROLES = sorted(path.name for path in (REPO / "roles").iterdir() if (path / "tasks").is_dir())


@pytest.fixture(scope="module")
def role_docs():
    """All roles in one ansible-doc call (each call costs seconds)."""
    env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(REPO / ".venv" / "collections"), "NO_COLOR": "1"}
    output = subprocess.run([str(Path(sys.executable).with_name("ansible-doc")), "-t", "role", "--json",
                             *(f"ocpvirt.multinet.{role}" for role in ROLES)],
                            check=True, capture_output=True, text=True, env=env).stdout
    return json.loads(output)


@pytest.mark.parametrize("role", ROLES)
def test_role_has_a_readme(role):
    readme = REPO / "roles" / role / "README.md"
    assert readme.is_file() and readme.read_text(encoding="utf-8").strip(), f"roles/{role}/README.md"


@pytest.mark.parametrize("role", ROLES)
def test_role_argument_specs_render_with_ansible_doc(role, role_docs):
    main = role_docs[f"ocpvirt.multinet.{role}"]["entry_points"]["main"]
    assert main.get("short_description"), role


@pytest.mark.parametrize("role", ROLES)
def test_every_public_default_is_documented(role, role_docs):
    defaults_file = REPO / "roles" / role / "defaults" / "main.yml"
    defaults = yaml.safe_load(defaults_file.read_text(encoding="utf-8")) if defaults_file.is_file() else None
    public = {name for name in (defaults or {}) if not name.startswith("__")}
    documented = set(role_docs[f"ocpvirt.multinet.{role}"]["entry_points"]["main"].get("options", {}))
    assert public <= documented, f"undocumented defaults of {role}: {sorted(public - documented)}"
