"""bench/dataplane_bench.py, its pure parts: the three compilations it compares and how targets are judged.

The zones themselves (ovsdb-server, ovn-northd, ovn-controller) run in tests/lab/test_bench_smoke.py.
"""
import ipaddress
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


def _runs(merged, limit, separate, enforced=(1.0, 2.0), probed="delivered"):
    """Runs at 1,000 workloads; `enforced` is (merged, per-workload) seconds on worker-1 (worker-0 half);
    each node traces web-0000 -> app-0000 on tcp/8080 (delivered) and probes it (`probed`)."""
    check = {"from": "web-0000", "to": "app-0000", "port": "tcp/8080", "expected": "delivered"}
    counts = {"acls": 0, "acl_logical_flows": 0, "openflow_rules": 0, "port_groups": 6, "address_sets": 0,
              "logical_flows": 0, "northd_cpu_seconds": 0.5, "traces": [dict(check, verdict="delivered")],
              "probes": [dict(check, verdict=probed)]}
    seconds = {"merged": enforced[0], "limit": enforced[0], "per-workload": enforced[1]}
    return [{"workloads": 1000, "compilation": name, "policies": 4, "ipblocks": 1, "excepts": 0,
             "nodes": {node: dict(counts, acls=value, acl_logical_flows=value, openflow_rules=value,
                                  enforced_seconds=seconds[name] / (2 if node == "worker-0" else 1),
                                  settled_seconds=seconds[name] / (4 if node == "worker-0" else 2))
                       for node in dataplane_bench.NODES}}
            for name, value in (("merged", merged), ("limit", limit), ("per-workload", separate))]


def test_targets_are_met_or_missed_with_the_numbers_that_decided():
    met = dataplane_bench.targets(_runs(merged=12, limit=10, separate=1200))
    missed = dataplane_bench.targets(_runs(merged=13, limit=10, separate=100, enforced=(6.5, 9.0)))

    assert all(target["met"] for target in met)
    assert [target["met"] for target in missed] == [False, False] * 3 + [False]
    assert missed[0]["detail"] == ("busiest node: merged 13, limit 10: 1.30x; 0.013 merged and 0.100 per-workload "
                                   "for each workload")
    assert missed[1]["detail"] == "busiest node: per-workload 100, merged 13: 7.7x fewer"
    assert missed[-1]["name"] == "apply to enforced at 1,000 workloads: under 5 s"
    assert missed[-1]["detail"].startswith("slower node: 6.50 s from the last policy's create until every sampled "
                                           "pair's traced verdict agreed with the intent (every policy's port group "
                                           "there and `ovn-nbctl --wait=hv sync` returned after 3.25 s; "
                                           "per-workload: 9.00 s)")
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


def test_a_run_without_the_target_size_or_without_ovn_says_so():
    assert dataplane_bench.targets([])[0]["met"] is None
    assert "Not measured: missing: ovn-northd" in dataplane_bench.markdown(
        {"unavailable": "missing: ovn-northd", "runs": [], "targets": []}, report._table)


def test_the_markdown_section_has_a_row_per_compilation_and_the_verdicts():
    runs = _runs(merged=12, limit=10, separate=1200)
    section = dataplane_bench.markdown({"runs": runs, "targets": dataplane_bench.targets(runs)}, report._table)

    assert "| 1,000 | per-workload | 4 | 1 | 0 | 1,200 |" in section
    # merged, worker-1: settled, enforced, northd CPU; the traces and probes of both nodes
    assert "| 0.50 | 1.00 | 0.50 | 4/4 |" in section
    assert "not recorded in this run" in section
    assert "| ACLs at 1,000 workloads: at least 10x fewer than per-workload | met |" in section


class _Zone(dataplane_bench.Zone):
    """A zone whose NB holds `groups` (external_ids of Port_Group rows) and whose switch has
    `bound` ports bound to a chassis; no OVN needed."""

    def __init__(self, groups, bound=0):  # pylint: disable=super-init-not-called
        self.groups, self.bound = groups, bound

    def rows(self, tool, table, columns, *conditions):
        if table == "Datapath_Binding":
            return [{"_uuid": ["uuid", "dp-1"], "tunnel_key": 5}]
        if table == "Port_Binding":
            return [{"type": "", "chassis": ["uuid", "ch-1"]}] * self.bound + [{"type": "", "chassis": ["set", []]}]
        assert (tool, table, conditions) == ("ovn-nbctl", "Port_Group", ())
        return [{"external_ids": ["map", sorted(ids.items())]} for ids in self.groups]


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


def test_a_zone_is_settled_once_every_policy_has_its_group_in_418s_naming_and_every_port_is_bound():
    network = "shop-7-merged"
    group = {"k8s.ovn.org/owner-controller": f"{network}-network-controller", "k8s.ovn.org/owner-type": "NetworkPolicy"}
    policies = [{"metadata": {"name": name}} for name in ("tiers-web", "tiers-app")]
    both = [dict(group, **{"k8s.ovn.org/name": f"shop-7:{p['metadata']['name']}"}) for p in policies]

    assert _Zone(both, bound=3).settled(network, "shop-7", policies, local_ports=3)
    assert not _Zone(both[:1], bound=3).settled(network, "shop-7", policies, local_ports=3)
    assert not _Zone(both, bound=2).settled(network, "shop-7", policies, local_ports=3)
