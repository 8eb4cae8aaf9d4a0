"""convergence.zone_pending: what a zone's NB still lacks against the live policies, per policy and
zone; sync_stage: which of ovn-northd and ovn-controller is behind.

The scenario shares nothing with the seed: namespace `orchard`, network `orchard-net`, pods on
10.44.0.0/24. Its NB rows are written as OVN-Kubernetes writes them (policy_map's docstring cites
the code); the seed's real NB (fixtures from a lab's databases) is checked too: converged against
its own policies.
"""
import copy

import pytest

from ansible_collections.ocpvirt.multinet.plugins.module_utils.ovn import convergence, policy_map

from ovn_fixtures import NAD as SEED_NAD, cluster, nodes, to_418

NAMESPACE, NAD_NAME, NET = "orchard", "orchard-nad", "orchard-net"
NETWORK = {"name": NET, "physical": NET, "ipam": False, "nad": f"{NAMESPACE}/{NAD_NAME}",
           "nads": [f"{NAMESPACE}/{NAD_NAME}"]}
PODS = {"pear": ("10.44.0.11", "worker-0"), "plum": ("10.44.0.12", "worker-0"), "fig": ("10.44.0.13", "worker-1")}
CONTROLLER = NET + "-network-controller"


def pod(name):
    return {"metadata": {"namespace": NAMESPACE, "name": name, "labels": {"app": name}}}


def policy(name="orchard-allow-pear", selector=None, ingress=None):
    return {"metadata": {"namespace": NAMESPACE, "name": name,
                         "annotations": {"k8s.v1.cni.cncf.io/policy-for": f"{NAMESPACE}/{NAD_NAME}"}},
            "spec": {"podSelector": {"matchLabels": {"app": "plum"}} if selector is None else selector,
                     "policyTypes": ["Ingress"],
                     "ingress": ingress if ingress is not None else [
                         {"from": [{"ipBlock": {"cidr": "10.44.0.11/32"}}],
                          "ports": [{"protocol": "TCP", "port": 8443}, {"protocol": "TCP", "port": 8444}]}]}}


def port_name(name):
    return f"{NAMESPACE}.{NAD_NAME}_{NAMESPACE}_{name}"


def acl(uuid, name, index, protocol, block, match):
    return {"_uuid": uuid, "name": f"NP:{NAMESPACE}:{name}:Ingress:{index}", "direction": "to-lport",
            "priority": 1001, "action": "allow-related", "match": match,
            "external_ids": {policy_map.ID_KEY: f"{CONTROLLER}:NetworkPolicy:{NAMESPACE}:{name}:Ingress:{index}:"
                                                f"{protocol}:{block}"}}


def zone(node, members=("plum",), match="ip4.src == 10.44.0.11/32 && tcp && tcp.dst=={8443,8444}", groups=None):
    """The NB of `node` as OVN-K writes it for policy(): the switch with the node's pods, the policy's
    port group with `members` (those on this node) and its ACL."""
    local = [name for name, (_address, where) in PODS.items() if where == node]
    lsps = [{"_uuid": f"lsp-{name}", "name": port_name(name), "type": "", "addresses": [],
             "external_ids": {"namespace": NAMESPACE}} for name in local]
    acls = [acl("acl-1", "orchard-allow-pear", 0, "tcp", 0, f"{match} && outport == @a1")]
    group = {"_uuid": "pg-1", "name": "a1", "ports": [f"lsp-{m}" for m in members if m in local],
             "acls": ["acl-1"], "external_ids": {"name": f"{NAMESPACE}_orchard-allow-pear",
                                                 policy_map.NETWORK_KEY: NET}}
    return {"Logical_Switch": [{"_uuid": "ls-1", "name": "orchard.net_ovn_localnet_switch",
                                "ports": [row["_uuid"] for row in lsps], "acls": [],
                                "external_ids": {policy_map.NETWORK_KEY: NET, policy_map.TOPOLOGY_KEY: "localnet"}}],
            "Logical_Switch_Port": lsps, "ACL": acls, "Address_Set": [],
            "Port_Group": [group] + list(groups or [])}


