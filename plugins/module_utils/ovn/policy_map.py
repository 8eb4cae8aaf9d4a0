# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Map the Northbound objects of one localnet network back to its MultiNetworkPolicies.

Objects are chosen by the `k8s.ovn.org/*` external_ids OVN-Kubernetes writes (never by names
scraped from `ovn-nbctl show`), as ovn-org/ovn-kubernetes `go-controller/` writes them:
- the switch: `k8s.ovn.org/network=<net>`, `k8s.ovn.org/topology=localnet`
  (pkg/ovn/base_secondary_layer2_network_controller.go initializeLogicalSwitch);
- port groups, in either of two namings (both read, whichever the cluster writes):
  - OpenShift 4.15 (ovn-kubernetes dad2fde5a, pkg/ovn/base_network_controller.go:710-715):
    `k8s.ovn.org/network=<net>`, `name=<ns>_<policy>` for a policy, `name=<pg name>` ending in
    `_ingressDefaultDeny`/`_egressDefaultDeny` for a namespace's default deny
    (pkg/ovn/base_network_controller_policy.go:315-316);
  - OpenShift 4.18 (ovn-kubernetes 6c366bb49; 4.16 and 4.17 not checked): no `k8s.ovn.org/network`, but
    `k8s.ovn.org/owner-controller=<net>-network-controller` (pkg/ovn/base_network_controller.go:199-200),
    `k8s.ovn.org/owner-type=NetworkPolicy`, `k8s.ovn.org/name=<ns>:<policy>` for a policy, and
    `owner-type=NetpolNamespace`, `name=<ns>`, `direction=Ingress|Egress` for a default deny
    (pkg/libovsdb/ops/db_object_types.go:278-288, db_object_ids.go:54-58,70,225-240;
    pkg/ovn/base_network_controller_policy.go:364-371,903-907); the group's name is a hash of its
    `k8s.ovn.org/id` (pkg/libovsdb/util/port_group.go:13-16), never re-derived here;
- ACLs: `k8s.ovn.org/id=<net>-network-controller:NetworkPolicy:<ns>:<policy>:<dir>:<rule>:
  <protocol>:<ip block>` and `...:NetpolNamespace:<ns>:<dir>:<type>` for default deny
  (pkg/ovn/gress_policy.go, pkg/libovsdb/ops/db_object_types.go);
- pod ports: `<nad ns.nad name>_<pod ns>_<pod>` (pkg/util/util.go GetSecondaryNetworkLogicalPortName).

OpenShift 4.14+ runs one OVN zone per node: every zone holds the port groups and ACLs, with only
its local pods as ports, so ports are the union over zones and ACLs are listed once with the
nodes that hold them.
"""
import ipaddress
import json
import re

from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.errors import MultinetError
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.vocabulary import (
    POLICY_FOR_ANNOTATION, VM_NAME_LABEL, parse_policy_for)

PREFIX = "k8s.ovn.org/"
NETWORK_KEY = PREFIX + "network"
TOPOLOGY_KEY = PREFIX + "topology"
ID_KEY = PREFIX + "id"
OWNER_KEY = PREFIX + "owner-controller"
OWNER_TYPE_KEY = PREFIX + "owner-type"
NAME_KEY = PREFIX + "name"
DENY_SUFFIXES = {"ingressDefaultDeny": "Ingress", "egressDefaultDeny": "Egress"}
PEERS = {"Ingress": ("ingress", "from", "src"), "Egress": ("egress", "to", "dst")}
_CIDR = r"ip[46]\.{side} == ([0-9a-fA-F.:/]+)"
_EXCEPT = r"ip[46]\.{side} != \{{([^}}]*)\}}"


# --- the network -------------------------------------------------------------------------------

def network_of(nad_key, nads):
    """The OVN network a NAD belongs to: its `name` (switch and port group key), the bridge
    mapping name (`physicalNetworkName`, else `name`), IPAM, and every NAD sharing the name."""
    configs = {}
    for nad in nads:
        meta = nad.get("metadata") or {}
        try:
            configs["{0}/{1}".format(meta.get("namespace"), meta.get("name"))] = json.loads(
                (nad.get("spec") or {}).get("config") or "{}")
        except ValueError as error:
            configs["{0}/{1}".format(meta.get("namespace"), meta.get("name"))] = {"_error": str(error)}
    config = configs.get(nad_key)
    if config is None:
        raise MultinetError("no such NetworkAttachmentDefinition", "network", nad_key)
    if config.get("topology") != "localnet" or not config.get("name"):
        raise MultinetError("is not an OVN-Kubernetes localnet NAD with a network name", "network", nad_key)
    name = config["name"]
    return {"name": name, "physical": config.get("physicalNetworkName") or name,
            "ipam": bool(config.get("subnets")), "nad": nad_key,
            "nads": sorted(key for key, conf in configs.items() if conf.get("name") == name
                           and conf.get("topology") == "localnet")}


def applies(policy, network):
    """policy-for names one of the network's NADs (`nad` or `ns/nad`, comma separated)."""
    meta = policy.get("metadata") or {}
    annotation = (meta.get("annotations") or {}).get(POLICY_FOR_ANNOTATION)
    return bool(annotation) and any(nad in network["nads"]
                                    for nad in parse_policy_for(annotation, meta.get("namespace")))


