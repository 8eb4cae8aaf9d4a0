"""The verify role probes TCP with real packets on the lab and reads the answers for what they
are: a reset (nothing listens) is "reached (refused)", only silence is blocked.

Three pods on a fresh localnet network (as in test_verify_udp): the intent lets `teller` reach
`ledger` on tcp/5432 and nothing else; nothing listens on 5432 in `ledger`. The role runs as a
playbook runs it:

- with TCP listeners off, teller -> ledger is refused by ledger's kernel: probed allowed,
  "reached (refused)", agreeing with the simulation and the trace (before, it read blocked and
  the run failed with a disagreement); auditor -> ledger times out: blocked, as simulated;
- with listeners on (the default), a listener started in ledger accepts it: got through;
- with nothing probed (verify_probe false) and nothing traced (no ovnkube-node pod found), the
  run fails saying so and why, unless verify_allow_unobserved says a simulation-only run is wanted.
"""
import json
import uuid

import pytest

from lab_helpers import wait_for
from test_connectivity_info import create_policies
from test_exec import python_exec
from test_seed_stages import (  # noqa: F401  (multi_network_policy is a fixture)
    STATE_DIR, bridge_mappings, multi_network_policy, set_bridge_mappings)
from test_verify_udp import junit_details, run_verify

import dataplane  # noqa: E402  (lab/ is on sys.path once test_seed_stages is imported)

from ansible_collections.ocpvirt.multinet.plugins.module_utils.compiler import compile_intent

NAD = "ledger-net"
PORT = "tcp/5432"
# Addresses neither the seed nor another lab test uses.
PODS = {"ledger": ("192.168.77.185", "worker-0"), "teller": ("192.168.77.186", "worker-1"),
        "auditor": ("192.168.77.187", "worker-0")}


def intent(namespace):
    return {"name": "ledger", "namespace": namespace, "network": f"{namespace}/{NAD}",
            "workloads": {name: {"selector": {"app": name}, "ips": [ip]} for name, (ip, _node) in PODS.items()},
            "allow": [{"from": "teller", "to": "ledger", "ports": [PORT]}]}


def pings(core, namespace, source, target):
    _out, _err, code = python_exec(core, namespace, source, ["ping", "-c", "1", "-W", "1", PODS[target][0]],
                                   container="c")
    return code == 0


@pytest.fixture(scope="module")
def tcp_lab(core, custom, multi_network_policy):  # noqa: F811  pylint: disable=redefined-outer-name,unused-argument
    """The pods on their network, with the intent's policies in OVN."""
    namespace = f"labtest-tcp-{uuid.uuid4().hex[:6]}"
    network = f"ledger-{uuid.uuid4().hex[:6]}"
    nodes = dataplane.data_plane_nodes()
    mappings = {node: bridge_mappings(node) for node in nodes}
    for node in nodes:  # what an NNCP mapping the network to br-ex does
        set_bridge_mappings(node, f"{network}:br-ex,{mappings[node]}")
    core.create_namespace({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    try:
        config = {"cniVersion": "0.3.1", "name": network, "type": "ovn-k8s-cni-overlay", "topology": "localnet",
                  "netAttachDefName": f"{namespace}/{NAD}"}
        custom.create_namespaced_custom_object("k8s.cni.cncf.io", "v1", namespace, "network-attachment-definitions", {
            "apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition",
            "metadata": {"name": NAD}, "spec": {"config": json.dumps(config)}})
        for name, (ip, node) in PODS.items():
            core.create_namespaced_pod(namespace, {
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": name, "labels": {"app": name}, "annotations": {
                    "k8s.v1.cni.cncf.io/networks": json.dumps([{"name": NAD, "ips": [ip + "/24"]}])}},
                "spec": {"nodeName": node, "containers": [{"name": "c", "image": "quay.io/example/tiny:1"}]}})
        targets = [STATE_DIR / "exec-targets" / "pods" / namespace / f"{pod}.json" for pod in PODS]
        wait_for("every pod plugged in", lambda: all(t.exists() for t in targets), timeout=120)
        wait_for("teller to ping ledger", lambda: pings(core, namespace, "teller", "ledger"), timeout=120)
        create_policies(custom, namespace, compile_intent(intent(namespace)))
        # The intent opens no ICMP: once teller's ping fails, OVN has the policies' ACLs.
        wait_for("the policies to reach OVN", lambda: not pings(core, namespace, "teller", "ledger"), timeout=120)
        yield namespace
    finally:
        core.delete_namespace(namespace)
        for node in nodes:
            set_bridge_mappings(node, mappings[node])


def test_a_port_nobody_listens_on_is_reached_refused_not_blocked_and_agrees(tcp_lab, lab_kubeconfig, tmp_path):
    done = run_verify(tmp_path, lab_kubeconfig, intent(tcp_lab), verify_ports=[PORT],
                      verify_probe_tcp_listeners=False)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    details = junit_details(tmp_path / "report")
    refused = details[(PORT, "teller -> ledger")]
    assert "expected: allow" in refused and "simulated: allow" in refused, refused
    assert "probed: allow - reached (refused)" in refused and "Connection refused" in refused, refused
    assert "traced: allow" in refused, refused
    denied = details[(PORT, "auditor -> ledger")]
    assert "probed: deny - blocked" in denied and "traced: deny" in denied, denied
    assert all("probed: allow" in text or "probed: deny" in text for text in details.values()), details
    assert "0 disagree, 6 probed, 6 traced" in done.stdout, done.stdout[-3000:]


def test_with_a_listener_started_in_the_target_an_open_port_is_proven_open(tcp_lab, lab_kubeconfig, tmp_path):
    done = run_verify(tmp_path, lab_kubeconfig, intent(tcp_lab), verify_ports=[PORT])
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    details = junit_details(tmp_path / "report")
    opened = details[(PORT, "teller -> ledger")]
    assert "probed: allow - got through" in opened and "traced: allow" in opened, opened
    for blocked in ("auditor -> ledger", "ledger -> teller", "teller -> auditor"):
        assert "probed: deny - blocked" in details[(PORT, blocked)], details[(PORT, blocked)]


def test_a_run_that_neither_probed_nor_traced_fails_unless_asked_for(tcp_lab, lab_kubeconfig, tmp_path):
    blind = {"verify_ports": [PORT], "verify_probe": False, "verify_trace_namespace": "no-such-namespace"}
    done = run_verify(tmp_path, lab_kubeconfig, intent(tcp_lab), **blind)
    assert done.returncode != 0, done.stdout[-6000:]
    assert "Nothing was probed or traced" in done.stdout, done.stdout[-6000:]
    assert "probing skipped for ledger: verify_probe is false" in done.stdout, done.stdout[-6000:]
    assert "tracing skipped for ledger: ovn_namespace: no running pod matches app=ovnkube-node" in done.stdout
    asked = run_verify(tmp_path, lab_kubeconfig, intent(tcp_lab), verify_allow_unobserved=True, **blind)
    assert asked.returncode == 0, asked.stdout[-6000:] + asked.stderr[-2000:]
    assert "0 disagree, 0 probed, 0 traced" in asked.stdout, asked.stdout[-3000:]
