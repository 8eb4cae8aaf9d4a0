"""Probe plans: which command probes each ordered pair, or why it cannot be probed."""
import shlex
import socket
import subprocess
import time

from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.vocabulary import parse_traffic
from ansible_collections.ocpvirt.multinet.plugins.module_utils.verify.probes import probe_plan

PROBE_EPS = [
    {"name": "tinypod", "kind": "pod", "namespace": "llm-demo", "pod": "tinypod", "running": True,
     "ip": "192.168.77.91", "cidr": "192.168.77.91/24", "interface": "net1"},
    {"name": "gold", "kind": "vm", "namespace": "llm-demo", "pod": "virt-launcher-gold-x", "running": True, "ip": "192.168.77.71"},
    {"name": "idle", "kind": "pod", "namespace": "llm-demo", "pod": "idle", "running": False, "ip": "192.168.77.94"},
    {"name": "ghost", "kind": "pod", "namespace": "llm-demo", "present": False, "pod": None, "running": False, "ip": "192.168.77.99"},
    {"name": "gateway", "kind": "outside", "ip": "192.168.77.1"},
    {"name": "internet", "kind": "outside", "ip": "8.8.8.8"},
]


def plan_by_pair(port=None):
    return {(p["from"], p["to"]): p for p in probe_plan(PROBE_EPS, parse_traffic(port))}


def test_probe_plan_pings_on_subnet_targets_through_the_network_interface():
    plan = plan_by_pair()
    assert plan[("tinypod", "gateway")]["command"] == "ping -c 1 -W 2 -I net1 192.168.77.1"
    assert plan[("tinypod", "gateway")]["skip"] is None and plan[("tinypod", "gateway")]["pod"] == "tinypod"
    assert plan[("tinypod", "gold")]["port"] == "icmp"


def test_probe_plan_explains_every_pair_it_cannot_probe():
    plan = plan_by_pair()
    assert "outside tinypod's subnet" in plan[("tinypod", "internet")]["skip"]
    assert plan[("gold", "tinypod")]["skip"] == "cannot exec into the guest of vm gold"
    assert plan[("idle", "tinypod")]["skip"] == "pod idle is not running"
    assert plan[("ghost", "tinypod")]["skip"] == "ghost is not in the cluster"
    assert plan[("tinypod", "ghost")]["skip"] == "ghost is not in the cluster"
    assert all(p["command"] is None for p in plan.values() if p["skip"])
    assert not any(src in ("gateway", "internet") for src, _dst in plan)


def test_probe_plan_connects_for_tcp():
    tcp = plan_by_pair("tcp/22")[("tinypod", "gold")]
    assert tcp["port"] == "tcp/22" and "nc -v -z -w 2 192.168.77.71 22" in tcp["command"]
    assert tcp["command"].startswith("sh -c 'tcp() {") and tcp["server"] is None


def test_udp_pairs_are_skipped_unless_a_listener_can_be_started_on_the_target():
    off = plan_by_pair("udp/53")[("tinypod", "gold")]
    assert off["command"] is None and off["server"] is None
    assert off["skip"] == ("UDP has no handshake: without a listener started on gold, no answer would not "
                           "mean blocked (UDP probes are off)")
    peer = dict(PROBE_EPS[0], name="peer", pod="peer", ip="192.168.77.92")
    on = {(p["from"], p["to"]): p for p in probe_plan(PROBE_EPS + [peer], parse_traffic("udp/53"), udp_servers=True)}
    assert on[("tinypod", "gold")]["skip"].endswith(
        "(no way into the guest of vm gold to start one: set verify_guest_command)")
    assert on[("tinypod", "gateway")]["skip"].endswith("(no listener can be started in outside gateway)")
    assert on[("tinypod", "idle")]["skip"].endswith("(pod idle is not running)")
    pair = on[("tinypod", "peer")]
    assert pair["skip"] is None and pair["server"]["pod"] == "peer" and pair["server"]["namespace"] == "llm-demo"
    assert pair["server"]["via"] == "pod"
    assert "192.168.77.92" in pair["command"] and "192.168.77.92" in pair["server"]["command"]
    assert plan_by_pair("sctp/9")[("tinypod", "gold")]["skip"].startswith("SCTP is not probed")


def _udp_pair(port, timeout=1):
    endpoints = [{"name": name, "kind": "pod", "namespace": "t", "pod": name, "running": True, "ip": "127.0.0.1"}
                 for name in ("client", "server")]
    return next(p for p in probe_plan(endpoints, parse_traffic("udp/{0}".format(port)), timeout, udp_servers=True)
                if p["to"] == "server")


def _free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_udp_probe_succeeds_only_against_its_echo_server_on_loopback():
    """Runs the planned commands for real, on loopback only: the client succeeds when the
    server echoes its token, and fails (not hangs) when nothing listens."""
    port = _free_udp_port()
    pair = _udp_pair(port)
    assert subprocess.run(shlex.split(pair["command"]), timeout=30, check=False).returncode != 0
    server = subprocess.Popen(shlex.split(pair["server"]["command"]))
    try:
        for _attempt in range(20):  # the server binds within a moment of starting
            if subprocess.run(shlex.split(pair["command"]), timeout=30, check=False).returncode == 0:
                break
            time.sleep(0.2)
        else:
            raise AssertionError("the UDP probe never got its echo back")
        assert server.wait(timeout=10) == 0  # one datagram answered, then it exits
    finally:
        server.kill()


