"""The verify role probes UDP with real packets on the lab: a listener in the target pod, probes
from the source pods, OVN enforcing the intent's compiled policies.

Three pods on a fresh localnet network mapped to br-ex on every node (as in test_seed_stages): the
intent allows udp/5353 from `allowed` to `dns` and nothing from `denied`. The role runs the way a
playbook runs it (probe on, UDP probes on by default) and its JUnit report must show the allowed
pair probed as got through and the denied one as blocked, each agreeing with the simulation.

Then a VM joins them (`guest`, reached through `labctl exec` as playbooks/vars/lab_probe.yml
does): the intent allows udp/5353 from `allowed` to the guest and from the guest to `dns`, so
the role starts a listener in the guest too and probes from it, and every UDP pair, to and from
the guest, is probed and agrees with the simulation. A way in under which the guest has neither
python3 nor socat leaves the guest's UDP pairs not probed, never blocked.
"""
import contextlib
import json
import os
import subprocess
import sys
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from lab_helpers import wait_for
from test_connectivity_info import MNP, create_policies
from test_exec import python_exec
from test_seed_stages import (  # noqa: F401  (multi_network_policy is a fixture)
    GATEWAY, LABCTL, STATE_DIR, bridge_mappings, multi_network_policy, set_bridge_mappings, vm_manifest)

import dataplane  # noqa: E402  (lab/ is on sys.path once test_seed_stages is imported)

from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.compiler import compile_intent

REPO_DIR = Path(__file__).resolve().parents[2]
ANSIBLE_PLAYBOOK = str(Path(sys.executable).parent / "ansible-playbook")
NAD = "udp-net"
# Addresses the seed does not use, so the demo's or another test's pods cannot hold them.
PODS = {"dns": ("192.168.77.121", "worker-0"), "allowed": ("192.168.77.122", "worker-1"),
        "denied": ("192.168.77.123", "worker-0")}
VM, VM_IP, VM_MAC = "udp-vm", "192.168.77.124", "02:00:a3:00:01:24"


@contextlib.contextmanager
def pods_on_a_new_localnet(core, custom, prefix, nad, pods):
    """A fresh namespace `labtest-<prefix>-*` holding the NAD `nad` of a new localnet (mapped to
    br-ex on every node, as an NNCP would) and `pods` ({name: (ip, node)}) plugged into it;
    everything is removed and the nodes' mappings put back afterwards."""
    namespace = f"labtest-{prefix}-{uuid.uuid4().hex[:6]}"
    network = f"{prefix}-{uuid.uuid4().hex[:6]}"
    nodes = dataplane.data_plane_nodes()
    mappings = {node: bridge_mappings(node) for node in nodes}
    for node in nodes:
        set_bridge_mappings(node, f"{network}:br-ex,{mappings[node]}")
    core.create_namespace({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    try:
        config = {"cniVersion": "0.3.1", "name": network, "type": "ovn-k8s-cni-overlay", "topology": "localnet",
                  "netAttachDefName": f"{namespace}/{nad}"}
        custom.create_namespaced_custom_object("k8s.cni.cncf.io", "v1", namespace, "network-attachment-definitions", {
            "apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition",
            "metadata": {"name": nad}, "spec": {"config": json.dumps(config)}})
        for name, (ip, node) in pods.items():
            core.create_namespaced_pod(namespace, {
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": name, "labels": {"app": name}, "annotations": {
                    "k8s.v1.cni.cncf.io/networks": json.dumps([{"name": nad, "ips": [ip + "/24"]}])}},
                "spec": {"nodeName": node, "containers": [{"name": "c", "image": "quay.io/example/tiny:1"}]}})
        targets = [STATE_DIR / "exec-targets" / "pods" / namespace / f"{pod}.json" for pod in pods]
        wait_for("every pod plugged in", lambda: all(t.exists() for t in targets), timeout=120)
        yield namespace
    finally:
        core.delete_namespace(namespace)
        for node in nodes:
            set_bridge_mappings(node, mappings[node])


def pings(core, namespace, source, target_ip):
    _out, _err, code = python_exec(core, namespace, source, ["ping", "-c", "1", "-W", "1", target_ip], container="c")
    return code == 0


@pytest.fixture(scope="module")
def udp_lab(core, custom, multi_network_policy):  # noqa: F811  pylint: disable=redefined-outer-name,unused-argument
    with pods_on_a_new_localnet(core, custom, "udp", NAD, PODS) as namespace:
        for source in ("allowed", "denied"):
            wait_for(f"{source} to ping dns", lambda s=source: pings(core, namespace, s, PODS["dns"][0]), timeout=120)
        yield namespace


