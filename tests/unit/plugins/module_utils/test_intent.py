"""Intent schema v1: parsing, normalisation and every class of validation error."""
import copy
import dataclasses
import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.errors import MultinetError
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.intent import (
    IntentError,
    IpBlock,
    PortRange,
    WorkloadRef,
    load_intent_text,
    normalise_ports,
    parse_intent,
    parse_intent_identity,
)


def base_intent():
    return {
        "namespace": "llm-demo",
        "network": "llm-demo-localnet-network",
        "workloads": {
            "tinypod": {"selector": {"app": "tinypod"}, "ips": ["192.168.77.91"]},
            "gold-rabbit": {"vm": "centos-stream9-gold-rabbit-80", "ips": ["192.168.77.71"]},
        },
        "endpoints": {
            "gateway": "192.168.77.1",
            "internet": {"cidr": "0.0.0.0/0", "except": ["192.168.77.0/24"]},
        },
        "allow": [
            {"from": "gold-rabbit", "to": ["gateway", "tinypod", "internet"], "ports": ["tcp/22", "udp/53"]},
        ],
    }


def with_changes(*changes):
    """Apply (path, value) changes to a copy of the base intent; value DELETE removes the key."""
    intent = copy.deepcopy(base_intent())
    for path, value in changes:
        target = intent
        for key in path[:-1]:
            target = target[key]
        if value is DELETE:
            del target[path[-1]]
        else:
            target[path[-1]] = value
    return intent


DELETE = object()


# ---------------------------------------------------------------------------------------------
# A valid intent
# ---------------------------------------------------------------------------------------------
def test_defaults_of_a_minimal_intent():
    intent = parse_intent({"namespace": "demo", "network": "demo-net"})

    assert intent.name == "demo-net"
    assert intent.network == "demo/demo-net"
    assert intent.ipam is False
    assert intent.default_deny == ("ingress", "egress")
    assert intent.workloads == intent.endpoints == intent.allow == ()


def test_network_with_namespace_and_explicit_name():
    intent = parse_intent({"namespace": "demo", "network": "default/shared-net", "name": "web"})

    assert (intent.name, intent.network) == ("web", "default/shared-net")
    assert intent.deny_policy_name == "web-default-deny"
    assert intent.policy_name("tinypod") == "web-allow-tinypod"


def test_workloads_resolve_selector_vm_and_addresses():
    intent = parse_intent(base_intent())
    workloads = {workload.name: workload for workload in intent.workloads}

    assert [workload.name for workload in intent.workloads] == ["gold-rabbit", "tinypod"]
    assert workloads["gold-rabbit"].selector == (("vm.kubevirt.io/name", "centos-stream9-gold-rabbit-80"),)
    assert workloads["tinypod"].selector == (("app", "tinypod"),)
    assert [ip.cidr for ip in workloads["tinypod"].ips] == ["192.168.77.91/32"]


def test_allow_entry_resolves_names_and_literals():
    intent = with_changes((["allow"], [{"from": "10.0.0.0/8", "to": "tinypod"}]))
    entry = parse_intent(intent).allow[0]

    assert entry.sources[0].cidr == "10.0.0.0/8"
    assert entry.destinations == (WorkloadRef("tinypod"),)
    assert entry.ports is None


@pytest.mark.parametrize("text, cidr", [
    ("192.168.77.1", "192.168.77.1/32"),
    ("192.168.77.0/24", "192.168.77.0/24"),
    (" 10.0.0.0/8 ", "10.0.0.0/8"),
    ("2001:DB8::1", "2001:db8::1/128"),
    ("2001:db8:0:0::/64", "2001:db8::/64"),
])
def test_endpoint_cidrs_are_normalised(text, cidr):
    intent = parse_intent(with_changes((["endpoints", "gateway"], text)))

    assert {endpoint.name: endpoint.block.cidr for endpoint in intent.endpoints}["gateway"] == cidr


@given(address=st.ip_addresses(v=4))
def test_ipv4_fast_path_agrees_with_ipaddress(address):
    # An endpoint: a workload refuses non-unicast addresses (tested below).
    intent = parse_intent(with_changes((["endpoints", "gateway"], str(address))))

    block = {endpoint.name: endpoint for endpoint in intent.endpoints}["gateway"].block
    assert block.cidr == str(ipaddress.ip_network(address))
    assert block.sort_key == (4, int(address), 32)


