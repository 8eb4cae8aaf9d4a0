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


def test_cluster_version_reaches_the_physical_network_name_check():
    entry = {"name": "orchid-net", "namespace": "greenhouse", "localnet": "uplink-west", "network_name": "orchid"}
    assert json.loads(nad_config(entry, cluster_version="4.18.2"))["physicalNetworkName"] == "uplink-west"
    with pytest.raises(AnsibleFilterError, match="network_name: physicalNetworkName .*OpenShift 4.15.3's"):
        nad_config(entry, cluster_version={"status": {"history": [{"state": "Completed", "version": "4.15.3"}]}})
