import json

import pytest

from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.errors import MultinetError
from ansible_collections.ocpvirt.multinet.plugins.module_utils.ovn import ovsdb

from ovn_fixtures import listings, text


@pytest.mark.parametrize("cell, value", [
    (["uuid", "1cfed4ed-a399"], "1cfed4ed-a399"),
    (["set", []], []),
    (["set", [["uuid", "a"], ["uuid", "b"]]], ["a", "b"]),
    (["map", [["apply-after-lb", "true"]]], {"apply-after-lb": "true"}),
    (1001, 1001),
    ("allow-related", "allow-related"),
])
def test_decode_cells(cell, value):
    assert ovsdb.decode(cell) == value


def test_port_groups_from_a_real_nb():
    nb = ovsdb.parse_nb(listings("worker-0"))
    groups = {row["name"]: row for row in nb["Port_Group"]}
    cnv01 = groups["a2829001848871617131"]  # seed line 1408: the same hashed name
    assert cnv01["external_ids"] == {"k8s.ovn.org/network": "localnet-cnv", "name": "llm-demo_allow-ipblock-cnv-01"}
    assert len(cnv01["acls"]) == 5
    assert cnv01["ports"] == []  # the VM's launcher pod runs on worker-1, not in this zone
    assert len(groups["a1333591772177041409"]["ports"]) == 1  # one port: a bare UUID cell, still a list
    assert groups["clusterPortGroup"]["external_ids"] == {"name": "clusterPortGroup"}  # the default network's


def test_acl_columns_are_plain_values():
    nb = ovsdb.parse_nb(listings("worker-0"))
    acl = next(row for row in nb["ACL"] if row["name"] == "NP:llm-demo:allow-ipblock-cnv-02:Egress:0")
    assert (acl["direction"], acl["priority"], acl["action"]) == ("from-lport", 1001, "allow-related")
    assert acl["match"] == "ip4.dst == 192.168.77.1/32 && inport == @a2829002948383245342"
    assert acl["options"] == {"apply-after-lb": "true"}
    assert acl["severity"] is None


def test_switch_port_addresses_are_lists():
    nb = ovsdb.parse_nb(listings("worker-1"))
    ports = {row["name"]: row for row in nb["Logical_Switch_Port"]}
    launcher = "llm-demo_virt-launcher-centos-stream9-gold-rabbit-80-vjfdm"
    assert ports["llm.demo.llm.demo.localnet.network_" + launcher]["addresses"] == ["02:00:a3:00:00:01"]  # MAC only
    assert len(ports[launcher]["addresses"]) == 1 and " " in ports[launcher]["addresses"][0]  # default net: MAC IP
    localnet = next(row for row in nb["Logical_Switch_Port"] if row["name"] == "localnet.cnv_ovn_localnet_port")
    assert localnet["options"] == {"network_name": "localnet-cnv"}
    assert localnet["tag_request"] == []


def test_bridge_mappings():
    assert ovsdb.bridge_mappings(text("worker-0", "Open_vSwitch.json")) == {"localnet-cnv": "br-ex", "physnet": "br-ex"}
    assert ovsdb.bridge_mappings(text("worker-1", "Open_vSwitch.json")) == {"physnet": "br-ex"}


def test_bridge_mappings_unset():
    listing = {"headings": ["external_ids"], "data": [[["map", [["system-id", "w"]]]]]}
    assert ovsdb.bridge_mappings(json.dumps(listing)) == {}


@pytest.mark.parametrize("listing", ["", "ovn-nbctl: no such table", '{"data": []}'])
def test_not_a_listing_names_the_table(listing):
    with pytest.raises(MultinetError, match="Port_Group"):
        ovsdb.parse_listing(listing, "Port_Group")


def test_missing_table_is_named():
    partial = listings("worker-0")
    del partial["ACL"]
    with pytest.raises(MultinetError, match="needs the listings of ACL"):
        ovsdb.parse_nb(partial)


def test_nb_command_output_one_listing_per_line():
    assert ovsdb.NB_COMMAND[:4] == ["ovn-nbctl", "--format=json", "list", "Logical_Switch"]
    output = "\n".join(json.dumps(json.loads(listings("worker-1")[table])) for table in ovsdb.NB_TABLES) + "\n"
    assert ovsdb.parse_nb_output(output) == ovsdb.parse_nb(listings("worker-1"))


def test_nb_command_output_cut_short():
    with pytest.raises(MultinetError, match="must print 5 JSON listings"):
        ovsdb.parse_nb_output(json.dumps(json.loads(listings("worker-1")["ACL"])))
