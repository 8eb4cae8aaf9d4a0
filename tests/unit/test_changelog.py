"""The changelog: fragments pass antsibull-changelog's lint, and a release would publish them.

The release runs on a copy (it folds the fragments into changelog.yaml and deletes them), so
the tree keeps its fragments until a real release.
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
ANTSIBULL_CHANGELOG = Path(sys.executable).with_name("antsibull-changelog")


def fragment_entries():
    entries = []
    for fragment in sorted((REPO / "changelogs" / "fragments").glob("*.yml")):
        for section in yaml.safe_load(fragment.read_text(encoding="utf-8")).values():
            entries.extend(section if isinstance(section, list) else [section])
    return entries


def test_fragments_pass_lint():
    result = subprocess.run([str(ANTSIBULL_CHANGELOG), "lint"], check=False, capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


@pytest.fixture(scope="module")
def released_changelog(tmp_path_factory):
    """CHANGELOG.rst as `antsibull-changelog release` writes it (it reads plugin docs with ansible-doc)."""
    copy = tmp_path_factory.mktemp("release") / "collection"
    copy.mkdir()
    shutil.copy2(REPO / "galaxy.yml", copy)
    for directory in ("changelogs", "plugins", "meta"):
        shutil.copytree(REPO / directory, copy / directory, ignore=shutil.ignore_patterns("__pycache__"))
    env = {**os.environ, "PATH": f"{ANTSIBULL_CHANGELOG.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    subprocess.run([str(ANTSIBULL_CHANGELOG), "release", "--date", "2026-01-01"], check=True, capture_output=True,
                   cwd=copy, env=env)
    return " ".join((copy / "CHANGELOG.rst").read_text(encoding="utf-8").split())


def test_a_release_publishes_every_fragment(released_changelog):
    changelog = released_changelog
    version = yaml.safe_load((REPO / "galaxy.yml").read_text())["version"]
    assert f"v{version}" in changelog
    entries = fragment_entries()
    assert entries, "no changelog fragments"
    for entry in entries:
        # The RST keeps the text; compare the first words, which carry no markup changes.
        assert " ".join(entry.split()[:3]) in changelog, entry


def plugin_names(kind):
    return sorted(path.stem for path in (REPO / "plugins" / kind).glob("*.py") if path.stem != "__init__")


def test_a_release_announces_every_module_and_filter(released_changelog):
    """A plugin whose documentation does not parse would be missing from the release notes."""
    for name in plugin_names("modules") + plugin_names("filter"):
        assert f"ocpvirt.multinet.{name} -" in released_changelog, name
