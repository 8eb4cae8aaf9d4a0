"""The connectivity_diff filter shim: its two ways in, argument validation and errors."""
import copy
from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.ocpvirt.multinet.plugins.filter import connectivity_diff as plugin
from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.compiler import compile_intent

from .seed_endpoints import NETWORK, endpoint

SEED_INTENT = yaml.safe_load((Path(__file__).parents[2] / "fixtures" / "seed_intent.yml").read_text())
AFTER = copy.deepcopy(SEED_INTENT)
AFTER["allow"].append({"from": "tinypod-02", "to": "gold-rabbit", "ports": ["tcp/22"]})


def test_registered_under_its_documented_name():
    assert plugin.FilterModule().filters() == {"connectivity_diff": plugin.connectivity_diff}
    assert yaml.safe_load(plugin.DOCUMENTATION)["name"] == "connectivity_diff"


def test_two_intents_give_the_flows_and_their_text():
    result = plugin.connectivity_diff(SEED_INTENT, AFTER)
    assert [(f["from"], f["to"], f["traffic"]) for f in result["opened"]] == [("tinypod-02", "gold-rabbit", "tcp/22")]
    assert result["text"].splitlines()[1] == "  opens tinypod-02 -> gold-rabbit tcp/22"
    assert "| opens | tinypod-02 | gold-rabbit | `tcp/22` |" in result["markdown"]


def test_two_policy_lists_are_judged_over_the_given_endpoints():
    endpoints = [endpoint("tp2", "192.168.77.93", {"app": "tinypod-02"}),
                 endpoint("vm", "192.168.77.71", {"vm.kubevirt.io/name": "centos-stream9-gold-rabbit-80"})]
    result = plugin.connectivity_diff(compile_intent(SEED_INTENT), compile_intent(AFTER), network=NETWORK,
                                      endpoints=endpoints)
    assert [(f["from"], f["to"], f["traffic"]) for f in result["opened"]] == [("tp2", "vm", "tcp/22")]


def test_network_without_endpoints_is_a_filter_error():
    with pytest.raises(AnsibleFilterError, match="endpoints: give both network and endpoints"):
        plugin.connectivity_diff([], [], network=NETWORK)


def test_a_list_without_network_is_a_filter_error_naming_the_argument():
    with pytest.raises(AnsibleFilterError, match="_input: must be an intent"):
        plugin.connectivity_diff([], AFTER)


def test_an_invalid_intent_names_the_field():
    broken = dict(AFTER, allow=[{"from": "nobody", "to": "gateway"}])
    with pytest.raises(AnsibleFilterError, match="allow\\[0\\]"):
        plugin.connectivity_diff(SEED_INTENT, broken)
