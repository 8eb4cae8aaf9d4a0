"""ovn-trace as a probe that needs no guest: the verify role's traced verdicts on the seed lab.

The seed's CNV stage in the namespace test_seed_stages.py builds (its `seed_lab` fixture: the
seed's three pods and two VMs on a fresh localnet network, the test pods and the VMs spread over
both data-plane nodes), applied through the API server and waited on until every ping the seed
observed goes as the seed saw it. Then the verify role runs as `make demo` runs it (real probes
from pods through exec and from the guests through `labctl exec`), and its report must hold, for
every pair the lab probes, a traced verdict equal to the probe's, and a traced verdict for every
VM-sourced pair (and every other pair).
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import ovnk_seed as seed
from test_seed_stages import PODS, VMS, multi_network_policy, seed_lab  # noqa: F401  (fixtures)

REPO_DIR = Path(__file__).resolve().parents[2]
PLAYBOOK = str(Path(sys.executable).parent / "ansible-playbook")
OUTSIDE = [{"name": "gateway", "ip": "192.168.77.1"}, {"name": "outside-vm", "ip": "192.168.77.10"},
           {"name": "internet", "ip": "203.0.113.10"}]


def run_verify(tmp_path, kubeconfig, network, **extra):
    """The verify role on `network` (no intent: the simulation is the reference); its report rows."""
    play = [{"hosts": "localhost", "connection": "local", "gather_facts": False,
             "vars": {"ansible_python_interpreter": sys.executable}, "roles": [{
        "role": "ocpvirt.multinet.verify", "vars": dict({
            "verify_network": network, "verify_endpoints": OUTSIDE, "verify_kubeconfig": kubeconfig,
            "verify_report_dir": str(tmp_path / "report"), "verify_fail_on_mismatch": False,
            "verify_guest_command": f"{sys.executable} {REPO_DIR / 'lab' / 'labctl.py'} exec {{namespace}}/{{vm}} "
                                    "-- sh -c {command}"}, **extra)}]}]
    (tmp_path / "play.yml").write_text(yaml.safe_dump(play))
    env = {"ANSIBLE_COLLECTIONS_PATH": str(REPO_DIR / ".venv" / "collections"), "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1",
           "ANSIBLE_STDOUT_CALLBACK": "json", "ANSIBLE_LOCALHOST_WARNING": "false",
           "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false"}
    proc = subprocess.run([PLAYBOOK, "-i", "localhost,", str(tmp_path / "play.yml")], cwd=REPO_DIR,
                          env={**os.environ, **env}, capture_output=True, text=True, timeout=300)
    tasks = json.loads(proc.stdout)["plays"][0]["tasks"] if proc.stdout.startswith("{") else []
    report = [t["hosts"]["localhost"]["ansible_facts"]["__verify_report"] for t in tasks
              if t["task"]["name"].endswith(" : Compare and render")]
    summary = [t["hosts"]["localhost"]["msg"] for t in tasks if t["task"]["name"].endswith(" : Summarise")]
    failed = [(t["task"]["name"], [r.get("msg") for r in [result] + result.get("results", []) if r.get("failed")])
              for t in tasks for result in [t["hosts"].get("localhost", {})] if result.get("failed")]
    assert proc.returncode == 0 and report, f"verify failed (rc {proc.returncode}): {failed}\n{proc.stderr[-2000:]}"
    return report[0], summary[0]


def test_traced_verdicts_equal_the_real_probes_and_every_vm_pair_is_traced(no_bridge_mapping_policies, seed_lab,
                                                                            lab_kubeconfig, tmp_path):
    seed_lab.replay(list(seed.CNV_STAGE), seed.SEED_PINGS)
    report, summary = run_verify(tmp_path, lab_kubeconfig, f"{seed_lab.namespace}/{seed.NAD_NAME}")
    rows = [row for section in report["sections"] for check in section["checks"] for row in check["rows"]]
    names = [PODS[ip] for ip in sorted(PODS)] + [VMS[ip][1] for ip in sorted(VMS)]
    assert len(rows) == len(names) * (len(names) - 1) + 2 * len(names) * len(OUTSIDE), [r["from"] for r in rows]
    probed = [row for row in rows if row["probed"] is not None]
    assert len(probed) >= 20, "the lab probes every pod and guest pair"
    assert [(r["from"], r["to"], r["probed"], r["traced"], r["traced_reason"]) for r in probed
            if r["traced"] != r["probed"]] == []
    vms = {vm for _, vm, _ in VMS.values()}
    assert sum(row["from"] in vms for row in rows) == 2 * (len(names) - 1 + len(OUTSIDE))
    assert [row for row in rows if row["traced"] is None] == []
    assert report["summary"]["failures"] == 0, report["table"]
    assert f"{len(rows)} traced" in summary and f"{len(probed)} probed" in summary
    # the seed's observations once more, now from OVN's trace, with the ACL that decided
    by_pair = {(r["from"], r["to"]): r for r in rows}
    names_by_ip = {**PODS, **{ip: vm for ip, (_, vm, _) in VMS.items()}, **{h["ip"]: h["name"] for h in OUTSIDE}}
    for source, target, reached in seed.SEED_PINGS:
        row = by_pair[(names_by_ip[source], names_by_ip[target])]
        assert row["traced"] is reached, row["traced_reason"]
        assert (":allow-ipblock" in row["traced_reason"]) if reached else (" dropped by NP:" in row["traced_reason"])


def test_tracing_is_skipped_with_the_reason_when_no_ovnkube_node_pod_is_found(seed_lab, lab_kubeconfig, tmp_path):
    """Nothing probed either: a simulation-only run, which passes only when asked for
    (tests/lab/test_verify_tcp.py has the run that is not)."""
    report, summary = run_verify(tmp_path, lab_kubeconfig, f"{seed_lab.namespace}/{seed.NAD_NAME}",
                                 verify_trace_namespace="no-such-namespace", verify_probe=False,
                                 verify_allow_unobserved=True)
    assert report["summary"]["traced"] == 0 and ", 0 traced" in summary
    assert "tracing skipped for " in summary and "no running pod matches app=ovnkube-node" in summary
    assert "tracing skipped: ovn_namespace: no running pod matches app=ovnkube-node" in report["html"]


def test_verify_trace_true_fails_instead_of_skipping(seed_lab, lab_kubeconfig, tmp_path):
    with pytest.raises(AssertionError, match="verify_trace is true but tracing"):
        run_verify(tmp_path, lab_kubeconfig, f"{seed_lab.namespace}/{seed.NAD_NAME}",
                   verify_trace_namespace="no-such-namespace", verify_probe=False, verify_trace=True)
