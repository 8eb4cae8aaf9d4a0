# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ovn-trace as a probe that needs no guest: which traces to run for each pair of endpoints, and
what OVN's verdict is, with the ACLs that decided it.

Pure: the zones (each node's Northbound objects of the network, `policy_map.zone_objects`) and
the endpoints (as `connectivity_info` returns them) in; per node, the shell scripts to run in its
`ovnkube-node` pod; their output in, one row per ordered pair out
(`{from, to, allowed, detail, acls}`, as the report reads probe rows).

A pair is traced as its first packet (ICMP echo request, or a TCP/UDP/SCTP packet to the port)
walks OVN's logical pipelines. OpenShift 4.14+ runs one OVN zone per node, so a packet between
two nodes crosses two zones, and each is traced where it is evaluated:
- the source's leg, on the source's node: `inport` = the source's logical switch port, out to
  the destination's port when it is on the same node, else to the localnet port (to the LAN);
- the destination's leg, on the destination's node when that differs (or when the source is an
  outside host): `inport` = the localnet port, out to the destination's port.
The pair is allowed when every leg is output where it should go. ACLs are stateful
(`allow-related`), so the reply of an allowed first packet passes and the request decides, as
for a ping or a TCP connect. Every connection-tracking lookup of the trace is `new`
(`--ct=new` once per `ct_next`: the from-lport and to-lport stages look the packet up in their
port's own conntrack zone, where it is new). Each trace is run `--detailed --minimal`:
`trace.parse_trace` reads the ports output to from the minimal part and the ACL flows hit from
the detailed part (ovn-org/ovn utilities/ovn-trace.8.xml, `--ct` and the output formats).
"""
import ipaddress
import re
import shlex

from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.errors import MultinetError
from ansible_collections.ocpvirt.multinet.plugins.module_utils.ovn import policy_map, trace
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.vocabulary import ICMP, parse_traffic

# An outside host's MAC is not known to the cluster; any unicast MAC no logical port holds is
# looked up as unknown and sent to the localnet port (addresses "unknown"), as the real one is.
OUTSIDE_MAC = "02:00:00:00:00:fe"
SOURCE_PORT = 40000          # the ephemeral port of a traced TCP/UDP/SCTP packet
TRACE_ARGS = ["ovn-trace", "--detailed", "--minimal", "--ct=new", "--ct=new"]
MARK = "@@@ovn-trace"
ACL_NAME_MAX = 63            # OVN-Kubernetes truncates ACL names to this length
MAX_SCRIPT = 100000          # one argv string must stay under Linux' 128 KiB (MAX_ARG_STRLEN)
_MARK_LINE = re.compile(r"^{0} (\S+)$".format(MARK))
_RC_LINE = re.compile(r"^{0}-rc (\S+) (\d+)$".format(MARK))


# --- where each endpoint is in OVN -------------------------------------------------------------

def logical_ports(zones):
    """{(namespace, pod): {node, port, mac}} of every workload port, and {node: {switch, localnet}}."""
    ports, switches = {}, {}
    for node, zone in sorted(zones.items()):
        localnet = [name for name, row in zone["ports"].items() if row.get("type") == "localnet"]
        switches[node] = {"switch": zone["switch"], "localnet": localnet[0] if localnet else None}
        for name, row in sorted(zone["ports"].items()):
            if row.get("type") == "localnet":
                continue
            entry = policy_map.workload(row, node, {})
            words = (entry["addresses"] or [""])[0].split()
            ports[(entry["namespace"], entry["pod"])] = {"node": node, "port": name,
                                                         "mac": words[0] if words else None}
    return ports, switches


def _place(endpoint, ports, unreadable):
    """The endpoint's logical port, "outside", or the reason it has none. ``unreadable``:
    {node: why its Northbound database could not be read}, so that a port on such a node is
    not reported missing."""
    if endpoint.get("kind") == "outside":
        return "outside"
    found = ports.get((endpoint.get("namespace"), endpoint.get("pod")))
    if found is None and endpoint.get("node") in unreadable:
        return "the OVN databases of node {0}, where {1} runs, could not be read: {2}".format(
            endpoint["node"], endpoint["name"], unreadable[endpoint["node"]])
    if found is None and unreadable and endpoint.get("pod") and not endpoint.get("node"):
        return "{0} has no logical switch port in the Northbound databases that could be read; not read: {1}".format(
            endpoint["name"], "; ".join("node {0}: {1}".format(node, why) for node, why in sorted(unreadable.items())))
    if found is None:
        return "{0} has no logical switch port on this network in any node's Northbound database{1}".format(
            endpoint["name"], "" if endpoint.get("pod") else " (no running pod)")
    if not found["mac"]:
        return "logical switch port {0} of {1} has no MAC address".format(found["port"], endpoint["name"])
    return found


# --- the traces ------------------------------------------------------------------------------

def microflow(inport, source_mac, target_mac, source_ip, target_ip, traffic):
    """The ovn-trace microflow of a pair's first packet."""
    family = "ip6" if ipaddress.ip_address(target_ip).version == 6 else "ip4"
    words = ['inport == "{0}"'.format(inport), "eth.src == " + source_mac, "eth.dst == " + target_mac,
             "{0}.src == {1}".format(family, source_ip), "{0}.dst == {1}".format(family, target_ip), "ip.ttl == 64"]
    if traffic is None:
        words.append("icmp6.type == 128" if family == "ip6" else "icmp4.type == 8 && icmp4.code == 0")
    else:
        protocol = traffic[0].lower()
        words += ["{0}.src == {1}".format(protocol, SOURCE_PORT), "{0}.dst == {1}".format(protocol, traffic[1])]
    return " && ".join(words)


def _leg(node, switches, inport, expect, source_mac, target_mac, source, target, traffic):
    switch = switches.get(node) or {}
    if not switch.get("switch") or not switch.get("localnet"):
        return "node {0} has no logical switch (or no localnet port) of this network".format(node)
    return {"node": node, "switch": switch["switch"], "inport": inport or switch["localnet"],
            "expect": expect or switch["localnet"],
            "flow": microflow(inport or switch["localnet"], source_mac, target_mac, source["ip"], target["ip"], traffic)}


def pair_legs(source, target, ports, switches, traffic, unreadable=None):
    """The traces a pair needs ([leg]), or the reason it cannot be traced (a string)."""
    here, there = _place(source, ports, unreadable or {}), _place(target, ports, unreadable or {})
    for place in (here, there):
        if isinstance(place, str) and place != "outside":
            return place
    if here == "outside" and there == "outside":
        return "two outside hosts: no OVN pipeline between them"
    target_mac = OUTSIDE_MAC if there == "outside" else there["mac"]
    legs = []
    if here != "outside":
        same_node = there != "outside" and there["node"] == here["node"]
        legs.append(_leg(here["node"], switches, here["port"], there["port"] if same_node else None,
                         here["mac"], target_mac, source, target, traffic))
        if same_node or there == "outside":
            return legs[0] if isinstance(legs[0], str) else legs
    legs.append(_leg(there["node"], switches, None, there["port"], OUTSIDE_MAC if here == "outside" else here["mac"],
                     target_mac, source, target, traffic))
    problems = [leg for leg in legs if isinstance(leg, str)]
    return problems[0] if problems else legs


def plan(endpoints, zones, ports=(ICMP,), unreadable=None):
    """Every ordered pair (at least one side in the cluster) for every kind of traffic.

    Returns [{from, to, port, legs: [{id, node, switch, inport, expect, flow}] or None, skip}]
    where `id` names each trace in its node's batch. `unreadable`: {node: why its databases could
    not be read}; a pair with an endpoint there is skipped with that reason (an endpoint's
    `node`, as connectivity_info returns it, says where it runs)."""
    workload_ports, switches = logical_ports(zones)
    steps, count = [], 0
    for port in ports:
        traffic = parse_traffic(port, "ports")
        for source in endpoints:
            for target in endpoints:
                if target is source or source.get("kind") == target.get("kind") == "outside":
                    continue
                legs = pair_legs(source, target, workload_ports, switches, traffic, unreadable)
                step = {"from": source["name"], "to": target["name"], "port": port, "legs": None, "skip": None}
                if isinstance(legs, str):
                    step["skip"] = legs
                else:
                    for leg in legs:
                        count += 1
                        leg["id"] = "t{0}".format(count)
                    step["legs"] = legs
                steps.append(step)
    return steps


def trace_command(leg):
    return " ".join(shlex.quote(word) for word in TRACE_ARGS + [leg["switch"], leg["flow"]])


def batches(steps):
    """{node: [argv]}: `sh -c` scripts running that node's traces one after the other, each output
    between marks; several scripts only when one would pass the kernel's argument size limit."""
    scripts = {}
    for step in steps:
        for leg in step["legs"] or []:
            line = "echo {0} {1}; {2} 2>&1; echo {0}-rc {1} $?".format(MARK, leg["id"], trace_command(leg))
            node_scripts = scripts.setdefault(leg["node"], [[]])
            if sum(len(item) + 1 for item in node_scripts[-1]) + len(line) > MAX_SCRIPT:
                node_scripts.append([])
            node_scripts[-1].append(line)
    return {node: [["sh", "-c", "\n".join(lines)] for lines in parts] for node, parts in sorted(scripts.items())}


def parse_batch(text):
    """{id: {"rc", "text"}} from a batch's output."""
    found, current, lines = {}, None, []
    for line in text.splitlines():
        mark, end = _MARK_LINE.match(line), _RC_LINE.match(line)
        if mark:
            current, lines = mark.group(1), []
        elif end and end.group(1) == current:
            found[current] = {"rc": int(end.group(2)), "text": "\n".join(lines)}
            current = None
        elif current is not None:
            lines.append(line)
    return found


# --- verdicts --------------------------------------------------------------------------------

def describe_acl(flow, acls):
    """An ACL flow of a trace, named after the Northbound ACL it was built from."""
    acl = trace.deciding_acl({"acl": flow}, acls)
    text = "{0} {1} `{2}`".format(flow["stage"], flow["priority"], flow["match"])
    if acl is None:
        return text
    return "{0} ({1}, {2} {3} `{4}`)".format(acl_label(acl), acl["action"], acl["direction"], acl["priority"],
                                             acl["match"])


def acl_label(acl):
    """The ACL's name, or its `k8s.ovn.org/id` when OVN-Kubernetes cut the name at 63 characters
    (go-controller/pkg/libovsdb/util/acl.go BuildACL) or gave none."""
    name = acl.get("name") or ""
    identifier = (acl.get("external_ids") or {}).get(policy_map.ID_KEY)
    return identifier if identifier and (not name or len(name) >= ACL_NAME_MAX) else name


def leg_outcome(leg, result, acls):
    """(delivered as it should: bool or None, text, [ACL descriptions])."""
    where = "on {0}".format(leg["node"])
    if result is None:
        return None, "no ovn-trace output {0}".format(where), []
    if result["rc"]:
        last = [line for line in result["text"].splitlines() if line.strip()]
        return None, "ovn-trace {0} exited {1}: {2}".format(where, result["rc"], last[-1] if last else ""), []
    parsed = trace.parse_trace(result["text"])
    flows = parsed.get("acls") or []
    named = [describe_acl(flow, acls) for flow in flows]
    if leg["expect"] in parsed["outputs"]:
        return True, "{0} output to {1}{2}".format(where, leg["expect"],
                                                   ", allowed by " + "; ".join(named) if named else ", no ACL applies"), named
    if parsed["outputs"]:
        return False, "{0} output to {1}, not to {2}".format(where, ", ".join(parsed["outputs"]), leg["expect"]), named
    return False, "{0} dropped {1}".format(where, "by " + named[-1] if named else "before any ACL"), named[-1:]


def verdicts(steps, outputs, acls_by_node, errors=None):
    """[{port, rows: [{from, to, allowed, detail, acls}]}] in the order of the plan's ports.

    outputs: {node: parse_batch() merged}; acls_by_node: {node: NB ACL rows}; errors: {node: why
    its batch could not run}."""
    errors = errors or {}
    results = {}
    for step in steps:
        row = {"from": step["from"], "to": step["to"], "allowed": None, "detail": "", "acls": []}
        if step["skip"]:
            row["detail"] = "not traced: " + step["skip"]
        else:
            outcomes = []
            for leg in step["legs"]:
                if leg["node"] in errors:
                    outcomes.append((None, "not traced on {0}: {1}".format(leg["node"], errors[leg["node"]]), []))
                    break
                outcomes.append(leg_outcome(leg, (outputs.get(leg["node"]) or {}).get(leg["id"]),
                                            acls_by_node.get(leg["node"]) or []))
                if outcomes[-1][0] is not True:
                    break
            allowed = [outcome[0] for outcome in outcomes]
            row["allowed"] = None if None in allowed else all(allowed)
            row["detail"] = "{0}: {1}".format({True: "OVN delivers it", False: "OVN drops it",
                                               None: "not traced"}[row["allowed"]],
                                              "; ".join(outcome[1] for outcome in outcomes))
            row["acls"] = [name for outcome in outcomes for name in outcome[2]]
        results.setdefault(step["port"], []).append(row)
    return [{"port": port, "rows": rows} for port, rows in results.items()]


def check_endpoints(endpoints):
    """Endpoints must be mappings with a name and an ip (as connectivity_info returns them)."""
    for index, endpoint in enumerate(endpoints or []):
        if not isinstance(endpoint, dict) or not endpoint.get("name") or not endpoint.get("ip"):
            raise MultinetError("must be an endpoint with a name and an ip (connectivity_info's endpoints)",
                                "endpoints[{0}]".format(index), endpoint)
        try:
            ipaddress.ip_address(endpoint["ip"])
        except ValueError:
            raise MultinetError("is not an IP address", "endpoints[{0}].ip".format(index), endpoint["ip"])
