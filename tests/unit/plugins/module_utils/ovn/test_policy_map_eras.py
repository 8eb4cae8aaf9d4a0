"""The inspection finds each policy's port groups and ACLs in 4.18's naming as in 4.15's.

The 4.18 Northbound is the lab's real 4.15 fixture rewritten as ovn-kubernetes 6c366bb49 writes it
(ovn_fixtures.to_418); a second scenario, sharing nothing with the seed, is built in both namings.
"""
import copy
import json
import re

import pytest

from ansible_collections.ocpvirt.multinet.plugins.module_utils.ovn import inspection_report, policy_map, trace_plan

from ovn_fixtures import NAD, cluster, group_ids_418, hash_for_ovn, log_lines, nodes, nodes_418, text

# Measured on real ovnkube 6c366bb49 with the seed's CNV stage applied (issue 24).
ALLOW_IPBLOCK_418 = "a13901755108022752288"


def inspect(zones):
    data = cluster()
    network = policy_map.network_of(NAD, data["nads"])
    return policy_map.inspect_network(network, zones, data["policies"], data["pods"], True, log_lines())


def by_name(view):
    return {policy["name"]: policy for policy in view["policies"]}


def groups_by_owner(zones):
    """{4.18 k8s.ovn.org/name (+ direction): port group name} of worker-0's fixture, localnet-cnv's
    (localnet-lab has its own default-deny groups for the same namespace)."""
    return {(row["external_ids"].get("k8s.ovn.org/name"), row["external_ids"].get("direction")): row["name"]
            for row in zones["worker-0"]["nb"]["Port_Group"]
            if row["external_ids"].get("k8s.ovn.org/owner-controller") == "localnet-cnv-network-controller"}


def test_the_418_fixture_is_what_real_ovnkube_wrote():
    zones = nodes_418()
    groups = groups_by_owner(zones)
    assert groups[("llm-demo:allow-ipblock", None)] == ALLOW_IPBLOCK_418
    assert groups[("llm-demo", "Ingress")] == hash_for_ovn(
        "localnet-cnv-network-controller:NetpolNamespace:llm-demo:Ingress")
    assert not [row for row in zones["worker-0"]["nb"]["Port_Group"]
                if "k8s.ovn.org/network" in row["external_ids"]]
    switch, = [row for row in zones["worker-0"]["nb"]["Logical_Switch"]
               if row["external_ids"].get("k8s.ovn.org/network") == "localnet-cnv"]
    assert switch["external_ids"].get("k8s.ovn.org/role") == "secondary"
    assert "k8s-ovn-topo-version" not in switch["external_ids"]


def test_seed_cnv_stage_names_each_policys_418_port_group_and_acls():
    zones = nodes_418()
    groups = groups_by_owner(zones)
    policies = by_name(inspect(zones))
    assert policies["allow-ipblock"]["port_groups"] == [ALLOW_IPBLOCK_418]
    for name in ("allow-ipblock", "allow-ipblock-01", "allow-ipblock-cnv-01", "allow-ipblock-cnv-02",
                 "allow-ipblock-cnv-03", "deny-by-default", "selects-nothing"):
        group = groups[("llm-demo:" + name, None)]
        assert policies[name]["port_groups"] == [group], name
        own = [acl for acl in policies[name]["acls"] if acl["rule_spec"]]
        assert all(acl["port_group"] == group and "@" + group in acl["match"] for acl in own), name
    assert [(acl["rule"], acl["match"]) for acl in policies["allow-ipblock"]["acls"] if acl["rule_spec"]] == [
        ("spec.ingress[0].from[0]", "ip4.src == 192.168.77.92/32 && outport == @" + ALLOW_IPBLOCK_418)]
    assert sorted((acl["direction"], acl["priority"], acl["action"], acl["port_group"])
                  for acl in policies["deny-by-default"]["acls"]) == [
        ("Egress", 1000, "drop", groups[("llm-demo", "Egress")]),
        ("Egress", 1001, "allow", groups[("llm-demo", "Egress")]),
        ("Ingress", 1000, "drop", groups[("llm-demo", "Ingress")]),
        ("Ingress", 1001, "allow", groups[("llm-demo", "Ingress")])]


def test_418_view_is_the_415_view_but_for_the_group_names():
    old, new = inspect(nodes()), inspect(nodes_418())
    renames = {}
    for before, after in zip(old["policies"], new["policies"]):
        assert before["name"] == after["name"]
        renames.update(zip(before["port_groups"], after["port_groups"]))
        renames.update((a["port_group"], b["port_group"]) for a, b in zip(before["acls"], after["acls"]))
    assert len(set(renames.values())) == len(renames) and not set(renames) & set(renames.values())
    text = repr(old)
    for before, after in renames.items():
        text = text.replace(before, after)
    assert text == repr(new)
    assert by_name(new)["allow-specific-pods"]["port_groups"] == []  # refused: no group in either era