def zone_objects(nb, network_name):
    """The network's switch, ports, port groups, ACLs and address sets in one zone's NB."""
    switches = [row for row in nb["Logical_Switch"] if row["external_ids"].get(NETWORK_KEY) == network_name
                and row["external_ids"].get(TOPOLOGY_KEY) == "localnet"]
    lsps = {row["_uuid"]: row for row in nb["Logical_Switch_Port"]}
    acls = {row["_uuid"]: row for row in nb["ACL"]}
    ports = {lsps[uuid]["name"]: lsps[uuid] for switch in switches for uuid in switch["ports"] if uuid in lsps}
    controller = network_name + "-network-controller"
    groups = {}
    for row in nb["Port_Group"]:
        owner = group_owner(row["external_ids"], network_name, controller)
        if owner:
            groups[row["name"]] = dict(owner, name=row["name"],
                                       ports=sorted(lsps[u]["name"] for u in row["ports"] if u in lsps),
                                       acls=[acls[u] for u in row["acls"] if u in acls])
    return {"switch": switches[0]["name"] if switches else None, "ports": ports, "port_groups": groups,
            "address_sets": [row for row in nb["Address_Set"] if row["external_ids"].get(OWNER_KEY) == controller]}


def group_owner(ids, network_name, controller):
    """What a port group of the network is for, from its external_ids in either naming:
    `policy` "<ns>/<name>" for a policy's group; `direction` for a namespace's default deny and
    `deny` its namespace (None on 4.15, which names it only in the group's ACLs); None for a group
    of another network or owner."""
    if ids.get(NETWORK_KEY) == network_name:
        readable = ids.get("name") or ""
        direction = DENY_SUFFIXES.get(readable.rpartition("_")[2])
        if direction:
            return _owner(direction=direction)
        return _owner(policy="/".join(readable.partition("_")[::2]))  # a namespace (DNS label) has no "_"
    if ids.get(OWNER_KEY) != controller:
        return None
    if ids.get(OWNER_TYPE_KEY) == "NetworkPolicy":
        return _owner(policy="/".join(ids.get(NAME_KEY, "").partition(":")[::2]))
    if ids.get(OWNER_TYPE_KEY) == "NetpolNamespace" and ids.get("direction") in PEERS:
        return _owner(deny=ids.get(NAME_KEY), direction=ids["direction"])
    return None


def _owner(policy=None, deny=None, direction=None):
    return {"policy": policy, "deny": deny, "direction": direction}


# --- ports -> workloads ----------------------------------------------------------------------

def workload(port, node, pods_by_key):
    """The pod (and VM, from its launcher pod's `vm.kubevirt.io/name` label) behind a port."""
    parts = port["name"].split("_")
    namespace = port["external_ids"].get("namespace") or (parts[1] if len(parts) == 3 else None)
    pod = parts[2] if len(parts) == 3 else None
    labels = ((pods_by_key.get("{0}/{1}".format(namespace, pod)) or {}).get("metadata") or {}).get("labels") or {}
    return {"port": port["name"], "node": node, "namespace": namespace, "pod": pod, "vm": labels.get(VM_NAME_LABEL),
            "addresses": port.get("addresses") or []}


def _workload_name(entry):
    name = "VM {0}/{1}".format(entry["namespace"], entry["vm"]) if entry["vm"] else \
        "pod {0}/{1}".format(entry["namespace"], entry["pod"])
    return "{0} (port {1} on {2})".format(name, entry["port"], entry["node"])


