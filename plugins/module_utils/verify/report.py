# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Expected vs simulated vs probed vs traced connectivity: the comparison and its three renderings.

Pure: rows in, strings out. ``compare`` lines up the verdicts of every ordered pair;
``render_html`` draws a self-contained page a reviewer can print (a header naming the run's date,
cluster and revision, a table of the disagreements, per kind of traffic a matrix with a colour
and a how-known mark per cell and an inline SVG graph of the allowed flows, and every pair with
its reasons), ``render_junit`` one testcase per pair for CI, ``render_table`` the plain-text
table of disagreements for a failing task.

A report is ``{title, date, cluster, sections}``: ``date`` a ``datetime`` in UTC or None,
``cluster`` a label or None, one section per intent (or network): ``{name, network, endpoints,
probe, trace, warnings, revision, checks: [{port, rows}]}`` where ``rows`` are ``compare`` output,
``probe`` and ``trace`` are ``{enabled, reason}`` and ``revision`` ``{intent, policies,
policy_count}`` (module_utils/verify/revision.py) or None.
"""
import datetime
import hashlib
import html
import math
import urllib.parse
import xml.etree.ElementTree as ET

from ansible_collections.ocpvirt.multinet.plugins.module_utils.verify import probe_outcome
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.errors import MultinetError

PASS, FAIL = "pass", "fail"
VERDICTS = ("expected", "simulated", "probed", "traced")
KIND_COLOURS = {"pod": "#2f6fb3", "vm": "#7a4fb3", "vmi": "#7a4fb3", "outside": "#6b6b6b"}
# How a cell's verdict is known: the mark in the matrix and its meaning in the legend.
KNOWN_MARKS = {"probed": ("P", "probed: a packet was sent, from a pod or a VM guest"),
               "traced": ("T", "traced: OVN's own verdict (ovn-trace), no packet sent"),
               "simulated": ("S", "simulated only: neither probed nor traced")}
# Where a probe ran (the plan step's ``via``), as the header says it.
PROBE_SOURCES = {"pod": "pods", "guest": "VM guests"}


# --- comparison ------------------------------------------------------------------------------

def compare(expected=None, simulated=None, probed=None, traced=None):
    """Merge row lists ({from, to, allowed, reason|detail}) into one row per ordered pair.

    The reference verdict is the expected one when there is an intent, else the simulated one;
    a pair fails when the simulation disagrees with the intent, or when a probe ran (or OVN's
    trace gave a verdict) and disagrees with the reference. Pairs keep the order in which they
    first appear; a traced row only adds a verdict to a pair the others have.
    """
    sources = {"expected": expected or [], "simulated": simulated or [], "probed": probed or []}
    merged = {}
    for kind, rows in sources.items():
        for index, row in enumerate(rows):
            key = _pair(row, "{0}[{1}]".format(kind, index))
            entry = merged.setdefault(key, {"from": key[0], "to": key[1], "expected": None,
                                            "simulated": None, "probed": None, "traced": None})
            entry[kind] = row.get("allowed")
            entry[kind + "_reason"] = row.get("reason") or row.get("detail") or ""
            if kind == "probed":
                entry["probed_via"] = row.get("via")
    for index, row in enumerate(traced or []):
        entry = merged.get(_pair(row, "traced[{0}]".format(index)))
        if entry is not None:
            entry["traced"] = row.get("allowed")
            entry["traced_reason"] = row.get("detail") or row.get("reason") or ""
    return [_judge(entry, expected is not None) for entry in merged.values()]


def _pair(row, field):
    if not isinstance(row, dict) or not row.get("from") or not row.get("to"):
        raise MultinetError("must be a row with from, to and allowed", field, row)
    if row.get("allowed") not in (True, False, None):
        raise MultinetError("allowed must be true, false or null", field + ".allowed", row.get("allowed"))
    return row["from"], row["to"]


def _judge(entry, has_intent):
    problems = []
    reference = entry["expected"] if has_intent else entry["simulated"]
    if has_intent and entry["expected"] is None:
        problems.append("not in the expected matrix")
    elif has_intent and entry["simulated"] is None:
        problems.append("not in the simulated matrix")
    elif has_intent and entry["expected"] != entry["simulated"]:
        problems.append("the live policies {0} what the intent {1}".format(
            _verb(entry["simulated"]), _verb(entry["expected"], past=True)))
    if entry["probed"] is not None and reference is not None and entry["probed"] != reference:
        problems.append("the probe {0} what the {1} {2}".format(
            "got through" if entry["probed"] else "was blocked",
            "intent" if has_intent else "simulation", _verb(reference, past=True)))
    if entry["traced"] is not None and reference is not None and entry["traced"] != reference:
        problems.append("OVN's trace {0} what the {1} {2}".format(
            "delivers" if entry["traced"] else "drops",
            "intent" if has_intent else "simulation", _verb(reference, past=True)))
    entry["status"] = FAIL if problems else PASS
    entry["problems"] = problems
    return entry


def _verb(allowed, past=False):
    if past:
        return "allowed" if allowed else "denied"
    return "allow" if allowed else "deny"


def summary(checks):
    """Counts over all checks: pairs, failures, probes run and pairs traced."""
    rows = [row for check in checks for row in check["rows"]]
    return {"pairs": len(rows), "failures": sum(r["status"] == FAIL for r in rows),
            "probed": sum(r["probed"] is not None for r in rows),
            "traced": sum(r.get("traced") is not None for r in rows)}


def port_label(port):
    return port if port else "icmp"


def known_from(row):
    """How the pair's verdict is known: ["probed"], ["traced"], both, or ["simulated"]."""
    return [kind for kind in ("probed", "traced") if row.get(kind) is not None] or ["simulated"]


