"""plan.yml's files are data: policies_intents may use the file's own variables, rendered in a
sandbox with no lookups and no Ansible filters; nothing else of the file is rendered."""
import pytest

from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.errors import MultinetError
from ansible_collections.ocpvirt.multinet.plugins.plugin_utils.plan_vars import MAX_PRODUCT, plan_intents

VARS = {
    "team_namespace": "billing",
    "team_nad": "billing-lan",
    "team_subnet": "10.44.0.",
    "policies_intents": [{
        "namespace": "{{ team_namespace }}",
        "network": "{{ team_namespace }}/{{ team_nad }}",
        "workloads": {"ledger": {"vm": "ledger-1", "ips": ["{{ team_subnet }}7"]}},
        "allow": "{{ team_allow }}",
    }],
    "team_allow": [{"from": "ledger", "to": "ledger"}],
}


def intents(data):
    return plan_intents(data, "plan_after", "/repo/after.yml")


def refused(data):
    with pytest.raises(MultinetError) as error:
        intents(data)
    return str(error.value)


def test_the_intents_use_the_file_s_own_variables_with_their_types():
    (intent,) = intents(VARS)
    assert intent == {"namespace": "billing", "network": "billing/billing-lan",
                      "workloads": {"ledger": {"vm": "ledger-1", "ips": ["10.44.0.7"]}},
                      "allow": [{"from": "ledger", "to": "ledger"}]}


def test_a_lookup_is_not_available_and_the_error_names_the_value():
    data = dict(VARS, team_nad="{{ lookup('ansible.builtin.pipe', 'id') }}")
    message = refused(data)
    assert message.startswith("plan_after: team_nad: cannot render \"{{ lookup('ansible.builtin.pipe', 'id') }}\"")
    assert "'lookup' is undefined" in message and "'/repo/after.yml'" in message


@pytest.mark.parametrize("template", ["{{ query('pipe', 'id') }}", "{{ 'x' | ansible.builtin.to_json }}",
                                      "{{ range(3) | list }}", "{{ ''.__class__.__mro__[1].__subclasses__() }}",
                                      "{{ team_namespace.__class__ }}", "{{ 2 ** 100000 }}",
                                      "{{ 'x' * (MAX + 1) }}".replace("MAX", str(MAX_PRODUCT))])
def test_nothing_reaches_outside_the_sandbox(template):
    assert "cannot render" in refused(dict(VARS, team_nad=template))


def test_a_variable_the_intents_do_not_use_is_never_rendered():
    data = dict(VARS, workloads_vm_password="{{ lookup('ansible.builtin.env', 'HOME') }}")
    assert intents(data)[0]["namespace"] == "billing"


def test_a_variable_the_file_does_not_define_is_named():
    message = refused(dict(VARS, team_nad="{{ inventory_only_nad }}"))
    assert "'inventory_only_nad' is undefined" in message


def test_variables_that_refer_to_each_other_are_refused():
    message = refused(dict(VARS, team_namespace="{{ team_nad }}", team_nad="{{ team_namespace }}"))
    assert "variables refer to each other in a loop: team_namespace -> team_nad -> team_namespace" in message


def test_a_list_of_intents_or_one_intent_is_taken_as_it_is():
    literal = {"namespace": "{{ lookup('pipe', 'id') }}", "network": "n"}
    assert intents([literal]) == [literal] and intents(literal) == [literal]


def test_policies_intents_that_is_not_a_list_is_refused():
    assert "must hold policies_intents (a list)" in refused({"policies_intents": "{{ team }}", "team": "x"})
