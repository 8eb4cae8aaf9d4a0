"""inventory/example/, the starting point for one's own cluster (README "Use it on your
cluster"), renders only what it asks for: none of the seed lab's namespace, NAD, addresses,
VMs, pods or operator subscriptions."""
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ANSIBLE_PLAYBOOK = Path(sys.executable).with_name("ansible-playbook")


def test_the_example_inventory_renders_only_what_it_asks_for(tmp_path):
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")}
    done = subprocess.run([str(ANSIBLE_PLAYBOOK), "-i", "inventory/example", "playbooks/render.yml",
                           "-e", "multinet_render_dir=" + str(tmp_path)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr

    # File names may carry an apply-order prefix ("50-"); the stage directories always do.
    files = sorted(re.sub(r"/[0-9]{2}-", "/", str(path.relative_to(tmp_path / "my-cluster")))
                   for path in tmp_path.rglob("*.yaml"))
    # nmstate and HyperConverged instances stay (the operators are assumed installed; no
    # Namespace, OperatorGroup or Subscription is rendered for them), no VM or pod.
    assert files == [
        "10-nmstate/nmstate-nmstate.yaml",
        "20-bridge-mapping/nodenetworkconfigurationpolicy-my-localnet-mapping.yaml",
        "30-network-attachment/namespace-my-team.yaml",
        "30-network-attachment/networkattachmentdefinition-my-team-my-localnet-network.yaml",
        "40-multinetwork-policy-switch/network-cluster.yaml",
        "50-virtualization/hyperconverged-openshift-cnv-kubevirt-hyperconverged.yaml",
        "70-policies/multinetworkpolicy-my-team-my-team-allow-db.yaml",
        "70-policies/multinetworkpolicy-my-team-my-team-allow-web.yaml",
        "70-policies/multinetworkpolicy-my-team-my-team-default-deny.yaml",
    ]
    rendered = "".join(path.read_text() for path in tmp_path.rglob("*.yaml"))
    for seed_value in ("llm-demo", "192.168.77.", "localnet-cnv", "gold-rabbit", "tinypod"):
        assert seed_value not in rendered, seed_value