@pytest.mark.parametrize("text", ["192.168.077.1", "256.1.1.1", "1.2.3", "1.2.3.4.5", "01.2.3.4", "1.2.3.4 5"])
def test_non_canonical_ipv4_is_rejected(text):
    with pytest.raises(MultinetError, match=r"workloads\.tinypod\.ips\[0\]: not an IP address"):
        parse_intent(with_changes((["workloads", "tinypod", "ips"], [text])))


def test_excepts_are_normalised_sorted_and_deduplicated():
    spec = {"cidr": "0.0.0.0/0", "except": ["192.168.77.0/24", "10.0.0.0/8", "192.168.77.0/24", "172.16.0.1"]}
    intent = parse_intent(with_changes((["endpoints", "internet"], spec)))

    internet = {endpoint.name: endpoint.block for endpoint in intent.endpoints}["internet"]
    assert internet.excepts == ("10.0.0.0/8", "172.16.0.1/32", "192.168.77.0/24")


def test_ipam_network_accepts_workloads_without_ips():
    intent = parse_intent(with_changes((["ipam"], True), (["workloads", "tinypod", "ips"], DELETE)))

    assert {workload.name: workload.ips for workload in intent.workloads}["tinypod"] == ()


@pytest.mark.parametrize("specs, expected", [
    (["tcp/22", "tcp/22"], [("TCP", 22, 22)]),
    (["TCP/22"], [("TCP", 22, 22)]),
    (["tcp/22", "tcp/20-30"], [("TCP", 20, 30)]),
    (["tcp/22", "tcp/23"], [("TCP", 22, 22), ("TCP", 23, 23)]),
    (["tcp/8000-8080", "tcp/8081"], [("TCP", 8000, 8081)]),
    (["tcp/8000-8080", "tcp/8050-9000"], [("TCP", 8000, 9000)]),
    (["udp/53", "tcp/53", "sctp/9"], [("SCTP", 9, 9), ("TCP", 53, 53), ("UDP", 53, 53)]),
    (["udp/1-65535"], [("UDP", 1, 65535)]),
])
def test_ports_are_normalised(specs, expected):
    intent = parse_intent(with_changes((["allow", 0, "ports"], specs), (["target_honours_end_port"], True)))

    assert intent.allow[0].ports == tuple(PortRange(*port) for port in expected)


@pytest.mark.parametrize("ports", [None, []])
def test_no_ports_means_every_port(ports):
    assert parse_intent(with_changes((["allow", 0, "ports"], ports))).allow[0].ports is None


def test_normalise_ports_never_invents_a_range_from_single_ports():
    ports = (PortRange("TCP", 80, 80), PortRange("TCP", 81, 81))

    assert normalise_ports(ports) == ports


def test_model_is_immutable():
    intent = parse_intent(base_intent())

    with pytest.raises(dataclasses.FrozenInstanceError):
        intent.name = "other"
    with pytest.raises(dataclasses.FrozenInstanceError):
        intent.workloads[0].ips = ()
    assert isinstance(intent.workloads, tuple) and isinstance(intent.allow[0].destinations, tuple)


def test_ip_blocks_sort_numerically():
    blocks = [IpBlock((4, 10 ** 9, 32), "b"), IpBlock((4, 2, 32), "a"), IpBlock((6, 1, 128), "c")]

    assert [block.cidr for block in sorted(blocks)] == ["a", "b", "c"]


def test_parse_intent_identity_ignores_the_rest():
    raw = {"namespace": "demo", "network": "other/net", "allow": "not checked here"}

    assert parse_intent_identity(raw) == ("net", "demo", "other/net")


# ---------------------------------------------------------------------------------------------
# Every class of validation error: the message names the field path and the value
# ---------------------------------------------------------------------------------------------
LONG = "x" * 64

