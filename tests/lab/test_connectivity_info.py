"""ocpvirt.multinet.connectivity_info against the lab's real kube-apiserver.

Pods, VMs and MultiNetworkPolicies are created with the kubernetes client in a fresh namespace;
the lab's kubelet stand-in marks pods Running and writes Multus' network-status, its KubeVirt
stand-in starts VMs with a launcher pod. The module runs the way Ansible runs it.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from kubernetes import client

from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.compiler import compile_intent
from lab_helpers import create_localnet_nad, wait_for

REPO_DIR = Path(__file__).resolve().parents[2]
ANSIBLE = str(Path(sys.executable).parent / "ansible")
ANSIBLE_ENV = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(REPO_DIR / ".venv" / "collections"),
                   ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_STDOUT_CALLBACK="json",
                   ANSIBLE_LOCALHOST_WARNING="false")
NAD = "tenant-net"
SEED_POLICIES = REPO_DIR / "tests" / "unit" / "fixtures" / "seed_policies"
MNP = ("k8s.cni.cncf.io", "v1beta1", "multi-networkpolicies")


def run_module(kubeconfig, *flags, **params):
    args = dict(params, kubeconfig=kubeconfig)
    proc = subprocess.run([ANSIBLE, "localhost", "-c", "local", "-m", "ocpvirt.multinet.connectivity_info",
                           "-a", json.dumps(args), *flags],
                          cwd=REPO_DIR, env=ANSIBLE_ENV, capture_output=True, text=True, check=False)
    try:
        return json.loads(proc.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]
    except (ValueError, KeyError, IndexError):
        pytest.fail("ansible gave no task result (rc {0}):\n{1}\n{2}".format(proc.returncode, proc.stdout, proc.stderr))


def create_seed_pods(core, namespace):
    """The seed's three tinypods with static addresses in the networks annotation, Running."""
    for name, ip in (("tinypod", "192.168.77.91"), ("tinypod-01", "192.168.77.92"), ("tinypod-02", "192.168.77.93")):
        networks = [{"name": NAD, "ips": [ip + "/24"]}]
        core.create_namespaced_pod(namespace, client.V1Pod(
            metadata=client.V1ObjectMeta(name=name, labels={"app": name},
                                         annotations={"k8s.v1.cni.cncf.io/networks": json.dumps(networks)}),
            spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="quay.io/example/tiny:1")])))
    for name in ("tinypod", "tinypod-01", "tinypod-02"):
        wait_for(f"{name} Running", lambda n=name: core.read_namespaced_pod(n, namespace).status.phase == "Running")


def seed_policies(namespace, *files):
    """The seed's own manifests, moved to the test namespace and network."""
    policies = []
    for name in files:
        for doc in yaml.safe_load_all((SEED_POLICIES / name).read_text()):
            if doc:
                doc["metadata"]["namespace"] = namespace
                doc["metadata"]["annotations"]["k8s.v1.cni.cncf.io/policy-for"] = f"{namespace}/{NAD}"
                policies.append(doc)
    return policies


def create_policies(custom_api, namespace, policies):
    for policy in policies:
        custom_api.create_namespaced_custom_object(*MNP[:2], namespace, MNP[2], policy)


def allowed_pairs(matrix):
    return sorted((row["from"], row["to"]) for row in matrix if row["allowed"])


def only(result):
    """The one entry of results when one kind of traffic was asked for."""
    assert result.get("failed") is not True, result
    [entry] = result["results"]
    return entry


@pytest.fixture
def seed_lab(lab_api, lab_namespace, custom):
    core = client.CoreV1Api(lab_api)
    create_localnet_nad(custom, lab_namespace, NAD)
    create_seed_pods(core, lab_namespace)
    return lab_namespace


