"""Probe plans: which command probes each ordered pair, or why it cannot be probed."""
from ansible_collections.ocpvirt.multinet.plugins.module_utils.probes import probe_plan

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
    return {(p["from"], p["to"]): p for p in probe_plan(PROBE_EPS, port)}


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


def test_probe_plan_connects_for_tcp_and_skips_udp():
    tcp = plan_by_pair("tcp/22")[("tinypod", "gold")]
    assert tcp["port"] == "tcp/22" and "nc -z -w 2 192.168.77.71 22" in tcp["command"]
    assert tcp["command"].startswith('sh -c "')
    assert plan_by_pair("udp/53")[("tinypod", "gold")]["skip"] == "UDP has no handshake a probe can observe"
