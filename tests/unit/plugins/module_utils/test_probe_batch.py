"""probe_batch: one parallel shell script per source pod, and its output split per pair.

The scripts are run for real with /bin/sh (as k8s_exec would: shlex-split, then exec'ed)."""
import shlex
import socket
import subprocess
import time

import pytest

from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.errors import MultinetError
from ansible_collections.ocpvirt.multinet.plugins.module_utils.verify.probe_batch import (
    batches, guest_probes, runs, servers)
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.vocabulary import parse_traffic
from ansible_collections.ocpvirt.multinet.plugins.module_utils.verify.probes import probe_plan


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


@pytest.mark.parametrize("template, named", [
    ("ssh {host} {command}", "{host} is not one"),
    ("ssh {ip.__class__} {command}", "{ip.__class__} is not one"),
    ("ssh {ip[0]} {command}", "{ip[0]} is not one"),
    ("ssh {ip!r} {command}", "{ip!r} is not one"),
    ("ssh {ip}", "must run {command}"),
    ("ssh {ip {command}", "is not a valid template"),
])
def test_a_bad_template_is_an_error_naming_it_before_any_probe(template, named):
    for planner in (lambda: guest_probes(GUEST_PLAN[1:2], ENDPOINTS, template), lambda: batches([], template)):
        with pytest.raises(MultinetError, match=r"^verify_guest_command: ") as raised:
            planner()
        assert named in str(raised.value)


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


def test_a_guest_probes_tcp_on_the_port_of_its_step():
    tcp = dict(GUEST_PLAN[2], port="tcp/22")
    [found] = guest_probes([tcp], ENDPOINTS, "ssh root@{ip} {command}")
    assert "nc -v -z -w 2 192.168.77.91 22" in found["command"]


UDP_ENDPOINTS = [
    {"name": name, "kind": "pod", "namespace": "ns", "pod": name, "running": True, "ip": ip, "cidr": ip + "/24",
     "interface": "net1"} for name, ip in (("pod-a", "192.168.77.91"), ("pod-d", "192.168.77.93"))] + [
    dict(vm, pod="virt-launcher-" + vm["name"] if vm["running"] else None) for vm in ENDPOINTS[1:3]] + [
    {"name": "vm-e", "kind": "vm", "object": "vm-e", "namespace": "ns", "ip": "192.168.77.73", "running": True,
     "pod": "virt-launcher-vm-e"}, ENDPOINTS[3]]


def udp_plan(guest_command, udp=True, endpoints=None, port="udp/53"):
    endpoints = endpoints or UDP_ENDPOINTS
    plan = probe_plan(endpoints, parse_traffic(port), 1, udp_servers=udp)
    return {(s["from"], s["to"]): s for s in guest_probes(plan, endpoints, guest_command, 1, udp=udp)}


def test_udp_pairs_to_and_from_running_guests_get_clients_and_listeners_through_the_way_in():
    found = udp_plan("ssh root@{ip} {command}")
    to_vm = found[("pod-a", "vm-b")]
    assert (to_vm["via"], to_vm["skip"]) == ("pod", None) and "192.168.77.71" in to_vm["command"]
    listener = to_vm["server"]
    assert (listener["via"], listener["vm"], listener["ip"]) == ("guest", "vm-b-obj", "192.168.77.71")
    argv = shlex.split(listener["command"])
    assert argv[:2] == ["ssh", "root@192.168.77.71"] and "bind((\"192.168.77.71\", 53))" in argv[2]
    # one listener in vm-b for its three running senders: two pods and the other guest
    senders = [s for s in found.values() if s["to"] == "vm-b" and not s["skip"]]
    assert sorted(s["from"] for s in senders) == ["pod-a", "pod-d", "vm-e"]
    assert all(s["server"] == listener for s in senders) and listener["clients"] == 3
    from_vm = found[("vm-b", "pod-a")]
    assert (from_vm["via"], from_vm["skip"]) == ("guest", None) and "-I" not in from_vm["command"]
    assert from_vm["server"]["via"] == "pod" and from_vm["server"]["pod"] == "pod-a"
    assert from_vm["server"]["clients"] == 3  # pod-d and both guests
    assert found[("vm-b", "vm-e")]["server"]["via"] == "guest"
    assert found[("pod-a", "vm-c")]["skip"].endswith("(vm vm-c is not running)")
    assert found[("vm-c", "pod-a")]["skip"] == "vm vm-c is not running"
    assert found[("vm-b", "internet")]["skip"].endswith("(no listener can be started in outside internet)")
    assert servers(list(found.values())).count(listener) == 1


