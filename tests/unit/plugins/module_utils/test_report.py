import html
import html.parser
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.ocpvirt.multinet.plugins.module_utils.verify import report as rp
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.errors import MultinetError


def row(src, dst, allowed, reason="because"):
    return {"from": src, "to": dst, "allowed": allowed, "reason": reason}


EXPECTED = [row("a", "b", True), row("b", "a", False), row("a", "gw", True)]
ENDPOINTS = [{"name": "a", "kind": "pod", "ip": "192.168.77.91", "object": "a", "namespace": "ns", "running": True},
             {"name": "b", "kind": "vm", "ip": "192.168.77.71", "object": "b-vm", "namespace": "ns", "running": False},
             {"name": "gw", "kind": "outside", "ip": "192.168.77.1"}]


def section_of(rows, port=None, **extra):
    return dict({"name": "demo", "network": "ns/net", "endpoints": ENDPOINTS,
                 "checks": [{"port": port, "rows": rows}], "probe": {"enabled": False, "reason": "lab"}}, **extra)


def report_of(rows, port=None, **extra):
    return {"title": "demo report", "sections": [section_of(rows, port, **extra)]}


# --- compare ---------------------------------------------------------------------------------

def test_agreeing_matrices_pass():
    rows = rp.compare(EXPECTED, EXPECTED)
    assert [r["status"] for r in rows] == ["pass"] * 3
    assert rows[0]["expected_reason"] == "because"


def test_simulation_disagreeing_with_the_intent_fails_and_says_which_way():
    rows = rp.compare(EXPECTED, [row("a", "b", False), row("b", "a", False), row("a", "gw", True)])
    assert rows[0]["status"] == "fail"
    assert rows[0]["problems"] == ["the live policies deny what the intent allowed"]
    assert [r["status"] for r in rows[1:]] == ["pass", "pass"]


def test_probe_disagreeing_with_the_intent_fails():
    probed = [{"from": "b", "to": "a", "allowed": True, "detail": "ping: 1 received"}]
    rows = {(r["from"], r["to"]): r for r in rp.compare(EXPECTED, EXPECTED, probed)}
    assert rows[("b", "a")]["problems"] == ["the probe got through what the intent denied"]
    assert rows[("b", "a")]["probed_reason"] == "ping: 1 received"
    assert rows[("a", "b")]["status"] == "pass"


def test_skipped_probe_is_not_a_failure():
    rows = rp.compare(EXPECTED, EXPECTED, [{"from": "a", "to": "b", "allowed": None, "detail": "skipped: lab"}])
    assert all(r["status"] == "pass" for r in rows)


def test_without_an_intent_the_probe_is_judged_against_the_simulation():
    rows = rp.compare(None, [row("a", "b", True)], [{"from": "a", "to": "b", "allowed": False, "detail": "timeout"}])
    assert rows[0]["problems"] == ["the probe was blocked what the simulation allowed"]
    assert rp.compare(None, [row("a", "b", True)])[0]["status"] == "pass"


def test_pairs_missing_on_one_side_fail():
    rows = rp.compare([row("a", "b", True)], [row("b", "a", False)])
    assert [(r["from"], r["problems"]) for r in rows] == [
        ("a", ["not in the simulated matrix"]), ("b", ["not in the expected matrix"])]


@pytest.mark.parametrize("bad, field", [({"to": "b", "allowed": True}, "expected[0]"),
                                        ({"from": "a", "to": "b", "allowed": "yes"}, "expected[0].allowed")])
def test_malformed_rows_name_the_field(bad, field):
    with pytest.raises(MultinetError, match="^" + field.replace("[", r"\[").replace("]", r"\]") + ":"):
        rp.compare([bad], [])


def test_summary_counts_pairs_failures_and_probes():
    rows = rp.compare(EXPECTED, EXPECTED, [{"from": "a", "to": "b", "allowed": False, "detail": "x"}])
    assert rp.summary([{"port": None, "rows": rows}]) == {"pairs": 3, "failures": 1, "probed": 1, "traced": 0}