# --- ACLs -> rules ---------------------------------------------------------------------------

def acl_origin(acl):
    """What an ACL's `k8s.ovn.org/id` says it was built for, or None for a foreign ACL."""
    parts = acl["external_ids"].get(ID_KEY, "").split(":")
    if len(parts) == 8 and parts[1] == "NetworkPolicy":
        return {"type": "rule", "namespace": parts[2], "policy": parts[3], "direction": parts[4],
                "index": int(parts[5]), "protocol": None if parts[6] == "None" else parts[6],
                "block": int(parts[7])}
    if len(parts) == 5 and parts[1] == "NetpolNamespace":
        return {"type": parts[4], "namespace": parts[2], "direction": parts[3]}
    return None


def _ip_block_peers(rule, direction):
    """[(position among all peers, ipBlock)] in the order OVN-K numbers ip-block-index."""
    peers_key = PEERS[direction][1]
    return [(position, peer["ipBlock"]) for position, peer in enumerate(rule.get(peers_key) or [])
            if peer.get("ipBlock")]


def _rule(policy, direction, index):
    rules = (policy.get("spec") or {}).get(PEERS[direction][0]) or []
    return rules[index] if 0 <= index < len(rules) else None


def describe_acl(acl, port_group, policy, nodes):
    """One ACL as returned: direction, priority, match, action, and the rule it came from."""
    origin = acl_origin(acl) or {}
    entry = {"name": acl.get("name"), "direction": origin.get("direction"), "ovn_direction": acl["direction"],
             "priority": acl["priority"], "match": acl["match"], "action": acl["action"],
             "port_group": port_group, "nodes": nodes, "rule": None, "rule_spec": None, "ip_block": None}
    if origin.get("type") == "rule":
        section, peers_key = PEERS[origin["direction"]][:2]
        rule = _rule(policy, origin["direction"], origin["index"])
        entry["rule"] = "spec.{0}[{1}]".format(section, origin["index"])
        entry["rule_spec"] = rule
        blocks = _ip_block_peers(rule or {}, origin["direction"])
        if 0 <= origin["block"] < len(blocks):
            position, entry["ip_block"] = blocks[origin["block"]]
            entry["rule"] += ".{0}[{1}]".format(peers_key, position)
        if origin["protocol"]:
            entry["rule"] += " ({0})".format(origin["protocol"])
    elif origin:
        entry["rule"] = "default deny of namespace {0} ({1}, policyTypes: {2})".format(
            origin["namespace"], origin["type"], origin["direction"])
    return entry


def acl_cidrs(match, direction):
    """(cidr, [except]) an ACL match tests, or (None, []) for a match on all addresses."""
    side = PEERS[direction][2]
    cidr = re.search(_CIDR.format(side=side), match)
    excepts = re.search(_EXCEPT.format(side=side), match)
    return (cidr.group(1) if cidr else None,
            [item.strip() for item in excepts.group(1).split(",")] if excepts else [])


def _same_cidrs(left, right):
    try:
        return sorted(ipaddress.ip_network(c, strict=False) for c in left) == \
            sorted(ipaddress.ip_network(c, strict=False) for c in right)
    except ValueError:
        return sorted(left) == sorted(right)


def cidr_findings(policy, acls):
    """ACL CIDRs that differ from the policy's ipBlocks, in plain words."""
    findings, seen = [], set()
    for acl in acls:
        origin = acl_origin(acl)
        if not origin or origin["type"] != "rule" or origin["block"] < 0:
            continue
        direction, section = origin["direction"], PEERS[origin["direction"]]
        seen.add((direction, origin["index"], origin["block"]))
        blocks = _ip_block_peers(_rule(policy, direction, origin["index"]) or {}, direction)
        cidr, excepts = acl_cidrs(acl["match"], direction)
        if origin["block"] >= len(blocks):
            findings.append("ACL {0} ({1}) matches {2}, but spec.{3}[{4}] has no ipBlock peer {5} any more".format(
                acl.get("name"), acl["match"], cidr, section[0], origin["index"], origin["block"]))
            continue
        position, block = blocks[origin["block"]]
        if not _same_cidrs([cidr or ""], [block.get("cidr", "")]) or \
                not _same_cidrs(excepts, block.get("except") or []):
            findings.append("ACL {0} matches {1}{2}, but spec.{3}[{4}].{5}[{6}] says ipBlock {7}{8}".format(
                acl.get("name"), cidr, " except " + ", ".join(excepts) if excepts else "", section[0],
                origin["index"], section[1], position, block.get("cidr"),
                " except " + ", ".join(block["except"]) if block.get("except") else ""))
    for direction in PEERS:
        section = PEERS[direction]
        for index, rule in enumerate((policy.get("spec") or {}).get(section[0]) or []):
            for number, (position, block) in enumerate(_ip_block_peers(rule, direction)):
                if (direction, index, number) not in seen:
                    findings.append("spec.{0}[{1}].{2}[{3}] (ipBlock {4}) has no ACL".format(
                        section[0], index, section[1], position, block.get("cidr")))
    return findings