def test_without_a_way_in_or_with_udp_off_udp_pairs_of_guests_say_why():
    found = udp_plan("")
    assert found[("pod-a", "vm-b")]["skip"].endswith("(no way into the guest of vm vm-b to start one: "
                                                     "set verify_guest_command)")
    assert found[("vm-b", "pod-a")]["skip"] == "no way into the guest of vm vm-b: set verify_guest_command"
    assert found[("pod-d", "pod-a")]["server"]["clients"] == 1
    off = udp_plan("ssh root@{ip} {command}", udp=False)
    assert all(s["skip"].endswith("(UDP probes are off)") for (src, dst), s in off.items()
               if "vm-c" not in (src, dst) and dst != "internet")
    assert not servers(list(off.values()))


def test_a_guests_listener_runs_through_the_way_in_and_answers_a_pod_on_loopback():
    """The planned listener of a guest, filled into the way in, and a pod's client, run for real
    on loopback only (both ends at 127.0.0.1)."""
    endpoints = [{"name": "pod-a", "kind": "pod", "namespace": "t", "pod": "pod-a", "running": True, "ip": "127.0.0.1"},
                 {"name": "vm-b", "kind": "vm", "object": "vm-b", "namespace": "t", "pod": "virt-launcher-vm-b",
                  "running": True, "ip": "127.0.0.1"}]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    step = udp_plan("env GUEST={namespace}/{vm} sh -c {command}", endpoints=endpoints,
                    port="udp/{0}".format(port))[("pod-a", "vm-b")]
    listener = subprocess.Popen(shlex.split(step["server"]["command"]))
    try:
        assert subprocess.run(shlex.split(step["command"]), timeout=30, check=False).returncode == 0
        assert listener.wait(timeout=10) == 0  # its one sender answered, it exits
    finally:
        listener.kill()


def test_a_guests_listener_that_did_not_run_leaves_its_pairs_without_a_verdict():
    server = udp_plan("ssh root@{ip} {command}")[("pod-a", "vm-b")]["server"]
    batch = {"steps": [udp_step("a", "vm-b", server)]}
    result = {"item": batch, "rc": 0, "stdout": "ocpvirt-probe 0 1 no echo\n"}
    listener = {"item": server, "rc": 127, "msg": "non-zero return code", "stderr": "neither python3 nor socat found"}
    [run] = runs([result], [listener])
    assert (run["rc"], run["no_verdict"]) == (
        None, "the UDP listener in the guest of ns/vm-b-obj exited 127: neither python3 nor socat found")


def test_tcp_pairs_to_running_guests_get_a_listener_through_the_way_in():
    plan = probe_plan(UDP_ENDPOINTS, parse_traffic("tcp/5432"), 1, tcp_servers=True)
    found = {(s["from"], s["to"]): s
             for s in guest_probes(plan, UDP_ENDPOINTS, "ssh root@{ip} {command}", 1, tcp=True)}
    listener = found[("pod-a", "vm-b")]["server"]
    assert (listener["via"], listener["protocol"], listener["ip"]) == ("guest", "tcp", "192.168.77.71")
    argv = shlex.split(listener["command"])
    assert argv[:2] == ["ssh", "root@192.168.77.71"] and "SOCK_STREAM" in argv[2]
    assert sorted(s["from"] for s in found.values() if s.get("server") == listener) == ["pod-a", "pod-d", "vm-e"]
    assert found[("vm-b", "pod-a")]["server"]["via"] == "pod"
    assert found[("pod-a", "vm-c")]["server"] is None  # not running: probed, without a listener
    assert found[("vm-b", "internet")]["server"] is None and found[("vm-b", "internet")]["skip"] is None
    without = {(s["from"], s["to"]): s for s in guest_probes(plan, UDP_ENDPOINTS, "", 1, tcp=True)}
    assert without[("pod-a", "vm-b")]["server"] is None and without[("pod-a", "vm-b")]["skip"] is None


TCP_LISTENER = dict(LISTENER, protocol="tcp")


@pytest.mark.parametrize("listener, client, note", [
    ({"rc": 124}, "1 nc: connect to 10.0.0.2 port 53 (tcp) failed: Connection refused", None),
    ({"rc": 1, "stderr": "OSError: [Errno 98] Address already in use"},
     "0 Connection to 10.0.0.2 53 port [tcp/domain] succeeded!", None),  # the real service answered
    ({"rc": 127, "stderr": "neither python3, nc nor socat found"},
     "1 nc: connect to 10.0.0.2 port 53 (tcp) failed: Connection refused",
     "the TCP listener in pod ns/b exited 127: neither python3, nc nor socat found"),
])
def test_a_tcp_probe_keeps_its_answer_when_its_listener_did_not_run(listener, client, note):
    batch = {"steps": [dict(step("a", "b", "probe-tcp"), port="tcp/53", server=TCP_LISTENER)]}
    [run] = runs([{"item": batch, "rc": 0, "stdout": "ocpvirt-probe 0 " + client + "\n"}],
                 [dict(listener, item=TCP_LISTENER)])
    assert (run["rc"], run.get("note"), run.get("no_verdict")) == (int(client[0]), note, None)
