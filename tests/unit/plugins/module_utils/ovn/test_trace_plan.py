"""trace_plan against real ovn-trace output: the batches tests/lab/make_ovn_fixtures.py ran in each
node's zone as the lab's real ovnkube wrote it (the seed's CNV stage, test pods on worker-0, the
VMs on worker-1)."""
import json
import shlex

import pytest

from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.errors import MultinetError
from ansible_collections.ocpvirt.multinet.plugins.module_utils.ovn import policy_map, trace_plan

from ovn_fixtures import nodes, text

SEED = json.loads(text("trace-endpoints.json"))
BY_IP = {endpoint["ip"]: endpoint["name"] for endpoint in SEED["endpoints"]}
TINYPOD = "llm.demo.llm.demo.localnet.network_llm-demo_tinypod"
LOCALNET = "localnet.cnv_ovn_localnet_port"
# What the seed saw in its CNV stage (tests/lab/ovnk_seed.py SEED_PINGS; 8.8.8.8 -> the lab's internet host)
SEED_PINGS = [
    ("192.168.77.92", "192.168.77.91", True), ("192.168.77.71", "192.168.77.1", True),
    ("192.168.77.71", "192.168.77.92", True), ("192.168.77.71", "203.0.113.10", True),
    ("192.168.77.71", "192.168.77.10", False), ("192.168.77.71", "192.168.77.93", False),
    ("192.168.77.92", "192.168.77.71", False), ("192.168.77.72", "192.168.77.1", True),
    ("192.168.77.72", "192.168.77.71", False), ("192.168.77.10", "192.168.77.71", False),
    ("192.168.77.91", "192.168.77.92", False), ("192.168.77.93", "192.168.77.91", False),
]


def zones():
    return {node: policy_map.zone_objects(data["nb"], "localnet-cnv") for node, data in nodes().items()}


def traced(ports=None):
    steps = trace_plan.plan(SEED["endpoints"], zones(), ports or SEED["ports"])
    outputs = {node: trace_plan.parse_batch(text(node, "trace-batch.txt")) for node in nodes()}
    acls = {node: data["nb"]["ACL"] for node, data in nodes().items()}
    return {result["port"]: {(row["from"], row["to"]): row for row in result["rows"]}
            for result in trace_plan.verdicts(steps, outputs, acls)}


@pytest.mark.parametrize("source, target, reached", SEED_PINGS, ids=[f"{ping[0]}->{ping[1]}" for ping in SEED_PINGS])
def test_traced_verdicts_are_the_seeds_pings(source, target, reached):
    row = traced()["icmp"][(BY_IP[source], BY_IP[target])]
    assert row["allowed"] is reached, row["detail"]


def test_every_pair_is_traced_for_every_port_vm_sourced_ones_too():
    results = traced()
    names = [e["name"] for e in SEED["endpoints"]]
    outside = {e["name"] for e in SEED["endpoints"] if e["kind"] == "outside"}
    pairs = {(s, t) for s in names for t in names if s != t and not (s in outside and t in outside)}
    for port in SEED["ports"]:
        assert set(results[port]) == pairs
        assert [row for row in results[port].values() if row["allowed"] is None] == []


def test_a_delivered_pair_names_both_allowing_acls():
    row = traced()["icmp"][("tinypod-01", "tinypod")]
    assert row["acls"][0].startswith("NP:llm-demo:allow-ipblock-01:Egress:0 (allow-related, from-lport 1001")
    assert row["acls"][1].startswith("NP:llm-demo:allow-ipblock:Ingress:0 (allow-related, to-lport 1001")
    assert row["detail"].startswith("OVN delivers it: on worker-0 output to " + TINYPOD)


def test_a_dropped_pair_names_the_deny_acl_and_the_node():
    row = traced()["icmp"][("outside-vm", "centos-stream9-gold-rabbit-80")]
    assert row["allowed"] is False
    assert row["detail"].startswith("OVN drops it: on worker-1 dropped by NP:llm-demo:Ingress (drop, to-lport 1000")
    assert len(row["acls"]) == 1


def test_a_pair_across_nodes_is_traced_in_both_zones():
    [step] = [s for s in trace_plan.plan(SEED["endpoints"], zones(), ["icmp"])
              if (s["from"], s["to"]) == ("centos-stream9-gold-rabbit-80", "tinypod-01")]
    assert [(leg["node"], leg["expect"]) for leg in step["legs"]] == [
        ("worker-1", LOCALNET), ("worker-0", "llm.demo.llm.demo.localnet.network_llm-demo_tinypod-01")]
    assert step["legs"][1]["inport"] == LOCALNET
    assert "eth.src == 02:00:a3:00:00:01" in step["legs"][1]["flow"]  # the source's MAC crosses the LAN


def test_tcp_flow_names_the_port():
    flow = trace_plan.microflow("p", "0a:58:c0:a8:4d:5c", "0a:58:c0:a8:4d:5b", "192.168.77.92", "192.168.77.91",
                                ("TCP", 22))
    assert flow.endswith("&& ip.ttl == 64 && tcp.src == 40000 && tcp.dst == 22")
    v6 = trace_plan.microflow("p", "a", "b", "fd00::1", "fd00::2", None)
    assert "ip6.src == fd00::1 && ip6.dst == fd00::2" in v6 and v6.endswith("icmp6.type == 128")


def test_batches_are_one_script_per_node_with_every_trace_quoted():
    steps = trace_plan.plan(SEED["endpoints"], zones(), ["icmp"])
    scripts = trace_plan.batches(steps)
    assert sorted(scripts) == ["worker-0", "worker-1"]
    for node, argvs in scripts.items():
        assert len(argvs) == 1 and argvs[0][:2] == ["sh", "-c"]
        legs = [leg for step in steps for leg in step["legs"] or [] if leg["node"] == node]
        assert argvs[0][2].count("ovn-trace --detailed --minimal --ct=new --ct=new ") == len(legs)
        assert shlex.quote(legs[0]["flow"]) in argvs[0][2]


