# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which pods and VMs are attached to a network, and what the cluster says about them.

Pure: plain dicts of pods, VMs, VMIs and NetworkAttachmentDefinitions in, facts out. A network
is one or more NADs (one OVN network can have NADs in several namespaces). A pod's attachment
comes from Multus' annotations (network-status, what the CNI reported, wins over the networks
request); a VM's interface on the network from its spec, its addresses from the guest agent's
report in the VMI status. ``guest_network_data`` reads what the guest is told by cloud-init.
"""
import ipaddress
import json

from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.vocabulary import (
    NETWORK_STATUS_ANNOTATION,
    NETWORKS_ANNOTATION,
    VM_NAME_LABEL,
    nad_ref,
    parse_nad_ref,
    split_nad_ref,
)

LAUNCHER_LABEL = "kubevirt.io"


LAUNCHER_VALUE = "virt-launcher"


TERMINATED_PHASES = ("Succeeded", "Failed")


def network_nads(network):
    """The NADs of a network as a frozenset of (namespace, nad): from one '<ns>/<nad>', one
    (ns, nad) pair, or several of them (NADs of one OVN network can live in several namespaces)."""
    if isinstance(network, frozenset) and all(isinstance(nad, tuple) for nad in network):
        return network  # already normalised (collect_endpoints does it once per run)
    if isinstance(network, str):
        return frozenset((parse_nad_ref(network),))
    if isinstance(network, tuple) and len(network) == 2 and all(isinstance(p, str) for p in network):
        return frozenset((network,))
    return frozenset(parse_nad_ref(nad) if isinstance(nad, str) else tuple(nad) for nad in network)


def refers_to(reference, own_namespace, network):
    """Whether a NAD reference written inside an object of own_namespace names a NAD of network."""
    return split_nad_ref(reference, own_namespace) in network_nads(network)


def nad_network_name(nad):
    """The OVN network a NetworkAttachmentDefinition belongs to (``name`` in its config), or None."""
    config = _nad_config(nad)
    name = config.get("name") if config else None
    return name if isinstance(name, str) and name else None


def nad_has_ipam(nad):
    """Whether a NetworkAttachmentDefinition gives addresses (OVN-K: ``subnets`` in its config).

    None when its config cannot be read, so the caller can say it fell back to a default.
    """
    config = _nad_config(nad)
    if config is None:
        return None
    return bool(config.get("subnets")) or bool((config.get("ipam") or {}).get("type"))


def _nad_config(nad):
    try:
        config = json.loads(((nad or {}).get("spec") or {}).get("config") or "")
    except ValueError:
        return None
    return config if isinstance(config, dict) else None


def object_meta(obj):
    return obj.get("metadata") or {}


def split_ip(text):
    """'192.168.77.91/24' -> ('192.168.77.91', '192.168.77.91/24'); no prefix -> (ip, None)."""
    text = str(text).strip()
    address = text.split("/", 1)[0]
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return None, None
    return address, (text if "/" in text else None)


def split_addresses(texts):
    """Valid addresses of texts as (ips, cidrs), order kept, duplicates dropped."""
    ips, cidrs = [], {}
    for text in texts or []:
        ip, cidr = split_ip(text)
        if ip and ip not in ips:
            ips.append(ip)
        if ip and cidr:
            cidrs.setdefault(ip, cidr)
    return ips, cidrs


def _json_annotation(obj, key):
    raw = (object_meta(obj).get("annotations") or {}).get(key)
    if not raw:
        return []
    try:
        value = json.loads(raw)
    except ValueError:
        return None  # the comma-separated short form, or garbage: no addresses in it
    return value if isinstance(value, list) else []


def pod_attachment(pod, network):
    """The pod's attachment to network: {ips, cidrs, interface, source} or None if not attached.

    network-status is what the CNI reported and wins; the networks annotation's ``ips`` is
    what was asked for, the only place an IPAM-less pod's address is written down before it runs.
    """
    namespace = object_meta(pod).get("namespace")
    requested = _requested_attachment(pod, namespace, network)
    reported = _reported_attachment(pod, namespace, network)
    if requested is None and reported is None:
        return None
    requested = requested or {}
    reported = reported or {}
    ips, cidrs = split_addresses(reported.get("ips"))
    source = "network-status"
    requested_ips, requested_cidrs = split_addresses(requested.get("ips"))
    if not ips:
        ips, source = requested_ips, "networks-annotation"
    for ip in ips:
        if ip in requested_cidrs:
            cidrs.setdefault(ip, requested_cidrs[ip])
    return {
        "ips": ips,
        "cidrs": cidrs,
        "interface": reported.get("interface") or requested.get("interface"),
        "source": source if ips else None,
    }


def _requested_attachment(pod, namespace, network):
    entries = _json_annotation(pod, NETWORKS_ANNOTATION)
    if entries is None:
        return _short_form_attachment(pod, namespace, network)
    for entry in entries:
        if not isinstance(entry, dict) or "name" not in entry:
            continue
        reference = nad_ref(entry.get("namespace") or namespace, entry["name"])
        if refers_to(reference, namespace, network):
            return entry
    return None


def _short_form_attachment(pod, namespace, network):
    """``ns/nad@iface, nad2`` -> {interface} for the matching element, else None."""
    raw = object_meta(pod)["annotations"][NETWORKS_ANNOTATION]
    for element in raw.split(","):
        reference, interface = (element.strip().split("@", 1) + [None])[:2]
        if refers_to(reference, namespace, network):
            return {"interface": interface or None}
    return None


def _reported_attachment(pod, namespace, network):
    for entry in _json_annotation(pod, NETWORK_STATUS_ANNOTATION) or []:
        if isinstance(entry, dict) and refers_to(entry.get("name", ""), namespace, network):
            return entry
    return None


def is_launcher_pod(pod):
    labels = object_meta(pod).get("labels") or {}
    return labels.get(LAUNCHER_LABEL) == LAUNCHER_VALUE or VM_NAME_LABEL in labels


def launcher_vm_name(pod):
    labels = object_meta(pod).get("labels") or {}
    if VM_NAME_LABEL in labels:
        return labels[VM_NAME_LABEL]
    for owner in object_meta(pod).get("ownerReferences") or []:
        if owner.get("kind") == "VirtualMachineInstance":
            return owner.get("name")
    return None


def is_terminated(pod):
    return (pod.get("status") or {}).get("phase") in TERMINATED_PHASES or bool(
        object_meta(pod).get("deletionTimestamp")
    )


def vm_interface(template_spec, namespace, network):
    """The interface of a VM(I) spec on network: {name, mac, index} or None."""
    network_names = [
        item.get("name")
        for item in template_spec.get("networks") or []
        if refers_to(((item.get("multus") or {}).get("networkName") or ""), namespace, network)
    ]
    interfaces = ((template_spec.get("domain") or {}).get("devices") or {}).get("interfaces") or []
    for index, interface in enumerate(interfaces):
        if interface.get("name") in network_names:
            return {"name": interface["name"], "mac": interface.get("macAddress"),
                    "index": index, "count": len(interfaces)}
    return None


def vmi_status_addresses(vmi, nic):
    for interface in (vmi or {}).get("status", {}).get("interfaces") or []:
        if interface.get("name") == nic["name"]:
            return interface.get("ipAddresses") or (
                [interface["ipAddress"]] if interface.get("ipAddress") else [])
    return []
