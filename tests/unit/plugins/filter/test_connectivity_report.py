import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.ocpvirt.multinet.plugins.filter.connectivity_report import FilterModule, connectivity_report


def test_filter_is_registered_under_its_name():
    assert FilterModule().filters()["connectivity_report"] is connectivity_report


def test_filter_returns_the_rendered_report():
    rows = [{"from": "a", "to": "b", "allowed": True, "reason": "r"}]
    built = connectivity_report({"network": "ns/net", "checks": [{"port": None, "expected": rows, "simulated": rows}]})
    assert built["failed"] is False and built["html"].startswith("<!DOCTYPE html>")


@pytest.mark.parametrize("data, message", [
    ("nope", "connectivity_report: .*dict"),
    ({"checks": []}, r"connectivity_report: report.sections\[0\].network: is required"),
])
def test_filter_turns_bad_input_into_a_filter_error(data, message):
    with pytest.raises(AnsibleFilterError, match=message):
        connectivity_report(data)
