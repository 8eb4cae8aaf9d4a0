"""The name_problems filter: the roles' names checked by names.py before any API path is built."""
import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.ocpvirt.multinet.plugins.filter.name_problems import FilterModule

PROBLEMS = FilterModule().filters()["name_problems"]


def test_each_bad_name_is_one_message_naming_field_and_value():
    problems = PROBLEMS([["olm_operator_namespace", "ops/configmaps/x", "namespace"],
                         ["olm_operator_subscription_name", "sub.v1", "object"],
                         ["virtualization_namespace", "", "namespace"]])
    assert problems == [
        "olm_operator_namespace: must be a DNS-1123 label (lowercase letters, digits and '-', alphanumeric at both "
        "ends) (got 'ops/configmaps/x')",
        "virtualization_namespace: must not be empty (got '')"]


def test_good_names_give_no_message():
    assert PROBLEMS([["bridge_mapping_name", "corp-lan.mapping", "object"]]) == []


@pytest.mark.parametrize("check", [["field", "value"], ["field", "value", "dns"]])
def test_a_malformed_check_is_refused(check):
    with pytest.raises(AnsibleFilterError, match=r"_input\[0\]"):
        PROBLEMS([check])
