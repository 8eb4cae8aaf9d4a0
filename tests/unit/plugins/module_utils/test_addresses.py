"""Addresses written once: an intent's workload takes its addresses from the inventory entries
it selects, and an address it writes is compared with the inventory's and the live one."""
import json

import pytest

from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.addresses import (
    AddressError,
    live_address_problems,
    resolve_intents,
)
from ansible_collections.ocpvirt.multinet.plugins.module_utils.simulate.cluster_endpoints import collect_endpoints
from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.compiler import compile_policies
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.intent import parse_intent
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.vocabulary import NETWORKS_ANNOTATION, VM_NAME_LABEL
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.workload_inventory import InventoryError

INVENTORY = {
    "namespace": "ledger",
    "vms": [{"name": "ledger-db", "ip": "10.57.3.30/24"},
            {"name": "ledger-web-1", "ip": "10.57.3.21/24", "labels": {"tier": "web"}},
            {"name": "ledger-web-2", "ip": "10.57.3.22/24", "labels": {"tier": "web"}}],
    "pods": [{"name": "ledger-probe", "ip": "10.57.3.40/24"}],
}


def intent(**workloads):
    return {"name": "ledger", "namespace": "ledger", "network": "ledger-lan", "workloads": workloads,
            "allow": [{"from": name, "to": "10.57.3.1"} for name in workloads]}


def problems(intents, inventory=None):
    inventory = INVENTORY if inventory is None else inventory
    with pytest.raises(AddressError) as raised:
        resolve_intents(intents, inventory)
    return [str(problem) for problem in raised.value.problems]


def test_a_vm_workload_without_ips_takes_the_vms_address_without_its_prefix():
    resolved = resolve_intents([intent(db={"vm": "ledger-db"})], INVENTORY)

    assert resolved[0]["workloads"]["db"] == {"vm": "ledger-db", "ips": ["10.57.3.30"]}
    policy = [p for p in compile_policies(parse_intent(resolved[0])) if p["metadata"]["name"] == "ledger-allow-db"][0]
    assert policy["spec"]["podSelector"] == {"matchLabels": {VM_NAME_LABEL: "ledger-db"}}


def test_a_selector_takes_the_addresses_of_every_entry_it_selects_vms_and_pods():
    resolved = resolve_intents([intent(web={"selector": {"tier": "web"}},
                                       probe={"selector": {"app": "ledger-probe"}})], INVENTORY)

    assert resolved[0]["workloads"]["web"]["ips"] == ["10.57.3.21", "10.57.3.22"]
    assert resolved[0]["workloads"]["probe"]["ips"] == ["10.57.3.40"]


def test_the_input_intent_is_not_changed():
    original = intent(db={"vm": "ledger-db"})
    resolve_intents([original], INVENTORY)

    assert "ips" not in original["workloads"]["db"]


def test_a_mistyped_intent_address_fails_naming_workload_intent_address_and_inventory_address():
    found = problems([intent(db={"vm": "ledger-db", "ips": ["10.57.3.31"]})])

    assert found == ["intent 'ledger': workloads.db.ips: VM ledger-db is at 10.57.3.30 in the inventory "
                     "(workloads_vms[ledger-db].ip '10.57.3.30/24'), which the intent does not list (got ['10.57.3.31'])"]


def test_a_selector_missing_one_of_its_entries_names_that_one():
    found = problems([intent(web={"selector": {"tier": "web"}, "ips": ["10.57.3.21"]})])

    assert len(found) == 1 and "VM ledger-web-2 is at 10.57.3.22" in found[0]


def test_matching_addresses_pass_also_written_as_host_cidrs():
    resolved = resolve_intents([intent(db={"vm": "ledger-db", "ips": ["10.57.3.30/32"]})], INVENTORY)

    assert resolved[0]["workloads"]["db"]["ips"] == ["10.57.3.30/32"]


def test_without_check_a_differing_address_is_kept():
    resolved = resolve_intents([intent(db={"vm": "ledger-db", "ips": ["10.57.3.31"]})], INVENTORY, check=False)

    assert resolved[0]["workloads"]["db"]["ips"] == ["10.57.3.31"]


