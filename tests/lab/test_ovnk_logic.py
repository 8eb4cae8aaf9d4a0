"""The OVN-Kubernetes emulation (lab/simulator/ovnk.py) against the seed's real ovn-nbctl output.

No API server and no OVN database: the seed's CNV stage is rebuilt from its manifests
(ovnk_seed.py) and the computed NB content is compared field by field with the seed's text
(tests/lab/fixtures/seed_ovn_nb.txt).
"""
import copy
import re
from datetime import datetime, timezone

import pytest

import ovnk_seed as seed
from simulator import ovnk, ovnk_log

SEED_NB = ovnk.desired_nb(seed.snapshot(), seed.NODE)
SEED_ACL_COLUMNS = ("action", "direction", "external_ids", "label", "log", "match", "meter", "name",
                    "options", "priority", "tier")


def all_acls(nb):
    return {key: acl for group in nb.port_groups.values() for key, acl in group["acls"].items()}


def test_names_follow_ovn_kubernetes():
    assert ovnk.hash_for_ovn("localnet.cnv_llm-demo_allow-ipblock-cnv-01") == "a2829001848871617131"
    assert ovnk.logical_port_name("llm-demo", "llm-demo-localnet-network", "llm-demo", "tinypod") == \
        "llm.demo.llm.demo.localnet.network_llm-demo_tinypod"
    assert ovnk.switch_name("localnet-cnv") == "localnet.cnv_ovn_localnet_switch"
    assert ovnk.localnet_port_name("localnet-cnv") == "localnet.cnv_ovn_localnet_port"


def test_switch_ports_are_the_seeds():
    switch = SEED_NB.switches["localnet.cnv_ovn_localnet_switch"]
    shown = {name: {k: (v if k == "type" else seed.ovsdb_value(v)) for k, v in port.items()}
             for name, port in seed.seed_switch_ports().items()}
    computed = {name: {"addresses": port["addresses"], **({"type": port["type"]} if port["type"] else {})}
                for name, port in switch["ports"].items()}
    assert computed == shown
    assert switch["ports"]["localnet.cnv_ovn_localnet_port"]["options"] == {"network_name": "localnet-cnv"}


def test_vm_launcher_port_is_the_seeds_but_for_iface_id_ver():
    expected = seed.seed_lsp()
    port = SEED_NB.switches["localnet.cnv_ovn_localnet_switch"]["ports"][expected["name"]]
    for column in ("addresses", "port_security", "external_ids", "tag_request", "type"):
        assert port[column] == expected[column], column
    options = dict(expected["options"])
    del options["iface-id-ver"]  # the pod UID; left out, see logical_switch_port()
    assert port["options"] == options


def test_policy_port_groups_are_the_seeds():
    groups = seed.seed_port_groups()
    assert len(groups) == 5
    for name, expected in groups.items():
        computed = SEED_NB.port_groups[name]
        assert computed["external_ids"] == expected["record"]["external_ids"]
        assert len(computed["acls"]) == len(expected["record"]["acls"])


def test_port_group_members_are_the_seeds():
    """The seed lists members by UUID: 1596d9ca is the gold-rabbit launcher's port (its LSP
    record); a679546803547591159 and a2829004047894873553 share one port (both select tinypod-01)."""
    groups = seed.seed_port_groups()
    launcher = seed.seed_lsp()
    assert groups["a2829001848871617131"]["record"]["ports"] == [launcher["_uuid"]]
    assert SEED_NB.port_groups["a2829001848871617131"]["ports"] == [launcher["name"]]
    tinypod_01 = "llm.demo.llm.demo.localnet.network_llm-demo_tinypod-01"
    assert groups["a679546803547591159"]["record"]["ports"] == groups["a2829004047894873553"]["record"]["ports"]
    assert SEED_NB.port_groups["a679546803547591159"]["ports"] == [tinypod_01]
    assert SEED_NB.port_groups["a2829004047894873553"]["ports"] == [tinypod_01]
    assert SEED_NB.port_groups["a1333591772177041409"]["ports"] == \
        ["llm.demo.llm.demo.localnet.network_llm-demo_tinypod"]


