"""Addresses written once, checked before any write, against the lab's real kube-apiserver.

A scenario that shares nothing with the seed: namespace labtest-*, NAD ledger-lan, VM
ledger-db and pod ledger-probe on 10.57.3.0/24 (API objects only: no packet is sent, so the
address needs no place on the lab's LAN). Zero writes is checked on the cluster with the
kubernetes client: the policies and their resourceVersions are what they were before.
"""
import json
import os
import subprocess
import sys

import pytest
from kubernetes import client

from lab_helpers import create_localnet_nad
from test_multinetwork_policy import REPO_DIR, PolicyApi, names, run_module

ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
NAD = "ledger-lan"


def probe_pod(namespace, ip):
    """A test pod as the workloads role writes it: its address in the networks annotation."""
    return client.V1Pod(
        metadata=client.V1ObjectMeta(name="ledger-probe", labels={"app": "ledger-probe"}, annotations={
            "k8s.v1.cni.cncf.io/networks": json.dumps([{"name": NAD, "ips": [ip + "/24"]}])}),
        spec=client.V1PodSpec(containers=[client.V1Container(name="probe", image="registry.k8s.io/pause:3.10")]))


def ledger_intent(namespace, probe_ips):
    return {"name": "ledger", "namespace": namespace, "network": NAD,
            "workloads": {"probe": {"selector": {"app": "ledger-probe"}, "ips": probe_ips}},
            "endpoints": {"ledger-gw": "10.57.3.1"},
            "allow": [{"from": "probe", "to": "ledger-gw", "ports": ["tcp/443"]}]}


@pytest.fixture
def ledger(lab_api, lab_namespace):
    """The NAD, the pod at 10.57.3.40 and the intent's policies applied with the right address."""
    create_localnet_nad(client.CustomObjectsApi(lab_api), lab_namespace, NAD)
    client.CoreV1Api(lab_api).create_namespaced_pod(lab_namespace, probe_pod(lab_namespace, "10.57.3.40"))
    return PolicyApi(client.CustomObjectsApi(lab_api), lab_namespace)


def test_an_intent_address_that_is_not_the_live_pods_is_refused_with_zero_writes(lab_kubeconfig, ledger):
    applied = run_module(lab_kubeconfig, ledger_intent(ledger.namespace, ["10.57.3.40"]))
    assert applied["changed"] and not applied.get("failed"), applied.get("msg")
    before = ledger.versions()

    for flags in ((), ("--check",)):
        result = run_module(lab_kubeconfig, ledger_intent(ledger.namespace, ["10.57.3.41"]), *flags)

        assert result["failed"] and not result["changed"]
        # "from network-status" where the lab's kubelet stand-in reports the attachment, as Multus does.
        assert result["msg"].startswith("workloads.probe.ips: pod ledger-probe is at 10.57.3.40 on the cluster (from ")
        assert result["msg"].endswith("), which the intent does not list (got ['10.57.3.41'])")
    assert ledger.versions() == before


def test_the_check_can_be_turned_off_on_purpose(lab_kubeconfig, ledger):
    result = run_module(lab_kubeconfig, ledger_intent(ledger.namespace, ["10.57.3.41"]), check_addresses=False)

    assert not result.get("failed"), result.get("msg")
    assert names(ledger.items()) == ["ledger-allow-probe", "ledger-default-deny"]


def run_policies_role(tmp_path, kubeconfig, namespace, intent):
    """The policies role as site.yml runs it, with the workloads role's inventory entries."""
    variables = {"workloads_namespace": namespace,
                 "workloads_vms": [{"name": "ledger-db", "ip": "10.57.3.30/24"}],
                 "workloads_pods": [{"name": "ledger-probe", "ip": "10.57.3.40/24"}],
                 "policies_intents": [intent], "ansible_python_interpreter": sys.executable}
    playbook = tmp_path / "play.yml"
    playbook.write_text(json.dumps([{
        "name": "policies", "hosts": "localhost", "connection": "local", "gather_facts": False,
        "vars": variables,
        "module_defaults": {"ocpvirt.multinet.multinetwork_policy": {"kubeconfig": kubeconfig}},
        "roles": [{"role": "ocpvirt.multinet.policies"}]}]))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(REPO_DIR / ".venv" / "collections"))
    return subprocess.run([ANSIBLE_PLAYBOOK, "-i", "localhost,", str(playbook)], cwd=REPO_DIR, env=env,
                          capture_output=True, text=True, timeout=600, check=False)


def test_the_policies_role_refuses_an_address_the_inventory_contradicts_before_any_write(
        tmp_path, lab_kubeconfig, ledger):
    intent = ledger_intent(ledger.namespace, ["10.57.3.40"])
    intent["workloads"]["db"] = {"vm": "ledger-db", "ips": ["10.57.3.31"]}
    intent["allow"].append({"from": "probe", "to": "db", "ports": ["tcp/5432"]})

    done = run_policies_role(tmp_path, lab_kubeconfig, ledger.namespace, intent)

    assert done.returncode != 0
    assert ("workloads.db.ips: VM ledger-db is at 10.57.3.30 in the inventory (workloads_vms[ledger-db].ip "
            "'10.57.3.30/24'), which the intent does not list") in done.stdout.replace("\\'", "'").replace("''", "'")
    assert ledger.items() == []


def test_the_policies_role_takes_the_addresses_the_intent_leaves_out_from_the_inventory(
        tmp_path, lab_kubeconfig, ledger):
    intent = ledger_intent(ledger.namespace, [])
    intent["workloads"] = {"probe": {"selector": {"app": "ledger-probe"}}, "db": {"vm": "ledger-db"}}
    intent["allow"].append({"from": "probe", "to": "db", "ports": ["tcp/5432"]})

    done = run_policies_role(tmp_path, lab_kubeconfig, ledger.namespace, intent)

    assert done.returncode == 0, done.stdout[-3000:]
    policies = ledger.by_name()
    egress = policies["ledger-allow-probe"]["spec"]["egress"]
    assert {"ipBlock": {"cidr": "10.57.3.30/32"}} in [peer for rule in egress for peer in rule["to"]]
    ingress = policies["ledger-allow-db"]["spec"]["ingress"]
    assert [peer for rule in ingress for peer in rule["from"]] == [{"ipBlock": {"cidr": "10.57.3.40/32"}}]