ERRORS = [
    # top level
    ("unknown top-level key", [(["default-deny"], ["ingress"])], "default-deny", "default-deny"),
    ("missing namespace", [(["namespace"], DELETE)], "namespace", "None"),
    ("invalid namespace", [(["namespace"], "LLM_demo")], "namespace", "LLM_demo"),
    ("invalid network name", [(["network"], "demo/Bad_Net")], "network", "demo/Bad_Net"),
    ("invalid network namespace", [(["network"], "Bad_Ns/net")], "network", "Bad_Ns/net"),
    ("default intent name too long for a label", [(["network"], "n" * 70)], "network", "n" * 70),
    ("invalid intent name", [(["name"], "My Intent")], "name", "My Intent"),
    ("ipam not a boolean", [(["ipam"], "yes")], "ipam", "yes"),
    ("default_deny unknown direction", [(["default_deny"], ["both"])], "default_deny[0]", "both"),
    ("default_deny duplicate", [(["default_deny"], ["egress", "egress"])], "default_deny[1]", "egress"),
    ("default_deny not a list", [(["default_deny"], "ingress")], "default_deny", "ingress"),
    # workloads
    ("invalid workload name", [(["workloads", "Tiny_Pod"], {"selector": {"a": "b"}, "ips": ["10.0.0.1"]})],
     "workloads.Tiny_Pod", "Tiny_Pod"),
    ("selector and vm both", [(["workloads", "tinypod", "vm"], "tiny")], "workloads.tinypod", "tiny"),
    ("neither selector nor vm", [(["workloads", "tinypod", "selector"], DELETE)], "workloads.tinypod",
     "192.168.77.91"),
    ("empty selector", [(["workloads", "tinypod", "selector"], {})], "workloads.tinypod.selector", "{}"),
    ("invalid label key prefix", [(["workloads", "tinypod", "selector"], {"Bad_Prefix/app": "x"})],
     "workloads.tinypod.selector.Bad_Prefix/app", "Bad_Prefix/app"),
    ("invalid label key name", [(["workloads", "tinypod", "selector"], {"-app": "x"})],
     "workloads.tinypod.selector.-app", "-app"),
    ("label value too long", [(["workloads", "tinypod", "selector"], {"app": LONG})],
     "workloads.tinypod.selector.app", LONG),
    ("label value bad characters", [(["workloads", "tinypod", "selector"], {"app": "tiny pod"})],
     "workloads.tinypod.selector.app", "tiny pod"),
    ("label value not a string", [(["workloads", "tinypod", "selector"], {"tier": 1})],
     "workloads.tinypod.selector.tier", "1"),
    ("vm name too long for the label", [(["workloads", "gold-rabbit", "vm"], LONG)],
     "workloads.gold-rabbit.vm", LONG),
    ("unknown workload key", [(["workloads", "tinypod", "ip"], "10.0.0.1")], "workloads.tinypod.ip", "ip"),
    ("no ips on an IPAM-less network", [(["workloads", "tinypod", "ips"], DELETE)],
     "workloads.tinypod.ips", "[]"),
    ("invalid workload ip", [(["workloads", "tinypod", "ips"], ["192.168.77.300"])],
     "workloads.tinypod.ips[0]", "192.168.77.300"),
    ("workload ip with a prefix", [(["workloads", "tinypod", "ips"], ["192.168.77.0/24"])],
     "workloads.tinypod.ips[0]", "192.168.77.0/24"),
    ("workload ip host bits", [(["workloads", "tinypod", "ips"], ["192.168.77.91/24"])],
     "workloads.tinypod.ips[0]", "192.168.77.91/24"),
    ("workload name longer than a DNS-1123 label",
     [(["workloads", "w" * 64], {"selector": {"a": "b"}, "ips": ["10.0.0.9"]})],
     "workloads." + "w" * 64, "w" * 64),
    ("endpoint name longer than a DNS-1123 label", [(["endpoints", "e" * 64], "10.0.0.9")],
     "endpoints." + "e" * 64, "e" * 64),
    ("unspecified workload ip", [(["workloads", "tinypod", "ips"], ["0.0.0.0"])], "workloads.tinypod.ips[0]",
     "0.0.0.0"),
    ("broadcast workload ip", [(["workloads", "tinypod", "ips"], ["255.255.255.255"])],
     "workloads.tinypod.ips[0]", "255.255.255.255"),
    ("multicast workload ip", [(["workloads", "tinypod", "ips"], ["224.0.0.1"])], "workloads.tinypod.ips[0]",
     "224.0.0.1"),
    ("reserved workload ip", [(["workloads", "tinypod", "ips"], ["240.0.0.7"])], "workloads.tinypod.ips[0]",
     "240.0.0.7"),
    ("loopback workload ip", [(["workloads", "tinypod", "ips"], ["127.0.0.1/32"])], "workloads.tinypod.ips[0]",
     "127.0.0.1/32"),
    ("IPv6 multicast workload ip", [(["workloads", "tinypod", "ips"], ["ff02::1"])], "workloads.tinypod.ips[0]",
     "ff02::1"),
    ("IPv6 unspecified workload ip", [(["workloads", "tinypod", "ips"], ["::"])], "workloads.tinypod.ips[0]",
     "'::'"),
    ("two workloads with one address", [(["workloads", "tinypod", "ips"], ["192.168.77.71"])],
     "workloads.gold-rabbit.ips", "'192.168.77.71'"),
    ("workloads not a mapping", [(["workloads"], [])], "workloads", "[]"),
    ("endpoints not a mapping", [(["endpoints"], "")], "endpoints", "''"),
    # endpoints
    ("endpoint host bits", [(["endpoints", "gateway"], "192.168.77.1/24")], "endpoints.gateway",
     "192.168.77.1/24"),
    ("endpoint not an address", [(["endpoints", "gateway"], "gw.example.com")], "endpoints.gateway",
     "gw.example.com"),
    ("endpoint mapping without cidr", [(["endpoints", "internet"], {"except": ["10.0.0.0/8"]})],
     "endpoints.internet", "10.0.0.0/8"),
    ("except outside its cidr", [(["endpoints", "internet"], {"cidr": "10.0.0.0/8", "except": ["11.0.0.0/24"]})],
     "endpoints.internet.except[0]", "11.0.0.0/24"),
    ("except equal to its cidr", [(["endpoints", "internet"], {"cidr": "10.0.0.0/8", "except": ["10.0.0.0/8"]})],
     "endpoints.internet.except[0]", "10.0.0.0/8"),
    ("except with host bits", [(["endpoints", "internet"], {"cidr": "10.0.0.0/8", "except": ["10.1.0.1/16"]})],
     "endpoints.internet.except[0]", "10.1.0.1/16"),
    ("mixed IP families in one ipBlock", [(["endpoints", "internet"], {"cidr": "0.0.0.0/0", "except": ["fd00::/64"]})],
     "endpoints.internet.except[0]", "fd00::/64"),
    ("duplicate name in workloads and endpoints", [(["endpoints", "tinypod"], "10.0.0.1")],
     "endpoints.tinypod", "tinypod"),
    # allow
    ("allow entry not a mapping", [(["allow"], ["tinypod"])], "allow[0]", "tinypod"),
    ("unknown allow key", [(["allow", 0, "port"], ["tcp/22"])], "allow[0].port", "port"),
    ("missing from", [(["allow", 0, "from"], DELETE)], "allow[0].from", "None"),
    ("unknown name in to", [(["allow", 0, "to"], "tinypod-99")], "allow[0].to", "tinypod-99"),
    ("unknown name in a to list", [(["allow", 0, "to"], ["gateway", "gatewy"])], "allow[0].to[1]", "gatewy"),
    ("empty to list", [(["allow", 0, "to"], [])], "allow[0].to", "[]"),
    ("literal CIDR with host bits", [(["allow", 0, "to"], "10.0.0.1/8")], "allow[0].to", "10.0.0.1/8"),
    ("literal address invalid", [(["allow", 0, "to"], "10.0.0.300")], "allow[0].to", "10.0.0.300"),
    ("no workload on either side", [(["allow", 0, "from"], "gateway")], "allow[0]", "gateway -> internet"),
    ("named port", [(["allow", 0, "ports"], ["tcp/ssh"])], "allow[0].ports[0]", "tcp/ssh"),
    ("port without protocol", [(["allow", 0, "ports"], ["tcp/22", "22"])], "allow[0].ports[1]", "22"),
    ("port not a string", [(["allow", 0, "ports"], ["tcp/22", 22])], "allow[0].ports[1]", "22"),
    ("workload ip not a string", [(["workloads", "tinypod", "ips"], [3232255323])], "workloads.tinypod.ips[0]",
     "3232255323"),
    ("unknown protocol", [(["allow", 0, "ports"], ["icmp/8"])], "allow[0].ports[0]", "icmp/8"),
    ("port zero", [(["allow", 0, "ports"], ["tcp/0"])], "allow[0].ports[0]", "tcp/0"),
    ("port above 65535", [(["allow", 0, "ports"], ["udp/1-65536"])], "allow[0].ports[0]", "udp/1-65536"),
    ("range start after end", [(["allow", 0, "ports"], ["tcp/9000-8000"])], "allow[0].ports[0]", "tcp/9000-8000"),
    ("range wider than the expansion limit", [(["allow", 0, "ports"], ["tcp/22", "tcp/8000-8032"])],
     "allow[0].ports[1]", "tcp/8000-8032"),
    ("target_honours_end_port not a boolean", [(["target_honours_end_port"], "yes")], "target_honours_end_port",
     "yes"),
    ("ports not a list", [(["allow", 0, "ports"], "tcp/22")], "allow[0].ports", "tcp/22"),
    ("allow an empty mapping", [(["allow"], {})], "allow", "{}"),
    ("allow an empty string", [(["allow"], "")], "allow", "''"),
    ("allow false", [(["allow"], False)], "allow", "False"),
    ("allow null", [(["allow"], None)], "allow", "None"),
    ("full-width digits in a port", [(["allow", 0, "ports"], ["tcp/\uff12\uff12"])], "allow[0].ports[0]",
     "tcp/\uff12\uff12"),
    ("Arabic-Indic digits in a port range", [(["allow", 0, "ports"], ["tcp/\u0662\u0662-23"])],
     "allow[0].ports[0]", "tcp/\u0662\u0662-23"),
]


