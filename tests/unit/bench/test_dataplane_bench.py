"""bench/dataplane_bench.py, its pure parts: the intents and compilations it compares, how it waits and
how targets are judged.

The zones themselves (ovsdb-server, ovn-northd, ovn-controller) run in tests/lab/test_bench_smoke.py.
"""
import ipaddress
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "bench"))

import dataplane_bench  # noqa: E402
import report  # noqa: E402


def _blocks(policies):
    return [[peer["ipBlock"] for peer in rule[key]] for rule, key in dataplane_bench._rules(policies)]


def test_the_three_tiers_compile_to_one_ipblock_per_address_when_not_merged():
    intent, compiled = dataplane_bench.compilations(1000)

    assert [len(spec["ips"]) for spec in intent["workloads"].values()] == [333, 333, 333]
    # gateway -> web, then each of the four other rule ends holds one tier's 333 addresses (the 1,333)
    assert dataplane_bench.manifest_counts(compiled["per-workload"]) == {"policies": 4, "ipblocks": 1333,
                                                                         "excepts": 0}
    assert {name: counts["policies"] for name, counts in
            ((name, dataplane_bench.manifest_counts(p)) for name, p in compiled.items())} == {
        "merged": 4, "per-workload": 4, "limit": 4}


def test_the_limit_is_each_rules_distinct_cidr_blocks_and_merged_is_no_larger():
    _intent, compiled = dataplane_bench.compilations(100)
    for separate, limit, merged in zip(*(_blocks(compiled[name]) for name in ("per-workload", "limit", "merged"))):
        addresses = list(ipaddress.collapse_addresses(ipaddress.ip_network(block["cidr"]) for block in separate))
        assert [ipaddress.ip_network(block["cidr"]) for block in limit] == addresses
        assert len(merged) <= len(limit)


def _marks(enforced):
    """Stage ends of a node whose traces agreed after `enforced` s: ovnkube a tenth, northd another
    tenth, ovn-controller up to 0.7 of it, the traces the rest, the probes 3 s more."""
    return dict(zip([name for name, _what in dataplane_bench.STAGES],
                    (enforced * 0.1, enforced * 0.2, enforced * 0.7, enforced, enforced + 3.0)))


def _runs(merged, limit, separate, enforced=(1.0, 2.0), probed="delivered", intent="tiers"):
    """Runs at 1,000 workloads; `enforced` is (merged, per-workload) seconds on worker-1 (worker-0 half);
    each node traces web-0000 -> app-0000 on tcp/8080 (delivered) and probes it (`probed`)."""
    check = {"from": "web-0000", "to": "app-0000", "port": "tcp/8080", "expected": "delivered"}
    counts = {"acls": 0, "acl_logical_flows": 0, "openflow_rules": 0, "port_groups": 6, "address_sets": 0,
              "logical_flows": 0, "northd_cpu_seconds": 0.5, "traces": [dict(check, verdict="delivered")],
              "probes": [dict(check, verdict=probed)],
              "cpu_seconds": {"ovnkube-controller": 0.25, "ovn-northd": 0.5, "ovn-controller": 1.5}}
    seconds = {"merged": enforced[0], "limit": enforced[0], "per-workload": enforced[1]}

    def node_run(name, node, value):
        took = seconds[name] / (2 if node == "worker-0" else 1)
        marks = {stage: round(end, 2) for stage, end in _marks(took).items()}
        return dict(counts, acls=value, acl_logical_flows=value, openflow_rules=value, enforced_seconds=took,
                    settled_seconds=marks["ovn-controller"], marks=marks, stages=dataplane_bench.stage_seconds(marks),
                    trace_rounds=2, last_trace_round_seconds=0.25,
                    bench_cpu_marks={stage: round(end / 4, 2) for stage, end in marks.items()})
    return [{"intent": intent, "workloads": 1000, "compilation": name, "policies": 4, "ipblocks": 1, "excepts": 0,
             "bench_cpu_seconds": 0.75,
             "poll_cpu_seconds": {"port_bindings_json": 0.02, "bound_ports_find": 0.01, "port_groups": 0.005},
             "nodes": {node: node_run(name, node, value) for node in dataplane_bench.NODES}}
            for name, value in (("merged", merged), ("limit", limit), ("per-workload", separate))]