def pending(nb, policies=None, node="worker-0"):
    return convergence.zone_pending(NETWORK, node, nb, [policy()] if policies is None else policies,
                                    [pod(name) for name in PODS])


def test_a_zone_as_ovnkube_writes_it_is_converged_on_both_nodes():
    assert pending(zone("worker-0")) == []
    assert pending(zone("worker-1"), node="worker-1") == []  # plum is not there: an empty port group


def test_a_policy_without_port_group_is_named_with_its_zone():
    nb = zone("worker-0")
    nb["Port_Group"] = []
    assert pending(nb) == ["policy orchard/orchard-allow-pear: zone worker-0: no port group yet"]


def test_an_acl_with_the_old_cidr_is_pending():
    found = pending(zone("worker-0", match="ip4.src == 10.44.0.13/32 && tcp && tcp.dst=={8443,8444}"))
    assert len(found) == 1 and "zone worker-0" in found[0] and "10.44.0.13/32" in found[0] \
        and "10.44.0.11/32" in found[0], found


def test_an_acl_with_the_old_ports_is_pending():
    found = pending(zone("worker-0", match="ip4.src == 10.44.0.11/32 && tcp && tcp.dst==8443"))
    assert found == ["policy orchard/orchard-allow-pear: zone worker-0: ACL NP:orchard:orchard-allow-pear:Ingress:0 "
                     "(ip4.src == 10.44.0.11/32 && tcp && tcp.dst==8443 && outport == @a1) does not match "
                     "spec.ingress[0]'s tcp ports 8443,8444"]


def test_a_rule_whose_protocol_changed_is_pending_until_its_acl_follows():
    udp = policy(ingress=[{"from": [{"ipBlock": {"cidr": "10.44.0.11/32"}}],
                           "ports": [{"protocol": "UDP", "port": 8443}]}])
    found = pending(zone("worker-0"), [udp])
    assert any("is for tcp, but spec.ingress[0] opens udp" in line for line in found), found
    assert any("spec.ingress[0] has no ACL for udp" in line for line in found), found
    assert pending(zone("worker-0", match="ip4.src == 10.44.0.11/32 && udp && udp.dst==8443"), [udp]) != []
    converged = zone("worker-0", match="ip4.src == 10.44.0.11/32 && udp && udp.dst==8443")
    converged["ACL"][0]["external_ids"][policy_map.ID_KEY] = converged["ACL"][0]["external_ids"][
        policy_map.ID_KEY].replace(":tcp:", ":udp:")
    assert pending(converged, [udp]) == []


def test_a_rule_without_ports_needs_an_acl_for_all_traffic():
    everything = policy(ingress=[{"from": [{"ipBlock": {"cidr": "10.44.0.11/32"}}]}])
    assert any("has no ACL for all traffic" in line for line in pending(zone("worker-0"), [everything]))
    nb = zone("worker-0", match="ip4.src == 10.44.0.11/32")
    nb["ACL"][0]["external_ids"][policy_map.ID_KEY] = nb["ACL"][0]["external_ids"][policy_map.ID_KEY].replace(
        ":tcp:", ":None:")
    assert pending(nb, [everything]) == []


def test_a_member_missing_or_left_over_is_named():
    assert pending(zone("worker-0", members=())) == [
        f"policy orchard/orchard-allow-pear: zone worker-0: port group a1 lacks {port_name('plum')}"]
    assert pending(zone("worker-0", members=("plum", "pear"))) == [
        f"policy orchard/orchard-allow-pear: zone worker-0: port group a1 still holds {port_name('pear')}"]


