# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Flow changes (``flow_diff.connectivity_diff`` results) as text a person reads.

Pure: no Ansible, no I/O. A short list for ``--diff`` output and a Markdown comment for a
pull request.
"""

_VERBS = (("opened", "opens"), ("closed", "closes"))


def flow_name(flow):
    """'tinypod-02 -> gold-rabbit tcp/22'."""
    return "{0} -> {1} {2}".format(flow["from"], flow["to"], flow["traffic"])


def count_line(diff):
    """'1 flow opened, 1 closed, 0 allowed by other rules (judged for icmp, tcp/22)'."""
    return "{0} opened, {1} closed, {2} allowed by other rules (judged for {3})".format(
        _flows(_count(diff, "opened")), _count(diff, "closed"), len(diff.get("reason_changed", [])),
        ", ".join(diff["traffic"]))


def _count(diff, key):
    """How many flows changed so; ``<key>_count`` when the lists hold only the first ones."""
    return diff.get(key + "_count", len(diff[key]))


def _flows(count):
    return "{0} {1}".format(count, "flow" if count == 1 else "flows")


def summary_lines(diff):
    """['opens tinypod-02 -> gold-rabbit tcp/22', 'closes green-ferret -> gateway all'], and
    '... and 5 more closed' when the lists hold only the first ones."""
    lines = []
    for key, verb in _VERBS:
        lines.extend("{0} {1}".format(verb, flow_name(flow)) for flow in diff[key])
        more = _count(diff, key) - len(diff[key])
        if more:
            lines.append("... and {0} more {1}".format(more, key))
    return lines


def render_text(diff, title="Flows"):
    """A few lines: the counts, then '  opens ...' and '  closes ...' per flow."""
    lines = ["{0}: {1}".format(title, count_line(diff))] + ["  " + line for line in summary_lines(diff)]
    return "\n".join(lines) + "\n"


def render_markdown(diff, title="Connectivity changes"):
    """A pull-request comment: counts, then a table of opened and closed flows with the reasons
    on both sides, and the flows allowed by other rules, folded away."""
    lines = ["### {0}".format(_cell(title)), "", count_line(diff) + ".", ""]
    changed = [(verb, flow) for key, verb in _VERBS for flow in diff[key]]
    if changed:
        lines += ["| change | from | to | traffic | before | after |", "|---|---|---|---|---|---|"]
        lines += ["| {0} | {1} | {2} | `{3}` | {4} | {5} |".format(
            verb, _cell(flow["from"]), _cell(flow["to"]), flow["traffic"], _cell(flow["before"]),
            _cell(flow["after"])) for verb, flow in changed]
        lines.append("")
    else:
        lines += ["No flow opens or closes.", ""]
    if diff.get("reason_changed"):
        lines += ["<details><summary>Allowed by other rules ({0})</summary>".format(len(diff["reason_changed"])),
                  ""]
        lines += ["- `{0}`: {1} &rarr; {2}".format(flow_name(flow), _cell(flow["before"]), _cell(flow["after"]))
                  for flow in diff["reason_changed"]]
        lines += ["", "</details>", ""]
    lines += ["- warning: {0}".format(_cell(warning)) for warning in diff.get("warnings", [])]
    return "\n".join(lines).rstrip("\n") + "\n"


def _cell(text):
    """Text safe inside a Markdown table cell (no pipes, no line breaks, no raw HTML)."""
    return (str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("|", "\\|").replace("\n", " "))


def render_plan_markdown(plan, title="Connectivity changes"):
    """``flow_diff.plan_changes`` as one pull-request comment: the totals, then each intent."""
    opened = sum(len(entry["opened"]) for entry in plan)
    closed = sum(len(entry["closed"]) for entry in plan)
    intents = "intent" if len(plan) == 1 else "intents"
    lines = ["## {0}".format(_cell(title)), "",
             "{0} {1}: {2} opened, {3} closed.".format(len(plan), intents, _flows(opened), closed), "", ""]
    sections = [render_markdown(entry, title="Intent {0} (network {1})".format(entry["intent"], entry["network"]))
                for entry in plan]
    return "\n".join(lines) + "\n".join(sections)