def test_targets_are_met_or_missed_with_the_numbers_that_decided():
    met = dataplane_bench.targets(_runs(merged=12, limit=10, separate=1200))
    missed = dataplane_bench.targets(_runs(merged=13, limit=10, separate=100, enforced=(6.5, 9.0)))

    assert all(target["met"] and target["target"] for target in met)
    assert [target["met"] for target in missed] == [False, False] * 3 + [False]
    assert missed[0]["name"] == "three tiers: ACLs at 1,000 workloads: at most 1.2x the limit"
    assert missed[0]["detail"] == ("busiest node: merged 13, limit 10: 1.30x; 0.013 merged and 0.100 per-workload "
                                   "for each workload")
    assert missed[1]["detail"] == "busiest node: per-workload 100, merged 13: 7.7x fewer"
    assert missed[-1]["name"] == "three tiers: apply to enforced at 1,000 workloads: under 5 s"
    # worker-1 took 6.5 s: ovnkube 0.65, northd 0.65, ovn-controller 3.25, traces 1.95, probes 3.0
    assert missed[-1]["detail"].startswith(
        "slower node: 6.50 s from the last policy's create until OVN enforced it: the start of the round in which "
        "every sampled pair's traced verdict agreed with the intent (per-workload: 9.00 s); worker-1's slowest stage: ovn-controller 3.25 s of 6.50 s (ovnkube "
        "0.65 s, ovn-northd 0.65 s, ovn-controller 3.25 s, traces 1.95 s, probes 3.00 s; 2 rounds of traces, the "
        "last 0.25 s); CPU from the apply to "
        "the probes: ovnkube-controller 0.25 s, ovn-northd 0.50 s, ovn-controller 1.50 s; then ")
    assert met[-1]["detail"].startswith("slower node: 1.00 s ")
    assert met[-1]["detail"].endswith("then all 4 traced verdicts and probes as intended")


def test_enforced_in_time_is_missed_when_a_probe_disagrees_with_the_intent():
    enforced = dataplane_bench.targets(_runs(merged=12, limit=10, separate=1200, probed="dropped"))[-1]

    assert enforced["met"] is False
    assert enforced["detail"].endswith("then 2 of 4 traced verdicts and probes wrong: web-0000 -> app-0000 tcp/8080 "
                                       "dropped, intended delivered; web-0000 -> app-0000 tcp/8080 dropped, "
                                       "intended delivered")


def test_only_the_data_plane_section_of_the_page_is_replaced():
    page = "# B\n\n### Compile\n\nold compile\n\n{0}\n\nold table\n\n### A fleet\n\nfleet\n".format(
        dataplane_bench.SECTION)

    replaced = dataplane_bench.replace_section(page, "new table")

    assert replaced == ("# B\n\n### Compile\n\nold compile\n\n{0}\n\nnew table\n\n### A fleet\n\nfleet\n"
                        .format(dataplane_bench.SECTION))
    assert dataplane_bench.replace_section(replaced, "new table") == replaced


def test_the_seed_shape_is_judged_by_the_same_ratios_as_checks_that_fail_no_run():
    runs = _runs(merged=12, limit=10, separate=1200) + _runs(merged=40, limit=10, separate=100, intent="cells")
    verdicts = dataplane_bench.targets(runs)
    tiers, cells = verdicts[:7], verdicts[7:]

    assert all(target["target"] and target["met"] for target in tiers)
    assert [target["met"] for target in cells] == [False, False] * 3 + [True]
    assert not any(target["target"] for target in cells)
    assert cells[0]["name"] == ("the seed's shape (the same ratios, not an issue target): ACLs at 1,000 workloads: "
                                "at most 1.2x the limit")
    assert not dataplane_bench.missed(verdicts)
    assert dataplane_bench.missed(dataplane_bench.targets(_runs(merged=13, limit=10, separate=1200)))
    assert dataplane_bench.verdict_line(cells[0]).startswith("check: the seed's shape ")
    assert dataplane_bench.verdict_line(cells[0]).endswith(
        ": does not hold (busiest node: merged 40, limit 10: 4.00x; 0.040 merged and 0.100 per-workload for each "
        "workload)")


def test_a_run_without_the_target_size_or_without_ovn_says_so():
    assert dataplane_bench.targets([])[0]["met"] is None
    assert "Not measured: missing: ovn-northd" in dataplane_bench.markdown(
        {"unavailable": "missing: ovn-northd", "runs": [], "targets": []}, report._table)


def test_the_markdown_section_has_a_row_per_compilation_and_the_verdicts():
    runs = _runs(merged=12, limit=10, separate=1200)
    section = dataplane_bench.markdown({"runs": runs, "targets": dataplane_bench.targets(runs)}, report._table)

    assert "| three tiers | 1,000 | per-workload | 4 | 1 | 0 | 1,200 |" in section
    # merged, worker-1: settled, enforced, northd CPU; the traces and probes of both nodes
    assert "| 0.70 | 1.00 | 0.50 | 4/4 |" in section
    # merged, the slower node's stages (ovnkube, northd, ovn-controller, traces, probes), CPU and the bench's own
    assert ("| three tiers | 1,000 | merged | worker-1 | 0.10 | 0.10 | 0.50 | 0.30 | 3.00 | 2 / 0.25 | 0.25 | 0.50 "
            "| 1.50 | 0.25 | 0.75 |") in section
    assert "three tiers at 1,000: 20.0 / 10.0 / 5.0." in section
    assert "not recorded in this run" in section
    assert "| three tiers: ACLs at 1,000 workloads: at least 10x fewer than per-workload | target | met |" in section