@pytest.mark.parametrize("changes, field, value", [case[1:] for case in ERRORS], ids=[case[0] for case in ERRORS])
def test_validation_error_names_field_and_value(changes, field, value):
    with pytest.raises(MultinetError) as caught:
        parse_intent(with_changes(*changes))

    message = str(caught.value)
    assert field + ":" in message
    assert value in message


def test_two_workloads_with_one_address_names_both():
    intent = with_changes((["workloads", "tinypod", "ips"], ["192.168.77.71"]))
    with pytest.raises(IntentError) as caught:
        parse_intent(intent)
    # The workload written first keeps the address; the error is on the second one.
    assert "workloads.gold-rabbit.ips: address is also workload 'tinypod'" in str(caught.value)


@pytest.mark.parametrize("name", ["w" * 63, "a"])
def test_workload_names_up_to_a_label_give_valid_policy_names(name):
    intent = with_changes((["name"], "i" * 63), (["workloads", name], {"selector": {"a": "b"}, "ips": ["10.0.0.9"]}),
                          (["allow", 0, "to"], name))
    model = parse_intent(intent)
    assert len(model.policy_name(name)) <= 253


def test_allow_absent_or_an_empty_list_allows_nothing():
    assert parse_intent(with_changes((["allow"], DELETE))).allow == ()
    assert parse_intent(with_changes((["allow"], []))).allow == ()