def test_a_deleted_policys_port_group_is_pending_but_a_default_deny_group_is_not():
    stale = {"_uuid": "pg-2", "name": "a2", "ports": [], "acls": [],
             "external_ids": {"name": f"{NAMESPACE}_orchard-old", policy_map.NETWORK_KEY: NET}}
    deny = {"_uuid": "pg-3", "name": "a3_ingressDefaultDeny", "ports": [], "acls": [],
            "external_ids": {"name": "a3_ingressDefaultDeny", policy_map.NETWORK_KEY: NET}}
    assert pending(zone("worker-0", groups=[stale, deny])) == [
        "policy orchard/orchard-old (no longer in the cluster): zone worker-0: port group a2 still there"]


def test_a_policy_ovnkube_refuses_is_not_waited_for_but_its_old_port_group_is():
    refused = policy(ingress=[{"from": [{"podSelector": {"matchLabels": {"app": "pear"}}}]}])
    nb = zone("worker-0")
    assert pending(nb, [refused]) == ["policy orchard/orchard-allow-pear (refused: selector peer "
                                      "spec.ingress[0].from[0]): zone worker-0: its old port group a1 is still there"]
    nb["Port_Group"] = []
    assert pending(nb, [refused]) == []


def test_policies_of_another_network_are_not_waited_for():
    other = policy(name="elsewhere")
    other["metadata"]["annotations"]["k8s.v1.cni.cncf.io/policy-for"] = "orchard/another-nad"
    assert pending(zone("worker-0"), [policy(), other]) == []


def test_the_seeds_real_nb_is_converged_against_its_own_policies():
    data = cluster()
    network = policy_map.network_of(SEED_NAD, data["nads"])
    for node, zone_data in nodes().items():
        assert convergence.zone_pending(network, node, zone_data["nb"], data["policies"], data["pods"]) == []


def test_the_seeds_real_nb_is_pending_when_a_policy_changed():
    data = cluster()
    network = policy_map.network_of(SEED_NAD, data["nads"])
    changed = copy.deepcopy(data["policies"])
    target = next(p for p in changed if (p["spec"].get("ingress") or [{}])[0].get("from"))
    data_cidr = target["spec"]["ingress"][0]["from"][0]["ipBlock"]["cidr"]
    target["spec"]["ingress"][0]["from"][0]["ipBlock"]["cidr"] = "10.99.0.0/24"
    found = convergence.zone_pending(network, "worker-0", nodes()["worker-0"]["nb"], changed, data["pods"])
    assert found == ["policy {0}/{1}: zone worker-0: ACL NP:{0}:{1}:Ingress:0 matches {2}, but "
                     "spec.ingress[0].from[0] says ipBlock 10.99.0.0/24".format(
                         target["metadata"]["namespace"], target["metadata"]["name"],
                         data_cidr)], found


def test_the_seeds_nb_in_418_naming_is_converged_and_a_deleted_policy_still_pending():
    data = cluster()
    network = policy_map.network_of(SEED_NAD, data["nads"])
    for node, zone_data in nodes().items():
        nb = to_418(zone_data["nb"])
        assert convergence.zone_pending(network, node, nb, data["policies"], data["pods"]) == []
    gone = next(p for p in data["policies"] if (p["spec"].get("ingress") or [{}])[0].get("from"))
    rest = [p for p in data["policies"] if p is not gone]
    found = convergence.zone_pending(network, "worker-0", to_418(nodes()["worker-0"]["nb"]), rest, data["pods"])
    assert len(found) == 1 and found[0].startswith("policy {0}/{1} (no longer in the cluster): zone worker-0".format(
        gone["metadata"]["namespace"], gone["metadata"]["name"])), found


@pytest.mark.parametrize("cfg, stage", [((5, 4, 4), "ovn-northd"), ((5, 5, 4), "ovn-controller"), ((5, 5, 5), None),
                                        ((5, 6, 6), None)])
def test_sync_stage_names_the_stage_behind(cfg, stage):
    found = convergence.sync_stage(*cfg)
    assert (found is None) if stage is None else found.startswith(stage)