@pytest.fixture(scope="module")
def udp_vm_lab(udp_lab, custom, virtualization_installed):  # pylint: disable=redefined-outer-name,unused-argument
    """udp_lab plus a running VM on its network, without the pods-only test's policies (their
    default deny selects every pod of the namespace, the VM's launcher too)."""
    for policy in custom.list_namespaced_custom_object(*MNP[:2], udp_lab, MNP[2])["items"]:
        custom.delete_namespaced_custom_object(*MNP[:2], udp_lab, MNP[2], policy["metadata"]["name"])
    manifest = vm_manifest(VM, VM_MAC, VM_IP)
    manifest["spec"]["template"]["spec"]["networks"][0]["multus"]["networkName"] = NAD
    custom.create_namespaced_custom_object("kubevirt.io", "v1", udp_lab, "virtualmachines", manifest)
    guest = STATE_DIR / "exec-targets" / "guests" / udp_lab / f"{VM}.json"
    wait_for("the guest plugged in", guest.exists, timeout=120)
    wait_for("the guest to ping the gateway", lambda: guest_pings(udp_lab, GATEWAY), timeout=120)
    return udp_lab


def guest_pings(namespace, ip):
    return subprocess.run([sys.executable, str(LABCTL), "exec", f"{namespace}/{VM}", "--", "ping", "-c", "1", "-W", "1",
                           ip], capture_output=True, timeout=90, check=False).returncode == 0


def run_verify(tmp_path, kubeconfig, intent, **variables):
    playbook = tmp_path / "verify.yml"
    playbook.write_text(yaml.safe_dump([{
        "hosts": "localhost", "gather_facts": False,
        "roles": [dict({"role": "ocpvirt.multinet.verify", "verify_intents": [intent],
                        "verify_kubeconfig": kubeconfig, "verify_probe": True,
                        "verify_report_dir": str(tmp_path / "report")}, **variables)]}]))
    env = {"ANSIBLE_COLLECTIONS_PATH": str(REPO_DIR / ".venv" / "collections"),
           "ANSIBLE_LOCALHOST_WARNING": "false", "ANSIBLE_FORCE_COLOR": "0"}
    return subprocess.run([ANSIBLE_PLAYBOOK, "-i", "localhost,", "-c", "local", "-e",
                           "ansible_python_interpreter=" + sys.executable, str(playbook)],
                          cwd=tmp_path, env=dict(os.environ, **env),
                          capture_output=True, text=True, timeout=600, check=False)


def junit_details(report_dir):
    """{(check, pair): system-out or failure text} from the role's junit.xml."""
    suites = ET.parse(report_dir / "junit.xml").getroot()
    return {(case.get("classname").split(".", 1)[1], case.get("name")): "".join(case.itertext())
            for case in suites.iter("testcase")}


def test_udp_pairs_are_probed_against_a_listener_and_agree_with_the_simulation(
        udp_lab, lab_kubeconfig, core, custom, tmp_path):
    intent = {"name": "udp", "namespace": udp_lab, "network": f"{udp_lab}/{NAD}",
              "workloads": {name: {"selector": {"app": name}, "ips": [ip]} for name, (ip, _node) in PODS.items()},
              "allow": [{"from": "allowed", "to": "dns", "ports": ["udp/5353"]}]}
    create_policies(custom, udp_lab, compile_intent(intent))
    # The intent opens no ICMP: once denied's ping fails, OVN has the policies' ACLs.
    wait_for("the policies to reach OVN", lambda: not pings(core, udp_lab, "denied", PODS["dns"][0]), timeout=120)
    done = run_verify(tmp_path, lab_kubeconfig, intent, verify_ports=["udp/5353"])
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    details = junit_details(tmp_path / "report")
    allowed = details[("udp/5353", "allowed -> dns")]
    assert "simulated: allow" in allowed and "probed: allow - got through" in allowed, allowed
    assert "echo from 192.168.77.121:5353" in allowed, allowed
    denied = details[("udp/5353", "denied -> dns")]
    assert "simulated: deny" in denied and "probed: deny - blocked" in denied, denied
    assert "no echo from 192.168.77.121:5353" in denied, denied
    # dns -> allowed: a listener in `allowed`, and the intent opens nothing that way.
    back = details[("udp/5353", "dns -> allowed")]
    assert "probed: deny - blocked" in back, back