def test_seed_pods_and_policies_give_the_seed_ping_results(lab_kubeconfig, seed_lab, custom):
    create_policies(custom, seed_lab, seed_policies(
        seed_lab, "multi-network-policy-deny-all.yaml", "multi-network-policy-allow-some.yaml"))
    result = run_module(lab_kubeconfig, network=f"{seed_lab}/{NAD}",
                        endpoints=[{"name": "outside", "ip": "192.168.77.10"}])
    assert result.get("failed") is not True, result
    assert result["changed"] is False
    endpoints = {e["name"]: e for e in result["endpoints"]}
    assert {n: e["ip"] for n, e in endpoints.items()} == {
        "tinypod": "192.168.77.91", "tinypod-01": "192.168.77.92", "tinypod-02": "192.168.77.93", "outside": "192.168.77.10"}
    assert endpoints["tinypod"]["source"] == "network-status" and endpoints["tinypod"]["running"] is True
    assert endpoints["tinypod"]["cidr"] == "192.168.77.91/24" and endpoints["tinypod"]["interface"]
    assert sorted(result["policies"]) == sorted(f"{seed_lab}/{n}" for n in ("allow-ipblock", "allow-ipblock-01", "deny-by-default"))
    assert result["ipam"] is False and result["ipam_source"] == "nad"
    # The seed: only tinypod-01 -> tinypod works; nothing reaches the outside host.
    ping = only(result)
    assert ping["port"] == "icmp" and allowed_pairs(ping["matrix"]) == [("tinypod-01", "tinypod")]
    # Every ordered pair of the four endpoints has a pod on one side.
    assert len(ping["matrix"]) == 4 * 3
    probe = next(p for p in ping["probes"] if (p["from"], p["to"]) == ("tinypod-01", "tinypod"))
    assert probe["pod"] == "tinypod-01" and probe["command"].startswith("ping -c 1")


def test_check_mode_reads_the_same(lab_kubeconfig, seed_lab):
    result = run_module(lab_kubeconfig, "--check", network=f"{seed_lab}/{NAD}", port="tcp/22")
    # No policies: nothing is isolated, every pair may connect (port: the deprecated alias).
    assert len(allowed_pairs(only(result)["matrix"])) == 6 and only(result)["port"] == "tcp/22"


def test_one_run_gives_one_result_per_port(lab_kubeconfig, seed_lab, custom):
    create_policies(custom, seed_lab, seed_policies(
        seed_lab, "multi-network-policy-deny-all.yaml", "multi-network-policy-allow-some.yaml"))
    result = run_module(lab_kubeconfig, network=f"{seed_lab}/{NAD}", ports=["icmp", "tcp/22", "udp/53"])
    assert result.get("failed") is not True, result
    assert [entry["port"] for entry in result["results"]] == ["icmp", "tcp/22", "udp/53"]
    # The seed's allow rules carry no ports: what ICMP may do, TCP and UDP may too.
    assert all(allowed_pairs(entry["matrix"]) == [("tinypod-01", "tinypod")] for entry in result["results"])
    udp = {(p["from"], p["to"]): p for p in result["results"][2]["probes"]}
    assert udp[("tinypod-01", "tinypod")]["command"] is None
    assert "UDP has no handshake" in udp[("tinypod-01", "tinypod")]["skip"]


def test_intent_expected_matrix_matches_its_applied_policies_and_drift_shows(lab_kubeconfig, seed_lab, custom):
    intent = {"namespace": seed_lab, "network": NAD,
              "workloads": {"a": {"selector": {"app": "tinypod"}, "ips": ["192.168.77.91"]},
                            "b": {"selector": {"app": "tinypod-01"}, "ips": ["192.168.77.92"]}},
              "endpoints": {"gateway": "192.168.77.1"},
              "allow": [{"from": "b", "to": "a", "ports": ["tcp/22"]}, {"from": "a", "to": "gateway"}]}
    compiled = compile_intent(intent)
    create_policies(custom, seed_lab, compiled)
    result = run_module(lab_kubeconfig, intent=intent)
    assert result.get("failed") is not True, result
    assert [e["name"] for e in result["endpoints"]] == ["a", "b", "tinypod-02", "gateway"]
    assert result["intent_traffic"] == [entry["port"] for entry in result["results"]] == ["icmp", "tcp/22"]
    ssh = result["results"][1]
    assert allowed_pairs(ssh["matrix"]) == allowed_pairs(ssh["expected"])
    assert [(r["from"], r["to"]) for r in ssh["matrix"]] == [(r["from"], r["to"]) for r in ssh["expected"]]
    assert allowed_pairs(ssh["matrix"]) == [("a", "gateway"), ("b", "a")]

    custom.delete_namespaced_custom_object(*MNP[:2], seed_lab, MNP[2], compiled[0]["metadata"]["name"])
    drifted = only(run_module(lab_kubeconfig, intent=intent, ports=["tcp/22"]))
    differ = [(e["from"], e["to"]) for e, s in zip(drifted["expected"], drifted["matrix"]) if e["allowed"] != s["allowed"]]
    assert differ, "deleting {0} should change the live matrix".format(compiled[0]["metadata"]["name"])