def test_intent_must_be_a_mapping():
    with pytest.raises(MultinetError, match=r"intent: must be a mapping \(got \['namespace'\]\)"):
        parse_intent(["namespace"])


def test_all_problems_are_reported_together():
    intent = with_changes(
        (["namespace"], "Bad_Ns"),
        (["workloads", "tinypod", "ips"], ["300.1.1.1"]),
        (["allow", 0, "ports"], ["tcp/http"]),
    )

    with pytest.raises(IntentError) as caught:
        parse_intent(intent)

    fields = [error.field for error in caught.value.errors]
    assert fields == ["namespace", "workloads.tinypod.ips[0]", "allow[0].ports[0]"]
    assert str(caught.value).startswith("intent has 3 problems:")
    assert all(str(error) in str(caught.value) for error in caught.value.errors)


def test_an_invalid_entry_is_reported_once_not_again_where_it_is_used():
    with pytest.raises(IntentError) as caught:
        parse_intent(with_changes((["endpoints", "gateway"], "192.168.77.1/24")))

    assert [error.field for error in caught.value.errors] == ["endpoints.gateway"]


def test_named_port_error_says_why():
    with pytest.raises(MultinetError, match="named ports are not supported"):
        parse_intent(with_changes((["allow", 0, "ports"], ["tcp/https"])))


def test_single_problem_keeps_field_and_value():
    with pytest.raises(IntentError) as caught:
        parse_intent(with_changes((["ipam"], "no")))

    assert (caught.value.field, caught.value.value) == ("ipam", "no")
    assert str(caught.value) == "ipam: must be a boolean (got 'no')"


