"""The import contracts of .importlinter hold, and an arrow that points the wrong way breaks them.

Each case copies plugins/ into a scratch ansible_collections/ocpvirt/multinet, adds one import
that the layering forbids, and runs lint-imports (the command `make lint` runs) on the copy.
"""
import os
import shutil
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONFIG = os.path.join(REPO, ".importlinter")
LINT_IMPORTS = os.path.join(os.path.dirname(sys.executable), "lint-imports")
MU = "ansible_collections.ocpvirt.multinet.plugins.module_utils"


def _lint(tmp_path, edit=None):
    collection = tmp_path / "ansible_collections" / "ocpvirt" / "multinet"
    shutil.copytree(os.path.join(REPO, "plugins"), collection / "plugins",
                    ignore=shutil.ignore_patterns("__pycache__"))
    if edit:
        path, line = edit
        with open(collection / "plugins" / path, "a", encoding="utf-8") as handle:
            handle.write("\n" + line + "\n")
    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    return subprocess.run([LINT_IMPORTS, "--no-cache", "--no-logo", CONFIG],
                          cwd=str(tmp_path), env=env, capture_output=True, text=True, check=False)


def test_the_contracts_hold_on_the_shipped_code(tmp_path):
    result = _lint(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 kept, 0 broken" in result.stdout


@pytest.mark.parametrize("path, line, contract", [
    # The model reaching up into the compiler.
    ("module_utils/model/vocabulary.py", "from {0}.policy import compiler".format(MU),
     "module_utils layers: imports point down only"),
    # The simulator reaching up into verify.
    ("module_utils/simulate/connectivity.py", "from {0}.verify import report".format(MU),
     "module_utils layers: imports point down only"),
    # Apply depending on verify.
    ("module_utils/policy/flow_diff.py", "from {0}.verify import probes".format(MU),
     "module_utils layers: imports point down only"),
    # A pure package importing the client, kubernetes.core or Ansible.
    ("module_utils/verify/report.py", "import kubernetes",
     "pure packages: no cluster client, no Ansible"),
    ("module_utils/ovn/trace.py", "from ansible.module_utils.basic import AnsibleModule",
     "pure packages: no cluster client, no Ansible"),
    ("module_utils/policy/compiler.py",
     "from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client",
     "pure packages: no cluster client, no Ansible"),
    # A module with a client of its own instead of going through k8s/.
    ("modules/pod_exec.py", "from kubernetes.stream import stream",
     "modules reach the cluster through k8s/ only"),
    ("modules/owned_namespace.py",
     "from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client",
     "modules reach the cluster through k8s/ only"),
    # One module importing another.
    ("modules/ovn_trace.py", "from ansible_collections.ocpvirt.multinet.plugins.modules import pod_exec",
     "no module imports another module"),
])
def test_a_forbidden_import_breaks_its_contract(tmp_path, path, line, contract):
    result = _lint(tmp_path, (path, line))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "{0} BROKEN".format(contract) in result.stdout
    assert "Contracts: 3 kept, 1 broken." in result.stdout
