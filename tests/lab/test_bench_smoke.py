"""Smoke run of `make bench`'s script (bench/run.py) at 10 workloads with the module only.

The full benchmark is not part of `make test`; this proves the script still runs end to end
against the lab, that its results have the shape the Markdown page is rendered from, and the
property the benchmark exists to keep: a no-op re-run makes no write request.
"""
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO_DIR = Path(__file__).resolve().parents[2]
PHASES = ("first_apply", "no_op", "after_hand_edit")


@pytest.fixture(scope="module")
def smoke(lab_kubeconfig, tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    argv = [sys.executable, str(REPO_DIR / "bench" / "run.py"), "--sizes", "10", "--loop-sizes",
            "--compile-sizes", "10", "--dataplane-sizes", "30", "--tools", "module", "--fleet-sizes",
            "--json", str(out / "results.json"), "--markdown", str(out / "benchmarks.md")]
    proc = subprocess.run(argv, cwd=REPO_DIR, capture_output=True, text=True, check=False)
    assert proc.returncode in (0, 1), proc.stderr  # 1: a target missed, which a smoke run cannot judge
    return json.loads((out / "results.json").read_text()), (out / "benchmarks.md").read_text()


def module_runs(results):
    [outcome] = [o for o in results["reconcile"] if o["tool"] == "module"]
    return outcome


def test_results_record_machine_versions_and_every_phase(smoke):
    results, _ = smoke
    assert results["machine"]["nproc"] >= 1 and results["machine"]["memory_gib"] > 0
    assert results["versions"]["kube-apiserver"].startswith("v1.")
    assert results["versions"]["kubernetes.core"][0].isdigit()
    outcome = module_runs(results)
    assert (outcome["workloads"], outcome["policies"]) == (10, 11)  # one policy per workload + deny-all
    for phase in PHASES:
        run = outcome["runs"][phase]
        assert run["seconds"] > 0 and run["client_cpu_seconds"] > 0 and run["process_maxrss_kib"] > 0
        assert run["cluster_matches"], phase


def test_first_apply_writes_every_policy_once(smoke):
    run = module_runs(smoke[0])["runs"]["first_apply"]
    assert run["writes"] == 11 and run["reported"]["created"] == 11


def test_no_op_rerun_makes_no_write_request(smoke):
    run = module_runs(smoke[0])["runs"]["no_op"]
    assert run["writes"] == 0, run["requests"]
    # The LIST of the policies and, for the address check, of the pods, VMs and VMIs (counted, so
    # counting works); no dry run either.
    assert run["requests"] == {"GET": 4}
    assert run["changed"] is False


def test_hand_edit_is_put_back_with_one_write(smoke):
    run = module_runs(smoke[0])["runs"]["after_hand_edit"]
    assert run["writes"] == 1 and run["reported"]["updated"] == 1 and run["changed"] is True


def test_markdown_shows_the_measured_numbers(smoke):
    results, markdown = smoke
    no_op = module_runs(results)["runs"]["no_op"]
    assert "| 10 | 11 | ocpvirt.multinet.multinetwork_policy" in markdown
    assert "{0:.2f}".format(no_op["seconds"]) in markdown
    assert results["versions"]["ansible-core"] in markdown


def test_the_lab_control_planes_cpu_and_ansibles_floor_are_measured(smoke):
    results, markdown = smoke
    first = module_runs(results)["runs"]["first_apply"]
    # 11 dry runs and 11 writes cost the lab's API server CPU, which the run reads from /proc
    assert first["control_plane_cpu_seconds"]["kube-apiserver"] > 0
    assert set(first["control_plane_cpu_seconds"]) <= {"kube-apiserver", "etcd", "kube-controller-manager", "simulator"}
    assert results["ansible_floor"]["seconds"] > 0 and results["ansible_floor"]["client_cpu_seconds"] > 0
    assert "lab control plane CPU s (API server)" in markdown


def test_the_data_plane_counts_come_from_real_ovn_for_each_shape_and_compilation(smoke):
    results, markdown = smoke
    runs = {(run["intent"], run["compilation"]): run for run in results["dataplane"]["runs"]}
    assert set(runs) == {(shape, name) for shape in ("tiers", "cells") for name in ("merged", "per-workload", "limit")}
    # each node's sampled pairs: the tiers' two allowed and three refused, a cell's two allowed and four refused
    expected = {"tiers": ["delivered"] * 2 + ["dropped"] * 3, "cells": ["delivered"] * 2 + ["dropped"] * 4}
    for (shape, _name), run in runs.items():
        # br-int's rules of the switch with the pods and no policy, on both nodes, before the first compilation
        assert all(count > 0 for count in run["openflow_baseline"].values())
        for counts in run["nodes"].values():
            # every ipBlock is an ACL besides the default deny's; northd and ovn-controller wrote flows
            assert counts["acls"] >= run["ipblocks"] and counts["logical_flows"] > counts["acl_logical_flows"] > 0
            assert counts["openflow_rules"] > 0
            # the stages end one after the other, from the last policy's create: port groups, --wait=sb,
            # --wait=hv (settled), traces agreeing, probes agreeing; enforced when the agreeing round began
            marks = list(counts["marks"].values())
            assert list(counts["marks"]) == ["ovnkube", "ovn-northd", "ovn-controller", "traces", "probes"]
            assert 0 < marks[0] and marks == sorted(marks)
            assert counts["settled_seconds"] == marks[2] <= counts["enforced_seconds"] <= marks[4]
            assert counts["probe_rounds"] >= 1
            assert set(counts["cpu_seconds"]) == {"ovnkube-controller", "ovn-northd", "ovn-controller"}
            assert counts["trace_rounds"] >= 1 and counts["last_trace_round_seconds"] > 0
            assert all(seconds >= 0 for seconds in counts["cpu_seconds"].values())
            for kind in ("traces", "probes"):
                assert sorted(check["expected"] for check in counts[kind]) == expected[shape]
                assert [check["verdict"] for check in counts[kind]] == [check["expected"] for check in counts[kind]]
    assert runs["tiers", "merged"]["ipblocks"] < runs["tiers", "per-workload"]["ipblocks"]
    merged_acls, separate_acls = (max(counts["acls"] for counts in runs["tiers", name]["nodes"].values())
                                  for name in ("merged", "per-workload"))
    assert merged_acls < separate_acls
    assert "| three tiers | 30 | per-workload |" in markdown and "| the seed's shape | 30 | merged |" in markdown
    assert "ovn-controller CPU s" in markdown
