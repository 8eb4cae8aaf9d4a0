"""playbooks/inspect.yml against the lab: the seed's CNV stage (built as test_ovn_policy_info.py
builds it: the seed's policies and pods on a new localnet network, mapped on worker-0 only, plus
the seed's refused allow-specific-pods), then the playbook run as a user runs it.

The report must hold, for each of the seed's policies, its rules with the ACLs the seed shows
(seed lines 1425-1495) and the pod or VM it selects; the two faults of that state (the refused
selector-peer policy on the IPAM-less network, the nodes whose bridge mappings lack the
network) must be in its findings; `inspect_fail_on_findings: true` fails the run naming them,
false passes.

Skips only when the lab has no ovnkube-node pod (no data plane / exec path yet).
"""
import json
import re
import subprocess
import sys
from pathlib import Path

from ovn_names import policy_port_group_name
from test_ovn_policy_info import (  # noqa: F401
    EXPECTED_PODS, apply_seed_cnv_stage, mapped_on_worker_0, multi_network_policy_on, ovnkube_nodes, seed_acls,
    wait_for_seed_acls)

REPO_DIR = Path(__file__).resolve().parents[2]
ANSIBLE_PLAYBOOK = str(Path(sys.executable).parent / "ansible-playbook")


def inspect(tmp_path, kubeconfig, target, fail_on_findings):
    extra = tmp_path / "extra.json"
    extra.write_text(json.dumps({"inspect_networks": [target], "multinet_kubeconfig": kubeconfig,
                                 "multinet_report_dir": str(tmp_path / "reports")}))
    # the flag as a user types it: a string on the command line
    proc = subprocess.run([ANSIBLE_PLAYBOOK, "-i", "inventory/seed_lab", "playbooks/inspect.yml", "-e", f"@{extra}",
                           "-e", f"inspect_fail_on_findings={fail_on_findings}"],
                          cwd=REPO_DIR, capture_output=True, text=True, timeout=300)
    return proc, tmp_path / "reports" / "seed-lab"


def without_klog_headers(text):
    """`text` with each klog header (`E1206 17:26:18.960686   29195 `) of a quoted log line blanked."""
    return re.sub(r"\b[IWEF]\d{4} \d\d:\d\d:\d\d\.\d+\s+\d+ ", "<klog> ", text)


def section(markdown, heading):
    """From `heading` to the next heading of its level or higher."""
    level = heading.split(" ")[0]
    start = markdown.index(heading + "\n")
    ends = [markdown.find("\n" + "#" * n + " ", start + 1) for n in range(1, len(level) + 1)]
    ends = [end for end in ends if end != -1]
    return markdown[start:min(ends) if ends else None]


def test_report_joins_rules_acls_ports_and_fails_on_findings(no_bridge_mapping_policies, tmp_path, lab_kubeconfig,
                                                              custom, core, lab_namespace,
                                                              ovnkube_nodes, multi_network_policy_on,  # noqa: F811
                                                              mapped_on_worker_0):  # noqa: F811
    network, target = apply_seed_cnv_stage(custom, core, lab_namespace, mapped_on_worker_0)
    result = wait_for_seed_acls(lab_kubeconfig, lab_namespace, network, target)

    passed, reports = inspect(tmp_path, lab_kubeconfig, target, "false")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    markdown = (reports / "inspection.md").read_text()
    assert (reports / "inspection.html").read_text().startswith("<!DOCTYPE html>")

    for name, workload_names in EXPECTED_PODS.items():
        policy = section(markdown, f"### Policy {lab_namespace}/{name}")
        for direction, priority, match, action in seed_acls(lab_namespace, network, name):
            kind = "Ingress" if direction == "to-lport" else "Egress"
            row = f"| {kind} ({direction}) | {priority} | `{match}` | {action} |"
            assert row in policy, f"{name}: no row {row} in\n{policy}"
            rule = section(policy, "#### Rule spec.{0}[0]".format(kind.lower()))
            assert row in rule, f"{name}: {row} not under its rule"
        ports = section(policy, "#### Ports (the pods and VMs it selects)")
        for workload in workload_names:
            shown = f"| VM {lab_namespace}/{workload[3:]} |" if workload.startswith("VM ") else \
                f"| pod {lab_namespace}/{workload} |"
            assert shown in ports, f"{name}: {shown} not in\n{ports}"
        assert "Findings: none." in policy
        assert f"Port group(s): `{policy_port_group_name(network, lab_namespace, name)[0]}`." in policy

    unmapped = sorted(node for node in result["nodes"] if node != "worker-0")
    assert unmapped, "the lab has one data-plane node: no node without the mapping"
    findings = section(markdown, "### Findings")
    refused = f"- policy {lab_namespace}/allow-specific-pods: no port group and no ACLs on any node: " \
              "refused by OVN-Kubernetes: spec.ingress[0].from[0] is a podSelector/namespaceSelector peer"
    assert refused in findings
    for node in unmapped:
        assert f"- network: node {node}: ovn-bridge-mappings" in findings and f"has no entry for {network}," in findings
    assert "- network: node worker-0: ovn-bridge-mappings" not in findings

    failed, reports = inspect(tmp_path, lab_kubeconfig, target, "true")
    assert failed.returncode != 0, failed.stdout
    assert "Fail with the findings" in failed.stdout
    assert f"{target}, policy {lab_namespace}/allow-specific-pods: no port group and no ACLs" in failed.stdout
    for node in unmapped:
        assert f"{target}, network: node {node}: ovn-bridge-mappings" in failed.stdout
    # ovnkube retries the refused policy (obj_retry) and logs it again: the quoted line's klog header may be newer
    assert without_klog_headers((reports / "inspection.md").read_text()) == without_klog_headers(markdown), \
        "the report is written before failing"
