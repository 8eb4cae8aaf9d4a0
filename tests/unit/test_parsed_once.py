"""A port string, a policy, an intent and the endpoints are each parsed once per run.

Each parser is replaced, in every module of the collection that imported it, by one that counts
what it is given; then a whole run goes through: connectivity_info's (the module's run() over a
snapshot, several kinds of traffic) and the what-if's (multinetwork_policy's hook, and
connectivity_diff of two intents). Inside, everything takes the parsed models.
"""
import copy
import json
import sys
from collections import Counter

import pytest

from ansible_collections.ocpvirt.multinet.plugins.module_utils.model import intent as intent_module
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model import policy_model, vocabulary
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.intent import parse_intent
from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.compiler import compile_intent
from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.flow_diff import intent_diff
from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.reconcile import compute_plan
from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.what_if import flow_check
from ansible_collections.ocpvirt.multinet.plugins.module_utils.simulate import connectivity as simulator
from ansible_collections.ocpvirt.multinet.plugins.modules import connectivity_info

NS, NAD = "parse-count", "lan-b"
NETWORKS = "k8s.v1.cni.cncf.io/networks"
INTENT = {
    "name": "counted", "namespace": NS, "network": NAD, "ipam": False,
    "workloads": {"api": {"selector": {"app": "api"}, "ips": ["10.61.3.11"]},
                  "db": {"selector": {"app": "db"}, "ips": ["10.61.3.12"]},
                  "cache": {"selector": {"app": "cache"}, "ips": ["10.61.3.13"]}},
    "endpoints": {"router": "10.61.3.1"},
    "allow": [{"from": "api", "to": "db", "ports": ["tcp/5432"]},
              {"from": "api", "to": "cache", "ports": ["tcp/6379", "udp/6379"]},
              {"from": "router", "to": "api", "ports": ["tcp/8443"]}],
}
POLICIES = compile_intent(INTENT)  # the live policies, compiled before any parser is counted


def counted(monkeypatch, module, name, key):
    """Counter of key(arguments) over every call of ``module.name``, wherever it was imported."""
    original, calls = getattr(module, name), Counter()

    def counting(*args, **kwargs):
        calls[key(*args, **kwargs)] += 1
        return original(*args, **kwargs)

    patched = 0
    for loaded in list(sys.modules.values()):
        if getattr(loaded, "__name__", "").startswith("ansible_collections.ocpvirt.multinet") \
                and getattr(loaded, name, None) is original:
            monkeypatch.setattr(loaded, name, counting)
            patched += 1
    assert patched, name
    return calls


@pytest.fixture
def parsers(monkeypatch):
    return {
        "traffic": counted(monkeypatch, vocabulary, "parse_traffic", lambda port, *a, **k: port),
        "policy": counted(monkeypatch, policy_model, "parse_policy", lambda manifest, *a, **k: id(manifest)),
        "intent": counted(monkeypatch, intent_module, "parse_intent", id),
        "endpoints": counted(monkeypatch, simulator, "parse_endpoints", id),
    }


def pod(name, ip):
    networks = [{"name": NAD, "ips": [ip + "/24"]}]
    return {"metadata": {"name": name, "namespace": NS, "labels": {"app": name},
                         "annotations": {NETWORKS: json.dumps(networks)}}, "status": {"phase": "Running"}}


def snapshot(policies):
    config = {"cniVersion": "0.4.0", "name": "lan-b-net", "type": "ovn-k8s-cni-overlay", "topology": "localnet",
              "netAttachDefName": "{0}/{1}".format(NS, NAD)}
    return {"nad": {"metadata": {"name": NAD, "namespace": NS}, "spec": {"config": json.dumps(config)}},
            "nads": {}, "policies": policies, "vms": [], "vmis": [], "secrets": {}, "warnings": [],
            "pods": [pod("api", "10.61.3.11"), pod("db", "10.61.3.12"), pod("cache", "10.61.3.13")]}