def test_a_wrong_workload_address_in_the_intent_shows_as_a_disagreement(lab_kubeconfig, seed_lab, custom):
    """The intent says a is .99, the pod its selector picks is .91: the applied policies (compiled
    from the intent) deny b -> a, the intent read by name allows it, so that pair disagrees."""
    intent = {"namespace": seed_lab, "network": NAD,
              "workloads": {"a": {"selector": {"app": "tinypod"}, "ips": ["192.168.77.99"]},
                            "b": {"selector": {"app": "tinypod-01"}, "ips": ["192.168.77.92"]}},
              "allow": [{"from": "b", "to": "a", "ports": ["tcp/22"]}]}
    create_policies(custom, seed_lab, compile_intent(intent))
    result = run_module(lab_kubeconfig, intent=intent, ports=["tcp/22"])
    ssh = only(result)
    differ = [(e["from"], e["to"]) for e, s in zip(ssh["expected"], ssh["matrix"]) if e["allowed"] != s["allowed"]]
    assert differ == [("b", "a")]
    assert "workload a: pod tinypod has 192.168.77.91, the intent says 192.168.77.99" in result["warnings_list"]


def test_policy_naming_a_nad_of_the_same_network_in_another_namespace_applies(lab_kubeconfig, lab_api, seed_lab,
                                                                               custom):
    """tenant-net here and net-b in another namespace share the network name localnet-cnv; OVN-K
    applies a policy whose policy-for names either (shouldApplyMultiPolicy: HasNAD)."""
    core = client.CoreV1Api(lab_api)
    other = seed_lab + "-b"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=other)))
    try:
        create_localnet_nad(custom, other, "net-b")
        deny = seed_policies(seed_lab, "multi-network-policy-deny-all.yaml")
        deny[0]["metadata"]["annotations"]["k8s.v1.cni.cncf.io/policy-for"] = f"{other}/net-b"
        create_policies(custom, seed_lab, deny)
        result = run_module(lab_kubeconfig, network=f"{seed_lab}/{NAD}")
        assert result.get("failed") is not True, result
        assert result["nads"] == sorted([f"{seed_lab}/{NAD}", f"{other}/net-b"])
        assert result["policies"] == [f"{seed_lab}/deny-by-default"]
        assert allowed_pairs(only(result)["matrix"]) == []
    finally:
        core.delete_namespace(other)


def test_bad_port_fails_naming_the_field(lab_kubeconfig, seed_lab):
    result = run_module(lab_kubeconfig, network=f"{seed_lab}/{NAD}", ports=["icmp", "tcp/http"])
    assert result["failed"] is True and "ports" in result["msg"] and "tcp/http" in result["msg"]


def test_vm_address_from_cloud_init_and_launcher_pod_counted_once(lab_kubeconfig, lab_api, seed_lab, custom,
                                                                  virtualization_installed):  # noqa: F811
    network_data = "ethernets:\n  eth0:\n    addresses:\n      - 192.168.77.71/24\n    gateway4: 192.168.77.1\nversion: 2\n"
    custom.create_namespaced_custom_object("kubevirt.io", "v1", seed_lab, "virtualmachines", {
        "apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine", "metadata": {"name": "gold"},
        "spec": {"runStrategy": "Always", "template": {"metadata": {"labels": {"app": "gold"}}, "spec": {
            "domain": {"devices": {"interfaces": [{"name": "nic0", "bridge": {}, "macAddress": "02:00:a3:00:00:01"}], "disks": []}},
            "networks": [{"name": "nic0", "multus": {"networkName": NAD}}],
            "volumes": [{"name": "cloudinitdisk", "cloudInitNoCloud": {"networkData": network_data}}]}}}})
    core = client.CoreV1Api(lab_api)
    wait_for("launcher pod Running", lambda: [p for p in core.list_namespaced_pod(
        seed_lab, label_selector="vm.kubevirt.io/name=gold").items if p.status.phase == "Running"])
    result = run_module(lab_kubeconfig, network=f"{seed_lab}/{NAD}")
    assert result.get("failed") is not True, result
    vms = [e for e in result["endpoints"] if e["object"] == "gold" or (e["object"] or "").startswith("virt-launcher")]
    assert len(vms) == 1
    [vm] = vms
    assert vm["kind"] == "vm" and vm["ip"] == "192.168.77.71" and vm["running"] is True
    assert vm["labels"]["vm.kubevirt.io/name"] == "gold" and vm["pod"].startswith("virt-launcher-gold-")