def test_a_workload_selecting_no_entry_and_without_ips_is_refused():
    found = problems([intent(cache={"vm": "ledger-cache"})])

    assert found == ["intent 'ledger': workloads.cache.ips: no ips, and no VM or pod of the inventory "
                     "(workloads_vms and workloads_pods in namespace 'ledger') is selected by vm 'ledger-cache'; "
                     "write the ips, or list the workload in the inventory (got None)"]


def test_an_intent_of_another_namespace_is_not_compared_with_the_inventory():
    other = dict(intent(db={"vm": "ledger-db", "ips": ["10.99.0.5"]}), namespace="elsewhere")

    assert resolve_intents([other], INVENTORY) == [other]
    assert problems([dict(intent(db={"vm": "ledger-db"}), namespace="elsewhere")])


def test_an_ipam_intent_may_leave_ips_out():
    ipam = dict(intent(cache={"vm": "ledger-cache"}), ipam=True)

    assert resolve_intents([ipam], INVENTORY) == [ipam]


def test_malformed_intents_pass_untouched_for_the_compiler_to_report():
    malformed = [{"namespace": "ledger", "workloads": []}, "not a mapping",
                 intent(db={"vm": "ledger-db", "selector": {"a": "b"}})]

    assert resolve_intents(malformed, INVENTORY) == malformed


def test_an_invalid_inventory_fails_naming_the_entry():
    with pytest.raises(InventoryError, match=r"workloads_vms\[Bad_VM\]\.name"):
        resolve_intents([], {"namespace": "ledger", "vms": [{"name": "Bad_VM", "ip": "10.57.3.9/24"}]})


# --- live -------------------------------------------------------------------------------------

def pod(name, ip, labels):
    annotations = {NETWORKS_ANNOTATION: json.dumps([{"name": "ledger-lan", "ips": [ip + "/24"]}])}
    return {"metadata": {"name": name, "namespace": "ledger", "labels": labels, "annotations": annotations},
            "status": {"phase": "Running"}}


def live(*pods):
    return collect_endpoints("ledger/ledger-lan", pods=list(pods))["endpoints"]


def test_a_live_pod_at_another_address_than_the_intent_says_is_a_problem_naming_both():
    model = parse_intent(intent(probe={"selector": {"app": "ledger-probe"}, "ips": ["10.57.3.41"]}))
    found = [str(p) for p in live_address_problems(model, live(pod("ledger-probe", "10.57.3.40", {"app": "ledger-probe"})))]

    assert found == ["workloads.probe.ips: pod ledger-probe is at 10.57.3.40 on the cluster (from "
                     "networks-annotation), which the intent does not list (got ['10.57.3.41'])"]


def test_live_pods_at_the_intents_addresses_and_unselected_pods_pass():
    model = parse_intent(intent(probe={"selector": {"app": "ledger-probe"}, "ips": ["10.57.3.40"]}))
    pods = live(pod("ledger-probe", "10.57.3.40", {"app": "ledger-probe"}),
                pod("someone-else", "10.57.3.77", {"app": "other"}))

    assert live_address_problems(model, pods) == []


def vmi(name, ip, labels):
    """A running VMI with one bridge NIC on the network and the guest agent's address report."""
    spec = {"domain": {"devices": {"interfaces": [{"name": "lan", "bridge": {}}]}},
            "networks": [{"name": "lan", "multus": {"networkName": "ledger-lan"}}]}
    return {"metadata": {"name": name, "namespace": "ledger", "labels": labels}, "spec": spec,
            "status": {"interfaces": [{"name": "lan", "ipAddresses": [ip]}]}}


def test_a_live_vm_is_matched_by_its_vm_label_and_its_reported_address():
    model = parse_intent(intent(db={"vm": "ledger-db", "ips": ["10.57.3.31"]}))
    endpoints = collect_endpoints("ledger/ledger-lan", vmis=[vmi("ledger-db", "10.57.3.30", {})])["endpoints"]

    found = live_address_problems(model, endpoints)
    assert [str(problem) for problem in found] == [
        "workloads.db.ips: VM ledger-db is at 10.57.3.30 on the cluster (from vmi-status), which the intent "
        "does not list (got ['10.57.3.31'])"]
