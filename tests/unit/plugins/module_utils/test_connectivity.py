"""The connectivity simulator against the seed lab's observations and OVN-K's MNP semantics."""
import json
import os

import pytest
import yaml

from ansible_collections.ocpvirt.multinet.plugins.module_utils.simulate.connectivity import simulate
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.errors import MultinetError

SEED = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "seed_policies")
NETWORK = "llm-demo/llm-demo-localnet-network"
NETWORKS_ANNOTATION = "k8s.v1.cni.cncf.io/networks"


def load(name):
    with open(os.path.join(SEED, name)) as handle:
        return [doc for doc in yaml.safe_load_all(handle) if doc]


def pod_endpoint(pod):
    """An endpoint from a seed pod: its secondary IP comes from the networks annotation."""
    attachment = json.loads(pod["metadata"]["annotations"][NETWORKS_ANNOTATION])[0]
    return {
        "name": pod["metadata"]["name"],
        "ip": attachment["ips"][0],
        "namespace": pod["metadata"]["namespace"],
        "labels": pod["metadata"]["labels"],
    }


def vm_endpoint(name, vm, ip):
    return {"name": name, "ip": ip, "namespace": "llm-demo", "labels": {"vm.kubevirt.io/name": vm}}


# The seed's addresses: three pods (.91-.93), two VMs (.71 gold-rabbit, .72 green-ferret: the one
# whose policy allows only the gateway), the gateway, the outside test VM and the internet.
SEED_ENDPOINTS = [pod_endpoint(p) for p in load("pod.yaml")] + [
    vm_endpoint("gold-rabbit", "centos-stream9-gold-rabbit-80", "192.168.77.71"),
    vm_endpoint("green-ferret", "centos-stream9-green-ferret-41", "192.168.77.72"),
    {"name": "gateway", "ip": "192.168.77.1"},
    {"name": "test-vm", "ip": "192.168.77.10"},
    {"name": "internet", "ip": "8.8.8.8"},
]
BY_IP = {ipaddr.split("/")[0]: ep["name"] for ep in SEED_ENDPOINTS for ipaddr in [ep["ip"]]}

DENY_ALL = load("multi-network-policy-deny-all.yaml")
ALLOW_SOME = load("multi-network-policy-allow-some.yaml")
ALLOW_SOME_CNV = load("multi-network-policy-allow-some-cnv.yaml")


def ingress_only(policies):
    """The seed's variant 'if we do not set egress rule for default-deny-all' (seed line 602)."""
    changed = json.loads(json.dumps(policies))
    for policy in changed:
        policy["spec"]["policyTypes"] = [t for t in policy["spec"]["policyTypes"] if t != "Egress"]
    return changed


STAGES = {
    "no policy": [],
    "deny-all": DENY_ALL,
    "deny-all + allow-some": DENY_ALL + ALLOW_SOME,
    "deny-all ingress-only + allow-some": ingress_only(DENY_ALL) + ALLOW_SOME,
    "deny-all + allow-some + cnv": DENY_ALL + ALLOW_SOME + ALLOW_SOME_CNV,
}

