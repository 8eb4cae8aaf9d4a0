import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.ocpvirt.multinet.plugins.filter.ovn_inspection_report import (
    FilterModule, ovn_inspection_report)

NETWORK = {"network": {"nad": "ns/nad", "name": "net", "physical": "net", "ipam": False, "nads": ["ns/nad"]},
           "switches": {"w0": "net_ovn_localnet_switch"}, "policies": [], "findings": ["node w1: no switch"]}


def test_filter_is_registered_under_its_name():
    assert FilterModule().filters()["ovn_inspection_report"] is ovn_inspection_report


def test_filter_returns_the_rendered_report():
    built = ovn_inspection_report({"title": "t", "networks": [NETWORK]})
    assert built["failed"] is True and built["text"] == "- ns/nad, network: node w1: no switch"
    assert built["markdown"].startswith("# t\n") and built["html"].startswith("<!DOCTYPE html>")


@pytest.mark.parametrize("data, message", [
    ("nope", "ovn_inspection_report: .*dict"),
    ({"networks": [{}]}, r"ovn_inspection_report: networks\[0\]: must be an ovn_policy_info result"),
])
def test_filter_turns_bad_input_into_a_filter_error(data, message):
    with pytest.raises(AnsibleFilterError, match=message):
        ovn_inspection_report(data)