def test_418_inspection_report_names_the_group_and_its_acls():
    report = inspection_report.build({"title": "t", "networks": [inspect(nodes_418())]})["markdown"]
    section = report[report.index("### Policy llm-demo/allow-ipblock\n"):]
    section = section[:section.index("### Policy", 5)]
    assert "Port group(s): `{0}`".format(ALLOW_IPBLOCK_418) in section
    assert "`ip4.src == 192.168.77.92/32 && outport == @{0}`".format(ALLOW_IPBLOCK_418) in section


def test_a_group_of_another_controller_or_owner_is_not_taken():
    zones = nodes_418()
    for data in zones.values():
        for row in data["nb"]["Port_Group"]:
            if row["name"] == ALLOW_IPBLOCK_418:
                row["external_ids"]["k8s.ovn.org/owner-controller"] = "default-network-controller"
    assert by_name(inspect(zones))["allow-ipblock"]["port_groups"] == []


def traced(zones, rewrite):
    """ovn_trace's rows for the seed's CNV stage from the real traces, their group names rewritten."""
    endpoints = json.loads(text("trace-endpoints.json"))
    steps = trace_plan.plan(endpoints["endpoints"], {
        node: policy_map.zone_objects(data["nb"], "localnet-cnv") for node, data in zones.items()}, endpoints["ports"])
    outputs = {node: trace_plan.parse_batch(rewrite(node, text(node, "trace-batch.txt"))) for node in zones}
    return trace_plan.verdicts(steps, outputs, {node: data["nb"]["ACL"] for node, data in zones.items()})


def test_418_traces_give_the_same_verdicts_and_name_the_same_acls():
    old, new = nodes(), nodes_418()
    renames = {node: {before["name"]: after["name"] for before, after in
                      zip(old[node]["nb"]["Port_Group"], new[node]["nb"]["Port_Group"]) if before["name"] != after["name"]}
               for node in old}

    def rewrite_418(node, output):
        return re.sub(r"@(\w+)", lambda found: "@" + renames[node].get(found.group(1), found.group(1)), output)

    before, after = traced(old, lambda node, output: output), traced(new, rewrite_418)
    text_before = repr(before)
    for name, renamed in renames["worker-0"].items():
        assert renames["worker-1"].get(name, renamed) == renamed
        text_before = text_before.replace(name, renamed)
    assert text_before == repr(after)
    rows = [row for result in after for row in result["rows"]]
    assert sum(row["allowed"] is True for row in rows) and sum(row["allowed"] is False for row in rows)
    assert any("@" + ALLOW_IPBLOCK_418 in name for row in rows for name in row["acls"])


# --- a scenario that shares nothing with the seed, in both namings --------------------------------

