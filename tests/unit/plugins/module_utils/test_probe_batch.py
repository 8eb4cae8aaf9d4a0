"""probe_batch: one parallel shell script per source pod, and its output split per pair.

The scripts are run for real with /bin/sh (as k8s_exec would: shlex-split, then exec'ed)."""
import shlex
import subprocess
import time

import pytest

from ansible_collections.ocpvirt.multinet.plugins.module_utils.errors import MultinetError
from ansible_collections.ocpvirt.multinet.plugins.module_utils.probe_batch import batches, runs


def step(source, target, command, pod=None, skip=None):
    return {"from": source, "to": target, "port": "icmp", "namespace": "ns", "pod": pod or source,
            "command": None if skip else command, "skip": skip}


def execute(batch):
    """Run a batch's command as k8s_exec does and register it like a loop result."""
    done = subprocess.run(shlex.split(batch["command"]), capture_output=True, text=True, timeout=30)
    return {"item": batch, "rc": done.returncode, "stdout": done.stdout, "stderr": done.stderr}


def test_groups_by_source_pod_and_leaves_skipped_steps_out():
    plan = [step("a", "b", "true"), step("c", "a", "true"), step("a", "c", "false"),
            step("vm", "a", None, skip="cannot exec into the guest of vm vm")]
    found = batches(plan)
    assert [(b["pod"], [s["to"] for s in b["steps"]]) for b in found] == [("a", ["b", "c"]), ("c", ["a"])]


def test_each_step_gets_its_exit_code_and_last_output_line():
    plan = [step("a", "b", "true"), step("a", "c", "echo first; echo 'it said \"no\"' >&2; exit 3"),
            step("a", "d", "sh -c \"exit 127\"")]
    results = [execute(batch) for batch in batches(plan)]
    found = {(r["item"]["to"]): (r["rc"], r["stdout"]) for r in runs(results)}
    assert found == {"b": (0, ""), "c": (3, 'it said "no"'), "d": (127, "")}


def test_probes_of_one_pod_run_at_once():
    plan = [step("a", str(index), "sleep 1") for index in range(6)]
    start = time.monotonic()
    results = [execute(batch) for batch in batches(plan)]
    assert time.monotonic() - start < 3
    assert [r["rc"] for r in runs(results)] == [0] * 6


def test_a_failed_exec_leaves_every_step_without_a_verdict():
    batch = batches([step("a", "b", "true"), step("a", "c", "true")])[0]
    found = runs([{"item": batch, "rc": 126, "stdout": "", "stderr": "exec: \"sh\": not found"}])
    assert [(r["rc"], r["msg"]) for r in found] == [(None, 'the probe script exited 126: exec: "sh": not found')] * 2
    found = runs([{"item": batch, "failed": True, "msg": "pods \"a\" not found"}])
    assert [r["msg"] for r in found] == ['pods "a" not found'] * 2


def test_a_step_without_pod_is_an_error_naming_it():
    with pytest.raises(MultinetError, match=r"probes\[0\]"):
        batches([{"from": "a", "to": "b", "command": "true", "skip": None}])
