# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether each zone's Northbound database holds what the live MultiNetworkPolicies of a network
say (issue 23, item 4): what is still pending, per policy and zone, in plain words.

After an apply, OVN-Kubernetes writes each zone's NB (one zone per node on OpenShift 4.14+), then
ovn-northd turns it into logical flows and ovn-controller into OpenFlow rules. This module judges
the first step, the NB; the later steps are told by NB_Global's nb_cfg, sb_cfg and hv_cfg
(`ovn-nbctl --wait=hv sync`). A zone holds every applicable policy's port group with its ACLs
(policy_map: OVN-K builds them in every zone) and, as ports, only its local pods.
"""
import re

from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.policy_model import parse_selector
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.vocabulary import PROTOCOLS
from ansible_collections.ocpvirt.multinet.plugins.module_utils.ovn import policy_map

# The L4 part of an ACL match as OVN-K writes it (gress_policy.go getL4Match): `tcp && tcp.dst==80`
# or `tcp.dst=={80,443}`.
_L4 = re.compile(r"\b(tcp|udp|sctp)\.dst\s*==\s*(\{[^}]*\}|\d+)")


def _expected_ports(rule):
    """{protocol (lower case) or None: the port numbers} a rule's ACLs are built for, as OVN-K reads
    `ports` (gress_policy.go addPortPolicy): a port without protocol or of another protocol is
    skipped, a named or missing port number matches the whole protocol (no number listed), and a
    rule without ports is all traffic ({None: set()})."""
    expected = {}
    for port in rule.get("ports") or []:
        protocol = port.get("protocol")
        if protocol not in PROTOCOLS:
            continue
        numbers = expected.setdefault(protocol.lower(), set())
        if isinstance(port.get("port"), int) and port["port"]:
            numbers.add(port["port"])
    return expected or {None: set()}


def _acl_ports(match):
    found = _L4.search(match)
    if not found:
        return set()
    return {int(item) for item in found.group(2).strip("{}").split(",") if item.strip()}


def port_findings(policy, acls):
    """ACLs whose protocol or ports are not (or no longer) those of their rule."""
    findings, seen = [], set()
    for acl in acls:
        origin = policy_map.acl_origin(acl)
        if not origin or origin["type"] != "rule":
            continue
        section = policy_map.PEERS[origin["direction"]][0]
        rules = (policy.get("spec") or {}).get(section) or []
        if origin["index"] >= len(rules):
            findings.append("ACL {0} is for spec.{1}[{2}], which the policy no longer has".format(
                acl.get("name"), section, origin["index"]))
            continue
        expected = _expected_ports(rules[origin["index"]])
        protocol = origin["protocol"].lower() if origin["protocol"] else None
        seen.add((origin["direction"], origin["index"], protocol))
        if protocol not in expected:
            findings.append("ACL {0} ({1}) is for {2}, but spec.{3}[{4}] opens {5}".format(
                acl.get("name"), acl["match"], protocol or "all traffic", section, origin["index"],
                ", ".join(sorted(p or "all traffic" for p in expected))))
        elif _acl_ports(acl["match"]) != expected[protocol]:
            findings.append("ACL {0} ({1}) does not match spec.{2}[{3}]'s {4} ports {5}".format(
                acl.get("name"), acl["match"], section, origin["index"], protocol,
                ",".join(str(p) for p in sorted(expected[protocol])) or "(all)"))
    for direction in policy_map.PEERS:
        section = policy_map.PEERS[direction][0]
        for index, rule in enumerate((policy.get("spec") or {}).get(section) or []):
            for protocol in _expected_ports(rule):
                if (direction, index, protocol) not in seen:
                    findings.append("spec.{0}[{1}] has no ACL for {2}".format(
                        section, index, protocol or "all traffic"))
    return findings


def _members(zone, policy, pods_by_key):
    """The zone's ports the policy's podSelector picks in its namespace."""
    meta = policy["metadata"]
    selector = parse_selector((policy.get("spec") or {}).get("podSelector") or {}, "spec.podSelector")
    members = set()
    for name, port in zone["ports"].items():
        if port.get("type") == "localnet":
            continue
        owner = policy_map.workload(port, None, pods_by_key)
        pod = pods_by_key.get("{0}/{1}".format(owner["namespace"], owner["pod"]))
        if owner["namespace"] == meta["namespace"] and pod is not None and \
                selector.matches((pod.get("metadata") or {}).get("labels") or {}):
            members.add(name)
    return members


def zone_pending(network, node, nb, policies, pods):
    """What zone `node`'s NB (ovsdb.parse_nb) still lacks or still holds against `policies` (the
    live MultiNetworkPolicies; those not for `network` are ignored) and `pods` (their labels pick
    the port group members), one sentence each naming the policy and the zone."""
    zone = policy_map.zone_objects(nb, network["name"])
    pods_by_key = {"{0}/{1}".format(p["metadata"]["namespace"], p["metadata"]["name"]): p for p in pods}
    groups = {group["policy"]: group for group in zone["port_groups"].values() if group["policy"]}
    mine = sorted((p for p in policies if policy_map.applies(p, network)),
                  key=lambda p: (p["metadata"]["namespace"], p["metadata"]["name"]))
    pending = []
    for policy in mine:
        meta = policy["metadata"]
        key = "{0}/{1}".format(meta["namespace"], meta["name"])
        group = groups.pop(key, None)
        if not network["ipam"] and policy_map.selector_peer(policy):
            # OVN-K refuses it on an IPAM-less network and removes what an older version made
            if group is not None:
                pending.append("policy {0} (refused: selector peer {1}): zone {2}: its old port group {3} is "
                               "still there".format(key, policy_map.selector_peer(policy), node, group["name"]))
            continue
        if group is None:
            pending.append("policy {0}: zone {1}: no port group yet".format(key, node))
            continue
        acls = {acl["external_ids"].get(policy_map.ID_KEY): acl for acl in group["acls"]}.values()
        for finding in policy_map.cidr_findings(policy, acls) + port_findings(policy, acls):
            pending.append("policy {0}: zone {1}: {2}".format(key, node, finding))
        members, ports = _members(zone, policy, pods_by_key), set(group["ports"])
        if members - ports:
            pending.append("policy {0}: zone {1}: port group {2} lacks {3}".format(
                key, node, group["name"], ", ".join(sorted(members - ports))))
        if ports - members:
            pending.append("policy {0}: zone {1}: port group {2} still holds {3}".format(
                key, node, group["name"], ", ".join(sorted(ports - members))))
    for gone, group in sorted(groups.items()):
        pending.append("policy {0} (no longer in the cluster): zone {1}: port group {2} still there".format(
            gone, node, group["name"]))
    return pending


def sync_stage(nb_cfg, sb_cfg, hv_cfg):
    """Which OVN stage has not caught up with NB_Global's nb_cfg, or None when none is behind."""
    if sb_cfg < nb_cfg:
        return "ovn-northd (sb_cfg {0} < nb_cfg {1}: the Southbound logical flows are not written yet)".format(
            sb_cfg, nb_cfg)
    if hv_cfg < nb_cfg:
        return "ovn-controller (hv_cfg {0} < nb_cfg {1}: a chassis has not installed the OpenFlow rules yet)".format(
            hv_cfg, nb_cfg)
    return None
