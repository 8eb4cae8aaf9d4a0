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


def test_filter_takes_the_run_date_cluster_and_revision():
    rows = [{"from": "web", "to": "db", "allowed": True, "reason": "r"}]
    built = connectivity_report({"date": "2026-12-06T07:05:36Z", "cluster": {"name": "shop", "server": "https://api.shop.test:6443"},
                                 "sections": [{"network": "shop/corp-lan", "revision": {"intent": "sha256:0123456789ab"},
                                               "checks": [{"port": None, "expected": rows, "simulated": rows}]}]})
    assert "2026-12-06 07:05:36 UTC" in built["html"] and "shop (https://api.shop.test:6443)" in built["html"]
    assert "sha256:0123456789ab" in built["junit"] and built["fingerprint"].startswith("sha256:")


def test_filter_refuses_a_date_outside_utc():
    with pytest.raises(AnsibleFilterError, match=r"connectivity_report: report.date: must be an ISO 8601 time in UTC"):
        connectivity_report({"date": "2026-12-06 07:05", "network": "shop/corp-lan", "checks": []})