@pytest.fixture(scope="module")
def guest_policies(udp_vm_lab, custom):  # pylint: disable=redefined-outer-name
    """The policies of guest_intent."""
    create_policies(custom, udp_vm_lab, compile_intent(guest_intent(udp_vm_lab)))
    # The intent isolates the guest and opens no ICMP: once the guest's ping to the gateway
    # fails, OVN has the policies' ACLs.
    wait_for("the policies to reach OVN", lambda: not guest_pings(udp_vm_lab, GATEWAY), timeout=120)
    return udp_vm_lab


def guest_intent(namespace):
    workloads = {name: {"selector": {"app": name}, "ips": [ip]} for name, (ip, _node) in PODS.items()}
    return {"name": "udp-guest", "namespace": namespace, "network": f"{namespace}/{NAD}",
            "workloads": dict(workloads, guest={"vm": VM, "ips": [VM_IP]}),
            "allow": [{"from": "allowed", "to": "dns", "ports": ["udp/5353"]},
                      {"from": "allowed", "to": "guest", "ports": ["udp/5353"]},
                      {"from": "guest", "to": "dns", "ports": ["udp/5353"]}]}


def test_udp_pairs_to_and_from_a_guest_are_probed_against_its_listener_and_agree_with_the_simulation(
        guest_policies, lab_kubeconfig, tmp_path):  # pylint: disable=redefined-outer-name
    intent = guest_intent(guest_policies)
    guest_command = f"{sys.executable} {LABCTL} exec {{namespace}}/{{vm}} -- sh -c {{command}}"
    done = run_verify(tmp_path, lab_kubeconfig, intent, verify_ports=["udp/5353"],
                      verify_guest_command=guest_command)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert "UDP listener for 3 senders" in done.stdout, done.stdout[-6000:]  # the guest's: allowed, denied, dns
    details = junit_details(tmp_path / "report")
    to_guest = details[("udp/5353", "allowed -> guest")]
    assert "simulated: allow" in to_guest and "probed: allow - got through" in to_guest, to_guest
    assert f"echo from {VM_IP}:5353" in to_guest, to_guest
    denied = details[("udp/5353", "denied -> guest")]
    assert "simulated: deny" in denied and "probed: deny - blocked" in denied, denied
    assert f"no echo from {VM_IP}:5353" in denied, denied
    from_guest = details[("udp/5353", "guest -> dns")]
    assert "simulated: allow" in from_guest and "probed: allow - got through" in from_guest, from_guest
    assert "in the guest of " + VM in from_guest, from_guest
    for blocked in ("guest -> allowed", "guest -> denied", "dns -> guest"):
        assert "probed: deny - blocked" in details[("udp/5353", blocked)], details[("udp/5353", blocked)]
    assert all("probed: allow" in text or "probed: deny" in text for text in details.values()), details


def test_a_guest_without_python3_or_socat_leaves_its_udp_pairs_not_probed_never_blocked(
        guest_policies, lab_kubeconfig, tmp_path):  # pylint: disable=redefined-outer-name
    """The way in runs the guest's scripts with a PATH holding only sh: the guest's listener and
    clients find neither tool."""
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "sh").symlink_to("/bin/sh")
    guest_command = f"{sys.executable} {LABCTL} exec {{namespace}}/{{vm}} -- env PATH={tmp_path / 'bin'} sh -c {{command}}"
    done = run_verify(tmp_path, lab_kubeconfig, guest_intent(guest_policies), verify_ports=["udp/5353"],
                      verify_guest_command=guest_command)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    details = junit_details(tmp_path / "report")
    to_guest = details[("udp/5353", "allowed -> guest")]
    assert (f"the UDP listener in the guest of {guest_policies}/{VM} exited 127: neither python3 nor socat "
            "found") in to_guest and "probed: - -" in to_guest, to_guest
    from_guest = details[("udp/5353", "guest -> dns")]
    assert f"probe tool missing in the guest of {VM}: neither python3 nor socat found" in from_guest, from_guest
    assert "probed: - -" in from_guest, from_guest
    guest_pairs = [text for (_check, pair), text in details.items() if "guest" in pair]
    assert len(guest_pairs) == 6 and not [text for text in guest_pairs if "probed: allow" in text
                                          or "probed: deny" in text], guest_pairs
    assert "probed: deny - blocked" in details[("udp/5353", "dns -> allowed")]  # pods still probe each other
    assert "probed: allow - got through" in details[("udp/5353", "allowed -> dns")]
