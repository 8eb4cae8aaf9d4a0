import pytest

from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.errors import MultinetError
from ansible_collections.ocpvirt.multinet.plugins.module_utils.ovn import policy_map

from ovn_fixtures import NAD, cluster, log_lines, nodes

GOLD = "centos-stream9-gold-rabbit-80"
FERRET = "centos-stream9-green-ferret-41"


def inspect(data=None, zones=None, multi_network_policy=True, logs=None):
    data = data or cluster()
    network = policy_map.network_of(NAD, data["nads"])
    return policy_map.inspect_network(network, zones or nodes(), data["policies"], data["pods"],
                                      multi_network_policy, log_lines() if logs is None else logs)


def by_name(view):
    return {policy["name"]: policy for policy in view["policies"]}


def rule_acls(policy):
    """(rule, direction, match) of the policy's own ACLs (not the namespace's default deny)."""
    return sorted((acl["rule"], acl["direction"], acl["match"]) for acl in policy["acls"] if acl["rule_spec"])


def test_network_of_the_seed_nad():
    network = policy_map.network_of(NAD, cluster()["nads"])
    assert network == {"name": "localnet-cnv", "physical": "localnet-cnv", "ipam": False, "nad": NAD,
                       "nads": [NAD]}


def test_network_of_unknown_nad_names_it():
    with pytest.raises(MultinetError, match="llm-demo/nope"):
        policy_map.network_of("llm-demo/nope", cluster()["nads"])


def test_only_this_networks_policies_and_ports():
    view = inspect()
    assert sorted(by_name(view)) == ["allow-ipblock", "allow-ipblock-01", "allow-ipblock-cnv-01",
                                     "allow-ipblock-cnv-02", "allow-ipblock-cnv-03", "allow-specific-pods",
                                     "deny-by-default", "selects-nothing"]  # not allow-lab (localnet-lab)
    assert [port["pod"] for port in view["ports"]] == [
        "tinypod", "tinypod-01", "tinypod-02", "virt-launcher-" + GOLD + "-vjfdm", "virt-launcher-" + FERRET + "-ksmzt"]
    assert view["switches"] == {"worker-0": "localnet.cnv_ovn_localnet_switch",
                                "worker-1": "localnet.cnv_ovn_localnet_switch"}
    assert view["address_sets"] == []  # no address sets on an IPAM-less network, the default network's are not ours


def test_seed_cnv_01_acls_next_to_their_rules():
    """The five ACLs of seed lines 1408-1420, each with the ipBlock it came from."""
    policy = by_name(inspect())["allow-ipblock-cnv-01"]
    assert policy["port_groups"] == ["a2829001848871617131"]
    assert rule_acls(policy) == [
        ("spec.egress[0].to[0]", "Egress",
         "ip4.dst == 0.0.0.0/0 && ip4.dst != {192.168.77.0/24} && inport == @a2829001848871617131"),
        ("spec.egress[0].to[1]", "Egress", "ip4.dst == 192.168.77.1/32 && inport == @a2829001848871617131"),
        ("spec.egress[0].to[2]", "Egress", "ip4.dst == 192.168.77.92/32 && inport == @a2829001848871617131"),
        ("spec.ingress[0].from[0]", "Ingress", "ip4.src == 192.168.77.1/32 && outport == @a2829001848871617131"),
        ("spec.ingress[0].from[1]", "Ingress", "ip4.src == 192.168.77.92/32 && outport == @a2829001848871617131"),
    ]
    first = next(acl for acl in policy["acls"] if acl["rule"] == "spec.egress[0].to[0]")
    assert (first["ovn_direction"], first["priority"], first["action"]) == ("from-lport", 1001, "allow-related")
    assert first["ip_block"] == {"cidr": "0.0.0.0/0", "except": ["192.168.77.0/24"]}
    assert first["nodes"] == ["worker-0", "worker-1"]  # one zone per node, each holds the ACLs
    assert [(p["vm"], p["node"]) for p in policy["ports"]] == [(GOLD, "worker-1")]
    assert policy["findings"] == []


def test_every_seed_policy_maps_to_its_workload():
    policies = by_name(inspect())
    assert [p["pod"] for p in policies["allow-ipblock"]["ports"]] == ["tinypod"]
    assert [p["pod"] for p in policies["allow-ipblock-01"]["ports"]] == ["tinypod-01"]
    assert [p["pod"] for p in policies["allow-ipblock-cnv-03"]["ports"]] == ["tinypod-01"]
    assert [p["vm"] for p in policies["allow-ipblock-cnv-02"]["ports"]] == [FERRET]
    assert len(policies["deny-by-default"]["ports"]) == 5
    assert rule_acls(policies["allow-ipblock-cnv-02"]) == [
        ("spec.egress[0].to[0]", "Egress", "ip4.dst == 192.168.77.1/32 && inport == @a2829002948383245342"),
        ("spec.ingress[0].from[0]", "Ingress", "ip4.src == 192.168.77.1/32 && outport == @a2829002948383245342")]


