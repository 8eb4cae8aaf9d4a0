"""Load tests/unit/fixtures/ovn/ (made from real NB/OVS databases by tests/lab/make_ovn_fixtures.py,
whose NB content came from the lab's OVN-Kubernetes emulation; the generator went with it:
git show e67d02e:tests/lab/make_ovn_fixtures.py)."""
import copy
import json
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
