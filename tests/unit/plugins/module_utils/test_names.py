"""Names that go into an API path are names, checked before the path is built."""
import pytest

from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.errors import MultinetError
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.names import (
    check_name,
    check_names,
    name_problem,
    network_checks,
)


@pytest.mark.parametrize("value", [
    "pay-ns/configmaps/victim-cm",  # a path: would reach a ConfigMap through the namespaces endpoint
    "pay-ns?watch=true", "pay-ns#x", "pay ns", "Pay-NS", "-pay", "pay-", "pay.ns", "..", "", "a" * 64,
])
def test_a_namespace_name_that_is_not_a_dns1123_label_is_refused_naming_field_and_value(value):
    with pytest.raises(MultinetError) as error:
        check_name("name", value, "namespace")
    assert str(error.value).startswith("name: ") and repr(value) in str(error.value)


@pytest.mark.parametrize("value", [None, 7, ["pay-ns"]])
def test_a_name_that_is_not_a_string_is_refused(value):
    assert name_problem(value, "namespace") == "must be a string"


def test_good_names_pass_by_their_kinds_rule():
    assert check_name("name", "pay-ns", "namespace") == "pay-ns"
    assert check_name("pod", "web.v2-0", "object") == "web.v2-0"  # a subdomain may hold dots
    assert name_problem("web.v2", "namespace") is not None  # a label may not
    assert name_problem("a" * 253, "object") is None and name_problem("a" * 254, "object") is not None


def test_every_bad_name_is_reported_at_once():
    with pytest.raises(MultinetError) as error:
        check_names([("commands[0].namespace", "ns/x", "namespace"), ("commands[0].pod", "ok", "object"),
                     ("commands[1].pod", "", "object")])
    message = str(error.value)
    assert "commands[0].namespace" in message and "'ns/x'" in message and "commands[1].pod" in message
    assert "commands[0].pod" not in message
    assert check_names([("pod", "ok", "object")]) is None


@pytest.mark.parametrize("text, bad", [
    ("corp/lan?x", "network 'corp/lan?x', NAD name"), ("corp/a/b", "network 'corp/a/b', NAD name"),
    ("Corp/lan", "network 'Corp/lan', namespace part"),
    ("/lan", "network '/lan', namespace part"), ("corp/", "network 'corp/', NAD name"), ("lan?x", "network"),
])
def test_a_nad_reference_is_checked_part_by_part(text, bad):
    with pytest.raises(MultinetError) as error:
        check_names(network_checks("network", text))
    assert str(error.value).startswith(bad + ":")


def test_a_good_nad_reference_passes():
    assert check_names(network_checks("network", "corp/lan.v1")) is None
    assert check_names(network_checks("network", "lan")) is None
