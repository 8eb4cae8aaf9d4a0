"""inventory/example/, the starting point for one's own cluster (README "Use it on your
cluster"), renders only what it asks for: none of the seed lab's namespace, NAD, addresses,
VMs, pods or operator subscriptions. inventory/payments_lab/, the second scenario the lab tests
run end to end (tests/lab/test_second_scenario.py), shares nothing with the seed either."""
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ANSIBLE_PLAYBOOK = Path(sys.executable).with_name("ansible-playbook")


SEED_VALUES = ("llm-demo", "192.168.77.", "localnet-cnv", "gold-rabbit", "green-ferret", "tinypod", "wangzheng422")


def render(inventory, host, tmp_path):
    """The inventory's manifests rendered by playbooks/render.yml: (file names, their text)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")}
    done = subprocess.run([str(ANSIBLE_PLAYBOOK), "-i", inventory, "playbooks/render.yml",
                           "-e", "multinet_render_dir=" + str(tmp_path)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    # File names may carry an apply-order prefix ("50-"); the stage directories always do.
    files = sorted(re.sub(r"/[0-9]{2}-", "/", str(path.relative_to(tmp_path / host)))
                   for path in tmp_path.rglob("*.yaml"))
    return files, "".join(path.read_text() for path in tmp_path.rglob("*.yaml"))


def test_the_example_inventory_renders_only_what_it_asks_for(tmp_path):
    files, rendered = render("inventory/example", "my-cluster", tmp_path)
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
    for seed_value in SEED_VALUES:
        assert seed_value not in rendered, seed_value


def test_the_payments_inventory_shares_nothing_with_the_seed(tmp_path):
    files, rendered = render("inventory/payments_lab", "payments-lab", tmp_path)
    # The operators are someone else's: their instances only, no Namespace, OperatorGroup or
    # Subscription; the namespace `payments` exists already, but the NAD stage renders it as it
    # would create it when missing.
    assert files == [
        "10-nmstate/nmstate-nmstate.yaml",
        "20-bridge-mapping/nodenetworkconfigurationpolicy-corp-lan-br-ex.yaml",
        "30-network-attachment/namespace-payments.yaml",
        "30-network-attachment/networkattachmentdefinition-payments-corp-lan.yaml",
        "40-multinetwork-policy-switch/network-cluster.yaml",
        "50-virtualization/hyperconverged-openshift-cnv-kubevirt-hyperconverged.yaml",
        "60-workloads/pod-payments-probe.yaml",
        "60-workloads/virtualmachine-payments-pay-db.yaml",
        "60-workloads/virtualmachine-payments-pay-web-1.yaml",
        "60-workloads/virtualmachine-payments-pay-web-2.yaml",
        "70-policies/multinetworkpolicy-payments-payments-allow-pay-db.yaml",
        "70-policies/multinetworkpolicy-payments-payments-allow-probe.yaml",
        "70-policies/multinetworkpolicy-payments-payments-default-deny.yaml",
        # pay-web-1 and pay-web-2 have the same rules: one policy, named by their digest.
        "70-policies/multinetworkpolicy-payments-payments-shared-7a8ad653d2.yaml",
    ]
    sources = "".join(path.read_text() for path in (ROOT / "inventory" / "payments_lab").rglob("*")
                      if path.is_file())
    for seed_value in SEED_VALUES:
        assert seed_value not in rendered and seed_value not in sources, seed_value
