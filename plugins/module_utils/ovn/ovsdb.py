# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parse `ovn-nbctl --format=json list TABLE` and `ovs-vsctl --format=json list Open_vSwitch`.

Both print `{"headings": [...], "data": [[cell, ...], ...]}` where each cell is an OVSDB JSON
value (RFC 7047 section 5.1): an atom, `["uuid", id]`, `["set", [...]]` or `["map", [[k, v], ...]]`.
A set of one element is printed as the bare element, so the set columns read here are always
turned back into lists.
"""
import json

from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.errors import MultinetError

# The tables ovn_policy_info reads (OVN NB schema) and their set-valued columns.
NB_TABLES = ("Logical_Switch", "Logical_Switch_Port", "Port_Group", "ACL", "Address_Set")
SET_COLUMNS = {
    "Logical_Switch": ("ports", "acls"),
    "Logical_Switch_Port": ("addresses", "port_security", "tag_request", "tag"),
    "Port_Group": ("ports", "acls"),
    "ACL": (),
    "Address_Set": ("addresses",),
}
# Optional scalars (min 0, max 1): an empty set means unset.
OPTIONAL_COLUMNS = {"ACL": ("name", "severity", "meter")}
BRIDGE_MAPPINGS_KEY = "ovn-bridge-mappings"
# One ovn-nbctl transaction listing every table (one JSON document per line, in this order),
# and the Open_vSwitch external_ids where ovn-controller reads its bridge mappings.
NB_COMMAND = ["ovn-nbctl", "--format=json"] + [word for index, table in enumerate(NB_TABLES)
                                               for word in (["--"] if index else []) + ["list", table]]
OVS_COMMAND = ["ovs-vsctl", "--format=json", "--columns=external_ids", "list", "Open_vSwitch"]


def decode(value):
    """An OVSDB JSON value as a plain Python value (UUIDs as strings)."""
    if isinstance(value, list) and len(value) == 2 and value[0] in ("uuid", "named-uuid"):
        return value[1]
    if isinstance(value, list) and len(value) == 2 and value[0] == "set":
        return [decode(item) for item in value[1]]
    if isinstance(value, list) and len(value) == 2 and value[0] == "map":
        return {decode(key): decode(item) for key, item in value[1]}
    return value


def parse_listing(text, table, set_columns=(), optional_columns=()):
    """Rows (dicts) of one `--format=json list` output; `set_columns` are always lists,
    `optional_columns` a value or None."""
    try:
        listing = json.loads(text) if isinstance(text, str) else text
        headings, data = listing["headings"], listing["data"]
    except (ValueError, TypeError, KeyError) as error:
        raise MultinetError("is not the JSON of `--format=json list` ({0})".format(error), table,
                            (text or "")[:80] if isinstance(text, str) else text)
    rows = []
    for cells in data:
        row = {heading: decode(cell) for heading, cell in zip(headings, cells)}
        for column in set_columns:
            if column in row and not isinstance(row[column], list):
                row[column] = [row[column]]
        for column in optional_columns:
            if row.get(column) == []:
                row[column] = None
        rows.append(row)
    return rows


def parse_nb(listings):
    """{table: rows} from {table: `ovn-nbctl --format=json list <table>` text} for NB_TABLES."""
    missing = [table for table in NB_TABLES if table not in listings]
    if missing:
        raise MultinetError("needs the listings of " + ", ".join(missing), "listings", sorted(listings))
    return {table: parse_listing(listings[table], table, SET_COLUMNS[table],
                                 OPTIONAL_COLUMNS.get(table, ())) for table in NB_TABLES}


def parse_nb_output(text):
    """{table: rows} from the output of NB_COMMAND."""
    documents = [line for line in text.splitlines() if line.strip()]
    if len(documents) != len(NB_TABLES):
        raise MultinetError("must print {0} JSON listings, one per line".format(len(NB_TABLES)),
                            " ".join(NB_COMMAND), text[:80])
    return parse_nb(dict(zip(NB_TABLES, documents)))


def bridge_mappings(text):
    """{physical network: bridge} from `ovs-vsctl --format=json --columns=external_ids list
    Open_vSwitch` (ovn-controller's `ovn-bridge-mappings`, `net:bridge` pairs, comma separated)."""
    rows = parse_listing(text, "Open_vSwitch")
    if len(rows) != 1 or "external_ids" not in rows[0]:
        raise MultinetError("must hold one Open_vSwitch row with external_ids", "Open_vSwitch", text[:80])
    mappings = {}
    for pair in rows[0]["external_ids"].get(BRIDGE_MAPPINGS_KEY, "").split(","):
        network, separator, bridge = pair.strip().partition(":")
        if network and separator:
            mappings[network] = bridge
    return mappings