class Module:
    def __init__(self, params):
        self.params = params


class Reader:
    server = "https://api.parse-count.invalid:6443"

    def __init__(self, module):
        self.module = module


def run_connectivity_info(monkeypatch, policies, **params):
    values = {name: spec.get("default") for name, spec in connectivity_info.argspec().items()}
    values.update(params)
    monkeypatch.setattr(connectivity_info, "ClusterReader", Reader)
    monkeypatch.setattr(connectivity_info, "read_snapshot", lambda *args: snapshot(policies))
    return connectivity_info.run(Module(values))


def test_connectivity_info_parses_each_port_string_policy_and_intent_once(monkeypatch, parsers):
    ports = ["icmp", "tcp/5432", "UDP/6379", "tcp/8443", "sctp/9"]
    result = run_connectivity_info(monkeypatch, POLICIES, network=None, intent=INTENT, ports=ports)
    assert [entry["port"] for entry in result["results"]] == ["icmp", "tcp/5432", "udp/6379", "tcp/8443", "sctp/9"]
    assert all(entry["matrix"] and entry["probes"] and entry["expected"] for entry in result["results"])
    assert parsers["traffic"] == Counter(ports)
    assert parsers["intent"] == Counter({id(INTENT): 1})
    # The snapshot's policies (as the module reduces them for the simulator), each once.
    assert sorted(parsers["policy"].values()) == [1] * len(POLICIES)
    assert list(parsers["endpoints"].values()) == [1]


def test_connectivity_info_with_the_intents_traffic_parses_no_port_string(monkeypatch, parsers):
    result = run_connectivity_info(monkeypatch, POLICIES, network=None, intent=INTENT)
    assert result["intent_traffic"] == ["icmp", "tcp/5432", "tcp/6379", "tcp/8443", "udp/6379"]
    assert parsers["traffic"] == Counter()
    assert parsers["intent"] == Counter({id(INTENT): 1})


def test_the_what_if_of_a_run_parses_each_manifest_and_the_endpoints_once(parsers):
    changed = copy.deepcopy(INTENT)
    changed["allow"].append({"from": "cache", "to": "db", "ports": ["tcp/5432", "udp/53"]})
    live, desired = POLICIES, compile_intent(changed)
    parsers["intent"].clear()  # compile_intent's
    model, result = parse_intent(changed), {}  # as the module's main() does, before the hook
    flow_check(model)(compute_plan(desired, live), live, desired, result)
    assert result["flows"]["traffic"] == ["icmp", "tcp/5432", "tcp/6379", "tcp/8443", "udp/53", "udp/6379"]
    assert [flow["traffic"] for flow in result["flows"]["opened"]] == ["tcp/5432", "udp/53"]
    assert sum(parsers["policy"].values()) == len(live) + len(desired)
    assert set(parsers["policy"]) == {id(manifest) for manifest in live + desired}
    assert list(parsers["endpoints"].values()) == [1]
    assert parsers["intent"] == parsers["traffic"] == Counter()


def test_a_diff_of_two_intents_parses_each_intent_and_port_string_once(parsers):
    changed = copy.deepcopy(INTENT)
    changed["allow"] = changed["allow"][1:]
    diff = intent_diff(INTENT, changed, ports=["udp/5353", "sctp/7"])
    assert diff["traffic"] == ["icmp", "sctp/7", "tcp/5432", "tcp/6379", "tcp/8443", "udp/5353", "udp/6379"]
    assert [(flow["from"], flow["to"]) for flow in diff["closed"]] == [("api", "db")]
    assert parsers["intent"] == Counter({id(INTENT): 1, id(changed): 1})
    assert parsers["traffic"] == Counter(["udp/5353", "sctp/7"])
    # Every compiled manifest of both sides once (the compiler may hand both the same object).
    assert sum(parsers["policy"].values()) == len(POLICIES) + len(compile_intent(changed))
    assert list(parsers["endpoints"].values()) == [1]