@pytest.mark.parametrize("expected", seed.seed_acls(), ids=lambda acl: acl["external_ids"]["k8s.ovn.org/id"])
def test_every_seed_acl_field(expected):
    computed = all_acls(SEED_NB)[expected["external_ids"]["k8s.ovn.org/id"]]
    for column in SEED_ACL_COLUMNS:
        assert computed[column] == expected[column], column
    assert computed["severity"] is None and expected["severity"] == []


def test_seed_acls_are_all_the_policy_acls():
    policy_acls = {k for k, a in all_acls(SEED_NB).items() if a["external_ids"][ovnk.OWNER_TYPE_KEY] == "NetworkPolicy"}
    assert policy_acls == {a["external_ids"]["k8s.ovn.org/id"] for a in seed.seed_acls()}


def test_default_deny_port_groups_isolate_the_listed_directions():
    ingress = SEED_NB.port_groups[ovnk.default_deny_port_group_name("localnet-cnv", "llm-demo", "ingressDefaultDeny")]
    egress = SEED_NB.port_groups[ovnk.default_deny_port_group_name("localnet-cnv", "llm-demo", "egressDefaultDeny")]
    everyone = sorted(p for p in SEED_NB.switches["localnet.cnv_ovn_localnet_switch"]["ports"] if "llm-demo_" in p)
    assert ingress["ports"] == everyone and egress["ports"] == everyone  # deny-by-default selects all
    acls = {(a["direction"], a["priority"], a["match"], a["action"], a["name"]) for a in egress["acls"].values()}
    name = ingress["external_ids"]["name"]
    assert name.endswith("_ingressDefaultDeny")
    assert acls == {("from-lport", 1000, f"inport == @{egress['external_ids']['name']}", "drop", "NP:llm-demo:Egress"),
                    ("from-lport", 1001, f"inport == @{egress['external_ids']['name']} && (arp || nd)", "allow",
                     "NP:llm-demo:Egress")}
    for acl in egress["acls"].values():
        assert acl["options"] == {"apply-after-lb": "true"}
        assert acl["external_ids"]["k8s.ovn.org/id"].startswith(
            "localnet-cnv-network-controller:NetpolNamespace:llm-demo:Egress:")


def test_ingress_only_deny_leaves_egress_open():
    ingress_only = copy.deepcopy(seed.load("multi-network-policy-deny-all.yaml"))
    ingress_only[0]["spec"]["policyTypes"] = ["Ingress"]
    nb = ovnk.desired_nb(ovnk.Snapshot([seed.nad()], seed.pods(), ingress_only, True), seed.NODE)
    ingress = nb.port_groups[ovnk.default_deny_port_group_name("localnet-cnv", "llm-demo", "ingressDefaultDeny")]
    egress = nb.port_groups[ovnk.default_deny_port_group_name("localnet-cnv", "llm-demo", "egressDefaultDeny")]
    assert len(ingress["ports"]) == 5 and egress["ports"] == []
    assert len(egress["acls"]) == 2  # both groups exist once a namespace has a policy


def test_rules_of_unlisted_directions_still_get_acls():
    """base_network_controller_policy.go: both ingress and egress rules regardless of policyTypes."""
    policy = {"metadata": {"name": "p", "namespace": "llm-demo",
                           "annotations": {ovnk.POLICY_FOR_ANNOTATION: "llm-demo-localnet-network"}},
              "spec": {"podSelector": {}, "policyTypes": ["Ingress"],
                       "egress": [{"to": [{"ipBlock": {"cidr": "192.168.77.1/32"}}]}]}}
    nb = ovnk.desired_nb(ovnk.Snapshot([seed.nad()], seed.pods(), [policy], True), seed.NODE)
    pg, _ = ovnk.policy_port_group_name("localnet-cnv", "llm-demo", "p")
    assert [a["match"] for a in nb.port_groups[pg]["acls"].values()] == [f"ip4.dst == 192.168.77.1/32 && inport == @{pg}"]


