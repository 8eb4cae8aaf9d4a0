"""Tests for the localnet NAD config builder."""
import json

import pytest

from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.errors import MultinetError
from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.nad import nad_config

SEED = {"name": "llm-demo-localnet-network", "namespace": "llm-demo", "localnet": "localnet-cnv"}


def test_seed_entry_gives_the_seed_config_without_ipam():
    config = json.loads(nad_config(SEED))
    assert config == {
        "cniVersion": "0.3.1",
        "name": "localnet-cnv",
        "type": "ovn-k8s-cni-overlay",
        "topology": "localnet",
        "netAttachDefName": "llm-demo/llm-demo-localnet-network",
    }


def test_key_order_is_fixed_whatever_the_entry_order():
    entry = dict(SEED, mtu=1500, vlan_id=33, subnets=["192.168.99.0/24"], exclude_subnets="192.168.99.0/29")
    reordered = dict(reversed(list(entry.items())))
    text = nad_config(entry)
    assert text == nad_config(reordered)
    assert list(json.loads(text)) == [
        "cniVersion", "name", "type", "topology", "subnets", "excludeSubnets", "vlanID", "mtu", "netAttachDefName"]


def test_optional_fields_are_written_as_ovn_k_reads_them():
    entry = dict(SEED, subnets="192.168.99.0/24, fd00::/64", exclude_subnets=["192.168.99.0/29"], vlan_id=33, mtu=1400)
    config = json.loads(nad_config(entry))
    assert config["subnets"] == "192.168.99.0/24,fd00::/64"
    assert config["excludeSubnets"] == "192.168.99.0/29"
    assert (config["vlanID"], config["mtu"]) == (33, 1400)


def test_network_name_moves_the_localnet_to_physical_network_name():
    config = json.loads(nad_config(dict(SEED, network_name="tenant-blue"), cluster_version="4.18.3"))
    assert (config["name"], config["physicalNetworkName"]) == ("tenant-blue", "localnet-cnv")


# A second network sharing nothing with the seed: its localnet is "uplink-west".
SHARED = {"name": "orchid-net", "namespace": "greenhouse", "localnet": "uplink-west", "network_name": "orchid"}


def cluster_version(*history, desired=None):
    return {"apiVersion": "config.openshift.io/v1", "kind": "ClusterVersion", "metadata": {"name": "version"},
            "status": {"desired": {"version": desired}, "history": [
                {"state": state, "version": version} for state, version in history]}}


@pytest.mark.parametrize("target", ["4.18.0", "4.19.2", "5.0.1", cluster_version(("Completed", "4.18.7"))])
def test_physical_network_name_is_written_for_a_cluster_that_honours_it(target):
    config = json.loads(nad_config(SHARED, cluster_version=target))
    assert (config["name"], config["physicalNetworkName"]) == ("orchid", "uplink-west")


@pytest.mark.parametrize("target, says", [
    ("4.15.21", "OpenShift 4.15.21's OVN-Kubernetes ignores it"),
    ("4.17.9", "OpenShift 4.17.9's OVN-Kubernetes ignores it"),
    (cluster_version(("Completed", "4.16.4")), "OpenShift 4.16.4's OVN-Kubernetes ignores it"),
    # An update to 4.18 still running: the nodes run 4.17's OVN-Kubernetes.
    (cluster_version(("Partial", "4.18.1"), ("Completed", "4.17.3"), desired="4.18.1"),
     "OpenShift 4.17.3's OVN-Kubernetes ignores it"),
    (None, "version is unknown (no ClusterVersion 'version' was read)"),
    ("", "version is unknown (no ClusterVersion 'version' was read)"),
    ("latest", "version is unknown (unreadable version 'latest')"),
])
def test_physical_network_name_is_refused_where_it_would_be_ignored(target, says):
    with pytest.raises(MultinetError) as error:
        nad_config(SHARED, cluster_version=target)
    message = str(error.value)
    assert message.startswith("network greenhouse/orchid-net network_name: physicalNetworkName 'uplink-west'")
    assert says in message and "honoured from OpenShift 4.18 on" in message
    assert "bridge mapping named 'orchid'" in message and message.endswith("(got 'orchid')")


def test_network_name_equal_to_the_localnet_needs_no_version():
    config = json.loads(nad_config(dict(SHARED, network_name="uplink-west")))
    assert config["name"] == config["physicalNetworkName"] == "uplink-west"


@pytest.mark.parametrize("key, value, words, shown", [
    ("vlan_id", 0, "vlan_id: must be an integer from 1 to 4094", "0"),
    ("vlan_id", 4095, "vlan_id: must be an integer from 1 to 4094", "4095"),
    ("vlan_id", True, "vlan_id: must be an integer", "True"),
    ("mtu", 100, "mtu: must be an integer from 576 to 65535", "100"),
    ("mtu", "1500", "mtu: must be an integer", "'1500'"),
    ("subnets", ["192.168.99.1/24"], "subnets: invalid CIDR (192.168.99.1/24 has host bits set)", "'192.168.99.1/24'"),
    ("subnets", ["300.1.1.0/24"], "subnets: invalid CIDR", "'300.1.1.0/24'"),
    ("exclude_subnets", ["10.0.0.0/29"], "exclude_subnets: needs subnets", "['10.0.0.0/29']"),
    ("localnet", "a:b", "localnet: invalid name", "'a:b'"),
    ("namespace", "LLM", "namespace: invalid name", "'LLM'"),
    ("name", "", "name: invalid name", "''"),
    ("vlanid", 3, "network: unknown keys", "['vlanid']"),
    ("cni_version", "9.9.9; rm -rf", "cni_version: must be a CNI spec version", "'9.9.9; rm -rf'"),
    ("cni_version", "", "cni_version: must be a CNI spec version", "''"),
])
def test_bad_values_fail_naming_field_and_value(key, value, words, shown):
    with pytest.raises(MultinetError) as error:
        nad_config(dict(SEED, **{key: value}))
    assert words in str(error.value)
    assert str(error.value).endswith("(got {0})".format(shown))


def test_exclude_outside_every_subnet_fails():
    with pytest.raises(MultinetError, match="outside every subnet.*10.0.0.0/29"):
        nad_config(dict(SEED, subnets=["192.168.99.0/24"], exclude_subnets=["10.0.0.0/29"]))


def test_localnet_must_match_a_declared_bridge_mapping():
    assert nad_config(SEED, known_localnets=["localnet-cnv"])
    with pytest.raises(MultinetError, match="known: localnet-other.*'localnet-cnv'"):
        nad_config(SEED, known_localnets=["localnet-other"])


def test_nads_of_one_network_must_agree_on_vlan():
    other = dict(SEED, namespace="team-b", vlan_id=20)
    with pytest.raises(MultinetError, match="vlanID.*team-b/llm-demo-localnet-network"):
        nad_config(SEED, networks=[SEED, other])


def test_nads_of_different_networks_may_differ():
    other = dict(SEED, namespace="team-b", vlan_id=20, network_name="other")
    assert nad_config(SEED, networks=[SEED, other])
    assert nad_config(other, networks=[SEED, other], cluster_version="4.18.1")