def test_deny_all_shows_the_namespace_default_deny_acls():
    policy = by_name(inspect())["deny-by-default"]
    assert rule_acls(policy) == []  # no rules, so no ACLs of its own
    assert sorted((acl["direction"], acl["priority"], acl["action"]) for acl in policy["acls"]) == [
        ("Egress", 1000, "drop"), ("Egress", 1001, "allow"), ("Ingress", 1000, "drop"), ("Ingress", 1001, "allow")]
    only_ingress = by_name(inspect())["allow-ipblock-cnv-03"]
    assert {acl["direction"] for acl in only_ingress["acls"]} == {"Ingress"}


def test_refused_selector_policy_says_why_with_the_log_line():
    finding, = by_name(inspect())["allow-specific-pods"]["findings"]
    assert "spec.ingress[0].from[0] is a podSelector/namespaceSelector peer" in finding
    assert "IPAM-less" in finding
    assert "obj_retry.go:370] Retry add failed for *v1beta1.MultiNetworkPolicy llm-demo/allow-specific-pods" in finding
    without_logs = by_name(inspect(logs=[]))["allow-specific-pods"]["findings"][0]
    assert "ovnkube-controller logged" not in without_logs


def test_policy_selecting_nothing():
    finding, = by_name(inspect())["selects-nothing"]["findings"]
    assert finding.startswith("selects nothing on localnet-cnv: port group a3283957653187681046 has no ports")


def test_acl_cidr_differs_from_the_policy():
    data = cluster()
    policy = next(p for p in data["policies"] if p["metadata"]["name"] == "allow-ipblock")
    policy["spec"]["ingress"][0]["from"][0]["ipBlock"]["cidr"] = "192.168.77.93/32"  # NB still has .92
    policy["spec"]["ingress"][0]["from"].append({"ipBlock": {"cidr": "192.168.77.94/32"}})
    assert by_name(inspect(data))["allow-ipblock"]["findings"] == [
        "ACL NP:llm-demo:allow-ipblock:Ingress:0 matches 192.168.77.92/32, but spec.ingress[0].from[0] says "
        "ipBlock 192.168.77.93/32",
        "spec.ingress[0].from[1] (ipBlock 192.168.77.94/32) has no ACL"]


def test_acl_except_differs_from_the_policy():
    data = cluster()
    policy = next(p for p in data["policies"] if p["metadata"]["name"] == "allow-ipblock-cnv-01")
    policy["spec"]["egress"][0]["to"][0]["ipBlock"]["except"] = ["192.168.0.0/16"]
    finding, = by_name(inspect(data))["allow-ipblock-cnv-01"]["findings"]
    assert "matches 0.0.0.0/0 except 192.168.77.0/24" in finding
    assert "says ipBlock 0.0.0.0/0 except 192.168.0.0/16" in finding


def test_pod_in_no_port_group_under_a_deny_all():
    zones = nodes()
    for group in zones["worker-0"]["nb"]["Port_Group"]:
        group["ports"] = [u for u in group["ports"] if u not in _port_uuids(zones["worker-0"]["nb"], "_tinypod-02")]
    finding, = [f for f in inspect(zones=zones)["findings"] if "in no port group" in f]
    assert finding.startswith("pod llm-demo/tinypod-02 (port llm.demo.llm.demo.localnet.network_llm-demo_tinypod-02 "
                              "on worker-0) is in no port group although llm-demo/deny-by-default denies all")


def _port_uuids(nb, suffix):
    return {row["_uuid"] for row in nb["Logical_Switch_Port"] if row["name"].endswith(suffix)}


def test_node_without_the_bridge_mapping():
    assert inspect()["findings"] == [
        "node worker-1: ovn-bridge-mappings (physnet:br-ex) has no entry for localnet-cnv, so the network's "
        "localnet port is not connected to a bridge there"]


def test_node_without_the_switch_and_unknown_mappings():
    zones = nodes()
    zones["worker-1"]["nb"]["Logical_Switch"] = []
    zones["worker-1"]["bridge_mappings"] = None  # not read: no finding about it
    assert inspect(zones=zones)["findings"] == [
        "node worker-1: no logical switch of network localnet-cnv in its NB (k8s.ovn.org/network=localnet-cnv, "
        "topology localnet)"]


def test_multi_network_policy_off():
    view = inspect(multi_network_policy=False)
    assert view["findings"][0].startswith("useMultiNetworkPolicy is off")
    assert "useMultiNetworkPolicy is off" in by_name(view)["allow-specific-pods"]["findings"][0]
    assert not [f for f in view["findings"] if "in no port group" in f]


def test_physical_network_name_is_what_the_mapping_needs():
    data = cluster()
    nad, = [n for n in data["nads"] if n["metadata"]["name"] == NAD.split("/")[1]]
    nad["spec"]["config"] = nad["spec"]["config"].replace(
        '"name": "localnet-cnv"', '"name": "localnet-cnv", "physicalNetworkName": "physnet"')
    assert inspect(data)["findings"] == []


def test_acl_origin_of_foreign_acl():
    assert policy_map.acl_origin({"external_ids": {}}) is None
