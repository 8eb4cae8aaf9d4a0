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
import pytest

from lab_helpers import wait_for
from test_connectivity_info import create_policies
from test_seed_stages import multi_network_policy  # noqa: F401  (a fixture)
from test_verify_udp import junit_details, pods_on_a_new_localnet, run_verify
from test_verify_udp import pings as ping

from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.compiler import compile_intent

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
    return ping(core, namespace, source, PODS[target][0])


@pytest.fixture(scope="module")
def tcp_lab(core, custom, multi_network_policy):  # noqa: F811  pylint: disable=redefined-outer-name,unused-argument
    """The pods on their network, with the intent's policies in OVN."""
    with pods_on_a_new_localnet(core, custom, "tcp", NAD, PODS) as namespace:
        wait_for("teller to ping ledger", lambda: pings(core, namespace, "teller", "ledger"), timeout=120)
        create_policies(custom, namespace, compile_intent(intent(namespace)))
        # The intent opens no ICMP: once teller's ping fails, OVN has the policies' ACLs.
        wait_for("the policies to reach OVN", lambda: not pings(core, namespace, "teller", "ledger"), timeout=120)
        yield namespace


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
