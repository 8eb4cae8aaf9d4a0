"""probe_outcome on what real probes printed in the lab's namespaces.

tests/unit/fixtures/probes/outputs.json holds, per case, the planned probe command, its exit code
and output, and the line the batch script printed for it, run by tests/lab/make_probe_fixtures.py
with iputils and busybox ping, OpenBSD nc and bash's /dev/tcp. Each case is read here the way
the role reads it: the batch line through probe_batch.runs and report.probe_rows, and the raw
output through probe_outcome.read; and the batch function, replayed with /bin/sh on the raw
output, must pick the line the lab's run picked.
"""
import json
import shlex
import subprocess
from pathlib import Path

import pytest

from ansible_collections.ocpvirt.multinet.plugins.module_utils.verify import probe_outcome, report
from ansible_collections.ocpvirt.multinet.plugins.module_utils.verify.probe_batch import batches, runs

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "probes" / "outputs.json"
CASES = json.loads(FIXTURE.read_text())
# What each case means for the policies, whatever the tool (see probe_outcome's docstring).
EXPECTED = {
    ("icmp", "reply"): (probe_outcome.OPEN, True),
    ("icmp", "dropped"): (probe_outcome.BLOCKED, False),
    ("icmp", "no host"): (probe_outcome.BLOCKED, False),  # 2 s: ARP gives up only after 3 s
    ("icmp", "no host, 5 s"): (probe_outcome.UNREACHABLE, None),
    ("icmp", "prohibited"): (probe_outcome.REJECTED, False),
    ("tcp/5432", "listening"): (probe_outcome.OPEN, True),
    ("tcp/5432", "nothing listening"): (probe_outcome.REFUSED, True),
    ("tcp/5432", "dropped"): (probe_outcome.BLOCKED, False),
    ("tcp/5432", "no host"): (probe_outcome.BLOCKED, False),
    ("tcp/5432", "no host, 5 s"): (probe_outcome.UNREACHABLE, None),
}
# busybox ping prints no ICMP error: what it saw reads as silence.
BY_TOOL = {
    ("icmp", "no host, 5 s", "busybox ping"): (probe_outcome.BLOCKED, False),
    ("icmp", "prohibited", "busybox ping"): (probe_outcome.BLOCKED, False),
}
IDS = ["{0} {1} ({2})".format(c["port"], c["case"], c["tool"]) for c in CASES]


def expected(entry):
    return BY_TOOL.get((entry["port"], entry["case"], entry["tool"])) or EXPECTED[(entry["port"], entry["case"])]


def step(entry):
    return {"from": entry["from"], "to": "t", "target_ip": entry["target_ip"], "port": entry["port"],
            "namespace": "lab", "pod": entry["from"], "command": entry["command"], "skip": None}


def test_the_fixtures_cover_every_case_with_every_tool():
    tools = {"icmp": {"iputils ping", "busybox ping"}, "tcp/5432": {"OpenBSD nc", "bash /dev/tcp"}}
    found = {(c["port"], c["case"], c["tool"]) for c in CASES}
    assert found == {(port, case, tool) for (port, case) in EXPECTED for tool in tools[port]}


@pytest.mark.parametrize("entry", CASES, ids=IDS)
def test_the_raw_output_reads_as_the_case_means(entry):
    outcome = probe_outcome.read(entry["port"], entry["rc"], entry["output"], entry["target_ip"])
    assert (outcome.name, outcome.allowed) == expected(entry), entry


@pytest.mark.parametrize("entry", CASES, ids=IDS)
def test_the_batch_line_reads_the_same_in_the_report(entry):
    [run] = runs([{"item": {"steps": [step(entry)]}, "rc": 0, "stdout": entry["batch_line"] + "\n"}])
    assert run["rc"] == entry["rc"]
    [row] = report.probe_rows([step(entry)], [run])
    name, allowed = expected(entry)
    assert row["allowed"] is allowed, row
    words = {probe_outcome.OPEN: "got through: ", probe_outcome.REFUSED: "reached (refused",
             probe_outcome.BLOCKED: "blocked: ", probe_outcome.REJECTED: "rejected by ",
             probe_outcome.UNREACHABLE: "not probed: unreachable"}[name]
    assert row["detail"].startswith(words), row


@pytest.mark.parametrize("entry", CASES, ids=IDS)
def test_the_batch_function_picks_the_line_the_lab_run_picked(entry):
    replay = "printf '%s' {0}; exit {1}".format(shlex.quote(entry["output"]), entry["rc"])
    [batch] = batches([dict(step(entry), command=replay)])
    done = subprocess.run(shlex.split(batch["command"]), capture_output=True, text=True, timeout=30, check=False)
    assert done.stdout.strip() == entry["batch_line"]


def test_a_refused_pair_agrees_with_an_allowed_expectation_and_a_timeout_does_not():
    refused = next(c for c in CASES if c["case"] == "nothing listening")
    dropped = next(c for c in CASES if c["case"] == "dropped" and c["port"] == "tcp/5432")
    rows = []
    for name, entry in (("db", refused), ("cache", dropped)):
        [run] = runs([{"item": {"steps": [dict(step(entry), to=name)]}, "rc": 0, "stdout": entry["batch_line"] + "\n"}])
        rows += report.probe_rows([dict(step(entry), to=name)], [run])
    allowed = [{"from": "gateway", "to": name, "allowed": True} for name in ("db", "cache")]
    verdicts = {row["to"]: row for row in report.compare(allowed, allowed, rows)}
    assert verdicts["db"]["status"] == report.PASS and verdicts["db"]["probed"] is True
    assert verdicts["cache"]["status"] == report.FAIL
    assert verdicts["cache"]["problems"] == ["the probe was blocked what the intent allowed"]


def test_an_icmp_error_from_the_target_itself_is_its_own_firewall_answering():
    line = "From 192.0.2.7 icmp_seq=1 Destination Host Prohibited; 1 packets transmitted, 0 received, +1 errors"
    assert probe_outcome.read("icmp", 1, line, "192.0.2.7").name == probe_outcome.REFUSED
    assert probe_outcome.read("icmp", 1, line, "192.0.2.8").name == probe_outcome.REJECTED
    assert probe_outcome.read("icmp", 127, "sh: ping: not found").name == probe_outcome.NO_TOOL
