"""The compile_mnp filter shim: argument checks, the call into the compiler, error translation."""
import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.ocpvirt.multinet.plugins.filter.compile_mnp import FilterModule, compile_mnp
from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.compiler import compile_intent

INTENT = {
    "namespace": "demo",
    "network": "demo-net",
    "workloads": {"web": {"selector": {"app": "web"}, "ips": ["10.0.0.1"]}},
    "endpoints": {"gateway": "10.0.0.254"},
    "allow": [{"from": "web", "to": "gateway", "ports": ["udp/53"]}],
}


def test_filter_is_registered_under_its_name():
    assert FilterModule().filters() == {"compile_mnp": compile_mnp}


def test_filter_returns_the_compiled_manifests():
    assert compile_mnp(INTENT) == compile_intent(INTENT)


def test_filter_accepts_the_intent_as_keyword():
    assert compile_mnp(_input=INTENT) == compile_intent(INTENT)


@pytest.mark.parametrize("value", ["namespace: demo", ["demo"], None])
def test_filter_rejects_a_non_mapping(value):
    with pytest.raises(AnsibleFilterError, match="compile_mnp: .*_input"):
        compile_mnp(value)


def test_filter_rejects_unknown_arguments():
    with pytest.raises(AnsibleFilterError, match="compile_mnp: .*prune"):
        compile_mnp(INTENT, prune=True)


def test_invalid_intent_becomes_a_filter_error_with_field_and_value():
    bad = dict(INTENT, allow=[{"from": "web", "to": "gateway", "ports": ["tcp/dns"]}])

    with pytest.raises(AnsibleFilterError, match=r"allow\[0\]\.ports\[0\]: named ports .*'tcp/dns'"):
        compile_mnp(bad)


def test_filter_merges_peers_unless_told_not_to():
    intent = dict(INTENT, endpoints={"gateway": "10.0.0.254", "resolver": "10.0.0.255"},
                  allow=[{"from": "web", "to": ["gateway", "resolver"], "ports": ["udp/53"]}])
    peers = {merge: [rule["to"] for policy in compile_mnp(intent, merge_peers=merge)
                     for rule in policy["spec"].get("egress", [])] for merge in (True, False)}

    assert compile_mnp(intent) == compile_intent(intent)
    assert peers[True] == [[{"ipBlock": {"cidr": "10.0.0.254/31"}}]]
    assert peers[False] == [[{"ipBlock": {"cidr": "10.0.0.254/32"}}, {"ipBlock": {"cidr": "10.0.0.255/32"}}]]