def test_wide_range_is_refused_naming_the_limit_and_the_way_out():
    """OVN-K's MultiNetworkPolicy API has no endPort (vendored multi-networkpolicy types.go)."""
    with pytest.raises(IntentError) as caught:
        parse_intent(with_changes((["allow", 0, "ports"], ["tcp/8000-8080"])))
    message = str(caught.value)
    assert message.startswith("allow[0].ports[0]: range of 81 ports")
    assert "at most 32" in message and "target_honours_end_port: true" in message
    assert "'tcp/8000-8080'" in message


def test_range_up_to_the_limit_is_accepted_and_wide_ones_when_the_target_honours_end_port():
    assert parse_intent(with_changes((["allow", 0, "ports"], ["tcp/8000-8031"]))).allow[0].ports[0].end == 8031
    honoured = parse_intent(with_changes((["allow", 0, "ports"], ["tcp/8000-8080"]),
                                         (["target_honours_end_port"], True)))
    assert honoured.target_honours_end_port and honoured.allow[0].ports[0].end == 8080


# --- an intent file (the module's src) ------------------------------------------------------

def test_an_intent_file_in_json_or_yaml_reads_the_same():
    as_json = '{"namespace": "ns", "network": "net", "allow": [{"from": "a", "to": "b"}]}'
    as_yaml = "namespace: ns\nnetwork: net\nallow:\n  - {from: a, to: b}\n"
    assert load_intent_text(as_json, "i.json") == load_intent_text(as_yaml, "i.yaml") == {
        "namespace": "ns", "network": "net", "allow": [{"from": "a", "to": "b"}]}


@pytest.mark.parametrize("text, found", [("- namespace: ns\n", "list"), ("", "nothing"), ("42", "int")])
def test_an_intent_file_must_hold_one_mapping(text, found):
    with pytest.raises(MultinetError) as error:
        load_intent_text(text, "/srv/intent.yml")
    assert str(error.value).startswith("src: the file must hold one intent, a mapping; it holds " + found)
    assert "'/srv/intent.yml'" in str(error.value)


def test_an_intent_file_that_does_not_parse_names_the_file_and_line():
    with pytest.raises(MultinetError) as error:
        load_intent_text("namespace: ns\nallow: [\n  {from: a\n", "/srv/intent.yml")
    message = str(error.value)
    assert message.startswith("src: is neither JSON nor valid YAML: ") and "'/srv/intent.yml'" in message
    assert "at line 4" in message


# --- review of issues 25 and 26: hints and refusals that name the field -------------------------

def test_a_workload_address_with_the_subnets_prefix_is_never_hinted_at_the_subnet():
    with pytest.raises(IntentError) as raised:
        parse_intent({"namespace": "ledger", "network": "ledger-lan",
                      "workloads": {"db": {"vm": "ledger-db", "ips": ["10.57.3.30/24"]}},
                      "endpoints": {"gw": "10.57.3.1/24"}})

    message = str(raised.value)
    assert "10.57.3.0/24" not in message
    assert "for the one address write 10.57.3.30" in message and "for the one address write 10.57.3.1" in message


def test_a_port_of_thousands_of_digits_is_out_of_range_naming_the_field():
    with pytest.raises(IntentError) as raised:
        parse_intent({"namespace": "ledger", "network": "ledger-lan",
                      "workloads": {"db": {"vm": "ledger-db", "ips": ["10.57.3.30"]}},
                      "allow": [{"from": "db", "to": "10.57.3.1", "ports": ["tcp/" + "9" * 5000]}]})

    assert str(raised.value).startswith("allow[0].ports[0]: ports must be between 1 and 65535")


def test_an_intent_without_namespace_names_the_field():
    with pytest.raises(IntentError, match=r"^namespace: required, must be a non-empty string \(got None\)$"):
        parse_intent({"network": "ledger-lan"})


@pytest.mark.parametrize("vm", ["Bad_VM", "ledger_db", "-ledger"])
def test_a_vm_name_that_no_vm_can_have_is_refused(vm):
    with pytest.raises(IntentError) as raised:
        parse_intent({"namespace": "ledger", "network": "ledger-lan",
                      "workloads": {"db": {"vm": vm, "ips": ["10.57.3.30"]}}})

    assert str(raised.value).startswith("workloads.db.vm: ") and str(raised.value).endswith("(got {0!r})".format(vm))
