"""Tests for the nad_config filter shim."""
import json

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.ocpvirt.multinet.plugins.filter.nad_config import FilterModule

nad_config = FilterModule().filters()["nad_config"]
SEED = {"name": "llm-demo-localnet-network", "namespace": "llm-demo", "localnet": "localnet-cnv"}


def test_filter_returns_the_config_string():
    assert json.loads(nad_config(SEED, known_localnets=["localnet-cnv"]))["netAttachDefName"] == (
        "llm-demo/llm-demo-localnet-network")


def test_domain_errors_become_filter_errors():
    with pytest.raises(AnsibleFilterError, match="nad_config: network llm-demo/llm-demo-localnet-network vlan_id"):
        nad_config(dict(SEED, vlan_id=5000))


def test_bad_filter_arguments_are_reported():
    with pytest.raises(AnsibleFilterError, match="nad_config: .*known_localnets"):
        nad_config(SEED, known_localnets={"a": 1})
