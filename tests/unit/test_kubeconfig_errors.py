"""A kubeconfig path that does not exist, or is not a kubeconfig, fails each module that reads
the cluster with a message naming the path (kubernetes.core marks the option no_log, which would
print it as ********), and the policies stage does not print the intent. Run as a user runs them;
no cluster is needed."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ansible_collections.ocpvirt.multinet.plugins.module_utils.k8s.client import kubeconfig_error

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def ansible_env():
    env = {key: value for key, value in os.environ.items() if not key.startswith(("ANSIBLE_", "K8S_AUTH_"))}
    env.update(ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".venv" / "collections"), ANSIBLE_LOCALHOST_WARNING="false")
    return env


def test_the_policies_stage_names_a_missing_kubeconfig_and_prints_no_intent(tmp_path):
    missing = tmp_path / "no-such-dir" / "kubeconfig"
    done = subprocess.run([str(BIN / "ansible-playbook"), "-i", str(ROOT / "inventory" / "seed_lab"),
                           str(ROOT / "playbooks" / "site.yml"), "--tags", "policies",
                           "-e", json.dumps({"multinet_kubeconfig": str(missing)})],
                          cwd=ROOT, env=ansible_env(), capture_output=True, text=True, timeout=300, check=False)
    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert f"kubeconfig '{missing}': no such file" in output, output
    assert "192.168.77.71" not in output and "gold-rabbit" not in output  # the seed intent's workloads


@pytest.mark.parametrize("module, args", [
    ("ocpvirt.multinet.connectivity_info", {"network": "llm-demo/llm-demo-localnet-network"}),
    ("ocpvirt.multinet.ovn_policy_info", {"network": "llm-demo/llm-demo-localnet-network"}),
    ("ocpvirt.multinet.multinetwork_policy",
     {"intent": {"network": "llm-demo-localnet-network", "namespace": "llm-demo", "workloads": {}, "allow": []}}),
    ("ocpvirt.multinet.owned_namespace", {"name": "ledger-west"}),
    ("ocpvirt.multinet.pod_exec", {"commands": [{"namespace": "ledger-west", "pod": "probe", "command": "true"}]}),
])
@pytest.mark.parametrize("content", [None, "not: a kubeconfig\n"])
def test_each_module_names_the_kubeconfig_it_cannot_use(tmp_path, module, args, content):
    path = tmp_path / "kubeconfig"
    if content is not None:
        path.write_text(content)
    done = subprocess.run([str(BIN / "ansible"), "localhost", "-c", "local", "-m", module,
                           "-a", json.dumps(dict(args, kubeconfig=str(path)))],
                          cwd=ROOT, env=ansible_env(), capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode != 0
    expected = (f"kubeconfig '{path}': no such file" if content is None
                else f"Could not create an API client from kubeconfig '{path}': ")
    assert expected in done.stdout, done.stdout


def test_the_message_says_no_such_file_or_why_the_file_was_refused():
    assert kubeconfig_error("~/kc", False, Exception("x")) == \
        "kubeconfig '~/kc': no such file (option kubeconfig, or K8S_AUTH_KUBECONFIG)"
    assert kubeconfig_error("/kc", True, Exception("Could not create API client: Invalid kube-config file.")) == \
        "Could not create an API client from kubeconfig '/kc': Invalid kube-config file."