def probe_sources(rows):
    """{via: pairs with a probed verdict}, via ``pod``, ``guest`` or None (the rows do not say)."""
    counts = {}
    for row in rows:
        if row["probed"] is not None:
            via = row.get("probed_via") if row.get("probed_via") in PROBE_SOURCES else None
            counts[via] = counts.get(via, 0) + 1
    return counts


def build(data):
    """Compare every check of every section and render everything once.

    data: {title, date, cluster, sections: [section]} or a single section, where a section is
    {name, network, endpoints, probe, trace, warnings, revision, checks: [{port, expected,
    simulated, probed, traced}]}; instead of ``probed`` rows a check may give ``probes`` (the
    plan) and ``runs`` (exec results). ``date`` is an ISO 8601 time in UTC, ``cluster``
    {name, server}, ``revision`` {intent, policies, policy_count}; each may be left out.
    Returns {sections: [{name, network, checks: [{port, rows}]}], summary, failed, table, html,
    junit, fingerprint}: the fingerprint is a digest of the HTML and JUnit rendered without the
    date, so two runs that differ only in their date have the same one.
    """
    if not isinstance(data, dict):
        raise MultinetError("must be a mapping", "report", data)
    raw_sections = data.get("sections") if "sections" in data else [data]
    if not isinstance(raw_sections, list) or not raw_sections:
        raise MultinetError("must be a non-empty list", "report.sections", raw_sections)
    sections = [_section(raw, "report.sections[{0}]".format(i)) for i, raw in enumerate(raw_sections)]
    report = {"title": data.get("title") or sections[0]["name"], "sections": sections,
              "date": parse_date(data.get("date"), "report.date"),
              "cluster": cluster_label(data.get("cluster"), "report.cluster")}
    checks = [check for section in sections for check in section["checks"]]
    totals = summary(checks)
    undated = dict(report, date=None)
    report["fingerprint"] = "sha256:" + hashlib.sha256(
        (render_html(undated) + render_junit(undated)).encode("utf-8")).hexdigest()
    return {"sections": [{k: s[k] for k in ("name", "network", "checks")} for s in sections],
            "summary": totals, "failed": totals["failures"] > 0, "fingerprint": report["fingerprint"],
            "table": render_table(sections), "html": render_html(report), "junit": render_junit(report)}


def parse_date(value, field):
    """An ISO 8601 time with a zero UTC offset (``2026-12-06T07:05:36Z``) as an aware datetime."""
    if value is None:
        return None
    try:
        moment = datetime.datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None or moment.utcoffset() != datetime.timedelta(0):
        raise MultinetError("must be an ISO 8601 time in UTC, such as 2026-12-06T07:05:36Z", field, value)
    return moment.astimezone(datetime.timezone.utc)