NETWORK, NS, NAD_NAME = "tenant-amber", "ledger", "amber-net"
CONTROLLER = NETWORK + "-network-controller"
PODS = {"books-0": "10.61.8.21", "books-1": "10.61.8.22"}
POLICIES = [
    {"metadata": {"name": "isolate", "namespace": NS},
     "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}},
    {"metadata": {"name": "audit-in", "namespace": NS},
     "spec": {"podSelector": {"matchLabels": {"app": "books"}}, "policyTypes": ["Ingress"],
              "ingress": [{"from": [{"ipBlock": {"cidr": "10.61.9.0/24", "except": ["10.61.9.5/32"]}}]}]}},
]


def ledger_cluster():
    policies = copy.deepcopy(POLICIES)
    for policy in policies:
        policy["metadata"]["annotations"] = {"k8s.v1.cni.cncf.io/policy-for": NAD_NAME}
    nad = {"metadata": {"name": NAD_NAME, "namespace": NS}, "spec": {"config": (
        '{"cniVersion": "0.3.1", "name": "%s", "type": "ovn-k8s-cni-overlay", "topology": "localnet", '
        '"netAttachDefName": "%s/%s"}' % (NETWORK, NS, NAD_NAME))}}
    pods = [{"metadata": {"name": name, "namespace": NS, "labels": {"app": "books"}}} for name in PODS]
    return {"nads": [nad], "policies": policies, "pods": pods}


def ledger_nb(era):
    """One zone's NB of the ledger scenario as OVN-Kubernetes of that era writes it."""
    ports = [{"_uuid": "lsp-" + name, "name": "ledger.amber.net_{0}_{1}".format(NS, name), "type": "",
              "addresses": ["02:00:0a:3d:08:{0} {1}".format(ip[-2:], ip)], "external_ids": {"namespace": NS}}
             for name, ip in sorted(PODS.items())]
    ports.append({"_uuid": "lsp-localnet", "name": "tenant.amber_ovn_localnet_port", "type": "localnet",
                  "addresses": ["unknown"], "external_ids": {}})
    switch_ids = {"k8s.ovn.org/network": NETWORK, "k8s.ovn.org/topology": "localnet"}
    switch_ids.update({"k8s-ovn-topo-version": "5"} if era == "4.15" else {"k8s.ovn.org/role": "secondary"})
    if era == "4.15":
        audit = (hash_for_ovn("tenant.amber_ledger_audit-in"), {"name": "ledger_audit-in", "k8s.ovn.org/network": NETWORK})
        isolate = (hash_for_ovn("tenant.amber_ledger_isolate"), {"name": "ledger_isolate", "k8s.ovn.org/network": NETWORK})
        deny_name = hash_for_ovn("tenant.amber_ledger") + "_ingressDefaultDeny"
        deny = (deny_name, {"name": deny_name, "k8s.ovn.org/network": NETWORK})
    else:
        audit, isolate, deny = ((hash_for_ovn(ids["k8s.ovn.org/id"]), ids) for ids in (
            group_ids_418(CONTROLLER, NS, "audit-in"), group_ids_418(CONTROLLER, NS, "isolate"),
            group_ids_418(CONTROLLER, NS, direction="Ingress")))
    acls = [
        {"_uuid": "acl-audit", "name": "NP:ledger:audit-in:Ingress:0", "direction": "to-lport", "priority": 1001,
         "action": "allow-related", "match": "ip4.src == 10.61.9.0/24 && ip4.src != {10.61.9.5/32} && outport == @"
         + audit[0], "external_ids": {"k8s.ovn.org/id": CONTROLLER + ":NetworkPolicy:ledger:audit-in:Ingress:0:None:0"}},
        {"_uuid": "acl-deny", "name": "NP:ledger:Ingress", "direction": "to-lport", "priority": 1000, "action": "drop",
         "match": "outport == @" + deny[0],
         "external_ids": {"k8s.ovn.org/id": CONTROLLER + ":NetpolNamespace:ledger:Ingress:defaultDeny"}},
    ]
    lsp_uuids = [port["_uuid"] for port in ports if port["type"] != "localnet"]
    groups = [{"_uuid": "pg-" + name, "name": group[0], "external_ids": group[1], "ports": lsp_uuids, "acls": acl}
              for name, group, acl in (("audit", audit, ["acl-audit"]), ("isolate", isolate, []),
                                       ("deny", deny, ["acl-deny"]))]
    foreign = {"_uuid": "pg-foreign", "name": "a1", "ports": lsp_uuids, "acls": [],
               "external_ids": dict(group_ids_418("other-network-controller", NS, "audit-in"))}
    return {"Logical_Switch": [{"_uuid": "ls", "name": "tenant.amber_ovn_localnet_switch", "external_ids": switch_ids,
                                "ports": [port["_uuid"] for port in ports]}],
            "Logical_Switch_Port": ports, "Port_Group": groups + [foreign], "ACL": acls, "Address_Set": []}


@pytest.mark.parametrize("era", ["4.15", "4.18"])
def test_second_scenario_maps_groups_and_acls_on_both_eras(era):
    data = ledger_cluster()
    network = policy_map.network_of(NS + "/" + NAD_NAME, data["nads"])
    nb = ledger_nb(era)
    names = {group["_uuid"]: group["name"] for group in nb["Port_Group"]}
    zones = {"node-a": {"nb": nb, "bridge_mappings": {NETWORK: "br-amber"}}}
    view = policy_map.inspect_network(network, zones, data["policies"], data["pods"])
    policies = by_name(view)
    assert policies["audit-in"]["port_groups"] == [names["pg-audit"]]
    assert policies["isolate"]["port_groups"] == [names["pg-isolate"]]
    audit = [(acl["rule"], acl["port_group"], acl["ip_block"]) for acl in policies["audit-in"]["acls"]]
    assert audit == [("spec.ingress[0].from[0]", names["pg-audit"], {"cidr": "10.61.9.0/24", "except": ["10.61.9.5/32"]}),
                     ("default deny of namespace ledger (defaultDeny, policyTypes: Ingress)", names["pg-deny"], None)]
    assert [acl["port_group"] for acl in policies["isolate"]["acls"]] == [names["pg-deny"]]
    assert [port["pod"] for port in policies["audit-in"]["ports"]] == ["books-0", "books-1"]
    assert view["findings"] == [] and all(not policy["findings"] for policy in view["policies"])
