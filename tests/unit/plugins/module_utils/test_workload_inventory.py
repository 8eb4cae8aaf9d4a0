"""The workloads role's VMs and pods: every problem names the entry and the one field that
failed, and a VM without a MAC gets a stable one."""
import pytest

from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.workload_inventory import (
    InventoryError,
    bare_address,
    check_inventory,
    generated_mac,
    pod_labels,
    user_data_problem,
)

VM = {"name": "ledger-db", "ip": "10.57.3.30/24"}
POD = {"name": "ledger-probe", "ip": "10.57.3.40/24"}


def problems_of(vms=(), pods=(), **kwargs):
    with pytest.raises(InventoryError) as raised:
        check_inventory(list(vms), list(pods), **kwargs)
    return [str(problem) for problem in raised.value.problems]


def test_valid_entries_pass_and_a_vm_without_mac_gets_a_stable_local_unicast_one():
    checked = check_inventory([VM], [POD], gateway="10.57.3.1", namespace="ledger")

    mac = checked["vms"][0]["mac"]
    assert mac == generated_mac("ledger", "ledger-db") == check_inventory([VM], [], namespace="ledger")["vms"][0]["mac"]
    assert mac.startswith("02:") and len(mac.split(":")) == 6
    assert generated_mac("other-ns", "ledger-db") != mac
    assert checked["pods"] == [POD]


def test_a_mac_given_is_kept():
    assert check_inventory([dict(VM, mac="02:aa:bb:cc:dd:ee")], [])["vms"][0]["mac"] == "02:aa:bb:cc:dd:ee"


@pytest.mark.parametrize("entry, field, value", [
    ({"name": "Bad_VM", "ip": "10.57.3.5/24"}, "workloads_vms[Bad_VM].name", "'Bad_VM'"),
    ({"name": "vm-a", "ip": "10.57.3.300/24"}, "workloads_vms[vm-a].ip", "'10.57.3.300/24'"),
    ({"name": "vm-a", "ip": "10.57.3.5"}, "workloads_vms[vm-a].ip", "'10.57.3.5'"),
    ({"name": "vm-a", "ip": "10.57.3.255/24"}, "workloads_vms[vm-a].ip", "'10.57.3.255/24'"),
    ({"name": "vm-a", "ip": "10.57.3.5/24", "gateway": "300.1.1.1"}, "workloads_vms[vm-a].gateway", "'300.1.1.1'"),
    ({"name": "vm-a", "ip": "10.57.3.5/24", "gateway": "10.58.0.1"}, "workloads_vms[vm-a].gateway", "'10.58.0.1'"),
    ({"name": "vm-a", "ip": "10.57.3.5/24", "mac": "03:00:00:00:00:01"}, "workloads_vms[vm-a].mac", "'03:00:00:00:00:01'"),
    ({"name": "vm-a", "ip": "10.57.3.5/24", "dns": ["10.57.3.999"]}, "workloads_vms[vm-a].dns[0]", "'10.57.3.999'"),
    ({"name": "vm-a", "ip": "10.57.3.5/24", "labels": {"tier": "a b"}}, "workloads_vms[vm-a].labels.tier", "'a b'"),
    ({"ip": "10.57.3.5/24"}, "workloads_vms[0].name", "None"),
    ({"name": "vm-a", "mac": "02:00:00:00:00:01"}, "workloads_vms[vm-a].ip", "None"),
])
def test_each_bad_vm_field_is_one_problem_naming_the_entry_field_and_value(entry, field, value):
    found = problems_of([entry])

    assert len(found) == 1, found
    assert found[0].startswith(field + ":") and found[0].endswith("(got {0})".format(value))


def test_a_bad_pod_address_names_the_pod():
    assert problems_of(pods=[{"name": "ledger-probe", "ip": "192.168.77.300/24"}]) == [
        "workloads_pods[ledger-probe].ip: not an address with a prefix, like 10.20.0.5/24 (got '192.168.77.300/24')"]


def test_the_default_gateway_is_named_as_the_variable_it_came_from():
    found = problems_of([VM], gateway="300.1.1.1")

    assert found == ["workloads_vm_gateway: not an IP address (got '300.1.1.1')"]


def test_every_problem_is_reported_at_once():
    found = problems_of([{"name": "Bad_VM", "ip": "x"}, {"name": "vm-b", "ip": "10.57.3.6/24", "mac": "zz"}],
                        [{"name": "p", "ip": "10.57.3.300/24"}])

    assert [line.split(":")[0] for line in found] == [
        "workloads_vms[Bad_VM].name", "workloads_vms[Bad_VM].ip", "workloads_vms[vm-b].mac", "workloads_pods[p].ip"]


def test_a_name_address_or_mac_used_twice_names_both_entries():
    found = problems_of([dict(VM, mac="02:00:00:00:00:01"), {"name": "ledger-web", "ip": "10.57.3.30/24",
                                                             "mac": "02:00:00:00:00:01"}],
                        [{"name": "ledger-db", "ip": "10.57.3.41/24"}])

    assert "workloads_vms[ledger-web]: address is also workloads_vms[ledger-db]'s" in found[0]
    assert "workloads_vms[ledger-web]: mac is also workloads_vms[ledger-db]'s" in found[1]
    assert "workloads_pods[ledger-db]: name is also workloads_vms[ledger-db]'s" in found[2]
    assert len(found) == 3


def test_an_entry_that_is_not_a_mapping_is_named_by_position():
    assert problems_of(["ledger-db"]) == ["workloads_vms[0]: must be a mapping with name and ip (got 'ledger-db')"]


@pytest.mark.parametrize("text, problem", [
    ("", None),
    ("#cloud-config\nusers: [{name: ops}]\n", None),
    ("#!/bin/sh\necho hi\n", "must be YAML cloud-config starting with the line '#cloud-config'"),
    ("#cloud-config\nusers: [ops\n", "is not valid YAML at line 3"),
    ("#cloud-config\n- a list\n", "must be a YAML mapping of cloud-config keys"),
])
def test_user_data_must_be_yaml_cloud_config(text, problem):
    found = user_data_problem(text)

    assert (found is None) if problem is None else found.startswith(problem), found


def test_bad_user_data_is_refused_without_showing_it():
    secret = "#cloud-config\npassword: hunter2-secret\nusers: [ops\n"
    found = problems_of([VM], user_data=secret)

    assert found[0].startswith("workloads_vm_user_data: is not valid YAML at line")
    assert "hunter2-secret" not in found[0]


def test_a_vms_pod_carries_its_name_labels_and_a_pods_its_own_or_app():
    assert pod_labels("vm", {"name": "ledger-db", "labels": {"tier": "db"}}) == {
        "kubevirt.io/domain": "ledger-db", "vm.kubevirt.io/name": "ledger-db", "tier": "db"}
    assert pod_labels("pod", POD) == {"app": "ledger-probe"}
    assert pod_labels("pod", dict(POD, labels={"role": "probe"})) == {"role": "probe"}


def test_bare_address():
    assert bare_address("10.57.3.30/24") == "10.57.3.30"
    assert bare_address("2001:DB8::1/64") == "2001:db8::1"
    assert bare_address("nonsense") is None