def test_a_long_batch_is_split_under_the_argument_limit(monkeypatch):
    monkeypatch.setattr(trace_plan, "MAX_SCRIPT", 2000)
    steps = trace_plan.plan(SEED["endpoints"], zones(), ["icmp"])
    scripts = trace_plan.batches(steps)
    assert all(len(argv[2]) <= 2000 for argvs in scripts.values() for argv in argvs)
    assert len(scripts["worker-0"]) > 1
    ids = [line.split()[2].rstrip(";") for argvs in scripts.values() for argv in argvs for line in argv[2].splitlines()]
    assert sorted(ids) == sorted(leg["id"] for step in steps for leg in step["legs"] or [])


def test_parse_batch_keeps_each_trace_and_its_exit_code():
    out = "@@@ovn-trace t1\nline a\n@@@ovn-trace-rc t1 0\n@@@ovn-trace t2\nerror: no datapath\n@@@ovn-trace-rc t2 1\n"
    assert trace_plan.parse_batch(out) == {"t1": {"rc": 0, "text": "line a"}, "t2": {"rc": 1, "text": "error: no datapath"}}


def test_a_failed_trace_or_node_gives_no_verdict_with_the_reason():
    steps = trace_plan.plan(SEED["endpoints"], zones(), ["icmp"])
    failed = {node: {leg["id"]: {"rc": 1, "text": "ovn-trace: unknown datapath"} for s in steps
                     for leg in s["legs"] or [] if leg["node"] == node} for node in nodes()}
    rows = trace_plan.verdicts(steps, failed, {})[0]["rows"]
    assert {row["allowed"] for row in rows} == {None}
    assert "exited 1: ovn-trace: unknown datapath" in rows[0]["detail"]
    rows = trace_plan.verdicts(steps, {}, {}, errors={"worker-0": "cannot exec"})[0]["rows"]
    row = [r for r in rows if r["from"] == "tinypod"][0]
    assert row["allowed"] is None and "not traced on worker-0: cannot exec" in row["detail"]


def test_an_endpoint_without_a_port_is_not_traced_with_the_reason():
    stopped = {"name": "stopped-vm", "kind": "vm", "namespace": "llm-demo", "pod": None, "ip": "192.168.77.79"}
    steps = trace_plan.plan(SEED["endpoints"][:1] + [stopped], zones(), ["icmp"])
    assert [s["skip"] for s in steps] == ["stopped-vm has no logical switch port on this network in any node's "
                                          "Northbound database (no running pod)"] * 2


def test_endpoints_are_checked():
    with pytest.raises(MultinetError, match=r"endpoints\[0\]\.ip: is not an IP address"):
        trace_plan.check_endpoints([{"name": "a", "ip": "x"}])
    with pytest.raises(MultinetError, match=r"endpoints\[1\]"):
        trace_plan.check_endpoints([{"name": "a", "ip": "10.0.0.1"}, {"ip": "10.0.0.2"}])


def test_a_cut_acl_name_is_replaced_by_its_id():
    long_id = "localnet-cnv-network-controller:NetworkPolicy:llm-demo:a-long-policy-name-of-the-demo:Egress:0:None:0"
    cut = {"name": ("NP:llm-demo:a-long-policy-name-of-the-demo:Egress:0:x" * 2)[:63], "external_ids": {
        "k8s.ovn.org/id": long_id}}
    assert trace_plan.acl_label(cut) == long_id
    assert trace_plan.acl_label({"name": "NP:llm-demo:Egress", "external_ids": {"k8s.ovn.org/id": "x"}}) == "NP:llm-demo:Egress"


def test_an_endpoint_on_a_node_that_could_not_be_read_is_not_blamed_on_a_missing_port():
    """worker-1 (the VMs' node) could not be read, as with its NB ovsdb-server dead: its zone is
    missing, so its ports are in no zone read; the pairs of its endpoints name the node and why,
    never "no logical switch port", and the pairs among worker-0's endpoints are still traced."""
    why = "openshift-ovn-kubernetes/ovnkube-node-b container ovn-controller: exited 1: ovn-nbctl: " \
          "unix:/var/run/ovn/ovnnb_db.sock: database connection failed (No such file or directory)"
    on_node = {"tinypod": "worker-0", "tinypod-01": "worker-0", "tinypod-02": "worker-0"}
    endpoints = [dict(e, node=on_node.get(e["name"], "worker-1" if e["kind"] == "vm" else None))
                 for e in SEED["endpoints"]]
    readable = {node: zone for node, zone in zones().items() if node == "worker-0"}
    steps = {(s["from"], s["to"]): s for s in trace_plan.plan(endpoints, readable, ["icmp"], {"worker-1": why})}
    vm = "centos-stream9-gold-rabbit-80"
    for pair in ((vm, "tinypod"), ("tinypod", vm), ("gateway", vm)):
        assert steps[pair]["skip"] == "the OVN databases of node worker-1, where {0} runs, could not be read: {1}".format(
            vm, why), pair
    assert steps[("tinypod-01", "tinypod")]["skip"] is None
    without_node = [dict(e, node=None) for e in endpoints]
    step = next(s for s in trace_plan.plan(without_node, readable, ["icmp"], {"worker-1": why})
                if (s["from"], s["to"]) == ("tinypod", vm))
    assert step["skip"] == "{0} has no logical switch port in the Northbound databases that could be read; " \
                           "not read: node worker-1: {1}".format(vm, why)
