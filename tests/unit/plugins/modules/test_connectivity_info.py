"""connectivity_info's pure part: one snapshot of the cluster in, one result per kind of traffic out."""
import json

import pytest
import yaml
from ansible_collections.kubernetes.core.plugins.doc_fragments.k8s_auth_options import ModuleDocFragment

from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.errors import MultinetError
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.intent import parse_intent
from ansible_collections.ocpvirt.multinet.plugins.module_utils.verify.revision import revision
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.vocabulary import (
    NETWORKS_ANNOTATION,
    POLICY_FOR_ANNOTATION,
)
from ansible_collections.ocpvirt.multinet.plugins.module_utils.verify import run as vr
from ansible_collections.ocpvirt.multinet.plugins.modules import connectivity_info as ci

NS = "llm-demo"
NAD = "llm-demo-localnet-network"
DOC = yaml.safe_load(ci.DOCUMENTATION)
DOCUMENTED = {**yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"], **DOC["options"]}


def pod(name, ip):
    networks = [{"name": NAD, "ips": [ip + "/24"]}]
    return {"metadata": {"name": name, "namespace": NS, "labels": {"app": name},
                         "annotations": {NETWORKS_ANNOTATION: json.dumps(networks)}},
            "status": {"phase": "Running"}}


def nad(namespace, name, network_name):
    config = {"cniVersion": "0.4.0", "name": network_name, "type": "ovn-k8s-cni-overlay", "topology": "localnet",
              "netAttachDefName": "{0}/{1}".format(namespace, name)}
    return {"metadata": {"name": name, "namespace": namespace}, "spec": {"config": json.dumps(config)}}


# The only policy: a may reach b on tcp/22 and udp/53; everything else of b's ingress is denied.
POLICY = {"apiVersion": "k8s.cni.cncf.io/v1beta1", "kind": "MultiNetworkPolicy",
          "metadata": {"name": "b-in", "namespace": NS, "annotations": {POLICY_FOR_ANNOTATION: "other/shared"}},
          "spec": {"podSelector": {"matchLabels": {"app": "b"}}, "policyTypes": ["Ingress"],
                   "ingress": [{"from": [{"ipBlock": {"cidr": "192.168.77.10/32"}}],
                                "ports": [{"protocol": "TCP", "port": 22}, {"protocol": "UDP", "port": 53}]}]}}


def snapshot(other_network="localnet-cnv"):
    return {"nad": nad(NS, NAD, "localnet-cnv"), "nads": {"other/shared": nad("other", "shared", other_network)},
            "policies": [POLICY], "pods": [pod("a", "192.168.77.10"), pod("b", "192.168.77.20")],
            "vms": [], "vmis": [], "secrets": {}, "warnings": ["VirtualMachine (kubevirt.io/v1) is not served"]}


def params(**overrides):
    base = {name: spec.get("default") for name, spec in ci.argspec().items()}
    base.update({"network": "{0}/{1}".format(NS, NAD), **overrides})
    return base


def run(ports, snap=None, intent=None, **overrides):
    p = params(ports=ports, **overrides)
    network, _namespaces, ipam, source = vr.resolve_scope(p, intent)
    return vr.connectivity(snap or snapshot(), p, intent, vr.traffic_list(ports, intent), network, ipam, source)


def allowed(entry):
    return sorted((row["from"], row["to"]) for row in entry["matrix"] if row["allowed"])


def test_every_option_is_documented_with_the_same_type_and_default():
    spec = ci.argspec()
    assert set(spec) == set(DOCUMENTED)
    for name in DOC["options"]:
        assert spec[name].get("type", "str") == DOCUMENTED[name].get("type", "str"), name
        assert spec[name].get("default") == DOCUMENTED[name].get("default"), name
    assert spec["ports"]["aliases"] == ["port"] and spec["ports"]["deprecated_aliases"][0]["name"] == "port"


def test_one_snapshot_gives_one_result_per_port_in_the_order_asked():
    result = run(["icmp", "tcp/22", "UDP/53", "tcp/22", "tcp/80"])
    assert [entry["port"] for entry in result["results"]] == ["icmp", "tcp/22", "udp/53", "tcp/80"]
    by_port = {entry["port"]: entry for entry in result["results"]}
    assert allowed(by_port["tcp/22"]) == allowed(by_port["udp/53"]) == [("a", "b"), ("b", "a")]
    assert allowed(by_port["icmp"]) == allowed(by_port["tcp/80"]) == [("b", "a")]
    assert [p["port"] for p in by_port["udp/53"]["probes"]] == ["udp/53", "udp/53"]
    assert all("expected" not in entry for entry in result["results"])
    assert result["warnings_list"] == ["VirtualMachine (kubevirt.io/v1) is not served"]


def test_policy_naming_another_nad_of_the_same_ovn_network_applies_from_the_snapshot():
    assert run(["tcp/80"])["policies"] == ["llm-demo/b-in"]
    assert run(["tcp/80"])["nads"] == ["llm-demo/llm-demo-localnet-network", "other/shared"]
    elsewhere = run(["tcp/80"], snapshot(other_network="another"))
    assert elsewhere["policies"] == [] and allowed(elsewhere["results"][0]) == [("a", "b"), ("b", "a")]


def test_without_ports_an_intent_gives_its_own_traffic_and_expected_rows():
    intent = parse_intent({"name": "t", "namespace": NS, "network": NAD, "ipam": False,
                           "workloads": {"a": {"selector": {"app": "a"}, "ips": ["192.168.77.10"]},
                                         "b": {"selector": {"app": "b"}, "ips": ["192.168.77.20"]}},
                           "allow": [{"from": "a", "to": "b", "ports": ["udp/53"]}]})
    result = run(None, intent=intent, network=None)
    assert [entry["port"] for entry in result["results"]] == result["intent_traffic"] == ["icmp", "udp/53"]
    udp = result["results"][1]
    assert [(r["from"], r["to"]) for r in udp["expected"]] == [(r["from"], r["to"]) for r in udp["matrix"]]
    assert sorted((r["from"], r["to"]) for r in udp["expected"] if r["allowed"]) == [("a", "b")]


def test_a_bad_port_names_the_field_and_value():
    with pytest.raises(MultinetError, match="ports.*tcp/http"):
        vr.traffic_list(["icmp", "tcp/http"], None)
    assert vr.traffic_list(None, None) == [None]  # ICMP


def test_the_result_names_what_was_compared_by_digest():
    raw = {"name": "t", "namespace": NS, "network": NAD, "ipam": False,
           "workloads": {"a": {"selector": {"app": "a"}, "ips": ["192.168.77.10"]},
                         "b": {"selector": {"app": "b"}, "ips": ["192.168.77.20"]}},
           "allow": [{"from": "a", "to": "b", "ports": ["udp/53"]}]}
    p = params(network=None, intent=raw)
    network, _namespaces, ipam, source = vr.resolve_scope(p, parse_intent(raw))
    icmp = [None]
    result = vr.connectivity(snapshot(), p, parse_intent(raw), icmp, network, ipam, source)
    assert result["revision"] == revision(raw, [POLICY])
    assert result["revision"]["policy_count"] == 1 and result["revision"]["intent"].startswith("sha256:")
    # A policy of another network is not part of what this run compared.
    elsewhere = vr.connectivity(snapshot(other_network="another"), p, parse_intent(raw), icmp, network, ipam, source)
    assert elsewhere["revision"]["policy_count"] == 0 and elsewhere["revision"]["intent"] == result["revision"]["intent"]