# --- text table ------------------------------------------------------------------------------

def test_table_lists_only_failures_with_aligned_columns():
    rows = rp.compare(EXPECTED, [row("a", "b", False), row("b", "a", False), row("a", "gw", True)])
    lines = rp.render_table([section_of(rows, "tcp/22")]).splitlines()
    assert len(lines) == 2
    assert lines[0].split() == ["CHECK", "FROM", "TO", "EXPECTED", "SIMULATED", "PROBED", "TRACED", "WHY"]
    assert lines[1].split()[:7] == ["demo", "tcp/22", "a", "b", "allow", "deny", "-"]
    assert lines[0].index("TO") == lines[1].index("b ")


# --- JUnit -----------------------------------------------------------------------------------

def test_junit_has_one_testcase_per_pair_and_failures_carry_the_reasons():
    rows = rp.compare(EXPECTED, [row("a", "b", False, "egress denied <&>"), row("b", "a", False), row("a", "gw", True)])
    root = ET.fromstring(rp.render_junit(report_of(rows, port="tcp/22")))
    assert root.get("tests") == "3" and root.get("failures") == "1"
    [suite] = root.findall("testsuite")
    assert suite.get("name") == "demo tcp/22"
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == ["a -> b", "b -> a", "a -> gw"]
    failure = cases[0].find("failure")
    assert failure.get("message") == "the live policies deny what the intent allowed"
    assert "egress denied <&>" in failure.text
    assert cases[1].find("failure") is None


# --- HTML ------------------------------------------------------------------------------------