def test_ports_named_ports_and_empty_peers():
    """endPort does not exist in the MNP API; a named port matches the protocol; no peer = ip4."""
    policy = {"metadata": {"name": "p", "namespace": "llm-demo",
                           "annotations": {ovnk.POLICY_FOR_ANNOTATION: "llm-demo/llm-demo-localnet-network"}},
              "spec": {"podSelector": {"matchLabels": {"app": "tinypod"}}, "policyTypes": ["Ingress"],
                       "ingress": [{"ports": [{"protocol": "TCP", "port": 80, "endPort": 90},
                                              {"protocol": "TCP", "port": 443}, {"protocol": "UDP", "port": "dns"}]}]}}
    nb = ovnk.desired_nb(ovnk.Snapshot([seed.nad()], seed.pods(), [policy], True), seed.NODE)
    pg, _ = ovnk.policy_port_group_name("localnet-cnv", "llm-demo", "p")
    acls = {a["external_ids"]["port-policy-protocol"]: a for a in nb.port_groups[pg]["acls"].values()}
    assert acls["tcp"]["match"] == f"ip4 && tcp && tcp.dst=={{80,443}} && outport == @{pg}"
    assert acls["udp"]["match"] == f"ip4 && udp && outport == @{pg}"
    assert acls["tcp"]["external_ids"]["ip-block-index"] == "-1"


def test_selector_peers_on_an_ipam_less_network_are_refused_with_the_seeds_log():
    nb = ovnk.desired_nb(seed.snapshot(("allow-specific-pods.yaml",)), seed.NODE)
    assert nb.port_groups == {}
    [message] = nb.messages
    # the seed caught the retry of a delete; the first failure is logged as "Retry add failed"
    assert message.startswith("Retry add failed for *v1beta1.MultiNetworkPolicy llm-demo/allow-specific-pods, "
                              "will try again later: ")
    assert message.split("will try again later: ")[1] == seed.seed_log().split("will try again later: ")[1]
    [line] = ovnk_log.controller_lines(nb.messages, datetime.now(timezone.utc), 7659)  # the pod's log too
    assert re.fullmatch(r"\S+Z stderr F I\d{4} [\d:.]+    7659 obj_retry\.go:370\] (.*)\n", line).group(1) == message


def test_multi_network_policy_disabled_means_no_port_groups():
    nb = ovnk.desired_nb(seed.snapshot(multi_network_policy=False), seed.NODE)
    assert nb.port_groups == {} and nb.switches == SEED_NB.switches
    assert ovnk.multi_network_policy_enabled({"spec": {"useMultiNetworkPolicy": True}})
    assert not ovnk.multi_network_policy_enabled({"spec": {}})


def test_a_zone_holds_only_its_local_ports_but_every_port_group():
    nb = ovnk.desired_nb(seed.snapshot(), "worker-1")
    assert list(nb.switches["localnet.cnv_ovn_localnet_switch"]["ports"]) == ["localnet.cnv_ovn_localnet_port"]
    assert set(nb.port_groups) == set(SEED_NB.port_groups)
    assert all(group["ports"] == [] for group in nb.port_groups.values())


def test_policy_for_another_nad_does_not_apply():
    policy = copy.deepcopy(seed.load("multi-network-policy-deny-all.yaml")[0])
    policy["metadata"]["annotations"][ovnk.POLICY_FOR_ANNOTATION] = "other/llm-demo-localnet-network"
    nb = ovnk.desired_nb(ovnk.Snapshot([seed.nad()], seed.pods(), [policy], True), seed.NODE)
    assert nb.port_groups == {}


def test_nad_with_a_wrong_net_attach_def_name_is_rejected():
    nad = seed.nad()
    nad["spec"]["config"] = re.sub(r'"netAttachDefName": "[^"]*"', '"netAttachDefName": "llm-demo/other"',
                                   nad["spec"]["config"])
    nb = ovnk.desired_nb(ovnk.Snapshot([nad], seed.pods(), [], True), seed.NODE)
    assert nb.switches == {}
    assert nb.messages == ["net-attach-def llm-demo/llm-demo-localnet-network is first seen and is invalid: net-attach-def "
                           "name (llm-demo/llm-demo-localnet-network) is inconsistent with config (llm-demo/other)"]