# Every ping on the secondary network the seed reports: (stage, from IP, to IP, got replies, seed line).
# Pods' pings to 8.8.8.8 are left out: pods route the internet over their primary network.
SEED_PINGS = [
    ("no policy", "192.168.77.91", "192.168.77.92", True, 250),
    ("no policy", "192.168.77.91", "192.168.77.10", True, 257),
    ("deny-all", "192.168.77.91", "192.168.77.92", False, 452),
    ("deny-all", "192.168.77.91", "192.168.77.10", False, 460),
    ("deny-all", "192.168.77.92", "192.168.77.91", False, 488),
    ("deny-all + allow-some", "192.168.77.91", "192.168.77.92", False, 589),
    ("deny-all + allow-some", "192.168.77.91", "192.168.77.93", False, 595),
    ("deny-all ingress-only + allow-some", "192.168.77.91", "192.168.77.10", True, 603),
    ("deny-all + allow-some", "192.168.77.91", "192.168.77.10", False, 610),
    ("deny-all + allow-some", "192.168.77.92", "192.168.77.91", True, 639),
    ("deny-all + allow-some", "192.168.77.92", "192.168.77.93", False, 645),
    ("deny-all + allow-some", "192.168.77.92", "192.168.77.10", False, 652),
    ("deny-all + allow-some", "192.168.77.93", "192.168.77.91", False, 666),
    ("deny-all + allow-some", "192.168.77.93", "192.168.77.92", False, 672),
    ("deny-all + allow-some", "192.168.77.93", "192.168.77.10", False, 678),
    ("deny-all + allow-some + cnv", "192.168.77.10", "192.168.77.71", False, 876),
    ("deny-all + allow-some + cnv", "192.168.77.71", "192.168.77.1", True, 883),
    ("deny-all + allow-some + cnv", "192.168.77.71", "192.168.77.92", True, 889),
    ("deny-all + allow-some + cnv", "192.168.77.71", "8.8.8.8", True, 895),
    ("deny-all + allow-some + cnv", "192.168.77.71", "192.168.77.10", False, 902),
    ("deny-all + allow-some + cnv", "192.168.77.71", "192.168.77.93", False, 908),
    ("deny-all + allow-some + cnv", "192.168.77.92", "192.168.77.71", False, 915),
    ("deny-all + allow-some + cnv", "192.168.77.72", "192.168.77.1", True, 922),
    ("deny-all + allow-some + cnv", "192.168.77.72", "192.168.77.71", False, 927),
]


def matrix(policies, endpoints=None, **kwargs):
    rows = simulate(policies, NETWORK, SEED_ENDPOINTS if endpoints is None else endpoints, **kwargs)
    return {(row["from"], row["to"]): row for row in rows}


@pytest.mark.parametrize("stage, src, dst, replied, line", SEED_PINGS,
                         ids=["line{0}-{1}-{2}".format(p[4], p[1], p[2]) for p in SEED_PINGS])
def test_reproduces_every_seed_ping(stage, src, dst, replied, line):
    row = matrix(STAGES[stage])[(BY_IP[src], BY_IP[dst])]
    assert row["allowed"] is replied, row["reason"]


def test_seed_allow_some_opens_exactly_tinypod01_to_tinypod():
    rows = matrix(DENY_ALL + ALLOW_SOME)
    assert sorted(pair for pair, row in rows.items() if row["allowed"]) == [("tinypod-01", "tinypod")]


def test_seed_vm_is_cut_off_before_its_own_policies():
    """'In the beginning, the vm can not ping to any ip, and can not be ping from any ip.'"""
    rows = matrix(DENY_ALL + ALLOW_SOME)
    assert not any(row["allowed"] for pair, row in rows.items() if "gold-rabbit" in pair)


def test_seed_cnv_nobody_but_the_gateway_reaches_gold_rabbit():
    rows = matrix(DENY_ALL + ALLOW_SOME + ALLOW_SOME_CNV)
    assert sorted(src for (src, dst), row in rows.items() if dst == "gold-rabbit" and row["allowed"]) == ["gateway"]


def test_reason_names_isolating_policy_and_missing_rule():
    row = matrix(DENY_ALL + ALLOW_SOME)[("tinypod", "test-vm")]
    assert row["reason"] == (
        "egress denied: tinypod is isolated for egress by llm-demo/deny-by-default "
        "and no egress rule allows test-vm (192.168.77.10)"
    )


def test_reason_names_the_rules_that_allowed_both_ends():
    row = matrix(DENY_ALL + ALLOW_SOME)[("tinypod-01", "tinypod")]
    assert row["reason"] == "allowed: egress llm-demo/allow-ipblock-01 egress[0]; ingress llm-demo/allow-ipblock ingress[0]"


def test_reason_for_unisolated_and_outside_ends():
    row = matrix(ingress_only(DENY_ALL) + ALLOW_SOME)[("tinypod", "test-vm")]
    assert row["reason"] == "allowed: egress: tinypod not isolated; ingress: test-vm is an outside host"


def test_both_denials_are_reported():
    reason = matrix(DENY_ALL)[("tinypod", "tinypod-01")]["reason"]
    assert "egress denied: tinypod" in reason and "ingress denied: tinypod-01" in reason


