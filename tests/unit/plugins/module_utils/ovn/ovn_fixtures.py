"""Load tests/unit/fixtures/ovn/: what the lab's real OVN-Kubernetes (ovnkube built from upstream
dad2fde5a, the 4.15 profile) wrote in each data-plane node's zone for the seed's CNV stage, and
real ovn-trace and ovs-vsctl output of those nodes (tests/lab/make_ovn_fixtures.py says what it
creates and what differs from the emulation-made fixtures before it, git show e67d02e).

Regenerate with the 4.15 lab up (`.venv/bin/python lab/labctl.py up`):
    nice -n 19 .venv/bin/python tests/lab/make_ovn_fixtures.py
The 4.18 naming below is derived from these 4.15 fixtures (to_418)."""
import copy
import json
import re
from pathlib import Path

from ansible_collections.ocpvirt.multinet.plugins.module_utils.ovn import ovsdb

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "ovn"
NODES = ("worker-0", "worker-1")
NAD = "llm-demo/llm-demo-localnet-network"


def text(*parts):
    return FIXTURES.joinpath(*parts).read_text()


def listings(node):
    return {table: text(node, table + ".json") for table in ovsdb.NB_TABLES}


def nodes():
    return {node: {"nb": ovsdb.parse_nb(listings(node)),
                   "bridge_mappings": ovsdb.bridge_mappings(text(node, "Open_vSwitch.json"))} for node in NODES}


def cluster():
    return copy.deepcopy(json.loads(text("cluster.json")))


def log_lines():
    return text("ovnkube-controller.log").splitlines()


# --- OpenShift 4.16+ (ovn-kubernetes 6c366bb49, 4.18's) naming ---------------------------------
# What changed from 4.15 (measured on real ovnkube 6c366bb49 with the seed's objects): port groups
# carry k8s.ovn.org/{id,name,owner-controller,owner-type} (+ direction for a default deny) instead
# of name/k8s.ovn.org/network, and are named 'a' + FNV-1a-64 of their id
# (go-controller/pkg/libovsdb/util/port_group.go:13-16, pkg/util/util.go:281-289); ACLs' matches
# name the new groups; the localnet switch loses k8s-ovn-topo-version and gains
# k8s.ovn.org/role=secondary (pkg/util/util.go:404-411). ACL ids, names and LSPs are unchanged.

def hash_for_ovn(text):
    """OVN-Kubernetes' util.HashForOVN: 'a' + decimal FNV-1a-64 (tests build fixtures with it; the
    collection never derives a group name)."""
    value = 0xcbf29ce484222325
    for byte in text.encode():
        value = ((value ^ byte) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return "a{0}".format(value)


def group_ids_418(controller, namespace, policy=None, direction=None):
    """A port group's external_ids as 6c366bb49 writes them (pkg/libovsdb/ops/db_object_ids.go:225-240)."""
    if policy:
        ids = {"k8s.ovn.org/owner-type": "NetworkPolicy", "k8s.ovn.org/name": namespace + ":" + policy}
        key = "{0}:NetworkPolicy:{1}:{2}".format(controller, namespace, policy)
    else:
        ids = {"k8s.ovn.org/owner-type": "NetpolNamespace", "k8s.ovn.org/name": namespace, "direction": direction}
        key = "{0}:NetpolNamespace:{1}:{2}".format(controller, namespace, direction)
    return dict(ids, **{"k8s.ovn.org/owner-controller": controller, "k8s.ovn.org/id": key})


def to_418(nb):
    """A 4.15-era parsed NB rewritten in 4.18's naming, everything else kept."""
    nb = copy.deepcopy(nb)
    acls = {row["_uuid"]: row for row in nb["ACL"]}
    renamed = {}
    for group in nb["Port_Group"]:
        network, readable = group["external_ids"].get("k8s.ovn.org/network"), group["external_ids"].get("name", "")
        if not network:
            continue
        controller = network + "-network-controller"
        if readable.endswith("DefaultDeny"):
            origin = acls[group["acls"][0]]["external_ids"]["k8s.ovn.org/id"].split(":")
            ids = group_ids_418(controller, origin[2], direction=origin[3])
        else:
            ids = group_ids_418(controller, *readable.split("_", 1))
        renamed[group["name"]] = hash_for_ovn(ids["k8s.ovn.org/id"])
        group.update(name=renamed[group["name"]], external_ids=ids)
    for acl in nb["ACL"]:
        acl["match"] = re.sub(r"@(\w+)", lambda found: "@" + renamed.get(found.group(1), found.group(1)), acl["match"])
    for switch in nb["Logical_Switch"]:
        ids = switch["external_ids"]
        if ids.pop("k8s-ovn-topo-version", None) is not None:
            ids["k8s.ovn.org/role"] = "secondary"
    return nb


def nodes_418():
    return {node: dict(data, nb=to_418(data["nb"])) for node, data in nodes().items()}
