"""The ownership_record filter: teardown's record of what site.yml creates per namespace."""
import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.ocpvirt.multinet.plugins.filter.ownership_record import FilterModule

RECORD = FilterModule().filters()["ownership_record"]


def test_the_filter_returns_the_record_of_the_inventorys_values():
    assert RECORD({"networks": [{"name": "corp-lan", "namespace": "pay-ns"}],
                   "intents": [{"namespace": "pay-ns", "network": "corp-lan", "name": "pay"}],
                   "workloads_namespace": "pay-ns", "vms": [{"name": "pay-db"}], "pods": []}) == {
        "pay-ns": {"owned": ["NetworkAttachmentDefinition/corp-lan", "Secret/pay-db-cloud-init",
                             "VirtualMachine/pay-db"], "intents": ["pay"]}}


def test_an_unknown_key_is_refused_naming_the_known_ones():
    with pytest.raises(AnsibleFilterError, match="unknown key.*workload_vms.*known: networks"):
        RECORD({"workload_vms": []})


def test_an_invalid_intent_is_refused_naming_the_field():
    with pytest.raises(AnsibleFilterError, match="network"):
        RECORD({"intents": [{"namespace": "pay-ns"}]})