def test_second_nad_of_a_network_with_another_config_is_refused():
    other = seed.nad()
    other["metadata"]["namespace"] = "other"
    other["spec"]["config"] = other["spec"]["config"].replace("llm-demo/", "other/").replace('"_vlanID"', '"vlanID"')
    networks, messages = ovnk.localnet_networks([seed.nad(), other])
    assert networks["localnet-cnv"].nads == {"llm-demo/llm-demo-localnet-network"}
    assert messages == ["Failed to add net-attach-def other/llm-demo-localnet-network to network localnet-cnv: NAD "
                        "other/llm-demo-localnet-network does not share the same CNI config with network localnet-cnv"]
    same = seed.nad()
    same["metadata"]["namespace"] = "other"
    same["spec"]["config"] = same["spec"]["config"].replace("llm-demo/", "other/")
    networks, messages = ovnk.localnet_networks([seed.nad(), same])
    assert networks["localnet-cnv"].nads == {"llm-demo/llm-demo-localnet-network", "other/llm-demo-localnet-network"}
    assert messages == []


def test_a_port_without_protocol_is_reported_not_applied():
    policy = copy.deepcopy(seed.load("multi-network-policy-deny-all.yaml")[0])
    policy["spec"]["ingress"] = [{"ports": [{"port": 80}]}]
    nb = ovnk.desired_nb(ovnk.Snapshot([seed.nad()], seed.pods(), [policy], True), seed.NODE)
    assert nb.port_groups == {}
    assert "port without protocol" in nb.messages[0]


def test_vlan_and_subnet_reach_the_switch_and_localnet_port():
    nad = seed.nad()
    nad["spec"]["config"] = nad["spec"]["config"].replace('"_vlanID"', '"vlanID"').replace('"_subnets"', '"subnets"')
    switch = ovnk.desired_nb(ovnk.Snapshot([nad], [], [], True), seed.NODE).switches["localnet.cnv_ovn_localnet_switch"]
    assert switch["other_config"] == {"subnet": "192.168.99.0/24"}
    assert switch["ports"]["localnet.cnv_ovn_localnet_port"]["tag_request"] == [33]


def test_ipv6_blocks_and_several_excepts():
    policy = {"metadata": {"name": "p", "namespace": "llm-demo",
                           "annotations": {ovnk.POLICY_FOR_ANNOTATION: "llm-demo-localnet-network"}},
              "spec": {"podSelector": {}, "policyTypes": ["Ingress"],
                       "ingress": [{"from": [{"ipBlock": {"cidr": "fd00::/64", "except": ["fd00::1/128", "fd00::2/128"]}},
                                             {"ipBlock": {"cidr": "10.0.0.0/8"}}]}]}}
    nb = ovnk.desired_nb(ovnk.Snapshot([seed.nad()], seed.pods(), [policy], True), seed.NODE)
    pg, _ = ovnk.policy_port_group_name("localnet-cnv", "llm-demo", "p")
    acls = {a["external_ids"]["ip-block-index"]: a["match"] for a in nb.port_groups[pg]["acls"].values()}
    assert acls == {"0": f"ip6.src == fd00::/64 && ip6.src != {{fd00::1/128, fd00::2/128}} && outport == @{pg}",
                    "1": f"ip4.src == 10.0.0.0/8 && outport == @{pg}"}


def test_selector_refusal_comes_before_the_missing_protocol():
    """convertMultiNetPolicyToNetPolicy runs (and refuses) before any port is looked at."""
    policy = copy.deepcopy(seed.load("multi-network-policy-deny-all.yaml")[0])
    policy["spec"]["ingress"] = [{"ports": [{"port": 80}]}]
    policy["spec"]["egress"] = [{"to": [{"namespaceSelector": {"matchExpressions": [
        {"key": "team", "operator": "In", "values": ["a", "b"]}]}}]}]
    [message] = ovnk.desired_nb(ovnk.Snapshot([seed.nad()], seed.pods(), [policy], True), seed.NODE).messages
    assert message.endswith(
        "invalid egress peer {nil &LabelSelector{MatchLabels:map[string]string{},MatchExpressions:"
        "[]LabelSelectorRequirement{LabelSelectorRequirement{Key:team,Operator:In,Values:[a b],},},} <nil>} "
        "in multi-network policy deny-by-default; IPAM-less networks can only have `ipBlock` peers")
