"""Parsing MultiNetworkPolicy manifests into what OVN-Kubernetes reads from them."""
import ipaddress

import pytest

from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.errors import MultinetError
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.policy_model import (
    parse_ip_block,
    parse_policy,
    parse_selector,
)


def manifest(spec, annotations=None):
    return {"metadata": {"name": "p", "namespace": "ns", "annotations": annotations or {}}, "spec": spec}


def test_policy_for_names_the_policy_networks():
    policy = parse_policy(manifest({}, {"k8s.v1.cni.cncf.io/policy-for": " a , other/b ,"}))
    assert policy.networks == ("ns/a", "other/b")


def test_policy_types_as_written():
    assert parse_policy(manifest({"policyTypes": ["Egress"]})).isolates == frozenset({"egress"})
    missing = parse_policy(manifest({}))
    assert missing.isolates == frozenset() and "no policyTypes" in missing.notes[0]


def test_rules_of_unisolated_direction_are_enforced_regardless_of_policy_types():
    """OVN-K builds allow ACLs for every rule (base_network_controller_policy.go)."""
    policy = parse_policy(manifest({"policyTypes": ["Ingress"], "egress": [{"to": [{"podSelector": {}}]}]}))
    assert policy.isolates == frozenset({"ingress"})
    assert [rule.label for rule in policy.rules_for("egress")] == ["egress[0]"]
    assert policy.selector_peer() == "egress[0].to[0]"


def test_empty_peers_and_ports_mean_everything():
    rule = parse_policy(manifest({"policyTypes": ["Ingress"], "ingress": [{"from": [], "ports": []}]})).rules[0]
    assert rule.peers is None and rule.ports is None and rule.admits(None)


def test_ports_default_to_tcp_and_end_port_only_when_honoured():
    spec = {"policyTypes": ["Ingress"], "ingress": [{"ports": [{"port": 80, "endPort": 90}, {"port": "http"}]}]}
    rule = parse_policy(manifest(spec), honours_end_port=True).rules[0]
    assert rule.admits(("TCP", 85)) and not rule.admits(("UDP", 85)) and not rule.admits(None)
    assert rule.ports[1].start is None  # a named port: every TCP port
    dropped = parse_policy(manifest({"policyTypes": ["Ingress"],
                                     "ingress": [{"ports": [{"protocol": "TCP", "port": 80, "endPort": 90}]}]}))
    assert dropped.rules[0].admits(("TCP", 80)) and not dropped.rules[0].admits(("TCP", 85))
    assert dropped.notes == ("ingress[0].ports[0] endPort 90 is dropped: OVN-K's MultiNetworkPolicy API has no "
                             "endPort, so only port 80 opens",)


def test_ip_block_except_and_family():
    block = parse_ip_block({"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}, "b")
    assert block.contains(ipaddress.ip_address("10.2.0.1"))
    assert not block.contains(ipaddress.ip_address("10.1.0.1"))
    assert not block.contains(ipaddress.ip_address("::1"))


def test_selector_not_in_matches_missing_key():
    selector = parse_selector({"matchExpressions": [{"key": "a", "operator": "NotIn", "values": ["x"]}]}, "s")
    assert selector.matches({}) and selector.matches({"a": "y"}) and not selector.matches({"a": "x"})


@pytest.mark.parametrize("spec, message", [
    ({"podSelector": {"matchExpressions": [{"key": "a", "operator": "Has"}]}},
     "policy.spec.podSelector.matchExpressions[0].operator: operator must be one of"),
    ({"ingress": [{"ports": [{"protocol": "ICMP"}]}]}, "policy.spec.ingress[0].ports[0].protocol: protocol must be"),
    ({"ingress": [{"ports": [{"port": 70000}]}]}, "policy.spec.ingress[0].ports[0].port: must be a port number"),
    ({"egress": [{"ports": [{"port": 90, "endPort": 80}]}]}, "policy.spec.egress[0].ports[0].endPort: endPort must"),
    ({"egress": [{"to": [{}]}]}, "policy.spec.egress[0].to[0]: a peer sets either ipBlock"),
    ({"egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/8"}, "podSelector": {}}]}]},
     "policy.spec.egress[0].to[0]: a peer sets either ipBlock"),
    ({"ingress": {"from": []}}, "policy.spec.ingress: must be a list"),
])
def test_bad_manifest_names_the_field(spec, message):
    with pytest.raises(MultinetError) as error:
        parse_policy(manifest(spec))
    assert str(error.value).startswith(message)


def test_missing_namespace_is_an_error():
    with pytest.raises(MultinetError, match=r"^policies\[3\].metadata.namespace: must be a non-empty string"):
        parse_policy({"metadata": {"name": "p"}, "spec": {}}, "policies[3]")


def test_port_without_protocol_is_read_as_tcp_with_a_note():
    policy = parse_policy(manifest({"policyTypes": ["Ingress"], "ingress": [{"ports": [{"port": 22}]}]}))
    assert policy.rules[0].admits(("TCP", 22))
    assert policy.notes[0].startswith("ingress[0].ports[0] has no protocol: OVN-K does not default it to TCP")