class _Zone(dataplane_bench.Zone):
    """A zone whose NB holds `groups` (external_ids of Port_Group rows) and whose switch has
    `bound` ports bound to a chassis; no OVN needed."""

    def __init__(self, groups, bound=0):  # pylint: disable=super-init-not-called
        self.groups, self.bound = groups, bound

    def rows(self, tool, table, columns, *conditions):
        assert (tool, table, conditions) == ("ovn-nbctl", "Port_Group", ())
        return [{"external_ids": ["map", sorted(ids.items())]} for ids in self.groups]

    def tool(self, tool, *args):
        # `find` with --bare prints one uuid per bound port, records apart by an empty line
        assert (tool, args[-2:]) == ("ovn-sbctl", ('type=""', "chassis!=[]"))
        return "\n\n".join(f"uuid-{n}" for n in range(self.bound)) + "\n"


def test_port_groups_are_found_in_both_namings_and_only_for_the_network():
    network = "shop-7-limit"
    controller = {"k8s.ovn.org/owner-controller": f"{network}-network-controller"}
    era_415 = [{"k8s.ovn.org/network": network, "name": "shop-7_tiers-web"},
               {"k8s.ovn.org/network": network, "name": "a1b2_ingressDefaultDeny"},
               {"k8s.ovn.org/network": "other-net", "name": "shop-7_tiers-app"}]
    era_418 = [dict(controller, **{"k8s.ovn.org/owner-type": "NetworkPolicy", "k8s.ovn.org/name": "shop-7:tiers-db"}),
               dict(controller, **{"k8s.ovn.org/owner-type": "NetpolNamespace", "k8s.ovn.org/name": "shop-7",
                                   "direction": "Egress"}),
               {"k8s.ovn.org/owner-controller": "default-network-controller", "k8s.ovn.org/owner-type": "NetworkPolicy",
                "k8s.ovn.org/name": "shop-7:tiers-gw"}]

    assert sorted(o["policy"] or o["direction"] for o in _Zone(era_415).port_groups(network)) == [
        "Ingress", "shop-7/tiers-web"]
    assert sorted(o["policy"] or o["direction"] for o in _Zone(era_418).port_groups(network)) == [
        "Egress", "shop-7/tiers-db"]


def test_missing_port_groups_are_counted_in_418s_naming_and_bound_ports_from_the_find():
    network = "shop-7-merged"
    group = {"k8s.ovn.org/owner-controller": f"{network}-network-controller", "k8s.ovn.org/owner-type": "NetworkPolicy"}
    policies = [{"metadata": {"name": name}} for name in ("tiers-web", "tiers-app")]
    both = [dict(group, **{"k8s.ovn.org/name": f"shop-7:{p['metadata']['name']}"}) for p in policies]

    assert _Zone(both).missing_groups(network, "shop-7", policies) == 0
    assert _Zone(both[:1]).missing_groups(network, "shop-7", policies) == 1
    assert _Zone([], bound=3).bound_ports({"_uuid": ["uuid", "dp-1"]}) == 3
    assert _Zone([], bound=0).bound_ports({"_uuid": ["uuid", "dp-1"]}) == 0


def test_br_int_is_back_only_when_every_node_has_its_baseline_of_rules():
    baseline = {"worker-0": 954, "worker-1": 936}

    assert dataplane_bench.baseline_pending(dict(baseline), baseline) is None
    assert dataplane_bench.baseline_pending({"worker-0": 954, "worker-1": 457634}, baseline) == (
        "worker-1 457,634 OpenFlow rules, baseline 936")
    assert dataplane_bench.baseline_pending({"worker-0": 1000, "worker-1": 900}, baseline) == (
        "worker-0 1,000 OpenFlow rules, baseline 954; worker-1 900 OpenFlow rules, baseline 936")


def test_a_wait_that_times_out_names_what_was_pending():
    try:
        dataplane_bench.wait_for("worker-1: br-int not back", lambda: False, 0, lambda: "900 rules, baseline 850")
    except RuntimeError as error:
        assert str(error) == "worker-1: br-int not back after 0 s: 900 rules, baseline 850"
    else:
        raise AssertionError("no timeout")


