# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The inspection report: what ovn_policy_info read, joined up per policy as
rule -> ACLs -> ports (what the seed's manual ovn-nbctl session assembles by eye), then the
findings in plain words.

Pure: module results in, documents out. ``build`` lays the report out once as a list of blocks
(heading, paragraph, list, table) and renders that list twice, as Markdown and as one
self-contained HTML page, so both say the same; ``findings`` flattens every finding with the
network and policy it belongs to, for a failing task.
"""
import html
import json
import re

from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.errors import MultinetError

# spec.egress[0].to[2] (tcp): the rule, then the peer and protocol the ACL was built for
RULE = re.compile(r"^(spec\.(?:ingress|egress)\[\d+\])\.?(.*)$")
ACL_HEADERS = ["Peer (or what it is for)", "Direction", "Priority", "Match", "Action", "Nodes"]
PORT_HEADERS = ["Workload", "Node", "Port", "Addresses"]


# --- what the report says -----------------------------------------------------------------

def build(data):
    """{title, networks: [ovn_policy_info results]} -> {markdown, html, findings, summary, failed}."""
    if not isinstance(data, dict) or not isinstance(data.get("networks"), list):
        raise MultinetError("must be a mapping with a list of ovn_policy_info results", "networks", data)
    networks = [_checked(result, "networks[{0}]".format(index)) for index, result in enumerate(data["networks"])]
    title = data.get("title") or "OVN inspection"
    flat = [item for network in networks for item in findings(network)]
    summary = {"networks": len(networks), "policies": sum(len(n["policies"]) for n in networks),
               "findings": len(flat)}
    blocks = [("h", 1, title), ("p", _summary_text(summary))]
    for network in networks:
        blocks += network_blocks(network)
    return {"markdown": render_markdown(blocks), "html": render_html(title, blocks), "findings": flat,
            "summary": summary, "failed": bool(flat), "text": "\n".join(_finding_line(item) for item in flat)}


def _checked(result, field):
    if not isinstance(result, dict) or not isinstance(result.get("network"), dict) or "policies" not in result:
        raise MultinetError("must be an ovn_policy_info result (network, policies, findings)", field,
                            (result or {}).get("msg") if isinstance(result, dict) else result)
    return result


def findings(network):
    """Every finding of one network: [{network, policy (None for the network's own), finding}]."""
    nad = network["network"].get("nad")
    own = [{"network": nad, "policy": None, "finding": text} for text in network.get("findings") or []]
    return own + [{"network": nad, "policy": "{0}/{1}".format(policy["namespace"], policy["name"]), "finding": text}
                  for policy in network["policies"] for text in policy.get("findings") or []]


def _finding_line(item):
    where = "policy " + item["policy"] if item["policy"] else "network"
    return "- {0}, {1}: {2}".format(item["network"], where, item["finding"])


def _summary_text(summary):
    return "{0} network(s), {1} MultiNetworkPolicy(ies), {2} finding(s).".format(
        summary["networks"], summary["policies"], summary["findings"])


def network_blocks(network):
    net = network["network"]
    blocks = [("h", 2, "Network {0}".format(net.get("nad"))),
              ("p", "OVN network {0}, bridge mapping name {1}, {2}; NADs: {3}.".format(
                  _code(net.get("name")), _code(net.get("physical")), "with IPAM (subnets)" if net.get("ipam") else "IPAM-less",
                  ", ".join(net.get("nads") or []))),
              ("ul", ["{0}: switch {1}".format(node, _code(switch) if switch else "none")
                      for node, switch in sorted((network.get("switches") or {}).items())]
               or ["no node was read"])]
    for policy in network["policies"]:
        blocks += policy_blocks(policy)
    blocks.append(("h", 3, "Findings"))
    items = findings(network)
    blocks.append(("ul", ["{0}: {1}".format("policy " + i["policy"] if i["policy"] else "network", i["finding"])
                          for i in items]) if items else ("p", "None: OVN-Kubernetes made what the policies say."))
    return blocks


def policy_blocks(policy):
    blocks = [("h", 3, "Policy {0}/{1}".format(policy["namespace"], policy["name"])),
              ("p", "Port group(s): {0}.".format(", ".join(_code(g) for g in policy.get("port_groups") or [])
                                                 or "none"))]
    for rule, acls in group_acls(policy.get("acls") or []):
        blocks.append(("h", 4, rule["title"]))
        if rule.get("spec") is not None:
            blocks.append(("p", _code(json.dumps(rule["spec"], sort_keys=True))))
        blocks.append(("table", ACL_HEADERS, [acl_row(acl) for acl in acls]))
    blocks.append(("h", 4, "Ports (the pods and VMs it selects)"))
    ports = policy.get("ports") or []
    blocks.append(("table", PORT_HEADERS, [port_row(port) for port in ports]) if ports else ("p", "none"))
    items = policy.get("findings") or []
    blocks.append(("ul", ["Finding: " + text for text in items]) if items else ("p", "Findings: none."))
    return blocks


def group_acls(acls):
    """[(rule, [acls])] in first-seen order: the policy's own rules (spec.ingress[0], ...), then
    the namespace's default deny, then ACLs traced to no rule."""
    groups = {}
    for acl in acls:
        match = RULE.match(acl.get("rule") or "")
        if match:
            key = (0, match.group(1))
            rule = {"title": "Rule " + match.group(1), "spec": acl.get("rule_spec")}
        elif acl.get("rule"):
            key = (1, "default deny")
            rule = {"title": "Default deny of the namespace (its policyTypes)", "spec": None}
        else:
            key = (2, "other")
            rule = {"title": "ACLs traced to no rule", "spec": None}
        groups.setdefault(key, (rule, []))[1].append(acl)
    return [groups[key] for key in sorted(groups, key=lambda k: k[0])]


def acl_row(acl):
    match = RULE.match(acl.get("rule") or "")
    if match:  # "to[2]", "to[2] (tcp)"; no peer: the rule's every peer ("(tcp)", "")
        rest = match.group(2).strip()
        peer = rest if rest[:1] not in ("", "(") else ("all peers " + rest).strip()
    else:
        peer = acl.get("rule") or acl.get("name") or ""
    return [peer, "{0} ({1})".format(acl.get("direction"), acl.get("ovn_direction")),
            str(acl.get("priority")), _code(acl.get("match")), acl.get("action"), ", ".join(acl.get("nodes") or [])]


def port_row(port):
    workload = "VM {0}/{1}".format(port.get("namespace"), port["vm"]) if port.get("vm") else \
        "pod {0}/{1}".format(port.get("namespace"), port.get("pod"))
    return [workload, port.get("node"), _code(port.get("port")), ", ".join(port.get("addresses") or [])]


def _code(text):
    """Inline code, marked so each renderer can set it its way."""
    return "\x00{0}\x00".format(text)


# --- rendering ---------------------------------------------------------------------------

def render_markdown(blocks):
    out = []
    for block in blocks:
        kind = block[0]
        if kind == "h":
            out.append("#" * block[1] + " " + _md(block[2]))
        elif kind == "p":
            out.append(_md(block[1]))
        elif kind == "ul":
            out.append("\n".join("- " + _md(item) for item in block[1]))
        else:
            headers, rows = block[1], block[2]
            lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
            lines += ["| " + " | ".join(_md(cell, table=True) for cell in row) + " |" for row in rows]
            out.append("\n".join(lines))
    return "\n\n".join(out) + "\n"


def _md(text, table=False):
    parts = str(text).split("\x00")
    # odd parts are code: backticks around them; a pipe in a table cell is escaped even in code
    rendered = "".join("`{0}`".format(part) if index % 2 else part for index, part in enumerate(parts))
    return rendered.replace("|", "\\|") if table else rendered


def render_html(title, blocks):
    """One self-contained page: no scripts, no external assets, every text escaped."""
    body = []
    for block in blocks:
        kind = block[0]
        if kind == "h":
            body.append("<h{0}>{1}</h{0}>".format(block[1], _html(block[2])))
        elif kind == "p":
            body.append("<p>{0}</p>".format(_html(block[1])))
        elif kind == "ul":
            body.append("<ul>" + "".join("<li>{0}</li>".format(_html(item)) for item in block[1]) + "</ul>")
        else:
            head = "".join("<th>{0}</th>".format(_html(h)) for h in block[1])
            rows = "".join("<tr>" + "".join("<td>{0}</td>".format(_html(cell)) for cell in row) + "</tr>"
                           for row in block[2])
            body.append("<table><thead><tr>{0}</tr></thead><tbody>{1}</tbody></table>".format(head, rows))
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{0}</title>"
            "<style>{1}</style></head><body>\n{2}\n</body></html>\n").format(html.escape(title), _CSS, "\n".join(body))


def _html(text):
    parts = str(text).split("\x00")
    return "".join("<code>{0}</code>".format(html.escape(part)) if index % 2 else html.escape(part)
                   for index, part in enumerate(parts))


_CSS = ("body{font-family:sans-serif;margin:2em;max-width:80em}table{border-collapse:collapse;margin:.5em 0}"
        "th,td{border:1px solid #ccc;padding:.2em .5em;text-align:left;vertical-align:top}"
        "code{background:#f4f4f4}h3{border-top:1px solid #ddd;padding-top:.5em}")
