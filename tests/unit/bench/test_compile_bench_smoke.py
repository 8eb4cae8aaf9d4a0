"""Smoke test for bench/compile_bench.py: it runs and reports sane numbers (no timing assertion)."""
import importlib.util
import os

BENCH = os.path.join(os.path.dirname(__file__), "..", "..", "..", "bench", "compile_bench.py")


def load_bench():
    spec = importlib.util.spec_from_file_location("compile_bench", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_benchmark_compiles_a_small_intent_and_reports_timings():
    (result,) = load_bench().run([5], repeat=2)

    # 5 workloads in a ring each get one policy, plus the deny-all policy.
    assert result["workloads"] == 5 and result["policies"] == 6
    assert 0 < result["best_wall_seconds"] <= result["cold_wall_seconds"]
    assert result["cold_cpu_seconds"] > 0
    assert result["target_seconds"] is None and result["within_target"] is None


def test_benchmark_intent_has_one_allow_rule_per_workload():
    intent = load_bench().make_intent(7)

    assert len(intent["workloads"]) == len(intent["allow"]) == 7