def test_every_udp_pair_to_a_pod_shares_one_listener_counting_its_senders():
    pods = [dict(PROBE_EPS[0], name=name, pod=name, ip=ip)
            for name, ip in (("a", "192.168.77.91"), ("b", "192.168.77.92"), ("c", "192.168.77.93"))]
    plan = {(p["from"], p["to"]): p for p in probe_plan(pods + PROBE_EPS[1:], parse_traffic("udp/53"), 3, udp_servers=True)}
    to_a = [p["server"] for (_src, dst), p in plan.items() if dst == "a" and not p["skip"]]
    assert len(to_a) == 2 and to_a[0] == to_a[1]
    assert to_a[0]["clients"] == 2 and to_a[0]["lifetime"] == 30 and "192.168.77.91" in to_a[0]["command"]
    assert plan[("b", "a")]["server"] != plan[("a", "b")]["server"]
    assert plan[("a", "gold")]["server"] is None and plan[("gold", "a")]["server"] is None


def test_udp_listener_answers_every_sender_then_stops_on_its_own():
    """On loopback only: two probes against one listener planned for two senders both get
    their echo (both come from 127.0.0.1, so it keeps listening); a listener nobody reaches
    stops after its lifetime with timeout's 124 instead of hanging."""
    port = _free_udp_port()
    pair = _udp_pair(port)
    command = pair["server"]["command"].replace("< 1:", "< 2:")
    assert command != pair["server"]["command"]
    server = subprocess.Popen(shlex.split(command))
    try:
        for _sender in range(2):
            assert subprocess.run(shlex.split(pair["command"]), timeout=30, check=False).returncode == 0
        assert server.poll() is None
    finally:
        server.kill()
    idle = subprocess.Popen(shlex.split(_udp_pair(_free_udp_port())["server"]["command"]))
    try:
        started = time.monotonic()
        assert idle.wait(timeout=30) == 124
        assert pair["server"]["lifetime"] <= time.monotonic() - started < pair["server"]["lifetime"] + 5
    finally:
        idle.kill()


def _tcp_pair(port, tcp_servers=True):
    endpoints = [{"name": name, "kind": "pod", "namespace": "t", "pod": name, "running": True, "ip": "127.0.0.1"}
                 for name in ("client", "server")]
    return next(p for p in probe_plan(endpoints, parse_traffic("tcp/{0}".format(port)), 1, tcp_servers=tcp_servers)
                if p["to"] == "server")


def _free_tcp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _run(command, timeout=60):
    return subprocess.run(shlex.split(command), timeout=timeout, check=False, capture_output=True, text=True)


def test_tcp_pairs_to_running_pods_get_one_listener_only_when_asked():
    pods = [dict(PROBE_EPS[0], name=name, pod=name, ip=ip)
            for name, ip in (("a", "192.168.77.91"), ("b", "192.168.77.92"), ("c", "192.168.77.93"))]
    plan = {(p["from"], p["to"]): p for p in probe_plan(pods + PROBE_EPS[1:], parse_traffic("tcp/5432"), 3, tcp_servers=True)}
    server = plan[("b", "a")]["server"]
    assert server == plan[("c", "a")]["server"] and server["protocol"] == "tcp" and server["clients"] == 2
    assert server["via"] == "pod" and server["pod"] == "a" and "192.168.77.91" in server["command"]
    assert plan[("a", "gateway")]["server"] is None and plan[("a", "gateway")]["skip"] is None  # probed without one
    assert plan[("a", "gold")]["server"] is None  # no way into the guest here
    assert plan[("a", "idle")]["server"] is None
    off = {(p["from"], p["to"]): p for p in probe_plan(pods, parse_traffic("tcp/5432"), 3)}
    assert all(step["server"] is None for step in off.values())


def test_tcp_probe_is_refused_without_a_listener_and_gets_through_with_the_planned_one():
    """Runs the planned commands for real, on loopback only: without a listener the connect is
    refused (and says so); the planned listener accepts it and exits once its one sender came."""
    port = _free_tcp_port()
    refused = _run(_tcp_pair(port, tcp_servers=False)["command"])
    assert refused.returncode != 0 and "refused" in refused.stdout.lower(), refused
    pair = _tcp_pair(port)
    server = subprocess.Popen(shlex.split(pair["server"]["command"]))
    try:
        opened = _run(pair["command"])  # retries the refusals until the listener is up
        assert opened.returncode == 0, opened
        assert server.wait(timeout=10) == 0
    finally:
        server.kill()


def test_a_tcp_client_waits_for_a_listener_that_starts_late_but_not_for_ever():
    port = _free_tcp_port()
    pair = _tcp_pair(port)
    client = subprocess.Popen(shlex.split(pair["command"]), stdout=subprocess.PIPE, text=True)
    time.sleep(3)
    server = subprocess.Popen(shlex.split(pair["server"]["command"]))
    try:
        assert client.wait(timeout=60) == 0
    finally:
        server.kill()
    started = time.monotonic()
    late = _run(_tcp_pair(_free_tcp_port())["command"])
    assert late.returncode != 0 and "refused" in late.stdout.lower()
    assert time.monotonic() - started < pair["server"]["lifetime"]  # half a lifetime, then it gives up
