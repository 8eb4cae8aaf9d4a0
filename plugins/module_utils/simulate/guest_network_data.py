# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The addresses a VM's guest is given by cloud-init networkData.

Pure: VM(I) specs and the networkData text of Secrets in, interfaces and addresses out.
networkData comes inline, base64-encoded, or from the Secret of ``networkDataSecretRef`` (the
caller fetches those and passes their text in; nothing else of a Secret is read), in netplan
v2, cloud-init v1 or OpenStack JSON form.
"""
import base64
import binascii
import ipaddress

try:
    import yaml  # ansible-core's own dependency, so present wherever the module runs
except ImportError:  # pragma: no cover
    yaml = None

from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.errors import MultinetError

CLOUD_INIT_SOURCES = ("cloudInitNoCloud", "cloudInitConfigDrive")
# KubeVirt reads the networkData of a Secret from either key.


SECRET_NETWORK_DATA_KEYS = ("networkdata", "networkData")


def secret_refs(template_spec):
    """Names of the Secrets holding networkData of a VM(I) spec (to fetch; never returned)."""
    names = []
    for source in _cloud_init_sources(template_spec):
        name = (source.get("networkDataSecretRef") or {}).get("name")
        if name and name not in names:
            names.append(name)
    return names


def network_data_from_secret(secret):
    """The networkData text of a Secret, or None. Nothing else of the Secret leaves here."""
    data = secret.get("data") or {}
    for key in SECRET_NETWORK_DATA_KEYS:
        if key in data:
            try:
                return base64.b64decode(data[key]).decode("utf-8")
            except (binascii.Error, ValueError):
                return None
    string_data = secret.get("stringData") or {}
    return next((string_data[k] for k in SECRET_NETWORK_DATA_KEYS if k in string_data), None)


def _cloud_init_sources(template_spec):
    for volume in template_spec.get("volumes") or []:
        for kind in CLOUD_INIT_SOURCES:
            if isinstance(volume.get(kind), dict):
                yield volume[kind]


def _network_data_texts(template_spec, secret_network_data):
    """(text, source) for each networkData of a spec, inline, base64 or from a Secret."""
    for source in _cloud_init_sources(template_spec):
        if source.get("networkData"):
            yield source["networkData"], "cloud-init"
        elif source.get("networkDataBase64"):
            try:
                yield base64.b64decode(source["networkDataBase64"]).decode("utf-8"), "cloud-init"
            except (binascii.Error, ValueError):
                continue
        else:
            name = (source.get("networkDataSecretRef") or {}).get("name")
            if name and secret_network_data.get(name):
                yield secret_network_data[name], "cloud-init-secret"


def network_data_interfaces(text):
    """Parse cloud-init networkData (netplan v2, v1 or OpenStack JSON) into interfaces.

    Returns [{name, mac, addresses}] in document order; unparsable text gives [].
    """
    if yaml is None:
        raise MultinetError("reading cloud-init networkData needs the Python package PyYAML")
    try:
        data = yaml.safe_load(text)  # YAML is a superset of the JSON form
    except yaml.YAMLError:
        return []
    if not isinstance(data, dict):
        return []
    data = data.get("network", data) if isinstance(data.get("network"), dict) else data
    if "links" in data or "networks" in data and isinstance(data.get("networks"), list):
        return _openstack_interfaces(data)
    if isinstance(data.get("config"), list):
        return _v1_interfaces(data["config"])
    return _v2_interfaces(data.get("ethernets") or {})


def _v2_interfaces(ethernets):
    result = []
    for name, config in ethernets.items() if isinstance(ethernets, dict) else []:
        config = config if isinstance(config, dict) else {}
        match = config.get("match") or {}
        result.append({
            "name": config.get("set-name") or match.get("name") or name,
            "mac": match.get("macaddress"),
            "addresses": [str(a) for a in config.get("addresses") or []],
        })
    return result


def _v1_interfaces(config):
    result = []
    for item in config:
        if not isinstance(item, dict) or item.get("type") != "physical":
            continue
        addresses = []
        for subnet in item.get("subnets") or []:
            if isinstance(subnet, dict) and subnet.get("type") in ("static", "static6"):
                addresses.append(_with_netmask(subnet.get("address"), subnet.get("netmask")))
        result.append({"name": item.get("name"), "mac": item.get("mac_address"),
                       "addresses": [a for a in addresses if a]})
    return result


def _openstack_interfaces(data):
    links = {link.get("id"): link for link in data.get("links") or [] if isinstance(link, dict)}
    result = {}
    for net in data.get("networks") or []:
        if not isinstance(net, dict) or not net.get("ip_address"):
            continue
        link = links.get(net.get("link"), {})
        entry = result.setdefault(net.get("link"), {
            "name": link.get("name") or net.get("link"),
            "mac": link.get("ethernet_mac_address"), "addresses": []})
        entry["addresses"].append(_with_netmask(net["ip_address"], net.get("netmask")))
    return list(result.values())


def _with_netmask(address, netmask):
    if not address or "/" in str(address) or not netmask:
        return address
    try:
        return str(ipaddress.ip_interface("{0}/{1}".format(address, netmask)))
    except ValueError:
        return address


def match_network_data(interfaces, nic):
    """The networkData interface configuring nic ({mac, index, count}), or None.

    By MAC when the networkData says one; else by the kernel's usual name eth<index>; else,
    for a VM with a single NIC, the single interface that has addresses. Anything else is
    ambiguous and better reported than guessed.
    """
    mac = (nic.get("mac") or "").lower()
    for interface in interfaces:
        if mac and (interface.get("mac") or "").lower() == mac:
            return interface
    for interface in interfaces:
        if not interface.get("mac") and interface.get("name") == "eth{0}".format(nic["index"]):
            return interface
    with_addresses = [i for i in interfaces if i.get("addresses")]
    if nic.get("count") == 1 and len(with_addresses) == 1:
        return with_addresses[0]
    return None


def cloud_init_addresses(template_spec, nic, secret_network_data):
    for text, source in _network_data_texts(template_spec, secret_network_data):
        interface = match_network_data(network_data_interfaces(text), nic)
        if interface and interface.get("addresses"):
            return interface["addresses"], source
    return [], None
