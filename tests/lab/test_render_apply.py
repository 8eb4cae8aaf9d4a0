"""The rendered seed lab is accepted as it is by the API server, against the lab's CRDs (the
upstream OpenShift 4.15 ones when ../shared/upstream-crds exists).

`playbooks/render.yml` writes one directory per stage; each directory is sent, as a GitOps
tool or a person would, with `kubectl apply --server-side --force-conflicts --dry-run=server
--validate=strict -f <dir>` (kubectl of the lab's release, built as bench/run.py builds it).
Every object must be accepted without a single warning: a field the real schema does not
declare is an error under `--validate=strict` (and for server-side apply), and one it would
only prune is a warning. Server-side, because objects the roles or the lab created earlier
(namespace `openshift-nmstate`, Network `cluster`) carry no client-side last-applied annotation,
which client-side apply reports as a warning that says nothing about the manifest.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO_DIR = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def kubectl():
    build = ["nice", "-n", "19", sys.executable, str(REPO_DIR / "bench" / "kubectl" / "build.py")]
    return subprocess.run(build, check=True, stdout=subprocess.PIPE, text=True).stdout.strip()


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    out = tmp_path_factory.mktemp("render")
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")}
    env["ANSIBLE_COLLECTIONS_PATH"] = str(REPO_DIR / ".venv" / "collections")
    subprocess.run([str(BIN / "ansible-playbook"), "-i", str(REPO_DIR / "inventory" / "seed_lab"),
                    str(REPO_DIR / "playbooks" / "render.yml"), "-e", json.dumps({"multinet_render_dir": str(out)})],
                   check=True, capture_output=True, text=True, cwd=REPO_DIR, env=env, timeout=300)
    [host] = list(out.iterdir())
    return sorted(path for path in host.iterdir() if path.is_dir())


def documents(stage):
    return [(path, doc) for path in sorted(stage.glob("*.yaml")) for doc in yaml.safe_load_all(path.read_text()) if doc]


def test_every_stage_directory_lists_what_an_object_needs_before_it(rendered):
    """File order is apply order: namespaces, then OperatorGroup and Subscription (they install
    the operator's CRDs), then Secrets, then custom resources, VMs and pods."""
    rank = {"Namespace": 0, "OperatorGroup": 1, "Subscription": 2, "Secret": 3}
    for stage in rendered:
        kinds = [doc["kind"] for _, doc in documents(stage)]
        assert [rank.get(k, 4) for k in kinds] == sorted(rank.get(k, 4) for k in kinds), f"{stage.name}: {kinds}"
    assert [doc["kind"] for _, doc in documents(rendered[0])] == ["Namespace", "OperatorGroup", "Subscription", "NMState"]


def test_the_rendered_seed_lab_passes_a_strict_server_dry_run(rendered, kubectl, lab_kubeconfig, nmstate_installed,
                                                             virtualization_installed):
    """The operators' CRDs are installed (fixtures); the rendered namespaces are created for real
    first, since a dry-run namespace does not exist for the objects that follow it."""
    env = dict(os.environ, KUBECONFIG=lab_kubeconfig)
    namespaces = [str(path) for stage in rendered for path, doc in documents(stage) if doc["kind"] == "Namespace"]
    for path in namespaces:
        subprocess.run([kubectl, "apply", "--server-side", "--field-manager=labtest", "-f", path],
                       check=True, capture_output=True, text=True, env=env)
    accepted, refused, warnings = [], [], []
    for stage in rendered:
        result = subprocess.run([kubectl, "apply", "--server-side", "--force-conflicts", "--field-manager=labtest",
                                 "--dry-run=server", "--validate=strict", "-f", str(stage)],
                                capture_output=True, text=True, env=env, check=False)
        accepted += [line for line in result.stdout.splitlines() if line.endswith("serverside-applied (server dry run)")]
        errors = [line for line in result.stderr.splitlines() if line.strip()]
        warnings += [f"{stage.name}: {line}" for line in errors if line.startswith("Warning:")]
        refused += [f"{stage.name}: {line}" for line in errors if not line.startswith("Warning:")]
        assert result.returncode == 0 or refused, result.stderr
    total = sum(len(documents(stage)) for stage in rendered)
    assert refused == [] and warnings == []
    assert len(accepted) == total, "\n".join(accepted)