def cluster_label(value, field):
    """``name (server)`` from {name, server}, the server without credentials, query or fragment."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise MultinetError("must be a mapping with the keys name and server", field, type(value).__name__)
    for key in value:
        if key not in ("name", "server"):
            # Only the key is named: the value of a key nobody asked for may be a token.
            raise MultinetError("is not a field of the cluster, which takes name and server", field, key)
        if value[key] is not None and not isinstance(value[key], str):
            raise MultinetError("must be a string", "{0}.{1}".format(field, key), type(value[key]).__name__)
    name, server = value.get("name") or "", public_url(value.get("server") or "")
    if name and server:
        return "{0} ({1})".format(name, server)
    return name or server or None


def public_url(url):
    """The URL without user, password, query or fragment: what may be shown of an API server."""
    if not url:
        return url
    parts = urllib.parse.urlsplit(str(url).strip())
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))


def _section(raw, field):
    if not isinstance(raw, dict) or not isinstance(raw.get("checks"), list):
        raise MultinetError("must be a mapping with a list of checks", field, raw)
    if not raw.get("network"):
        raise MultinetError("is required", field + ".network", raw.get("network"))
    probe = raw.get("probe") or {}
    disabled = None if probe.get("enabled") else (probe.get("reason") or "probing is off")
    checks = []
    for check in raw["checks"]:
        probed = check.get("probed")
        if probed is None and check.get("probes"):
            probed = probe_rows(check["probes"], check.get("runs") or [], disabled) + \
                outside_rows(raw.get("endpoints"), check.get("simulated"))
        checks.append({"port": check.get("port"),
                       "rows": compare(check.get("expected"), check.get("simulated"), probed, check.get("traced"))})
    return dict(raw, name=raw.get("name") or raw["network"], checks=checks,
                revision=_revision(raw.get("revision"), field + ".revision"))


def _revision(raw, field):
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise MultinetError("must be a mapping with the keys intent, policies and policy_count", field, raw)
    for key in ("intent", "policies"):
        if raw.get(key) is not None and not isinstance(raw[key], str):
            raise MultinetError("must be a digest string or null", "{0}.{1}".format(field, key), raw[key])
    count = raw.get("policy_count")
    if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 0):
        raise MultinetError("must be a number of policies or null", field + ".policy_count", count)
    return {"intent": raw.get("intent"), "policies": raw.get("policies"), "policy_count": count}


def probe_rows(plan, runs, disabled_reason=None):
    """Probed rows from a probe plan (connectivity_info's ``probes``) and the exec results.

    runs are registered loop results of ``kubernetes.core.k8s_exec`` over plan items (each
    with ``item``, ``rc``, ``stdout``, ``stderr``, ``msg``, and ``note``). What the exit code and
    output say is ``probe_outcome.read``'s: got through, reached (refused), blocked, rejected,
    or no verdict (unreachable, tool missing).
    """
    by_pair = {}
    for run in runs:
        item = run.get("item") or {}
        by_pair[(item.get("from"), item.get("to"), item.get("port"))] = run
    rows = []
    for step in plan:
        allowed, detail = _probe_outcome(step, by_pair.get((step["from"], step["to"], step["port"])),
                                         disabled_reason)
        rows.append({"from": step["from"], "to": step["to"], "allowed": allowed, "detail": detail,
                     "via": "guest" if step.get("via") == "guest" else "pod"})
    return rows


def outside_rows(endpoints, simulated):
    """Unprobed rows, with the reason, for the simulated pairs that start at an outside host.

    The probe plan has no steps for them: no cluster API runs a command on a host outside the
    cluster, so the report says so instead of leaving the pair silently unprobed.
    """
    outside = {e.get("name") for e in endpoints or [] if e.get("kind") == "outside"}
    return [{"from": row["from"], "to": row["to"], "allowed": None,
             "detail": "not probed: {0} is outside the cluster, where no cluster API runs "
                       "commands".format(row["from"])}
            for row in simulated or [] if row.get("from") in outside]


def _probe_outcome(step, run, disabled_reason):
    if disabled_reason or step.get("skip"):
        return None, "not probed: {0}".format(disabled_reason or step["skip"])
    if run is None or run.get("skipped"):
        return None, "not probed: no result"
    if run.get("no_verdict"):
        return None, "not probed: {0}".format(run["no_verdict"])
    if run.get("rc") is None:
        return None, "exec into {0} failed: {1}".format(step.get("pod"), run.get("msg") or "no exit code")
    output = _last_line(run.get("stderr")) or _last_line(run.get("stdout"))
    where = "the guest of {0}".format(step.get("vm")) if step.get("via") == "guest" else "pod {0}".format(step.get("pod"))
    outcome = probe_outcome.read(step.get("port"), run["rc"], output, step.get("target_ip"))
    if outcome.name == probe_outcome.NO_TOOL:
        return None, "probe tool missing in {0}: {1}".format(where, output)
    return outcome.allowed, "{0}: `{1}` in {2} exited {3}{4}{5}".format(
        outcome.words if outcome.allowed is not None else "not probed: " + outcome.words, step.get("command"),
        where, run["rc"], " ({0})".format(output) if output else "", "; " + run["note"] if run.get("note") else "")


def _last_line(text):
    lines = [line for line in str(text or "").splitlines() if line.strip()]
    return lines[-1].strip() if lines else ""


# --- text ------------------------------------------------------------------------------------

def render_table(sections, only_failures=True):
    """A fixed-width table of pairs (by default only the failing ones) for task output."""
    header = ("CHECK", "FROM", "TO", "EXPECTED", "SIMULATED", "PROBED", "TRACED", "WHY")
    lines = [header]
    for section in sections:
        for check in section["checks"]:
            for row in check["rows"]:
                if only_failures and row["status"] == PASS:
                    continue
                lines.append(("{0} {1}".format(section["name"], port_label(check.get("port"))),
                              row["from"], row["to"], _word(row["expected"]), _word(row["simulated"]),
                              _word(row["probed"]), _word(row.get("traced")), "; ".join(row["problems"]) or "ok"))
    widths = [max(len(str(line[i])) for line in lines) for i in range(len(header) - 1)]
    return "\n".join(
        "  ".join(str(cell).ljust(width) for cell, width in zip(line, widths)) + "  " + line[-1]
        for line in lines
    )


def _word(value):
    return {True: "allow", False: "deny", None: "-"}[value]


# --- JUnit -----------------------------------------------------------------------------------

def render_junit(report):
    """JUnit XML: a testsuite per section and traffic kind, a testcase per ordered pair, each
    testsuite with the run's date (``timestamp``), cluster (``hostname``) and revision."""
    checks = [c for section in report["sections"] for c in section["checks"]]
    total = summary(checks)
    suites = ET.Element("testsuites", name=report.get("title") or "connectivity",
                        tests=str(total["pairs"]), failures=str(total["failures"]))
    for section in report["sections"]:
        for check in section["checks"]:
            label = port_label(check.get("port"))
            rows = check["rows"]
            suite = ET.SubElement(suites, "testsuite", name="{0} {1}".format(section["name"], label),
                                  tests=str(len(rows)),
                                  failures=str(sum(r["status"] == FAIL for r in rows)))
            if report.get("date"):
                # JUnit's timestamp has no zone; the date property says UTC.
                suite.set("timestamp", report["date"].strftime("%Y-%m-%dT%H:%M:%S"))
            if report.get("cluster"):
                suite.set("hostname", report["cluster"])
            properties = ET.SubElement(suite, "properties")
            for name, value in _run_facts(report, section, rows):
                ET.SubElement(properties, "property", name=name, value=value)
            for row in rows:
                _testcase(suite, row, section["name"], label)
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def _run_facts(report, section, rows):
    """(name, text) of what the run compared, for a testsuite's properties."""
    facts = [("date", _date_text(report.get("date"))), ("cluster", report.get("cluster") or "not given"),
             ("revision", _revision_text(section.get("revision"))),
             ("probed", _probe_text(section.get("probe"), rows)),
             ("traced", _trace_text(section.get("trace"), rows))]
    if report.get("fingerprint"):
        facts.append(("fingerprint", report["fingerprint"]))
    return facts


def _testcase(suite, row, section, label):
    case = ET.SubElement(suite, "testcase", classname="{0}.{1}".format(section, label),
                         name="{0} -> {1}".format(row["from"], row["to"]))
    details = _details(row)
    if row["status"] == FAIL:
        failure = ET.SubElement(case, "failure", message="; ".join(row["problems"]),
                                type="ConnectivityMismatch")
        failure.text = details
    else:
        ET.SubElement(case, "system-out").text = details


def _details(row):
    """How the verdict is known, then each verdict with its reason: what the hover, the tables
    and JUnit all say about a pair."""
    parts = ["known from: " + ", ".join(known_from(row))]
    for kind in VERDICTS:
        if row.get(kind) is not None or row.get(kind + "_reason"):
            parts.append("{0}: {1} - {2}".format(kind, _word(row.get(kind)), row.get(kind + "_reason") or ""))
    return "\n".join(parts)


# --- header texts (HTML and JUnit) -------------------------------------------------------------

def _date_text(date):
    return date.strftime("%Y-%m-%d %H:%M:%S UTC") if date else "not given"


def _revision_text(revision):
    if not revision:
        return "not given"
    intent = "intent {0}".format(revision["intent"]) if revision.get("intent") else "no intent"
    if revision.get("policies") is None:
        return intent
    count = revision.get("policy_count")
    return "{0} \u00b7 live policies {1}{2}".format(intent, revision["policies"], "" if count is None else " ({0} {1})".format(
        count, "MultiNetworkPolicy" if count == 1 else "MultiNetworkPolicies"))


def _plural(count, word):
    return "{0} {1}{2}".format(count, word, "" if count == 1 else "s")


def _sources_text(counts):
    order = [via for via in PROBE_SOURCES if via in counts] + ([None] if None in counts else [])
    return " and ".join("{0} ({1})".format(PROBE_SOURCES.get(via, "a place the rows do not name"),
                                           _plural(counts[via], "pair")) for via in order)


def _probe_text(probe, rows):
    """Where the probes ran, from the rows that got a probed verdict, or why none ran."""
    counts = probe_sources(rows)
    if counts:
        return "probed from " + _sources_text(counts)
    if probe and not probe.get("enabled"):
        return "probing skipped: {0}".format(probe.get("reason") or "disabled")
    return "probing on, but no pair got a probed verdict" if probe else "not probed"


def _trace_text(trace, rows):
    traced = sum(r.get("traced") is not None for r in rows)
    if traced:
        return "traced through OVN (ovn-trace): {0} of {1}".format(traced, _plural(len(rows), "pair"))
    if trace and not trace.get("enabled"):
        return "tracing skipped: {0}".format(trace.get("reason") or "disabled")
    return "tracing on, but no pair got a traced verdict" if trace else "not traced"


# --- HTML ------------------------------------------------------------------------------------

_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px;color:#1d1d1f}
h1{font-size:22px;margin:0 0 4px}h2{font-size:19px;margin:30px 0 4px;border-bottom:2px solid #ddd}h3{font-size:16px;margin:18px 0 8px}
.meta{color:#555;margin-bottom:12px}.badge{display:inline-block;padding:2px 10px;border-radius:10px;color:#fff;font-weight:600}
.badge.pass{background:#2e7d32}.badge.fail{background:#c62828}
table.run{border-collapse:collapse;margin:8px 0 14px;font-size:14px}
table.run th{text-align:left;vertical-align:top;padding:2px 16px 2px 0;color:#555;font-weight:600;white-space:nowrap}
table.run td{padding:2px 0}.digest{font-family:ui-monospace,'SFMono-Regular',Menlo,monospace;font-size:13px}
table.matrix{border-collapse:collapse;font-size:13px}
table.matrix th,table.matrix td{border:1px solid #ccc;padding:4px 6px;text-align:center;min-width:34px}
table.matrix thead th{writing-mode:vertical-rl;transform:rotate(180deg);white-space:nowrap;vertical-align:bottom;font-weight:600}
table.matrix tbody th{text-align:right;white-space:nowrap}
td.allow{background:#c8e6c9;color:#1b5e20}td.deny{background:#eceff1;color:#607d8b}
td.fail{background:#ffcdd2;color:#b71c1c;font-weight:700;outline:2px solid #c62828;outline-offset:-2px}
td.self,td.none{background:#fafafa;color:#bbb}td[title]{cursor:help}
.how{display:block;font-size:10px;font-weight:700;letter-spacing:1px;color:#37474f;line-height:1.1}
.legend{margin:4px 0}.legend span{display:inline-block;margin-right:14px}
.legend i{display:inline-block;width:14px;height:14px;vertical-align:middle;margin-right:4px;border:1px solid #aaa}
.legend b{display:inline-block;min-width:14px;text-align:center;margin-right:4px;font-size:11px;border:1px solid #aaa}
.grid{display:flex;flex-wrap:wrap;gap:24px;align-items:flex-start}
table.list{border-collapse:collapse;font-size:13px}table.list th,table.list td{border-bottom:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}
table.reasons{width:100%}table.reasons td.v{min-width:5em}table.reasons td.v b{display:block}
table.reasons tr.fail td{background:#fff3f3}table.reasons tr.fail td.why{color:#b71c1c;font-weight:600}
table.reasons tr.pass td.why{color:#2e7d32}table.reasons td.pair{white-space:nowrap}
.detail{display:block;color:#444;font-size:12px;overflow-wrap:anywhere}
p.ok{color:#2e7d32;font-weight:600}
ul.warn li{color:#8a5300}
@media print{
@page{size:A4 landscape;margin:12mm}
body{margin:0;font-size:11px}*{-webkit-print-color-adjust:exact;print-color-adjust:exact}
h2{break-before:page}h2.first{break-before:avoid}h2,h3{break-after:avoid}
tr,.legend,svg{break-inside:avoid}td[title]{cursor:auto}
table.list,.detail{font-size:10px}table.reasons td.v{min-width:0}
}
"""


def render_html(report):
    """One self-contained page: no scripts, no external assets, every text escaped."""
    title = report.get("title") or "Connectivity report"
    checks = [c for section in report["sections"] for c in section["checks"]]
    meta = ('<meta name="ocpvirt-report-fingerprint" content="{0}">'.format(_e(report["fingerprint"]))
            if report.get("fingerprint") else "")
    body = ["<h1>{0}</h1>".format(_e(title)), _run_table(report, checks), _legend(),
            _disagreements(report["sections"])]
    for index, section in enumerate(report["sections"]):
        body.append(_html_section(section, index))
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">{0}"
            "<title>{1}</title><style>{2}</style></head><body>\n{3}\n</body></html>\n").format(
        meta, _e(title), _CSS, "\n".join(body))


def _run_table(report, checks):
    """The header a printed page needs: when, where, what was compared, how verdicts are known."""
    total = summary(checks)
    date = report.get("date")
    when = ('<time datetime="{0}">{1}</time>'.format(date.strftime("%Y-%m-%dT%H:%M:%SZ"), _date_text(date))
            if date else "not given")
    not_probed = total["pairs"] - total["probed"]
    facts = [("Date", when), ("Cluster", _e(report.get("cluster") or "not given")),
             ("Revision", _per_section(report["sections"], lambda s: _digests(_e(_revision_text(s.get("revision")))))),
             ("Probes", '<span id="probed-from">{0}</span>{1}'.format(
                 _per_section(report["sections"], lambda s: _e(_probe_text(s.get("probe"), _rows(s)))),
                 "<br>{0} of {1} not probed (each says why below)".format(not_probed, _plural(total["pairs"], "pair"))
                 if total["probed"] and not_probed else "")),
             ("Traces", _per_section(report["sections"], lambda s: _e(_trace_text(s.get("trace"), _rows(s))))),
             ("Result", "{0} &middot; {1}".format(_plural(total["pairs"], "pair"), _badge(total, "status")))]
    return '<table class="run" id="run">{0}</table>'.format("".join(
        '<tr><th scope="row">{0}</th><td>{1}</td></tr>'.format(name, value) for name, value in facts))


def _rows(section):
    return [row for check in section["checks"] for row in check["rows"]]


def _per_section(sections, text):
    """One section's text, or one line per section, named, when the report has several."""
    if len(sections) == 1:
        return text(sections[0])
    return "<br>".join("<b>{0}</b>: {1}".format(_e(s["name"]), text(s)) for s in sections)


def _digests(text):
    """Digests in a fixed-width font, so two printed reports are easy to compare by eye."""
    return " ".join('<span class="digest">{0}</span>'.format(word) if word.startswith("sha256:") else word
                    for word in text.split(" "))


def _badge(total, element_id):
    status = FAIL if total["failures"] else PASS
    text = "{0} disagreement(s)".format(total["failures"]) if total["failures"] else "all agree"
    return '<span class="badge {0}" id="{1}">{2}</span>'.format(status, element_id, text)


def _disagreements(sections):
    """Every failing pair with its verdicts and reasons, visible on screen and on paper."""
    failing = [("{0} {1}".format(s["name"], port_label(c.get("port"))), row)
               for s in sections for c in s["checks"] for row in c["rows"] if row["status"] == FAIL]
    head = '<h2 class="first" id="disagreements-title">Disagreements ({0})</h2>'.format(len(failing))
    if not failing:
        return head + '<p class="ok">None: for every pair the verdicts agree.</p>'
    return head + _reason_table(["check"], [([_e(check)], row) for check, row in failing], "disagreements")


def _reason_table(lead, items, table_id):
    """A table of pairs: the ``lead`` columns, the pair, each verdict with its reason, and why
    the pair fails. Reasons are shown as given (a new probe outcome needs no change here)."""
    head = "".join("<th>{0}</th>".format(name) for name in lead + ["pair", "known"] + list(VERDICTS) + ["why"])
    lines = []
    for cells, row in items:
        how = "".join(KNOWN_MARKS[kind][0] for kind in known_from(row))
        verdicts = "".join(_verdict_cell(row, kind) for kind in VERDICTS)
        lines.append('<tr class="{0}" data-from="{1}" data-to="{2}">{3}<td class="pair">{1} &rarr; {2}</td>'
                     '<td class="known">{4}</td>{5}<td class="why">{6}</td></tr>'.format(
                         row["status"], _e(row["from"]), _e(row["to"]),
                         "".join('<td class="pair">{0}</td>'.format(c) for c in cells), how, verdicts,
                         "<br>".join(_e(p) for p in row["problems"]) or "ok"))
    return '<table class="list reasons" id="{0}"><thead><tr>{1}</tr></thead><tbody>{2}</tbody></table>'.format(
        _e(table_id), head, "".join(lines))


def _verdict_cell(row, kind):
    reason = row.get(kind + "_reason") or ""
    return '<td class="v" data-kind="{0}"><b>{1}</b>{2}</td>'.format(
        kind, _word(row.get(kind)), '<span class="detail">{0}</span>'.format(_e(reason)) if reason else "")


def _html_section(section, index):
    checks = section["checks"]
    endpoints = section.get("endpoints") or [{"name": n} for n in _names_from(checks)]
    names = [e["name"] for e in endpoints]
    rows = _rows(section)
    parts = ['<section class="intent" data-name="{0}"><h2>{0}</h2>'.format(_e(section["name"])),
             '<div class="meta">network <b>{0}</b> &middot; {1} &middot; {2} &middot; {3}</div>'.format(
                 _e(section["network"]), _badge(summary(checks), "status-{0}".format(index)),
                 _e(_probe_text(section.get("probe"), rows)), _e(_trace_text(section.get("trace"), rows)))]
    for check in checks:
        label = port_label(check.get("port"))
        parts.append('<div class="check" data-traffic="{0}"><h3>Traffic: {0}</h3><div class="grid">'.format(_e(label)))
        parts.append(_matrix(names, check["rows"]))
        parts.append(_graph(endpoints, check["rows"]))
        parts.append("</div></div>")
    parts.append(_endpoint_table(section.get("endpoints") or []))
    parts.append(_warnings(section.get("warnings") or []))
    for check in checks:
        label = port_label(check.get("port"))
        parts.append('<h3>Every pair, {0}: verdicts and reasons</h3>'.format(_e(label)))
        parts.append(_reason_table([], [([], row) for row in check["rows"]], "pairs-{0}-{1}".format(index, label)))
    parts.append("</section>")
    return "\n".join(parts)


def _e(text):
    return html.escape(str(text), quote=True)


def _legend():
    colours = [("allow", "#c8e6c9", "allowed"), ("deny", "#eceff1", "denied"),
               ("fail", "#ffcdd2", "disagreement (see Disagreements)"), ("none", "#fafafa", "not a pair")]
    marks = [KNOWN_MARKS[kind] for kind in ("probed", "traced", "simulated")]
    return ('<div class="legend" id="legend">' + "".join(
        '<span><i style="background:{1}"></i>{2}</span>'.format(*item) for item in colours) +
        "</div><div class=\"legend\" id=\"legend-known\">" + "".join(
        "<span><b>{0}</b>{1}</span>".format(mark, _e(text)) for mark, text in marks) + "</div>")


def _names_from(checks):
    names = []
    for check in checks:
        for row in check["rows"]:
            for name in (row["from"], row["to"]):
                if name not in names:
                    names.append(name)
    return names


def _matrix(names, rows):
    by_pair = {(r["from"], r["to"]): r for r in rows}
    head = "".join('<th scope="col">{0}</th>'.format(_e(n)) for n in names)
    lines = ['<table class="matrix"><thead><tr><th>from \\ to</th>{0}</tr></thead><tbody>'.format(head)]
    for source in names:
        cells = "".join(_cell(source, target, by_pair.get((source, target))) for target in names)
        lines.append('<tr><th scope="row">{0}</th>{1}</tr>'.format(_e(source), cells))
    lines.append("</tbody></table>")
    return "\n".join(lines)


def _cell(source, target, row):
    attrs = 'data-from="{0}" data-to="{1}"'.format(_e(source), _e(target))
    if source == target:
        return '<td class="self" {0}>&middot;</td>'.format(attrs)
    if row is None:
        return '<td class="none" {0} title="outside host to outside host: no policy applies"></td>'.format(attrs)
    verdict = _reference(row)
    css = FAIL if row["status"] == FAIL else ("allow" if verdict else "deny")
    symbol = {True: "&#10003;", False: "&#10007;", None: "?"}[verdict] + ("!" if row["status"] == FAIL else "")
    data = " ".join('data-{0}="{1}"'.format(k, _word(row.get(k))) for k in VERDICTS)
    known = known_from(row)
    return '<td class="{0}" {1} {2} data-known="{3}" title="{4}">{5}<span class="how">{6}</span></td>'.format(
        css, attrs, data, " ".join(known), _e(_hover(row)), symbol, "".join(KNOWN_MARKS[k][0] for k in known))


def _reference(row):
    return row["expected"] if row["expected"] is not None else row["simulated"]


def _hover(row):
    lines = ["{0} \u2192 {1}".format(row["from"], row["to"])]
    lines.extend(row["problems"])
    lines.append(_details(row))
    return "\n".join(line for line in lines if line)


def _graph(endpoints, rows, size=420):
    """Allowed flows as arrows between endpoints placed on a circle; disagreements in red."""
    names = [e["name"] for e in endpoints]
    kinds = {e["name"]: e.get("kind", "pod") for e in endpoints}
    radius, centre = size / 2 - 70, size / 2
    places = {name: (centre + radius * math.cos(2 * math.pi * i / max(len(names), 1) - math.pi / 2),
                     centre + radius * math.sin(2 * math.pi * i / max(len(names), 1) - math.pi / 2))
              for i, name in enumerate(names)}
    parts = ['<svg class="graph" xmlns="http://www.w3.org/2000/svg" width="{0}" height="{0}" '
             'viewBox="0 0 {0} {0}" role="img" aria-label="allowed flows">'.format(size),
             '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
             'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#2e7d32"/></marker>'
             '<marker id="arrow-bad" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
             'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#c62828"/></marker></defs>']
    for row in rows:
        if row["from"] in places and row["to"] in places and (_reference(row) or row["status"] == FAIL):
            parts.append(_edge(places[row["from"]], places[row["to"]], row))
    for name in names:
        x, y = places[name]
        parts.append('<g class="node" data-name="{0}"><circle cx="{1:.1f}" cy="{2:.1f}" r="9" fill="{3}"/>'
                     '<text x="{1:.1f}" y="{4:.1f}" text-anchor="middle" font-size="12">{0}</text></g>'.format(
                         _e(name), x, y, KIND_COLOURS.get(kinds[name], "#2f6fb3"), y + (24 if y >= centre else -15)))
    parts.append("</svg>")
    return "\n".join(parts)


def _edge(start, end, row):
    """A slightly curved arrow, so that a->b and b->a are two visible lines."""
    (x1, y1), (x2, y2) = start, end
    length = math.hypot(x2 - x1, y2 - y1) or 1.0
    ux, uy = (x2 - x1) / length, (y2 - y1) / length
    x1, y1, x2, y2 = x1 + ux * 11, y1 + uy * 11, x2 - ux * 11, y2 - uy * 11
    bend = min(30.0, length / 6)
    cx, cy = (x1 + x2) / 2 - uy * bend, (y1 + y2) / 2 + ux * bend
    bad = row["status"] == FAIL
    return ('<path class="edge{0}" data-from="{1}" data-to="{2}" d="M{3:.1f},{4:.1f} Q{5:.1f},{6:.1f} {7:.1f},{8:.1f}" '
            'fill="none" stroke="{9}" stroke-width="1.6"{10} marker-end="url(#{11})"><title>{12}</title></path>').format(
        " fail" if bad else "", _e(row["from"]), _e(row["to"]), x1, y1, cx, cy, x2, y2,
        "#c62828" if bad else "#2e7d32", ' stroke-dasharray="5,3"' if bad else "",
        "arrow-bad" if bad else "arrow", _e(_hover(row)))


def _endpoint_table(endpoints):
    if not endpoints:
        return ""
    columns = ("name", "kind", "object", "namespace", "ip", "source", "running")
    head = "".join("<th>{0}</th>".format(c) for c in columns)
    rows = "".join("<tr>{0}</tr>".format("".join(
        "<td>{0}</td>".format(_e(_show(e.get(c)))) for c in columns)) for e in endpoints)
    return '<h3>Endpoints</h3><table class="list"><thead><tr>{0}</tr></thead><tbody>{1}</tbody></table>'.format(head, rows)


def _show(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value


def _warnings(warnings):
    if not warnings:
        return ""
    return '<h3>Warnings</h3><ul class="warn">{0}</ul>'.format(
        "".join("<li>{0}</li>".format(_e(w)) for w in warnings))