def test_stages_are_the_seconds_between_consecutive_marks():
    marks = {"ovnkube": 0.4, "ovn-northd": 1.0, "ovn-controller": 13.1, "traces": 14.0, "probes": 23.5}

    assert dataplane_bench.stage_seconds(marks) == {"ovnkube": 0.4, "ovn-northd": 0.6, "ovn-controller": 12.1,
                                                    "traces": 0.9, "probes": 9.5}
    node = {"stages": dataplane_bench.stage_seconds(marks), "enforced_seconds": 13.2,
            "cpu_seconds": {"ovnkube-controller": 0.3, "ovn-northd": 0.8, "ovn-controller": 11.0}}
    # the probes' 9.5 s (refused pairs' connect timeouts) and the agreeing round's own 0.8 s are no
    # stage of the enforcement
    assert dataplane_bench.slowest_stage(node).startswith("slowest stage: ovn-controller 12.10 s of 13.20 s (")
    node["enforced_seconds"] = 30.0  # rounds of traces disagreed for 16.9 s after --wait=hv
    assert dataplane_bench.slowest_stage(node).startswith("slowest stage: until the agreeing round 16.90 s of 30.00 s")


def test_enforced_when_the_agreeing_round_began():
    # the last trace round agreed; one probe round: enforced when that trace round began
    assert dataplane_bench.enforced_at([1.2, 2.9], [4.0]) == 2.9
    # a probe round disagreed after the traces agreed: the data plane lagged, the probe round that agreed counts
    assert dataplane_bench.enforced_at([1.2], [2.0, 5.5]) == 5.5


def test_the_seed_shape_scaled_up_shares_nothing_with_the_seed_and_keeps_its_parts():
    intent = dataplane_bench.seed_shape_intent(100, "cells-100")
    text = json.dumps(intent)

    assert "192.168.77" not in text and "llm-demo" not in text and "tinypod" not in text
    assert len(intent["workloads"]) == 100  # 20 cells of five
    assert intent["endpoints"]["internet"] == {"cidr": "0.0.0.0/0", "except": ["10.80.0.0/12"]}
    raw = [entry for entry in intent["allow"] if "/" in entry["from"]]
    assert len(raw) == 20 and raw[0] == {"from": "10.92.0.1/32", "to": "c0000-vm-a"}
    every = [ipaddress.ip_address(ip) for spec in intent["workloads"].values() for ip in spec["ips"]]
    assert len(set(every)) == 100
    assert all(ip in ipaddress.ip_network("10.80.0.0/12") for ip in every)


def test_a_cells_pods_are_on_one_node_and_its_pairs_are_sampled_there():
    shape = dataplane_bench.SHAPES["cells"]
    intent = dataplane_bench.seed_shape_intent(20, "cells-20")
    cluster_pods = dataplane_bench.pods(intent, shape)
    nodes = {}
    for pod in cluster_pods:
        nodes.setdefault(pod["metadata"]["name"][:5], set()).add(pod["spec"]["nodeName"])

    assert nodes == {"c0000": {"worker-0"}, "c0001": {"worker-1"}, "c0002": {"worker-0"}, "c0003": {"worker-1"}}
    pairs = dataplane_bench.sample_pairs(cluster_pods, "worker-1", shape.samples)
    assert [(a["metadata"]["name"], b["metadata"]["name"], allowed) for a, b, _port, allowed in pairs[:2]] == [
        ("c0001-client-0000", "c0001-server-0000", True), ("c0001-vm-a-0000", "c0001-client-0000", True)]
    assert len(pairs) == len(shape.samples)
    # a pod's labels: its workload's selector and its role
    assert cluster_pods[0]["metadata"]["labels"] == {"app": "c0000-client", "bench-role": "client"}


def test_the_limit_keeps_a_block_with_an_except_as_it_is():
    _intent, compiled = dataplane_bench.compilations(10, "cells-10", "cells")
    internet = [peer["ipBlock"] for rule, key in dataplane_bench._rules(compiled["limit"]) for peer in rule[key]
                if peer["ipBlock"].get("except")]

    assert internet == [{"cidr": "0.0.0.0/0", "except": ["10.80.0.0/12"]}] * 2  # one per cell's first VM
    assert dataplane_bench.manifest_counts(compiled["limit"]) == dataplane_bench.manifest_counts(
        compiled["per-workload"])  # a cell's rules have one block per distinct address already


def test_pid_files_plain_and_the_labs_json_and_cpu_of_a_process_tree(tmp_path):
    (tmp_path / "plain.pid").write_text(f"{os.getpid()}\n")
    (tmp_path / "lab.pid").write_text(json.dumps({"pid": os.getpid(), "argv": ["python"]}))

    assert dataplane_bench.pid_of(tmp_path / "plain.pid") == dataplane_bench.pid_of(tmp_path / "lab.pid") == os.getpid()
    assert dataplane_bench.cpu_seconds(tmp_path / "lab.pid") > 0
    assert dataplane_bench.tree_cpu_seconds(2 ** 22 + 1) == 0.0  # no such process
