"""flow_report: flow changes as a short list and as a pull-request comment."""
from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.flow_report import (
    count_line,
    flow_name,
    render_markdown,
    render_text,
    summary_lines,
)

OPENED = {"from": "tinypod-02", "to": "gold-rabbit", "traffic": "tcp/22", "before": "egress denied: x",
          "after": "allowed on tcp/22: egress a|b"}
CLOSED = {"from": "green-ferret", "to": "gateway", "traffic": "icmp", "before": "allowed: <rule>", "after": "denied"}
DIFF = {"traffic": ["icmp", "tcp/22"], "opened": [OPENED], "closed": [CLOSED], "reason_changed": []}


def test_text_lists_each_opened_and_closed_flow_under_the_counts():
    assert render_text(DIFF) == (
        "Flows: 1 flow opened, 1 closed, 0 allowed by other rules (judged for icmp, tcp/22)\n"
        "  opens tinypod-02 -> gold-rabbit tcp/22\n"
        "  closes green-ferret -> gateway icmp\n")


def test_summary_lines_name_each_flow_with_its_verb():
    assert summary_lines(DIFF) == ["opens tinypod-02 -> gold-rabbit tcp/22", "closes green-ferret -> gateway icmp"]


def test_counts_without_reason_changes_say_zero():
    assert count_line({"traffic": ["icmp"], "opened": [], "closed": []}) == (
        "0 flows opened, 0 closed, 0 allowed by other rules (judged for icmp)")
    assert flow_name(CLOSED) == "green-ferret -> gateway icmp"


def test_markdown_is_a_table_with_escaped_cells():
    text = render_markdown(dict(DIFF, warnings=["workload web: no ips"]), title="llm-demo")
    lines = text.splitlines()
    assert lines[0] == "### llm-demo"
    assert "| opens | tinypod-02 | gold-rabbit | `tcp/22` | egress denied: x | allowed on tcp/22: egress a\\|b |" in lines
    assert "| closes | green-ferret | gateway | `icmp` | allowed: &lt;rule&gt; | denied |" in lines
    assert lines[-1] == "- warning: workload web: no ips"


def test_markdown_without_changes_says_so_and_folds_reason_changes():
    same = dict(OPENED, before="allowed: r1", after="allowed: r2")
    text = render_markdown({"traffic": ["icmp"], "opened": [], "closed": [], "reason_changed": [same]})
    assert "No flow opens or closes." in text
    assert "<details><summary>Allowed by other rules (1)</summary>" in text
    assert "- `tinypod-02 -> gold-rabbit tcp/22`: allowed: r1 &rarr; allowed: r2" in text