class Cells(html.parser.HTMLParser):
    """Collect td cells of the matrix and a few other elements, the way a browser test would."""

    def __init__(self):
        super().__init__()
        self.cells, self.tags, self.edges = {}, [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        if tag == "td" and "data-from" in attrs:
            self.cells[(attrs["data-from"], attrs["data-to"])] = attrs
        if tag == "path" and "edge" in (attrs.get("class") or ""):
            self.edges.append(attrs)


def parse(page):
    parser = Cells()
    parser.feed(page)
    return parser


def test_html_cells_are_coloured_by_verdict_and_explain_on_hover():
    rows = rp.compare(EXPECTED, [row("a", "b", False, "egress denied"), row("b", "a", False), row("a", "gw", True)])
    page = parse(rp.render_html(report_of(rows)))
    assert page.cells[("a", "b")]["class"] == "fail"
    assert "the live policies deny what the intent allowed" in page.cells[("a", "b")]["title"]
    assert "simulated: deny - egress denied" in page.cells[("a", "b")]["title"]
    assert page.cells[("b", "a")]["class"] == "deny"
    assert page.cells[("a", "gw")]["class"] == "allow"
    assert page.cells[("a", "a")]["class"] == "self"
    assert page.cells[("gw", "b")]["class"] == "none"  # no row given for it
    assert len(page.cells) == 9


def test_html_graph_draws_allowed_and_disagreeing_flows_only():
    rows = rp.compare(EXPECTED, [row("a", "b", False), row("b", "a", False), row("a", "gw", True)])
    edges = {(e["data-from"], e["data-to"]): e for e in parse(rp.render_html(report_of(rows))).edges}
    assert set(edges) == {("a", "b"), ("a", "gw")}
    assert "fail" in edges[("a", "b")]["class"] and "fail" not in edges[("a", "gw")]["class"]


def test_html_is_self_contained_and_escapes_names():
    rows = rp.compare(None, [row("<script>", "b", True)])
    page = rp.render_html(report_of(rows, endpoints=[{"name": "<script>", "kind": "pod"}, {"name": "b", "kind": "pod"}], name="<b>"))
    tags = parse(page).tags
    assert "script" not in tags and "link" not in tags and "img" not in tags
    assert "&lt;script&gt;" in page and "&lt;b&gt;" in page
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_html_states_the_outcome_and_why_probing_was_skipped():
    page = rp.render_html(report_of(rp.compare(EXPECTED, EXPECTED), warnings=["workload x: missing"]))
    assert 'class="badge pass"' in page and "all agree" in page
    assert "probing skipped: lab" in page
    assert "workload x: missing" in page
    assert "192.168.77.71" in page  # endpoint table


def test_html_without_endpoints_takes_names_from_the_rows():
    check = {"port": None, "rows": rp.compare(None, [row("x", "y", True)])}
    page = parse(rp.render_html({"sections": [{"name": "n", "network": "ns/net", "checks": [check]}]}))
    assert set(page.cells) == {("x", "x"), ("x", "y"), ("y", "x"), ("y", "y")}


# --- build -----------------------------------------------------------------------------------

def test_build_compares_each_check_and_renders_all_outputs():
    built = rp.build({"name": "t", "network": "ns/net", "endpoints": ENDPOINTS, "probe": None, "warnings": [],
                      "checks": [{"port": None, "expected": EXPECTED, "simulated": EXPECTED},
                                 {"port": "tcp/22", "expected": EXPECTED, "simulated": [row("a", "b", False), row("b", "a", False), row("a", "gw", True)]}]})
    assert built["failed"] is True
    assert built["summary"] == {"pairs": 6, "failures": 1, "probed": 0, "traced": 0}
    assert [c["port"] for c in built["sections"][0]["checks"]] == [None, "tcp/22"]
    assert "t tcp/22" in built["table"] and "icmp" not in built["table"]
    assert ET.fromstring(built["junit"]).get("failures") == "1"
    assert built["html"].count('<div class="check"') == 2


def test_build_puts_several_intents_in_one_report():
    one = {"name": "first", "network": "ns/a", "checks": [{"port": None, "expected": EXPECTED, "simulated": EXPECTED}]}
    two = {"name": "second", "network": "ns/b", "checks": [{"port": None, "expected": None, "simulated": EXPECTED}]}
    built = rp.build({"title": "all", "sections": [one, two]})
    assert [s["name"] for s in built["sections"]] == ["first", "second"]
    assert [s.get("name") for s in ET.fromstring(built["junit"]).findall("testsuite")] == ["first icmp", "second icmp"]
    assert built["html"].count('<section class="intent"') == 2 and "<title>all</title>" in built["html"]


@pytest.mark.parametrize("data, field", [
    ("x", "report"),
    ({"sections": []}, "report.sections"),
    ({"network": "n"}, r"report.sections\[0\]"),
    ({"checks": []}, r"report.sections\[0\].network"),
])
def test_build_rejects_incomplete_input(data, field):
    with pytest.raises(MultinetError, match="^" + field + ":"):
        rp.build(data)


# --- probe rows ------------------------------------------------------------------------------

PLAN = [{"from": "a", "to": "b", "port": "icmp", "pod": "a", "command": "ping -c 1 b", "skip": None},
        {"from": "a", "to": "gw", "port": "icmp", "pod": "a", "command": None, "skip": "off-subnet"},
        {"from": "b", "to": "a", "port": "icmp", "pod": "a", "command": "ping -c 1 a", "skip": None}]


def run_of(step, **result):
    return dict(result, item=step)


@pytest.mark.parametrize("result, allowed, detail", [
    ({"rc": 0, "stdout": "1 received"}, True, "got through: `ping -c 1 b` in pod a exited 0 (1 received)"),
    ({"rc": 1, "stdout": "0 received\n\n"}, False, "blocked: `ping -c 1 b` in pod a exited 1 (0 received)"),
    ({"rc": 127, "stderr": "sh: ping: not found"}, None, "probe tool missing in pod a: sh: ping: not found"),
    ({"failed": True, "msg": "upgrade request required"}, None, "exec into a failed: upgrade request required"),
    ({"rc": None, "no_verdict": "the UDP listener in pod ns/b exited 127"}, None,
     "not probed: the UDP listener in pod ns/b exited 127"),
])
def test_probe_rows_read_exec_results(result, allowed, detail):
    rows = rp.probe_rows(PLAN, [run_of(PLAN[0], **result)])
    assert len(rows) == len(PLAN)
    first = rows[0]
    assert (first["allowed"], first["detail"]) == (allowed, detail)


def test_probe_rows_explain_skipped_and_missing_pairs():
    rows = rp.probe_rows(PLAN, [run_of(PLAN[0], rc=0)])
    assert rows[1] == {"from": "a", "to": "gw", "allowed": None, "detail": "not probed: off-subnet", "via": "pod"}
    assert rows[2]["allowed"] is None and rows[2]["detail"] == "not probed: no result"


def test_probe_rows_when_probing_is_off_say_why_for_every_pair():
    rows = rp.probe_rows(PLAN, [run_of(PLAN[0], rc=0)], disabled_reason="simulated nodes")
    assert {r["detail"] for r in rows} == {"not probed: simulated nodes"}


def test_build_derives_probed_rows_from_plan_and_runs():
    built = rp.build({"name": "n", "network": "ns/net", "probe": {"enabled": True},
                      "checks": [{"port": "icmp", "expected": [row("a", "b", False)], "simulated": [row("a", "b", False)],
                                  "probes": PLAN[:1], "runs": [run_of(PLAN[0], rc=0)]}]})
    [checked] = built["sections"][0]["checks"][0]["rows"]
    assert checked["probed"] is True and checked["status"] == "fail"
    assert checked["problems"] == ["the probe got through what the intent denied"]


def test_pairs_from_outside_hosts_say_why_they_are_not_probed():
    simulated = [row("gw", "a", True), row("a", "gw", True)]
    built = rp.build({"name": "n", "network": "ns/net", "probe": {"enabled": True}, "endpoints": ENDPOINTS,
                      "checks": [{"port": "icmp", "expected": simulated, "simulated": simulated,
                                  "probes": [dict(PLAN[0], to="gw")], "runs": [run_of(dict(PLAN[0], to="gw"), rc=0)]}]})
    rows = {(r["from"], r["to"]): r for r in built["sections"][0]["checks"][0]["rows"]}
    assert rows[("gw", "a")]["probed"] is None
    assert rows[("gw", "a")]["probed_reason"] == "not probed: gw is outside the cluster, where no cluster API runs commands"
    assert rows[("a", "gw")]["probed"] is True and built["summary"] == {"pairs": 2, "failures": 0, "probed": 1, "traced": 0}


# --- traced (ovn-trace) -------------------------------------------------------------------------

def test_a_traced_verdict_is_compared_like_a_probed_one():
    expected = [row("a", "b", True), row("b", "a", False)]
    traced = [{"from": "a", "to": "b", "allowed": True, "detail": "OVN delivers it: on w0 output to p"},
              {"from": "b", "to": "a", "allowed": True, "detail": "OVN delivers it: on w0 output to q"}]
    rows = {(r["from"], r["to"]): r for r in rp.compare(expected, expected, None, traced)}
    assert rows[("a", "b")]["status"] == rp.PASS and rows[("a", "b")]["traced"] is True
    assert rows[("b", "a")]["status"] == rp.FAIL
    assert rows[("b", "a")]["problems"] == ["OVN's trace delivers what the intent denied"]
    assert rows[("b", "a")]["traced_reason"] == "OVN delivers it: on w0 output to q"


def test_traced_rows_without_a_verdict_or_pair_change_nothing():
    expected = [row("a", "b", True)]
    traced = [{"from": "a", "to": "b", "allowed": None, "detail": "not traced: no port"},
              {"from": "x", "to": "y", "allowed": False}]
    [entry] = rp.compare(expected, expected, None, traced)
    assert entry["status"] == rp.PASS and entry["traced"] is None
    assert rp.summary([{"rows": [entry]}])["traced"] == 0


def test_build_counts_traced_pairs_and_shows_the_column():
    traced = [dict(r, detail="OVN says so") for r in EXPECTED]
    built = rp.build({"name": "t", "network": "ns/net", "endpoints": ENDPOINTS, "trace": {"enabled": True},
                      "checks": [{"port": None, "expected": EXPECTED, "simulated": EXPECTED, "traced": traced}]})
    assert built["summary"]["traced"] == len(EXPECTED) and not built["failed"]
    assert "traced through OVN (ovn-trace)" in built["html"] and 'data-traced="allow"' in built["html"]
    assert "traced: allow - OVN says so" in built["junit"]
    skipped = rp.build({"name": "t", "network": "ns/net", "trace": {"enabled": False, "reason": "no ovnkube-node pod"},
                        "checks": [{"port": None, "expected": EXPECTED, "simulated": EXPECTED}]})
    assert "tracing skipped: no ovnkube-node pod" in skipped["html"]


# --- a report a reviewer can print: header, marks, tables, JUnit, fingerprint ---------------------
# Names and addresses of their own (not the seed's): a shop with two web VMs, a database VM, a
# test pod and a router outside the cluster.

SHOP = [{"name": "web-1", "kind": "vm", "ip": "10.44.0.10"}, {"name": "db", "kind": "vm", "ip": "10.44.0.12"},
        {"name": "probe", "kind": "pod", "ip": "10.44.0.13"}, {"name": "router", "kind": "outside", "ip": "10.44.0.1"}]
SHOP_EXPECTED = [row("web-1", "db", True, "intent: web-1 -> db tcp/5432"), row("probe", "db", False, "intent: no rule"),
                 row("router", "web-1", True, "intent: router -> web-1 tcp/5432"), row("db", "probe", False, "intent: no rule")]
REFUSED = "reached (refused): `nc -z -w 2 10.44.0.12 5432` in the guest of web-1 exited 1 (Connection refused)"
SHOP_PROBED = [{"from": "web-1", "to": "db", "allowed": True, "via": "guest", "detail": REFUSED},
               {"from": "probe", "to": "db", "allowed": True, "via": "pod", "detail": "got through: `nc -z` in pod probe exited 0"},
               {"from": "router", "to": "web-1", "allowed": None, "detail": "not probed: router is outside the cluster"}]
SHOP_TRACED = [{"from": "router", "to": "web-1", "allowed": True, "detail": "OVN delivers it: on w1 output to web-1"},
               {"from": "web-1", "to": "db", "allowed": True, "detail": "OVN delivers it: on w0 output to localnet"}]
RUN = {"date": "2026-12-06T07:05:36Z", "cluster": {"name": "shop-cluster", "server": "https://api.shop.example.test:6443"}}
REVISION = {"intent": "sha256:3f1c0a9b7d2e", "policies": "sha256:9a41c6e0b513", "policy_count": 5}


def shop(**run):
    section = {"name": "shop", "network": "shop/corp-lan", "endpoints": SHOP, "probe": {"enabled": True},
               "trace": {"enabled": True}, "revision": REVISION,
               "checks": [{"port": "tcp/5432", "expected": SHOP_EXPECTED, "simulated": SHOP_EXPECTED,
                           "probed": SHOP_PROBED, "traced": SHOP_TRACED}]}
    return rp.build({**RUN, "title": "shop verification", "sections": [section], **run})


class Tables(html.parser.HTMLParser):
    """The text of each table by id, row by row, and the cells' attributes, as printed."""

    def __init__(self):
        super().__init__()
        self.tables, self.cells, self.current, self.row, self.stack = {}, {}, None, None, []
        self.times = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and attrs.get("id"):
            self.current = self.tables.setdefault(attrs["id"], [])
        elif tag == "tr" and self.current is not None:
            self.row = []
            self.current.append(self.row)
        elif tag in ("td", "th") and self.row is not None:
            self.row.append("")
        if tag == "td" and "data-known" in attrs:
            self.cells[(attrs["data-from"], attrs["data-to"])] = attrs
        if tag == "time":
            self.times.append(attrs.get("datetime"))

    def handle_endtag(self, tag):
        if tag == "table":
            self.current, self.row = None, None

    def handle_data(self, data):
        if self.row:
            self.row[-1] += data


def tables(page):
    parser = Tables()
    parser.feed(page)
    return parser


def test_the_header_names_date_cluster_revision_and_where_probes_ran():
    page = tables(shop()["html"])
    header = {line[0]: line[1] for line in page.tables["run"]}
    assert header["Date"] == "2026-12-06 07:05:36 UTC" and page.times == ["2026-12-06T07:05:36Z"]
    assert header["Cluster"] == "shop-cluster (https://api.shop.example.test:6443)"
    assert header["Revision"] == "intent sha256:3f1c0a9b7d2e \u00b7 live policies sha256:9a41c6e0b513 (5 MultiNetworkPolicies)"
    assert header["Probes"].startswith("probed from pods (1 pair) and VM guests (1 pair)")
    assert "2 of 4 pairs not probed" in header["Probes"]
    assert header["Traces"] == "traced through OVN (ovn-trace): 2 of 4 pairs"


@pytest.mark.parametrize("probed, text", [
    ([dict(SHOP_PROBED[1])], "probed from pods (1 pair)"),
    ([dict(SHOP_PROBED[0])], "probed from VM guests (1 pair)"),
    ([{"from": "probe", "to": "db", "allowed": False, "detail": "timeout"}], "probed from a place the rows do not name (1 pair)"),
])
def test_the_header_says_pods_guests_or_both(probed, text):
    section = {"name": "s", "network": "shop/corp-lan", "probe": {"enabled": True},
               "checks": [{"port": "tcp/5432", "expected": SHOP_EXPECTED, "simulated": SHOP_EXPECTED, "probed": probed}]}
    header = {line[0]: line[1] for line in tables(rp.build({"sections": [section]})["html"]).tables["run"]}
    assert header["Probes"].startswith(text)


def test_probe_rows_say_where_each_probe_ran():
    plan = [dict(PLAN[0], via="guest", vm="b-vm"), PLAN[2]]
    rows = rp.probe_rows(plan, [run_of(plan[0], rc=0), run_of(plan[1], rc=1)])
    assert [r["via"] for r in rows] == ["guest", "pod"]
    compared = rp.compare(None, [row("a", "b", True), row("b", "a", True)], rows)
    assert rp.probe_sources(compared) == {"guest": 1, "pod": 1}


def test_a_report_without_run_facts_says_they_are_not_given_and_skips_say_why():
    section = {"name": "s", "network": "shop/corp-lan", "probe": {"enabled": False, "reason": "no pod runs"},
               "trace": {"enabled": False, "reason": "no ovnkube-node pod"},
               "checks": [{"port": None, "expected": SHOP_EXPECTED, "simulated": SHOP_EXPECTED}]}
    header = {line[0]: line[1] for line in tables(rp.build({"sections": [section]})["html"]).tables["run"]}
    assert header["Date"] == header["Cluster"] == header["Revision"] == "not given"
    assert header["Probes"] == "probing skipped: no pod runs"
    assert header["Traces"] == "tracing skipped: no ovnkube-node pod"


def test_several_intents_each_get_their_line_in_the_header():
    one = {"name": "shop", "network": "shop/corp-lan", "revision": REVISION,
           "checks": [{"port": None, "expected": SHOP_EXPECTED, "simulated": SHOP_EXPECTED}]}
    two = dict(one, name="billing", network="billing/corp-lan", revision=dict(REVISION, intent=None))
    header = {line[0]: line[1] for line in tables(rp.build({"sections": [one, two]})["html"]).tables["run"]}
    assert header["Revision"].startswith("shop: intent sha256:3f1c0a9b7d2e")
    assert "billing: no intent \u00b7 live policies sha256:9a41c6e0b513" in header["Revision"]


@pytest.mark.parametrize("date", ["2026-12-06T07:05:36", "2026-12-06T08:05:36+01:00", "yesterday", 1765004736])
def test_a_date_not_in_utc_is_refused_naming_the_field(date):
    with pytest.raises(MultinetError, match=r"^report.date: must be an ISO 8601 time in UTC"):
        shop(date=date)


def test_the_cluster_shows_no_credentials_and_refuses_unknown_fields_without_echoing_them():
    page = shop(cluster={"name": "c1", "server": "https://admin:s3cret@api.c1.example.test:6443/?token=t0k"})["html"]
    assert "c1 (https://api.c1.example.test:6443/)" in page and "s3cret" not in page and "t0k" not in page
    with pytest.raises(MultinetError, match=r"^report.cluster: is not a field .*'api_key'") as error:
        shop(cluster={"name": "c1", "api_key": "sha256~SECRET"})
    assert "SECRET" not in str(error.value)
    with pytest.raises(MultinetError, match=r"^report.cluster.server: must be a string"):
        shop(cluster={"server": 6443})


@pytest.mark.parametrize("revision, field", [("abc", "revision"), ({"intent": 12}, "revision.intent"),
                                             ({"policy_count": "5"}, "revision.policy_count")])
def test_a_malformed_revision_names_the_field(revision, field):
    section = {"network": "shop/corp-lan", "revision": revision, "checks": []}
    with pytest.raises(MultinetError, match=r"^report.sections\[0\]." + field + ":"):
        rp.build(section)


@pytest.mark.parametrize("url, shown", [
    ("https://api.c1.example.test:6443", "https://api.c1.example.test:6443"),
    ("https://user:pw@10.44.0.2:6443/k8s?token=x#frag", "https://10.44.0.2:6443/k8s"),
    ("", ""), (None, None)])
def test_public_url_drops_credentials_query_and_fragment(url, shown):
    assert rp.public_url(url) == shown


def test_each_cell_is_marked_probed_traced_or_simulated_only_with_a_legend():
    built = shop()
    page = tables(built["html"])
    known = {pair: (attrs["data-known"]) for pair, attrs in page.cells.items()}
    assert known[("web-1", "db")] == "probed traced"
    assert known[("probe", "db")] == "probed"
    assert known[("router", "web-1")] == "traced"
    assert known[("db", "probe")] == "simulated"
    assert '<span class="how">PT</span>' in built["html"] and '<span class="how">S</span>' in built["html"]
    legend = built["html"].split('id="legend-known"')[1].split("</div>")[0]
    assert all(mark in legend for mark in ("<b>P</b>probed", "<b>T</b>traced", "<b>S</b>simulated only"))


def test_the_disagreements_table_shows_each_verdict_with_its_reason_and_why():
    page = tables(shop()["html"])
    head, *failing = page.tables["disagreements"]
    assert head == ["check", "pair", "known", "expected", "simulated", "probed", "traced", "why"]
    assert len(failing) == 1
    check, pair, known, expected, simulated, probed, traced, why = failing[0]
    assert (check, pair, known) == ("shop tcp/5432", "probe \u2192 db", "P")
    assert expected == "denyintent: no rule" and simulated == "denyintent: no rule"
    assert probed == "allowgot through: `nc -z` in pod probe exited 0" and traced == "-"
    assert why == "the probe got through what the intent denied"


def test_a_probed_reason_is_shown_as_given_whatever_the_outcome():
    page = tables(shop()["html"])
    every = {line[0]: line for line in page.tables["pairs-0-tcp/5432"][1:]}
    assert every["web-1 \u2192 db"][4] == "allow" + REFUSED
    assert every["web-1 \u2192 db"][-1] == "ok"


def test_without_disagreements_the_report_says_none():
    agreeing = [dict(p, allowed=False) if p["from"] == "probe" else p for p in SHOP_PROBED]
    section = {"name": "s", "network": "shop/corp-lan",
               "checks": [{"port": None, "expected": SHOP_EXPECTED, "simulated": SHOP_EXPECTED, "probed": agreeing}]}
    page = rp.build({"sections": [section]})["html"]
    assert "Disagreements (0)" in page and "None: for every pair the verdicts agree." in page
    assert 'id="disagreements-title"' in page and '<table class="list reasons" id="disagreements"' not in page


def test_every_pair_table_holds_all_the_hover_said():
    built = shop()
    page = tables(built["html"])
    printed = {line[0]: line for line in page.tables["pairs-0-tcp/5432"][1:]}
    assert len(printed) == len(page.cells) == len(SHOP_EXPECTED)
    marks = {"probed": "P", "traced": "T", "simulated": "S"}
    for (source, target), attrs in page.cells.items():
        line = printed["{0} \u2192 {1}".format(source, target)]
        said = attrs["title"].splitlines()
        assert said[0] == "{0} \u2192 {1}".format(source, target)
        for text in said[1:]:
            head, _sep, rest = text.partition(": ")
            if head == "known from":
                assert line[1] == "".join(marks[k] for k in rest.split(", "))
            elif head in rp.VERDICTS:
                word, _sep, reason = rest.partition(" - ")
                assert line[2 + rp.VERDICTS.index(head)] == word + reason
            else:
                assert text in line[-1]  # a problem: the why column


def test_print_css_hides_nothing_and_prints_the_colours():
    css = rp._CSS
    printing = css[css.index("@media print"):]
    assert "display:none" not in css.replace(" ", "") and "visibility:hidden" not in css
    assert "print-color-adjust:exact" in printing and "@page{size:A4 landscape" in printing


def test_junit_carries_the_run_facts_and_the_same_reasons_as_the_tables():
    built = shop()
    root = ET.fromstring(built["junit"])
    [suite] = root.findall("testsuite")
    assert suite.get("timestamp") == "2026-12-06T07:05:36"
    assert suite.get("hostname") == "shop-cluster (https://api.shop.example.test:6443)"
    facts = {p.get("name"): p.get("value") for p in suite.find("properties")}
    assert facts["date"] == "2026-12-06 07:05:36 UTC"
    assert facts["revision"].startswith("intent sha256:3f1c0a9b7d2e")
    assert facts["probed"] == "probed from pods (1 pair) and VM guests (1 pair)"
    assert facts["fingerprint"] == built["fingerprint"]
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    failure = cases["probe -> db"].find("failure")
    assert failure.get("message") == "the probe got through what the intent denied"
    assert failure.text.splitlines()[0] == "known from: probed"
    assert "probed: allow - got through: `nc -z` in pod probe exited 0" in failure.text
    passing = cases["web-1 -> db"].find("system-out").text
    assert passing.splitlines()[0] == "known from: probed, traced" and REFUSED in passing


def test_the_fingerprint_ignores_the_date_and_follows_everything_else():
    first, later = shop(), shop(date="2026-12-07T09:00:00Z")
    assert first["fingerprint"] == later["fingerprint"] and first["html"] != later["html"]
    assert '<meta name="ocpvirt-report-fingerprint" content="{0}">'.format(first["fingerprint"]) in first["html"]
    assert shop(cluster={"name": "other"})["fingerprint"] != first["fingerprint"]
    assert shop(title="another title")["fingerprint"] != first["fingerprint"]