# --- policies -------------------------------------------------------------------------------

def selector_peer(policy):
    for direction in PEERS:
        section, peers_key = PEERS[direction][:2]
        for index, rule in enumerate((policy.get("spec") or {}).get(section) or []):
            for position, peer in enumerate(rule.get(peers_key) or []):
                if peer.get("podSelector") is not None or peer.get("namespaceSelector") is not None:
                    return "spec.{0}[{1}].{2}[{3}]".format(section, index, peers_key, position)
    return None


def refusal_reason(policy, network, multi_network_policy, log_lines):
    """Why a policy has no port group on any node, in plain words."""
    meta = policy["metadata"]
    if not multi_network_policy:
        reason = "useMultiNetworkPolicy is off in the Network operator config, so ovnkube applies no policy"
    elif not network["ipam"] and selector_peer(policy):
        reason = ("refused by OVN-Kubernetes: {0} is a podSelector/namespaceSelector peer, and {1} is "
                  "IPAM-less (no subnets), where only ipBlock peers are allowed").format(
                      selector_peer(policy), network["name"])
    else:
        reason = "OVN-Kubernetes has not applied it (not processed yet, or refused: see ovnkube-controller's log)"
    key = "MultiNetworkPolicy {0}/{1}".format(meta["namespace"], meta["name"])
    logged = [line.strip() for line in log_lines if key + "," in line or key + " " in line]
    return "no port group and no ACLs on any node: " + reason + \
        "".join("; ovnkube-controller logged: " + line for line in logged[-1:])


def _policy_groups(zones, namespace, name):
    key = "{0}/{1}".format(namespace, name)
    return {node: group for node, objects in zones.items() for group in objects["port_groups"].values()
            if group["policy"] == key}


def _deny_groups(zones, namespace, direction):
    """{node: default deny port group} of a namespace and direction, found by the group's own
    ids (4.18) or else its ACLs' ids (4.15)."""
    found = {}
    for node, objects in zones.items():
        for group in objects["port_groups"].values():
            if group["direction"] != direction or group["policy"]:
                continue
            if group["deny"] == namespace or group["deny"] is None and any(
                    (acl_origin(acl) or {}).get("namespace") == namespace for acl in group["acls"]):
                found[node] = group
    return found


def _merge_acls(groups, policy):
    """ACLs of a port group in every zone, listed once with the nodes that hold them."""
    merged = {}
    for node, group in sorted(groups.items()):
        for acl in group["acls"]:
            key = (acl["external_ids"].get(ID_KEY), acl["match"], acl["action"], acl["priority"])
            if key not in merged:
                merged[key] = (acl, group["name"], [])
            merged[key][2].append(node)
    return [describe_acl(acl, group, policy, nodes) for acl, group, nodes in
            sorted(merged.values(), key=lambda item: (item[0]["direction"], item[0]["priority"], item[0]["match"]))]


def policy_types(policy):
    return [t for t in (policy.get("spec") or {}).get("policyTypes") or [] if t in PEERS]


