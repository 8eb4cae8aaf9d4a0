"""probe_batch: one parallel shell script per source pod, and its output split per pair.

The scripts are run for real with /bin/sh (as k8s_exec would: shlex-split, then exec'ed)."""
import shlex
import subprocess
import time

import pytest

from ansible_collections.ocpvirt.multinet.plugins.module_utils.errors import MultinetError
from ansible_collections.ocpvirt.multinet.plugins.module_utils.probe_batch import (
    batches, guest_probes, runs, servers)


def step(source, target, command, pod=None, skip=None):
    return {"from": source, "to": target, "port": "icmp", "namespace": "ns", "pod": pod or source,
            "command": None if skip else command, "skip": skip}


def execute(batch):
    """Run a batch's command as k8s_exec does and register it like a loop result."""
    done = subprocess.run(shlex.split(batch["command"]), capture_output=True, text=True, timeout=30, check=False)
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


ENDPOINTS = [{"name": "pod-a", "kind": "pod", "ip": "192.168.77.91", "running": True, "present": True},
             {"name": "vm-b", "kind": "vm", "object": "vm-b-obj", "namespace": "ns", "ip": "192.168.77.71",
              "running": True, "present": True},
             {"name": "vm-c", "kind": "vm", "object": "vm-c", "namespace": "ns", "ip": "192.168.77.72",
              "running": False, "present": True},
             {"name": "internet", "kind": "outside", "ip": "203.0.113.10"}]
GUEST_PLAN = [step("pod-a", "vm-b", "ping -c 1 -W 2 -I net1 192.168.77.71"),
              step("vm-b", "internet", None, pod="virt-launcher-vm-b", skip="cannot exec into the guest of vm vm-b"),
              step("vm-b", "pod-a", None, pod="virt-launcher-vm-b", skip="cannot exec into the guest of vm vm-b"),
              step("vm-c", "pod-a", None, pod="virt-launcher-vm-c", skip="cannot exec into the guest of vm vm-c")]


def test_without_a_way_in_vm_sourced_pairs_say_so():
    found = guest_probes(GUEST_PLAN, ENDPOINTS)
    assert [(s["via"], s["skip"]) for s in found] == [
        ("pod", None),
        ("guest", "no way into the guest of vm vm-b: set verify_guest_command"),
        ("guest", "no way into the guest of vm vm-b: set verify_guest_command"),
        ("guest", "no way into the guest of vm vm-c: set verify_guest_command")]


def test_with_a_way_in_guests_probe_with_their_own_routes():
    found = guest_probes(GUEST_PLAN, ENDPOINTS, "ssh root@{ip} {command}", timeout=1)
    assert [(s["skip"], s["command"]) for s in found[1:]] == [
        (None, "ping -c 1 -W 1 203.0.113.10"), (None, "ping -c 1 -W 1 192.168.77.91"),
        ("vm vm-c is not running", None)]
    [pod_batch, guest_batch] = batches(found, "ssh root@{ip} {command}")
    assert (pod_batch["via"], guest_batch["via"]) == ("pod", "guest")
    argv = shlex.split(guest_batch["command"])
    assert argv[:2] == ["ssh", "root@192.168.77.71"] and argv[2].startswith("sh -c ") and len(argv) == 3
    assert [s["to"] for s in guest_batch["steps"]] == ["internet", "pod-a"]


def test_a_guest_batch_runs_through_the_command_template():
    found = guest_probes(GUEST_PLAN[1:3], ENDPOINTS, "env GUEST={namespace}/{vm} sh -c {command}")
    [batch] = batches(found, "env GUEST={namespace}/{vm} sh -c {command}")
    assert shlex.split(batch["command"])[1] == "GUEST=ns/vm-b-obj"
    # the probes themselves (ping) are replaced by `true` to run the script without a network
    batch["command"] = batch["command"].replace("ping", "true")
    assert [r["rc"] for r in runs([execute(batch)])] == [0, 0]


def test_a_template_with_an_unknown_field_is_an_error_naming_it():
    found = guest_probes(GUEST_PLAN[1:2], ENDPOINTS, "ssh {host} {command}")
    with pytest.raises(MultinetError, match=r"^verify_guest_command: must be a command line using only"):
        batches(found, "ssh {host} {command}")


def test_a_ping_summary_line_is_kept_rather_than_its_timings():
    lines = ["PING x", "", "--- x ping statistics ---", "1 packets transmitted, 1 received, 0% packet loss, time 0ms",
             "rtt min/avg/max/mdev = 0.1/0.1/0.1/0.0 ms"]
    [batch] = batches([step("a", "b", "printf '%s\\n' " + " ".join(shlex.quote(line) for line in lines))])
    [run] = runs([execute(batch)])
    assert run["stdout"] == "1 packets transmitted, 1 received, 0% packet loss, time 0ms"


def udp_step(source, target, server, skip=None):
    return dict(step(source, target, "probe-udp", skip=skip), port="udp/53", server=server)


LISTENER = {"namespace": "ns", "pod": "b", "command": "listen", "clients": 2, "lifetime": 10}


def test_each_udp_listener_is_started_once_and_only_for_runnable_steps():
    other = dict(LISTENER, pod="c", command="listen-c")
    plan = [udp_step("a", "b", LISTENER), udp_step("c", "b", LISTENER), udp_step("a", "c", other, skip="off"),
            step("a", "b", "true")]
    assert servers(plan) == [LISTENER]
    with pytest.raises(MultinetError, match="^probes:"):
        servers({"not": "a list"})


@pytest.mark.parametrize("listener, client_rc, verdict", [
    ({"rc": 124}, 1, (1, None)),  # ran, heard nothing from this sender: the probe's verdict
    ({"rc": 0}, 0, (0, None)),
    ({"rc": 127, "stdout": "sh: timeout: not found"}, 1,
     (None, "the UDP listener in pod ns/b exited 127: sh: timeout: not found")),
    ({"rc": None, "msg": "exec into ns/b failed: forbidden"}, 1,
     (None, "the UDP listener in pod ns/b could not be started: exec into ns/b failed: forbidden")),
])
def test_a_udp_probe_without_a_running_listener_has_no_verdict(listener, client_rc, verdict):
    batch = {"steps": [udp_step("a", "b", LISTENER)]}
    result = {"item": batch, "rc": 0, "stdout": "ocpvirt-probe 0 {0} no echo\n".format(client_rc)}
    [run] = runs([result], [dict(listener, item=LISTENER)])
    assert (run["rc"], run.get("no_verdict")) == verdict
