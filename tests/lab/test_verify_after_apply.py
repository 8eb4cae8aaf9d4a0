"""verify straight after an apply agrees with the intent on its first report (issue 23, item 4).

Four pods on a new localnet network (namespace `labtest-orchard-*`, 172.16.50.81-.84, nothing of
the seed). One ansible-playbook run applies an intent with the policies role and, in the next
play, runs the verify role: no wait, no re-try in the test. The role waits until OVN enforces the
live policies (ovn_converged: every zone's NB, then `ovn-nbctl --wait=hv sync`), then probes and
traces; its first report must agree with the intent on every pair. Then the same with an intent
that changes the policies: the flow it closes (quince -> medlar) and the one it opens
(sloe -> medlar) are probed as the new intent says. And with worker-1's ovn-controller stopped,
the wait times out naming that zone and stage.
"""
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from lab_helpers import wait_for
from test_seed_stages import LABCTL, STATE_DIR, multi_network_policy  # noqa: F401  (a fixture)
from test_verify_udp import junit_details, pings, pods_on_a_new_localnet

import dataplane  # noqa: E402  (lab/ is on sys.path once test_seed_stages is imported)

REPO_DIR = Path(__file__).resolve().parents[2]
ANSIBLE_PLAYBOOK = str(Path(sys.executable).parent / "ansible-playbook")
NAD = "orchard-net"
# The LAN's second subnet (the gateway holds .1); no other test uses .81-.84.
PODS = {"quince": ("172.16.50.81", "worker-0"), "medlar": ("172.16.50.82", "worker-1"),
        "sloe": ("172.16.50.83", "worker-0"), "rowan": ("172.16.50.84", "worker-1")}
FIRST = (("quince", "medlar"), ("sloe", "rowan"))
CHANGED = (("sloe", "medlar"), ("quince", "rowan"))


def intent(namespace, allows):
    return {"name": "orchard", "namespace": namespace, "network": f"{namespace}/{NAD}",
            "workloads": {name: {"selector": {"app": name}, "ips": [ip]} for name, (ip, _node) in PODS.items()},
            "allow": [{"from": source, "to": target} for source, target in allows]}


def apply_then_verify(tmp_path, kubeconfig, the_intent):
    """One ansible-playbook run: the policies role, then the verify role (as site.yml then verify.yml)."""
    auth = {"kubeconfig": kubeconfig}
    playbook = tmp_path / "apply_verify.yml"
    playbook.write_text(yaml.safe_dump([
        {"name": "Apply", "hosts": "localhost", "gather_facts": False,
         "module_defaults": {"group/kubernetes.core.k8s": auth, "ocpvirt.multinet.multinetwork_policy": auth},
         "roles": [{"role": "ocpvirt.multinet.policies", "policies_intents": [the_intent]}]},
        {"name": "Verify", "hosts": "localhost", "gather_facts": False,
         "roles": [{"role": "ocpvirt.multinet.verify", "verify_intents": [the_intent], "verify_kubeconfig": kubeconfig,
                    "verify_probe": True, "verify_trace": True, "verify_wait": True,
                    "verify_report_dir": str(tmp_path / "report")}]}]))
    env = {"ANSIBLE_COLLECTIONS_PATH": str(REPO_DIR / ".venv" / "collections"),
           "ANSIBLE_LOCALHOST_WARNING": "false", "ANSIBLE_FORCE_COLOR": "0"}
    return subprocess.run([ANSIBLE_PLAYBOOK, "-i", "localhost,", "-c", "local", "-e",
                           "ansible_python_interpreter=" + sys.executable, str(playbook)],
                          cwd=tmp_path, env=dict(os.environ, **env), capture_output=True, text=True, timeout=900,
                          check=False)


def wait_until_every_pod_pings(core, namespace, pods, hub):
    """Every pod of `pods` but `hub` pings `hub`: the network carries packets before any policy."""
    for source in pods:
        if source != hub:
            wait_for(f"{source} to ping {hub}", lambda s=source: pings(core, namespace, s, pods[hub][0]),
                     timeout=120)


@pytest.fixture(scope="module")
def orchard(core, custom, multi_network_policy):  # noqa: F811  pylint: disable=redefined-outer-name,unused-argument
    with pods_on_a_new_localnet(core, custom, "orchard", NAD, PODS) as namespace:
        wait_until_every_pod_pings(core, namespace, PODS, "medlar")
        yield namespace


def probed(details, pair):
    text = details[("icmp", f"{pair[0]} -> {pair[1]}")]
    return "allow" if "probed: allow" in text else "deny" if "probed: deny" in text else text


@pytest.mark.parametrize("allows", [FIRST, CHANGED], ids=["first-apply", "changed-policies"])
def test_verify_right_after_an_apply_agrees_with_the_intent_on_its_first_report(
        orchard, lab_kubeconfig, tmp_path, allows):  # pylint: disable=redefined-outer-name
    done = apply_then_verify(tmp_path, lab_kubeconfig, intent(orchard, allows))
    assert done.returncode == 0, done.stdout[-8000:] + done.stderr[-2000:]
    assert "Wait until OVN enforces the live policies on every node" in done.stdout
    assert "Not waiting for OVN" not in done.stdout, done.stdout[-8000:]
    assert ", 0 disagree," in done.stdout, done.stdout[-3000:]
    details = junit_details(tmp_path / "report")
    for source in PODS:
        for target in PODS:
            if source != target:
                want = "allow" if (source, target) in allows else "deny"
                assert probed(details, (source, target)) == want, (source, target, details)


def test_a_chassis_that_does_not_catch_up_is_named_when_the_wait_times_out(orchard, lab_kubeconfig, tmp_path):
    # pylint: disable=redefined-outer-name
    pidfile = dataplane.node_dir(STATE_DIR, "worker-1") / "ovn-controller.pid"
    os.kill(int(pidfile.read_text().strip()), signal.SIGTERM)
    try:
        env = {"ANSIBLE_COLLECTIONS_PATH": str(REPO_DIR / ".venv" / "collections"), "ANSIBLE_FORCE_COLOR": "0"}
        done = subprocess.run([str(Path(ANSIBLE_PLAYBOOK).parent / "ansible"), "localhost", "-c", "local", "-e",
                               "ansible_python_interpreter=" + sys.executable, "-m", "ocpvirt.multinet.ovn_converged",
                               "-a", f"network={orchard}/{NAD} kubeconfig={lab_kubeconfig} timeout=5"],
                              cwd=tmp_path, env=dict(os.environ, **env), capture_output=True, text=True, timeout=300,
                              check=False)
    finally:
        subprocess.run([sys.executable, str(LABCTL), "up"], check=True, capture_output=True)  # restarts it
    assert done.returncode != 0, done.stdout
    text = " ".join(done.stdout.split())
    assert "still pending: zone worker-1: ovn-controller (hv_cfg" in text, text
    assert "zone worker-0" not in text, text