def inspect_policy(policy, network, zones, workloads, multi_network_policy, log_lines):
    meta = policy["metadata"]
    namespace, name = meta["namespace"], meta["name"]
    groups = _policy_groups(zones, namespace, name)
    entry = {"name": name, "namespace": namespace, "port_groups": sorted({g["name"] for g in groups.values()}),
             "acls": _merge_acls(groups, policy), "ports": [], "findings": []}
    if not groups:
        entry["findings"].append(refusal_reason(policy, network, multi_network_policy, log_lines))
        return entry
    entry["ports"] = [workloads[(node, port)] for node, group in sorted(groups.items()) for port in group["ports"]
                      if (node, port) in workloads]
    for direction in policy_types(policy):
        entry["acls"] += [acl for acl in _merge_acls(_deny_groups(zones, namespace, direction), policy)
                          if acl["direction"] == direction]
    if not entry["ports"]:
        entry["findings"].append("selects nothing on {0}: port group {1} has no ports on any node ({2})".format(
            network["name"], ", ".join(entry["port_groups"]),
            "podSelector " + json.dumps((policy.get("spec") or {}).get("podSelector") or {}, sort_keys=True)))
    seen, acls = set(), []
    for group in groups.values():
        for acl in group["acls"]:
            if acl["external_ids"].get(ID_KEY) not in seen:
                seen.add(acl["external_ids"].get(ID_KEY))
                acls.append(acl)
    entry["findings"] += cidr_findings(policy, acls)
    return entry


def is_deny_all(policy):
    """Selects every pod of its namespace and isolates a direction it allows nothing in."""
    spec = policy.get("spec") or {}
    return not (spec.get("podSelector") or {}) and any(
        not spec.get(PEERS[direction][0]) for direction in policy_types(policy))


def unprotected_findings(policies, zones, workloads):
    """Pods on the network in no port group while their namespace has a deny-all policy."""
    grouped = {(node, port) for node, objects in zones.items() for group in objects["port_groups"].values()
               for port in group["ports"]}
    deny_all = {}
    for policy in policies:
        if is_deny_all(policy):
            deny_all.setdefault(policy["metadata"]["namespace"], policy["metadata"]["name"])
    return ["{0} is in no port group although {1}/{2} denies all in its namespace: its traffic is not "
            "filtered on this network".format(_workload_name(entry), entry["namespace"], deny_all[entry["namespace"]])
            for key, entry in sorted(workloads.items()) if entry["namespace"] in deny_all and key not in grouped]


def node_findings(network, node, zone, mappings):
    findings = []
    if zone is not None and zone["switch"] is None:
        findings.append("node {0}: no logical switch of network {1} in its NB (k8s.ovn.org/network={1}, "
                        "topology localnet)".format(node, network["name"]))
    if mappings is not None and network["physical"] not in mappings:
        findings.append("node {0}: ovn-bridge-mappings ({1}) has no entry for {2}, so the network's localnet "
                        "port is not connected to a bridge there".format(
                            node, ",".join("{0}:{1}".format(k, v) for k, v in mappings.items()) or "empty",
                            network["physical"]))
    return findings


def inspect_network(network, nodes, policies, pods, multi_network_policy=True, log_lines=()):
    """Per-policy view and findings of one network.

    network: from network_of(); nodes: {node: {"nb": ovsdb.parse_nb(...) or None,
    "bridge_mappings": ovsdb.bridge_mappings(...) or None}}; policies: MultiNetworkPolicy objects
    (those not for this network are ignored); pods: pod objects (labels name the VMs);
    log_lines: ovnkube-controller log lines, to quote for refused policies."""
    zones = {node: zone_objects(data["nb"], network["name"]) for node, data in nodes.items() if data.get("nb")}
    pods_by_key = {"{0}/{1}".format(p["metadata"]["namespace"], p["metadata"]["name"]): p for p in pods}
    workloads = {(node, name): workload(port, node, pods_by_key) for node, objects in zones.items()
                 for name, port in objects["ports"].items() if port.get("type") != "localnet"}
    mine = sorted((p for p in policies if applies(p, network)),
                  key=lambda p: (p["metadata"]["namespace"], p["metadata"]["name"]))
    findings = [] if multi_network_policy else [
        "useMultiNetworkPolicy is off (Network.operator.openshift.io cluster): no MultiNetworkPolicy is enforced"]
    for node in sorted(nodes):
        findings += node_findings(network, node, zones.get(node), nodes[node].get("bridge_mappings"))
    if multi_network_policy:
        findings += unprotected_findings(mine, zones, workloads)
    return {"network": network, "switches": {node: objects["switch"] for node, objects in sorted(zones.items())},
            "ports": [workloads[key] for key in sorted(workloads)],
            "address_sets": [{"node": node, "name": row["name"], "addresses": row["addresses"]}
                             for node, objects in sorted(zones.items()) for row in objects["address_sets"]],
            "policies": [inspect_policy(p, network, zones, workloads, multi_network_policy, log_lines) for p in mine],
            "findings": findings}