def test_egress_alone_does_not_open_an_isolated_destination():
    """allow-ipblock-cnv-01 lets the VM out to .92 only because cnv-03 also lets .71 in."""
    without_cnv03 = [p for p in DENY_ALL + ALLOW_SOME + ALLOW_SOME_CNV if p["metadata"]["name"] != "allow-ipblock-cnv-03"]
    row = matrix(without_cnv03)[("gold-rabbit", "tinypod-01")]
    assert row["allowed"] is False
    assert row["reason"].startswith("ingress denied: tinypod-01 is isolated for ingress")


def test_rows_cover_ordered_pairs_with_a_workload_in_input_order():
    endpoints = [
        {"name": "a", "ip": "10.0.0.1", "namespace": "ns"},
        {"name": "out1", "ip": "10.0.0.2"},
        {"name": "out2", "ip": "10.0.0.3"},
    ]
    rows = simulate([], "ns/net", endpoints)
    assert [(r["from"], r["to"]) for r in rows] == [("a", "out1"), ("a", "out2"), ("out1", "a"), ("out2", "a")]
    assert all(r["allowed"] for r in rows)


# --- policy-for --------------------------------------------------------------------------------

def policy(name="p", namespace="ns", policy_for="net", spec=None):
    return {
        "apiVersion": "k8s.cni.cncf.io/v1beta1",
        "kind": "MultiNetworkPolicy",
        "metadata": {"name": name, "namespace": namespace,
                     "annotations": {} if policy_for is None else {"k8s.v1.cni.cncf.io/policy-for": policy_for}},
        "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]} if spec is None else spec,
    }


TWO_PODS = [
    {"name": "web", "ip": "10.1.0.1", "namespace": "ns", "labels": {"app": "web", "tier": "front"}},
    {"name": "db", "ip": "10.1.0.2", "namespace": "ns", "labels": {"app": "db"}},
]


def allowed(policies, endpoints=None, network="ns/net", **kwargs):
    rows = simulate(policies, network, TWO_PODS if endpoints is None else endpoints, **kwargs)
    return sorted((r["from"], r["to"]) for r in rows if r["allowed"])


@pytest.mark.parametrize("annotation, enforced", [
    ("net", True),  # a bare NAD name means the policy's own namespace
    ("ns/net", True),
    ("other/net", False),
    ("ns/other, ns/net", True),  # lists, with spaces, as OVN-K strips them
    ("ns/other,other/net", False),
    ("", False),
    (None, False),  # no annotation: the policy is for no network
])
def test_policy_for_selects_the_network(annotation, enforced):
    assert allowed([policy(policy_for=annotation)]) == ([] if enforced else [("db", "web"), ("web", "db")])


def test_policy_naming_another_nad_of_the_same_network_applies():
    """One OVN network (the `name` in the NAD config) can have NADs in several namespaces;
    OVN-K applies a policy when policy-for names any of them (shouldApplyMultiPolicy: HasNAD)."""
    network = {"name": "localnet-cnv", "nads": ["ns/net", "other/net-b"]}
    deny = policy(policy_for="other/net-b")
    assert allowed([deny], network=network) == []
    assert allowed([deny], network="ns/net") == [("db", "web"), ("web", "db")]
    assert allowed([deny], network=["ns/net", "other/net-b"]) == []


@pytest.mark.parametrize("network, message", [
    ({"name": "n", "nads": []}, "network.nads: must be"),
    ({"name": "n", "nads": ["ns/a", "b"]}, "network.nads[1]: must be '<namespace>/<nad name>' (got 'b')"),
    ({"nads": ["ns/a"], "vlan": 3}, "network: unknown keys"),
    ({"name": "", "nads": ["ns/a"]}, "network.name: must be a non-empty string"),
])
def test_bad_network_names_the_field(network, message):
    with pytest.raises(MultinetError) as error:
        simulate([], network, TWO_PODS)
    assert str(error.value).startswith(message)


def test_bare_nad_name_resolves_in_the_policy_namespace():
    """Pods of namespace 'other' attached to the NAD ns/net: a policy there must name 'ns/net'."""
    pods = [dict(ep, namespace="other") for ep in TWO_PODS]
    assert allowed([policy(namespace="other", policy_for="net")], endpoints=pods) == [("db", "web"), ("web", "db")]
    assert allowed([policy(namespace="other", policy_for="ns/net")], endpoints=pods) == []


