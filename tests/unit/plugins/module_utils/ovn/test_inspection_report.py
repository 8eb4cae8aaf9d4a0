"""The inspection report, from the view policy_map makes of the lab's NB fixtures."""
import re

import pytest

from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.errors import MultinetError
from ansible_collections.ocpvirt.multinet.plugins.module_utils.ovn import inspection_report, policy_map

from ovn_fixtures import NAD, cluster, log_lines, nodes


def view():
    data = cluster()
    network = policy_map.network_of(NAD, data["nads"])
    return policy_map.inspect_network(network, nodes(), data["policies"], data["pods"], True, log_lines())


def section(markdown, heading):
    """The Markdown between `heading` and the next heading of the same or a higher level."""
    level = heading.split(" ")[0]
    start = markdown.index(heading + "\n")
    following = re.compile(r"^#{1,%d} " % len(level), re.M)
    end = following.search(markdown, start + len(heading) + 1)
    return markdown[start:end.start() if end else None]


def test_policy_joins_rule_acls_and_ports():
    report = inspection_report.build({"title": "t", "networks": [view()]})
    cnv = section(report["markdown"], "### Policy llm-demo/allow-ipblock-cnv-01")
    egress = section(cnv, "#### Rule spec.egress[0]")
    assert '`{"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["192.168.77.0/24"]}}' in egress
    assert ("| to[0] | Egress (from-lport) | 1001 | `ip4.dst == 0.0.0.0/0 && ip4.dst != {192.168.77.0/24} && "
            "inport == @a2829001848871617131` | allow-related | worker-0, worker-1 |") in egress
    assert egress.count("| to[") == 3 and "from[" not in egress
    ingress = section(cnv, "#### Rule spec.ingress[0]")
    assert "| from[1] | Ingress (to-lport) | 1001 | `ip4.src == 192.168.77.92/32 && outport == @a2829001848871617131`" \
        in ingress
    deny = section(cnv, "#### Default deny of the namespace (its policyTypes)")
    assert "`outport == @a10784303122943660060_ingressDefaultDeny && (arp \\|\\| nd)` | allow |" in deny
    ports = section(cnv, "#### Ports (the pods and VMs it selects)")
    assert "| VM llm-demo/centos-stream9-gold-rabbit-80 | worker-1 |" in ports
    assert "Findings: none." in ports


def test_findings_per_policy_and_for_the_network():
    report = inspection_report.build({"networks": [view()]})
    refused = section(report["markdown"], "### Policy llm-demo/allow-specific-pods")
    assert "Port group(s): none." in refused and "Rule spec." not in refused
    assert "- Finding: no port group and no ACLs on any node: refused by OVN-Kubernetes" in refused
    assert "Retry add failed for *v1beta1.MultiNetworkPolicy llm-demo/allow-specific-pods" in refused
    summary = section(report["markdown"], "### Findings")
    assert "- network: node worker-1: ovn-bridge-mappings (physnet:br-ex) has no entry for localnet-cnv" in summary
    assert "- policy llm-demo/allow-specific-pods: no port group" in summary
    assert "- policy llm-demo/selects-nothing: selects nothing on localnet-cnv" in summary
    assert report["failed"] is True and report["summary"] == {"networks": 1, "policies": 8, "findings": 3}
    assert [(f["policy"], f["finding"][:20]) for f in report["findings"]] == [
        (None, "node worker-1: ovn-b"), ("llm-demo/allow-specific-pods", "no port group and no"),
        ("llm-demo/selects-nothing", "selects nothing on l")]
    assert report["text"].splitlines()[0].startswith(f"- {NAD}, network: node worker-1: ovn-bridge-mappings")


def test_clean_network_passes():
    clean = view()
    clean["findings"] = []
    for policy in clean["policies"]:
        policy["findings"] = []
    report = inspection_report.build({"networks": [clean]})
    assert report["failed"] is False and report["text"] == ""
    assert "None: OVN-Kubernetes made what the policies say." in report["markdown"]


def test_html_says_the_same_escaped():
    report = inspection_report.build({"title": "OVN <inspection>", "networks": [view()]})
    page = report["html"]
    assert page.startswith("<!DOCTYPE html>") and "<title>OVN &lt;inspection&gt;</title>" in page
    assert "<script" not in page and "http" not in page.split("</style>")[0]
    assert "<td><code>ip4.dst == 0.0.0.0/0 &amp;&amp; ip4.dst != {192.168.77.0/24} &amp;&amp; inport == " \
           "@a2829001848871617131</code></td>" in page
    assert "<code>(arp || nd)" not in page and "(arp || nd)</code>" in page
    assert page.count("<h3>Policy ") == 8
    assert "OVN network <code>localnet-cnv</code>, bridge mapping name <code>localnet-cnv</code>" in page
    assert "`localnet-cnv`" not in page


def test_acls_traced_to_no_rule_are_kept():
    acl = {"rule": None, "name": "foreign", "direction": None, "ovn_direction": "to-lport", "priority": 10,
           "match": "1", "action": "drop", "nodes": ["n"]}
    groups = inspection_report.group_acls([acl])
    assert [(rule["title"], len(acls)) for rule, acls in groups] == [("ACLs traced to no rule", 1)]
    assert inspection_report.acl_row(acl)[0] == "foreign"


@pytest.mark.parametrize("data, field", [
    ({"networks": "x"}, "networks"),
    ({"networks": [{"failed": True, "msg": "no running pod"}]}, r"networks\[0\]"),
])
def test_bad_input_names_the_field(data, field):
    with pytest.raises(MultinetError, match=field):
        inspection_report.build(data)


@pytest.mark.parametrize("rule, peer", [
    ("spec.egress[0].to[2]", "to[2]"), ("spec.ingress[1].from[0] (tcp)", "from[0] (tcp)"),
    ("spec.ingress[0] (udp)", "all peers (udp)"), ("spec.ingress[0]", "all peers"),
    ("default deny of namespace ns (defaultDeny, policyTypes: Ingress)",
     "default deny of namespace ns (defaultDeny, policyTypes: Ingress)"),
])
def test_peer_column(rule, peer):
    assert inspection_report.acl_row({"rule": rule, "match": "m"})[0] == peer
