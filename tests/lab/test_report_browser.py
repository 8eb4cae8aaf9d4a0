"""The HTML report rendered by a real browser (headless Chromium): what a person sees.

Builds the report of the seed intent with one policy missing from the "live" side, lets
Chromium render it, takes a screenshot and reads the DOM Chromium built (--dump-dom), so the
assertions are on cells as parsed by the browser, not on the string we wrote. Through the
DevTools protocol it also lays the page out for the screen and for print, and asserts that the
tables of reasons are on the page in both (what the matrix's hover says must reach paper).
Needs no cluster; skipped when no Chromium is installed (`apt-get install -y chromium`).
"""
import base64
import html.parser
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import tempfile
import urllib.request
from pathlib import Path

import pytest
import yaml

from ansible_collections.ocpvirt.multinet.plugins.module_utils.simulate import cluster_endpoints as ce
from ansible_collections.ocpvirt.multinet.plugins.module_utils.verify import report as rp
from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.compiler import compile_intent
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.intent import parse_intent
from ansible_collections.ocpvirt.multinet.plugins.module_utils.simulate.connectivity import simulate

SEED_INTENT = Path(__file__).resolve().parents[1] / "unit" / "fixtures" / "seed_intent.yml"
BROWSER = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)
pytestmark = pytest.mark.skipif(BROWSER is None, reason="no Chromium on PATH (apt-get install -y chromium)")
WIDTH, HEIGHT = 1400, 1500
HEADLESS = [BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"]


def chromium(*args):
    command = [*HEADLESS, *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=True).stdout


class Dom(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.cells, self.edges, self.scripts, self.badge = {}, [], 0, None
        self.disagreements, self.table = [], None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "td" and "data-from" in attrs:
            self.cells.setdefault(attrs["data-from"], {})[attrs["data-to"]] = attrs
        elif tag == "path" and "edge" in attrs.get("class", ""):
            self.edges.append((attrs["data-from"], attrs["data-to"], attrs["class"]))
        elif tag == "script":
            self.scripts += 1
        elif tag == "span" and attrs.get("id") == "status":
            self.badge = attrs["class"]
        elif tag == "table":
            self.table = attrs.get("id")
        elif tag == "tr" and self.table == "disagreements" and "data-from" in attrs:
            self.disagreements.append((attrs["data-from"], attrs["data-to"]))


@pytest.fixture(scope="module")
def report_file(tmp_path_factory):
    intent = yaml.safe_load(SEED_INTENT.read_text())
    compiled = compile_intent(intent)
    live = [p for p in compiled if not p["metadata"]["name"].endswith("green-ferret")]
    aligned = ce.align_with_intent([], parse_intent(intent), extra=[{"name": "internet", "ip": "8.8.8.8"}])
    endpoints = ce.simulation_endpoints(aligned["endpoints"])
    checks = []
    for port in ("icmp", "tcp/22"):
        simulated = simulate(live, intent["network"], endpoints, port)
        # Probes from one pod and one VM guest, traces of every pair: the cells get each mark.
        probed = [{"from": r["from"], "to": r["to"], "allowed": r["allowed"],
                   "via": "pod" if r["from"] == "tinypod-01" else "guest",
                   "detail": "reached (refused): a probe outcome the report has no word for"}
                  for r in simulated if r["from"] in ("tinypod-01", "gold-rabbit")]
        traced = [{"from": r["from"], "to": r["to"], "allowed": r["allowed"], "detail": "OVN's verdict"}
                  for r in simulated if r["from"] != "tinypod-02"]
        checks.append({"port": port, "expected": simulate(compiled, intent["network"], endpoints, port),
                       "simulated": simulated, "probed": probed, "traced": traced})
    built = rp.build({"title": "Seed lab", "date": "2026-12-06T07:05:36Z",
                      "cluster": {"name": "seed-lab", "server": "https://127.0.0.1:6443"}, "sections": [{
                          "name": "llm-demo", "network": intent["network"], "endpoints": aligned["endpoints"],
                          "checks": checks, "revision": {"intent": "sha256:0123456789ab", "policies": "sha256:ba9876543210",
                                                         "policy_count": len(live)},
                          "probe": {"enabled": True}, "trace": {"enabled": True}, "warnings": aligned["warnings"]}]})
    path = tmp_path_factory.mktemp("report") / "report.html"
    path.write_text(built["html"])
    return path


@pytest.fixture(scope="module")
def dom(report_file):
    parser = Dom()
    parser.feed(chromium("--dump-dom", report_file.as_uri()))
    return parser


def test_browser_renders_a_cell_per_pair_coloured_by_verdict(dom):
    names = ["gold-rabbit", "green-ferret", "tinypod", "tinypod-01", "tinypod-02", "gateway", "internet"]
    assert list(dom.cells) == names and all(list(row) == names for row in dom.cells.values())
    assert dom.cells["tinypod-01"]["tinypod"]["class"] == "allow"
    assert dom.cells["tinypod"]["tinypod-01"]["class"] == "deny"
    assert dom.cells["gold-rabbit"]["internet"]["class"] == "allow"
    assert dom.cells["internet"]["gateway"]["class"] == "none"
    assert dom.cells["tinypod"]["tinypod"]["class"] == "self"


def test_browser_shows_the_missing_policy_as_disagreements_with_reasons(dom):
    failing = dom.cells["green-ferret"]["gateway"]
    assert failing["class"] == "fail"
    assert "the live policies deny what the intent allowed" in failing["title"]
    assert "expected: allow" in failing["title"] and "simulated: deny" in failing["title"]
    assert dom.cells["gateway"]["green-ferret"]["class"] == "fail"
    assert dom.badge == "badge fail" and dom.scripts == 0
    assert failing["data-known"] == "traced"
    assert dom.cells["tinypod-01"]["tinypod"]["data-known"] == "probed traced"
    assert dom.cells["tinypod-02"]["tinypod"]["data-known"] == "simulated"


def test_browser_lists_the_disagreements_in_a_table_of_their_own(dom):
    failing = {(source, target) for source, row in dom.cells.items() for target, cell in row.items()
               if cell["class"] == "fail"}
    assert failing and set(dom.disagreements) == failing


def test_browser_graph_draws_allowed_flows_and_marks_the_disagreements(dom):
    assert ("tinypod-01", "tinypod", "edge") in dom.edges
    assert ("green-ferret", "gateway", "edge fail") in dom.edges
    assert not any(e[:2] == ("tinypod", "tinypod-01") for e in dom.edges)


def test_browser_screenshot_is_written_at_the_window_size(report_file, tmp_path):
    shot = tmp_path / "report.png"
    chromium("--window-size={0},{1}".format(WIDTH, HEIGHT), "--screenshot={0}".format(shot), report_file.as_uri())
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", data[16:24]) == (WIDTH, HEIGHT)
    assert len(data) > 50_000  # a blank page compresses to a few kilobytes


class DevTools:
    """A headless Chromium driven through the DevTools protocol (websocket-client, a
    dependency of the kubernetes client): lay a page out for a medium, measure, print."""

    def __init__(self, url, width, height):
        websocket = pytest.importorskip("websocket")
        self.profile = tempfile.TemporaryDirectory()
        self.process = subprocess.Popen(
            [*HEADLESS, "--remote-debugging-port=0", "--user-data-dir=" + self.profile.name, "about:blank"],
            stderr=subprocess.PIPE, text=True, start_new_session=True)
        port = next(re.search(r":(\d+)/devtools/", line).group(1) for line in self.process.stderr
                    if "DevTools listening on" in line)
        with urllib.request.urlopen("http://127.0.0.1:{0}/json/list".format(port), timeout=30) as answer:
            page = next(t for t in json.load(answer) if t["type"] == "page")
        self.socket = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=120)
        self.sequence = 0
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)
        self.call("Page.enable")
        self.call("Page.navigate", url=url)
        while json.loads(self.socket.recv()).get("method") != "Page.loadEventFired":
            pass

    def call(self, method, **params):
        self.sequence += 1
        self.socket.send(json.dumps({"id": self.sequence, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == self.sequence:
                assert "error" not in message, message
                return message["result"]

    def evaluate(self, expression):
        return self.call("Runtime.evaluate", expression=expression, returnByValue=True)["result"]["value"]

    def close(self):
        self.socket.close()
        # the whole group: the renderer and utility processes write to the profile too, and one still
        # writing made removing it fail ("Directory not empty")
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.profile.cleanup()


# Every element that carries a reason, laid out: a box with a size, not hidden by any style.
SHOWN = """[...document.querySelectorAll(%s)].map(e => {
  const box = e.getBoundingClientRect(), style = getComputedStyle(e);
  return box.width > 0 && box.height > 0 && style.visibility !== 'hidden' && style.display !== 'none';
})"""


@pytest.fixture(scope="module")
def devtools(report_file):
    browser = DevTools(report_file.as_uri(), WIDTH, HEIGHT)
    yield browser
    browser.close()


@pytest.mark.parametrize("medium", ["screen", "print"])
def test_the_reasons_are_on_the_page_on_screen_and_in_print(devtools, medium):
    devtools.call("Emulation.setEmulatedMedia", media=medium)
    assert devtools.evaluate("matchMedia('print').matches") == (medium == "print")
    tables = devtools.evaluate(SHOWN % "'#run, #disagreements-title, table.reasons'")
    assert len(tables) == 5 and all(tables)  # the header, the disagreements (their title and table), every pair for icmp and tcp/22
    details = devtools.evaluate(SHOWN % "'table.reasons td.v .detail, .how, #legend-known'")
    assert len(details) > 100 and all(details)
    assert devtools.evaluate("document.querySelector('#disagreements tbody').rows.length") == 4
    assert "reached (refused): a probe outcome the report has no word for" in devtools.evaluate(
        "document.getElementById('pairs-0-icmp').innerText")


def test_print_media_screenshot_and_pdf_on_a4_landscape(devtools, tmp_path):
    devtools.call("Emulation.setEmulatedMedia", media="print")
    shot = base64.b64decode(devtools.call("Page.captureScreenshot", format="png")["data"])
    (tmp_path / "report-print.png").write_bytes(shot)
    assert shot[:8] == b"\x89PNG\r\n\x1a\n" and len(shot) > 50_000
    pdf = base64.b64decode(devtools.call("Page.printToPDF", preferCSSPageSize=True, printBackground=True)["data"])
    boxes = re.findall(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", pdf)
    assert len(boxes) >= 2  # the header and disagreements, then the intent on a page of its own
    assert {(round(float(w)), round(float(h))) for w, h in boxes} == {(842, 595)}  # A4 landscape, in points