# --- selection and policy types ----------------------------------------------------------------

@pytest.mark.parametrize("selector, isolated", [
    ({"matchLabels": {"app": "web"}}, {"web"}),
    ({"matchExpressions": [{"key": "app", "operator": "In", "values": ["web", "x"]}]}, {"web"}),
    ({"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["web"]}]}, {"db"}),
    ({"matchExpressions": [{"key": "tier", "operator": "Exists"}]}, {"web"}),
    ({"matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]}, {"db"}),
    ({"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]}, set()),
    ({}, {"web", "db"}),
])
def test_pod_selector(selector, isolated):
    deny_ingress = policy(spec={"podSelector": selector, "policyTypes": ["Ingress"]})
    reachable = {dst for _src, dst in allowed([deny_ingress])}
    assert reachable == {"web", "db"} - isolated


def test_policy_selects_only_pods_of_its_namespace():
    elsewhere = [dict(TWO_PODS[0], namespace="ns2"), TWO_PODS[1]]
    deny = policy(spec={"podSelector": {}, "policyTypes": ["Ingress"]})
    assert allowed([deny], endpoints=elsewhere) == [("db", "web")]


def test_policy_without_policy_types_isolates_nothing_and_says_so():
    spec = {"podSelector": {}, "ingress": [{"from": [{"ipBlock": {"cidr": "10.9.0.0/16"}}]}]}
    rows = simulate([policy(spec=spec)], "ns/net", TWO_PODS)
    assert all(r["allowed"] for r in rows)
    assert "ns/p has no policyTypes, so it isolates nothing" in rows[0]["reason"]


def test_policy_without_policy_types_still_opens_holes():
    """Its rules become allow ACLs; once another policy isolates the pod they matter."""
    deny = policy(name="deny", spec={"podSelector": {}, "policyTypes": ["Ingress"]})
    opener = policy(name="open", spec={"podSelector": {"matchLabels": {"app": "db"}},
                                       "ingress": [{"from": [{"ipBlock": {"cidr": "10.1.0.1/32"}}]}]})
    assert allowed([deny]) == []
    assert allowed([deny, opener]) == [("web", "db")]


def test_rule_of_a_direction_the_policy_does_not_isolate_still_allows():
    """The issue's case: P1 (Ingress only) carries an egress rule to db, P2 denies all egress of web.

    OVN-K (base_network_controller_policy.go, "Consider both ingress and egress rules of the
    policy regardless of this policy type") builds P1's egress ACL, so web still reaches db.
    """
    p1 = policy(name="p1", spec={"podSelector": {"matchLabels": {"app": "web"}}, "policyTypes": ["Ingress"],
                                 "egress": [{"to": [{"ipBlock": {"cidr": "10.1.0.2/32"}}]}]})
    p2 = policy(name="p2", spec={"podSelector": {"matchLabels": {"app": "web"}}, "policyTypes": ["Egress"]})
    rows = simulate([p1, p2], "ns/net", TWO_PODS)
    web_to_db = next(r for r in rows if (r["from"], r["to"]) == ("web", "db"))
    assert web_to_db["allowed"] and "egress ns/p1 egress[0]" in web_to_db["reason"]
    assert allowed([p2]) == [("db", "web")]


def test_unknown_policy_type_is_ignored_like_ovn_k():
    rows = simulate([policy(spec={"podSelector": {}, "policyTypes": ["ingress", "Egress"]})], "ns/net", TWO_PODS)
    assert all(r["reason"].startswith("egress denied") for r in rows)
    assert "policyTypes ['ingress'] ignored" in rows[0]["reason"]


def test_isolation_in_one_direction_only():
    assert allowed([policy(spec={"podSelector": {"matchLabels": {"app": "db"}}, "policyTypes": ["Egress"]})]) == [
        ("web", "db")]


# --- ipBlock --------------------------------------------------------------------------------------

def ingress_from(peers, ports=None, pod="db"):
    rule = {"from": peers}
    if ports is not None:
        rule["ports"] = ports
    return policy(spec={"podSelector": {"matchLabels": {"app": pod}}, "policyTypes": ["Ingress"], "ingress": [rule]})


HOSTS = TWO_PODS + [{"name": "h1", "ip": "10.2.0.1"}, {"name": "h2", "ip": "10.2.0.2"}, {"name": "v6", "ip": "fd00::1"}]


def sources_reaching_db(policies, **kwargs):
    return sorted(src for src, dst in allowed(policies, endpoints=HOSTS, **kwargs) if dst == "db")


def test_ip_block_with_except():
    peers = [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.2.0.2/32", "10.1.0.0/24"]}}]
    assert sources_reaching_db([ingress_from(peers)]) == ["h1"]


def test_ip_block_with_host_bits_matches_its_network():
    assert sources_reaching_db([ingress_from([{"ipBlock": {"cidr": "10.2.0.9/24"}}])]) == ["h1", "h2"]


def test_ipv4_block_never_matches_ipv6_endpoint():
    assert sources_reaching_db([ingress_from([{"ipBlock": {"cidr": "0.0.0.0/0"}}])]) == ["h1", "h2", "web"]


def test_empty_from_admits_every_peer():
    """Every IPv4 peer on an IPAM-less network (OVN-K's allIPsMatch is "ip4" there); every peer with IPAM."""
    assert sources_reaching_db([ingress_from([])]) == ["h1", "h2", "web"]
    assert sources_reaching_db([ingress_from([])], ipam=True) == ["h1", "h2", "v6", "web"]


# --- ports ---------------------------------------------------------------------------------------

ANYONE = [{"ipBlock": {"cidr": "10.0.0.0/8"}}]


@pytest.mark.parametrize("ports, port, expected", [
    ([{"port": 22}], "tcp/22", True),  # TCP is the default protocol
    ([{"port": 22}], "udp/22", False),
    ([{"port": 22}], "tcp/23", False),
    ([{"protocol": "UDP", "port": 53}], "udp/53", True),
    ([{"protocol": "SCTP"}], "sctp/9", True),  # no port: every port of the protocol
    ([{"protocol": "TCP", "port": 8000, "endPort": 8080}], "tcp/8000", True),
    ([{"protocol": "TCP", "port": 8000, "endPort": 8080}], "tcp/8080", False),  # endPort dropped by OVN-K
    ([{"port": "ssh"}], "tcp/443", True),  # OVN-K: a named port is every port
    ([{"port": "ssh"}], "udp/443", False),
    # ... unless the rule numbers a port of the same protocol: OVN-K's match is then `tcp.dst==80`
    # alone (found by tests/lab/test_generated_policies.py, seed 99 case 7, on the real ovnkube)
    ([{"protocol": "TCP", "port": 80}, {"protocol": "TCP", "port": "http"}], "tcp/8080", False),
    ([{"protocol": "TCP", "port": 80}, {"protocol": "TCP", "port": "http"}], "tcp/80", True),
    ([{"protocol": "TCP"}, {"protocol": "TCP", "port": 80}], "tcp/8080", False),
    ([{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": "http"}], "tcp/8080", True),
    ([{"port": 22}], None, False),  # a rule with ports never matches ICMP
    (None, None, True),  # no ports: all traffic, ICMP included
])
def test_ports(ports, port, expected):
    assert ("h1" in sources_reaching_db([ingress_from(ANYONE, ports=ports)], port=port)) is expected


def test_end_port_opens_only_port_unless_the_target_honours_it():
    """OVN-K's vendored MultiNetworkPolicyPort has protocol and port only: endPort is dropped."""
    ranged = [ingress_from([], ports=[{"protocol": "TCP", "port": 8000, "endPort": 8080}])]
    assert ("web", "db") in allowed(ranged, port="tcp/8000")
    assert ("web", "db") not in allowed(ranged, port="tcp/8080")
    assert ("web", "db") in allowed(ranged, port="tcp/8080", target_honours_end_port=True)
    rows = simulate(ranged, "ns/net", TWO_PODS, port="tcp/8080")
    assert "ns/p ingress[0].ports[0] endPort 8080 is dropped" in rows[0]["reason"]


def test_port_without_protocol_is_flagged():
    """The MNP CRD does not default protocol and OVN-K reads it unchecked (gress_policy.go)."""
    rows = simulate([ingress_from([], ports=[{"port": 22}])], "ns/net", TWO_PODS, port="tcp/22")
    web_to_db = next(r for r in rows if (r["from"], r["to"]) == ("web", "db"))
    assert web_to_db["allowed"]
    assert "ns/p ingress[0].ports[0] has no protocol: OVN-K does not default it to TCP" in web_to_db["reason"]


V6_PODS = [
    {"name": "web6", "ip": "fd00::1", "namespace": "ns", "labels": {"app": "web"}},
    {"name": "db", "ip": "10.1.0.2", "namespace": "ns", "labels": {"app": "db"}},
    {"name": "web4", "ip": "10.1.0.1", "namespace": "ns", "labels": {"app": "web"}},
]


def test_rule_without_peers_matches_ipv4_only_on_an_ipam_less_network():
    """gress_policy.go allIPsMatch: no IP mode configured (no subnets) falls back to "ip4"."""
    open_db = ingress_from([])
    assert ("web4", "db") in allowed([open_db], endpoints=V6_PODS)
    assert ("web6", "db") not in allowed([open_db], endpoints=V6_PODS)
    rows = simulate([open_db], "ns/net", V6_PODS)
    assert "rules without peers match IPv4 only on an IPAM-less network" in rows[0]["reason"]
    assert ("web6", "db") in allowed([open_db], endpoints=V6_PODS, ipam=True)
    v6_block = ingress_from([{"ipBlock": {"cidr": "fd00::/64"}}])
    assert ("web6", "db") in allowed([v6_block], endpoints=V6_PODS)


def test_server_with_egress_deny_all_still_answers_allowed_connections():
    """Rule ACLs are allow-related (gress_policy.go buildLocalPodACLs), and OVN lets the reply
    direction of a committed connection pass before any ACL, also after-LB ones (ovn-northd(8),
    ls_in_acl priority-65532 flows, reg0[17]): so db, isolated for egress with no egress rule,
    still answers web; what it cannot do is initiate."""
    deny_db_egress = policy(name="deny-egress", spec={"podSelector": {"matchLabels": {"app": "db"}},
                                                      "policyTypes": ["Egress"]})
    open_db = ingress_from([{"ipBlock": {"cidr": "10.1.0.1/32"}}])
    assert allowed([deny_db_egress, open_db]) == [("web", "db")]


def test_port_named_in_the_denial_reason():
    rows = matrix(DENY_ALL, port="tcp/22")
    assert rows[("tinypod", "test-vm")]["reason"].endswith("allows test-vm (192.168.77.10) on tcp/22")


# --- selector peers and IPAM --------------------------------------------------------------------

SELECTOR_POLICY = ingress_from([{"podSelector": {"matchLabels": {"app": "web"}}}])


def test_selector_peer_rejects_whole_policy_on_ipam_less_network():
    """The rejected policy does not even isolate db: OVN-K never creates it."""
    rows = simulate([SELECTOR_POLICY], "ns/net", HOSTS)
    into_db = [r for r in rows if r["to"] == "db"]
    assert all(r["allowed"] for r in into_db)
    assert ("ns/p is not enforced: IPAM-less networks can only have ipBlock peers, "
            "and it has a selector peer at ingress[0].from[0]") in into_db[0]["reason"]


def test_seed_allow_specific_pods_is_rejected_as_the_seed_logged():
    rows = matrix(DENY_ALL + load("allow-specific-pods.yaml"))
    assert rows[("tinypod-01", "tinypod")]["allowed"] is False
    assert "llm-demo/allow-specific-pods is not enforced" in rows[("tinypod-01", "tinypod")]["reason"]


def test_pod_selector_peer_on_ipam_network():
    assert sources_reaching_db([SELECTOR_POLICY], ipam=True) == ["web"]


def test_selector_peer_in_an_unisolated_direction_still_rejects():
    """OVN-K checks every peer before it looks at policyTypes."""
    spec = {"podSelector": {}, "policyTypes": ["Ingress"], "egress": [{"to": [{"podSelector": {}}]}]}
    assert allowed([policy(spec=spec)]) == [("db", "web"), ("web", "db")]


def test_namespace_selector_peer_on_ipam_network():
    endpoints = TWO_PODS + [
        {"name": "mon", "ip": "10.3.0.1", "namespace": "monitoring", "labels": {"app": "web"},
         "namespace_labels": {"team": "obs"}},
        {"name": "other", "ip": "10.3.0.2", "namespace": "other", "labels": {"app": "web"}},
    ]
    by_label = ingress_from([{"namespaceSelector": {"matchLabels": {"team": "obs"}}}])
    by_name = ingress_from([{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "other"}},
                             "podSelector": {"matchLabels": {"app": "web"}}}])
    assert [s for s, d in allowed([by_label], endpoints=endpoints, ipam=True) if d == "db"] == ["mon"]
    assert [s for s, d in allowed([by_name], endpoints=endpoints, ipam=True) if d == "db"] == ["other"]


def test_selector_peers_never_match_outside_hosts():
    assert "h1" not in sources_reaching_db([ingress_from([{"podSelector": {}}])], ipam=True)


# --- input errors -------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, message", [
    ({"network": "net"}, "network: must be '<namespace>/<nad name>' (got 'net')"),
    ({"port": "tcp/0"}, "port: must be '<tcp|udp|sctp>/<1-65535>', or 'icmp' or null for ICMP: ports must be "
                        "between 1 and 65535 (got 'tcp/0')"),
    ({"port": "tcp/80-81"}, "port: must be '<tcp|udp|sctp>/<1-65535>', or 'icmp' or null for ICMP: one port, "
                            "not a range (got 'tcp/80-81')"),
    ({"port": "icmp/8"}, "port: must be"),
    ({"port": 22}, "port: must be"),
    ({"endpoints": [{"name": "a", "ip": "300.1.1.1"}]}, "endpoints[0].ip: must be an IP address (got '300.1.1.1')"),
    ({"endpoints": [{"name": "a", "ip": "10.0.0.1"}, {"name": "a", "ip": "10.0.0.2"}]},
     "endpoints[1].name: duplicate endpoint name (got 'a')"),
    ({"endpoints": [{"name": "a", "ip": "10.0.0.1", "labels": {"x": "y"}}]}, "endpoints[0]: labels need a namespace"),
    ({"endpoints": [{"name": "a", "ip": "10.0.0.1", "namespace": "ns", "labels": {"x": 1}}]},
     "endpoints[0].labels: must be a mapping of strings to strings"),
    ({"endpoints": [{"name": "a", "address": "10.0.0.1"}]}, "endpoints[0]: unknown keys"),
    ({"policies": {"kind": "MultiNetworkPolicy"}}, "policies: must be a list"),
    ({"policies": [policy(spec={"podSelector": {}, "policyTypes": ["Ingress"],
                                "ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0/8"}}]}]})]},
     "policies[0].spec.ingress[0].from[0].ipBlock.cidr: must be a CIDR (got '10.0.0/8')"),
])
def test_bad_input_names_field_and_value(kwargs, message):
    args = {"policies": [], "network": "ns/net", "endpoints": TWO_PODS}
    args.update(kwargs)
    with pytest.raises(MultinetError) as error:
        simulate(**args)
    assert str(error.value).startswith(message)


# --- scale ---------------------------------------------------------------------------------------

def test_a_few_hundred_endpoints_are_all_judged():
    endpoints = [{"name": "vm{0}".format(i), "ip": "10.{0}.{1}.1".format(i // 200, i % 200), "namespace": "ns",
                  "labels": {"app": "vm{0}".format(i)}} for i in range(300)]
    endpoints += [{"name": "host{0}".format(i), "ip": "192.168.0.{0}".format(i)} for i in range(1, 51)]
    policies = [policy(spec={"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}, name="deny")]
    policies += [
        policy(name="allow-{0}".format(i), spec={
            "podSelector": {"matchLabels": {"app": "vm{0}".format(i)}},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [{"from": [{"ipBlock": {"cidr": "10.0.{0}.1/32".format((i + 1) % 200)}}]}],
            "egress": [{"to": [{"ipBlock": {"cidr": "192.168.0.0/24", "except": ["192.168.0.7/32"]}}],
                        "ports": [{"port": 22}]}],
        }) for i in range(300)
    ]
    rows = simulate(policies, "ns/net", endpoints, port="tcp/22")
    assert len(rows) == 350 * 349 - 50 * 49
    assert sum(r["allowed"] for r in rows) == 300 * 49  # every VM to every host but .7; egress stops VM to VM


# --- replies: a node whose switch has no stateful ACL drops them ----------------------------------
# The finding of tests/lab/test_real_ovnkube.py, reproduced by tests/lab/test_generated_policies.py
# against the real ovnkube: a default deny is a drop ACL, and only a switch with an allow-related
# ACL lets replies of tracked connections pass ahead of it.

ORCHARD = "orchard/orchard-net"


def orchard_policy(name, spec):
    return {"metadata": {"name": name, "namespace": "orchard",
                         "annotations": {"k8s.v1.cni.cncf.io/policy-for": "orchard-net"}}, "spec": spec}


def orchard(elm_node, oak_node="node-a"):
    endpoints = [{"name": "oak", "ip": "10.44.0.41", "namespace": "orchard", "labels": {"app": "oak"},
                  "node": oak_node},
                 {"name": "elm", "ip": "10.44.0.42", "namespace": "orchard", "labels": {"app": "elm"},
                  "node": elm_node},
                 {"name": "router", "ip": "10.44.0.1"}]
    policies = [orchard_policy("deny-in", {"podSelector": {}, "policyTypes": ["Ingress"]}),
                orchard_policy("elm-to-oak", {"podSelector": {"matchLabels": {"app": "oak"}},
                                              "policyTypes": ["Ingress"],
                                              "ingress": [{"from": [{"ipBlock": {"cidr": "10.44.0.42/32"}}]}]})]
    return policies, endpoints


def verdicts(rows):
    return {(row["from"], row["to"]): (row["allowed"], row["reason"]) for row in rows}


def test_replies_to_a_pod_only_a_default_deny_isolates_on_its_node_are_dropped():
    policies, endpoints = orchard(elm_node="node-b")
    rows = verdicts(simulate(policies, ORCHARD, endpoints))
    allowed, reason = rows[("elm", "oak")]
    assert not allowed
    assert "replies dropped: elm is isolated for ingress by orchard/deny-in" in reason and "node-b" in reason
    # oak's node holds the allow policy's ACLs: the router's replies to oak pass there
    assert rows[("oak", "router")][0] is True


def test_replies_pass_where_the_node_holds_an_allow_related_acl():
    policies, endpoints = orchard(elm_node="node-a")
    assert verdicts(simulate(policies, ORCHARD, endpoints))[("elm", "oak")][0] is True
    # without nodes the simulator cannot tell, and answers for the first packet as before
    for endpoint in endpoints:
        endpoint.pop("node", None)
    assert verdicts(simulate(policies, ORCHARD, endpoints))[("elm", "oak")][0] is True


def test_replies_leaving_a_destination_isolated_for_egress_by_a_default_deny_are_dropped():
    policies, endpoints = orchard(elm_node="node-b")
    policies.append(orchard_policy("deny-out", {"podSelector": {"matchLabels": {"app": "elm"}},
                                                "policyTypes": ["Egress"]}))
    rows = verdicts(simulate(policies, ORCHARD, endpoints))
    allowed, reason = rows[("router", "elm")]
    assert not allowed  # elm's ingress deny already refuses the router's first packet
    assert "ingress denied" in reason
    policies[0]["spec"]["podSelector"] = {"matchLabels": {"app": "oak"}}  # elm no longer isolated for ingress
    allowed, reason = verdicts(simulate(policies, ORCHARD, endpoints))[("router", "elm")]
    assert not allowed and "replies dropped: elm is isolated for egress by orchard/deny-out" in reason


def test_node_must_be_a_string_on_a_pod_or_vm():
    with pytest.raises(MultinetError, match=r"endpoints\[0\]\.node"):
        simulate([], ORCHARD, [{"name": "router", "ip": "10.44.0.1", "node": "node-a"}])
    with pytest.raises(MultinetError, match=r"endpoints\[0\]\.node"):
        simulate([], ORCHARD, [{"name": "oak", "ip": "10.44.0.41", "namespace": "orchard", "node": 3}])
