"""execution-environment.yml: ansible-builder turns it into a build context with our requirements.

Only `ansible-builder create` runs here (no container engine, no registry); it validates the
file against the version 3 schema and writes the Containerfile and _build/ context.
"""
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
ANSIBLE_BUILDER = Path(sys.executable).with_name("ansible-builder")


def requirement_lines(path):
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


@pytest.fixture(scope="module")
def build_context(tmp_path_factory):
    context = tmp_path_factory.mktemp("ee-context")
    subprocess.run(
        [str(ANSIBLE_BUILDER), "create", "--file", str(REPO / "execution-environment.yml"),
         "--context", str(context), "--output-filename", "Containerfile"],
        check=True, capture_output=True, text=True, cwd=REPO, env={**os.environ, "NO_COLOR": "1"},
    )
    return context


def test_python_requirements_are_copied_verbatim(build_context):
    assert requirement_lines(build_context / "_build" / "requirements.txt") == requirement_lines(
        REPO / "requirements.txt")


def test_collection_requirements_include_kubernetes_core(build_context):
    collections = yaml.safe_load((build_context / "_build" / "requirements.yml").read_text())["collections"]
    assert "kubernetes.core" in {collection["name"] for collection in collections}


def test_containerfile_installs_both_kinds_of_requirements(build_context):
    containerfile = (build_context / "Containerfile").read_text()
    assert "ansible-galaxy collection install" in containerfile
    assert "-r requirements.yml" in containerfile
    assert "--user-pip=requirements.txt" in containerfile


def test_containerfile_starts_from_the_declared_base_image(build_context):
    definition = yaml.safe_load((REPO / "execution-environment.yml").read_text())
    base_image = definition["images"]["base_image"]["name"]
    assert f'ARG EE_BASE_IMAGE="{base_image}"' in (build_context / "Containerfile").read_text()


def test_ee_collection_range_matches_galaxy_dependencies():
    """The EE must install the kubernetes.core versions the collection declares it supports."""
    galaxy = yaml.safe_load((REPO / "galaxy.yml").read_text())
    requirements = yaml.safe_load((REPO / "requirements.yml").read_text())
    declared = {item["name"]: item.get("version", "*") for item in requirements["collections"]}
    assert declared == galaxy["dependencies"]
