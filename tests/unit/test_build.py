"""The release artefact: `ansible-galaxy collection build` and an install into a clean path.

The tarball must carry the collection and nothing of the development house (lab, benchmarks,
virtualenvs, caches), and the installed copy must work on its own: a playbook that uses the
compile_mnp filter runs against it with no path to this repository.
"""
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
# Development-only paths that must never ship (directories are matched with their contents).
NEVER_SHIPPED = (".venv/", ".cache/", ".lab/", ".lab-4.18/", ".git/", ".ci/", "lab/", "bench/", "tests/output/",
                 "tests/lab/", "molecule/", "scripts/",
                 ".pytest_cache/", ".hypothesis/", "reports/", "render/")
NEVER_SHIPPED_PARTS = ("__pycache__",)

PLAYBOOK = """
- name: Compile an intent with the installed collection
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Write the compiled policies
      ansible.builtin.copy:
        content: "{{ intent | ocpvirt.multinet.compile_mnp | to_nice_json }}"
        dest: "{{ output }}"
        mode: "0644"
"""

INTENT = {
    "namespace": "llm-demo",
    "network": "llm-demo-localnet-network",
    "workloads": {"tinypod": {"selector": {"app": "tinypod"}, "ips": ["192.168.77.91"]}},
    "endpoints": {"gateway": "192.168.77.1"},
    "allow": [{"from": "tinypod", "to": "gateway"}],
}


def isolated_env(collections_path):
    """Ansible sees only the given collections path (plus the ansible package's own); commands
    run from a temporary directory so the repository's ansible.cfg is not read either."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")}
    env.update(ANSIBLE_COLLECTIONS_PATH=str(collections_path), NO_COLOR="1")
    return env


@pytest.fixture(scope="module")
def tarball(tmp_path_factory):
    output = tmp_path_factory.mktemp("dist")
    subprocess.run([str(BIN / "ansible-galaxy"), "collection", "build", "--output-path", str(output), str(REPO)],
                   check=True, capture_output=True, cwd=output, env=isolated_env(output))
    galaxy = yaml.safe_load((REPO / "galaxy.yml").read_text())
    path = output / f"{galaxy['namespace']}-{galaxy['name']}-{galaxy['version']}.tar.gz"
    assert path.is_file()
    return path


@pytest.fixture(scope="module")
def installed(tarball, tmp_path_factory):
    collections = tmp_path_factory.mktemp("collections")
    subprocess.run([str(BIN / "ansible-galaxy"), "collection", "install", "--offline", "--no-deps",
                    "-p", str(collections), str(tarball)],
                   check=True, capture_output=True, cwd=collections, env=isolated_env(collections))
    return collections


def members(tarball):
    with tarfile.open(tarball) as archive:
        return [member.name for member in archive.getmembers()]


def test_tarball_excludes_development_paths(tarball):
    shipped = [name for name in members(tarball)
               if name.startswith(NEVER_SHIPPED) or any(part in name.split("/") for part in NEVER_SHIPPED_PARTS)]
    assert shipped == []


def test_tarball_carries_the_collection(tarball):
    names = set(members(tarball))
    assert {"MANIFEST.json", "FILES.json", "meta/runtime.yml", "plugins/filter/compile_mnp.py",
            "plugins/modules/multinetwork_policy.py"} <= names
    assert any(name.startswith("roles/") for name in names)


def test_manifest_declares_the_kubernetes_core_dependency(tarball):
    with tarfile.open(tarball) as archive:
        manifest = json.load(archive.extractfile("MANIFEST.json"))
    galaxy = yaml.safe_load((REPO / "galaxy.yml").read_text())
    assert manifest["collection_info"]["dependencies"] == galaxy["dependencies"]


def test_installed_copy_runs_a_playbook(installed, tmp_path):
    assert (installed / "ansible_collections" / "ocpvirt" / "multinet" / "MANIFEST.json").is_file()
    playbook = tmp_path / "compile.yml"
    playbook.write_text(PLAYBOOK)
    output = tmp_path / "policies.json"
    extra_vars = json.dumps({"intent": INTENT, "output": str(output)})
    result = subprocess.run([str(BIN / "ansible-playbook"), str(playbook), "-e", extra_vars],
                            check=False, capture_output=True, text=True, cwd=tmp_path,
                            env=isolated_env(installed))
    assert result.returncode == 0, result.stdout + result.stderr
    policies = json.loads(output.read_text())
    assert {policy["kind"] for policy in policies} == {"MultiNetworkPolicy"}
    assert all(policy["metadata"]["namespace"] == "llm-demo" for policy in policies)
