"""The HTML report rendered by a real browser (headless Chromium): what a person sees.

Builds the report of the seed intent with one policy missing from the "live" side, lets
Chromium render it, takes a screenshot and reads the DOM Chromium built (--dump-dom), so the
assertions are on cells as parsed by the browser, not on the string we wrote.
Needs no cluster; skipped when no Chromium is installed (`apt-get install -y chromium`).
"""
import html.parser
import shutil
import struct
import subprocess
from pathlib import Path

import pytest
import yaml

from ansible_collections.ocpvirt.multinet.plugins.module_utils import cluster_endpoints as ce
from ansible_collections.ocpvirt.multinet.plugins.module_utils import report as rp
from ansible_collections.ocpvirt.multinet.plugins.module_utils.compiler import compile_intent
from ansible_collections.ocpvirt.multinet.plugins.module_utils.intent import parse_intent
from ansible_collections.ocpvirt.multinet.plugins.module_utils.connectivity import simulate

SEED_INTENT = Path(__file__).resolve().parents[1] / "unit" / "fixtures" / "seed_intent.yml"
BROWSER = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)
pytestmark = pytest.mark.skipif(BROWSER is None, reason="no Chromium on PATH (apt-get install -y chromium)")
WIDTH, HEIGHT = 1400, 1500


def chromium(*args):
    command = [BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=True).stdout


class Dom(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.cells, self.edges, self.scripts, self.badge = {}, [], 0, None

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


@pytest.fixture(scope="module")
def report_file(tmp_path_factory):
    intent = yaml.safe_load(SEED_INTENT.read_text())
    compiled = compile_intent(intent)
    live = [p for p in compiled if not p["metadata"]["name"].endswith("green-ferret")]
    aligned = ce.align_with_intent([], parse_intent(intent), extra=[{"name": "internet", "ip": "8.8.8.8"}])
    endpoints = ce.simulation_endpoints(aligned["endpoints"])
    checks = [{"port": port, "expected": simulate(compiled, intent["network"], endpoints, port),
               "simulated": simulate(live, intent["network"], endpoints, port)} for port in ("icmp", "tcp/22")]
    built = rp.build({"title": "Seed lab", "sections": [{
        "name": "llm-demo", "network": intent["network"], "endpoints": aligned["endpoints"], "checks": checks,
        "probe": {"enabled": False, "reason": "the lab's nodes are simulated"}, "warnings": aligned["warnings"]}]})
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
