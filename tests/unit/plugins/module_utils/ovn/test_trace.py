from ansible_collections.ocpvirt.multinet.plugins.module_utils.ovn import policy_map, trace

from ovn_fixtures import NAD, cluster, log_lines, nodes, text

TINYPOD = "llm.demo.llm.demo.localnet.network_llm-demo_tinypod"


def test_minimal_delivered():
    result = trace.parse_trace(text("worker-0", "trace-minimal-192.168.77.92-192.168.77.91.txt"))
    assert result == {"verdict": "delivered", "outputs": [TINYPOD], "acls": [], "acl": None}


def test_minimal_dropped():
    result = trace.parse_trace(text("worker-0", "trace-minimal-192.168.77.91-192.168.77.92.txt"))
    assert result == {"verdict": "dropped", "outputs": [], "acls": [], "acl": None}


def test_detailed_names_the_deciding_acl():
    delivered = trace.parse_trace(text("worker-0", "trace-detailed-192.168.77.92-192.168.77.91.txt"))
    assert delivered["outputs"] == [TINYPOD]
    assert delivered["acl"] == {"stage": "ls_out_acl", "priority": 1001, "action": "next",
                                "match": "ip4.src == 192.168.77.92/32 && outport == @a1333591772177041409"}
    dropped = trace.parse_trace(text("worker-0", "trace-detailed-192.168.77.91-192.168.77.92.txt"))
    assert dropped["verdict"] == "dropped"
    assert dropped["acl"]["action"] == "drop" and dropped["acl"]["priority"] == 1000


def test_deciding_acl_maps_to_the_policy_rule():
    data = cluster()
    network = policy_map.network_of(NAD, data["nads"])
    view = policy_map.inspect_network(network, nodes(), data["policies"], data["pods"], True, log_lines())
    acls = [acl for policy in view["policies"] for acl in policy["acls"]]
    delivered = trace.parse_trace(text("worker-0", "trace-detailed-192.168.77.92-192.168.77.91.txt"))
    assert trace.deciding_acl(delivered, acls)["name"] == "NP:llm-demo:allow-ipblock:Ingress:0"
    dropped = trace.parse_trace(text("worker-0", "trace-detailed-192.168.77.91-192.168.77.92.txt"))
    decided = trace.deciding_acl(dropped, acls)
    assert decided["rule"] == "default deny of namespace llm-demo (defaultDeny, policyTypes: Egress)"
    assert trace.deciding_acl({"acl": None}, acls) is None
