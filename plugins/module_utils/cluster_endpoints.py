# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Turn pods, VirtualMachines and VirtualMachineInstances into connectivity endpoints.

Pure: the caller fetches the objects (and the networkData of referenced Secrets) and passes
plain dicts in. An endpoint is what ``connectivity.simulate`` consumes, ``{name, ip,
namespace, labels}``, plus facts for people and probes: ``kind`` (pod, vm, vmi, outside),
``object`` (the Kubernetes name), ``ips``, ``source`` (where the address came from),
``running``, and for things that can be exec'ed into, ``pod`` and ``interface``.

A virt-launcher pod is the VM's pod: it carries the VM's labels (that is what a policy
selects), so it is folded into the VM's endpoint instead of counted twice.
"""
import base64
import binascii
import ipaddress
import json

try:
    import yaml  # ansible-core's own dependency, so present wherever the module runs
except ImportError:  # pragma: no cover
    yaml = None

from ansible_collections.ocpvirt.multinet.plugins.module_utils.errors import MultinetError
from ansible_collections.ocpvirt.multinet.plugins.module_utils.vocabulary import (
    ICMP,
    NETWORK_STATUS_ANNOTATION,
    NETWORKS_ANNOTATION,
    VM_NAME_LABEL,
    format_port,
    nad_ref,
    parse_nad_ref,
    parse_traffic,
    split_nad_ref,
)
LAUNCHER_LABEL = "kubevirt.io"
LAUNCHER_VALUE = "virt-launcher"
CLOUD_INIT_SOURCES = ("cloudInitNoCloud", "cloudInitConfigDrive")
# KubeVirt reads the networkData of a Secret from either key.
SECRET_NETWORK_DATA_KEYS = ("networkdata", "networkData")
TERMINATED_PHASES = ("Succeeded", "Failed")


def network_nads(network):
    """The NADs of a network as a frozenset of (namespace, nad): from one '<ns>/<nad>', one
    (ns, nad) pair, or several of them (NADs of one OVN network can live in several namespaces)."""
    if isinstance(network, str):
        return frozenset((parse_nad_ref(network),))
    if isinstance(network, tuple) and len(network) == 2 and all(isinstance(p, str) for p in network):
        return frozenset((network,))
    return frozenset(parse_nad_ref(nad) if isinstance(nad, str) else tuple(nad) for nad in network)


def _refers_to(reference, own_namespace, network):
    """Whether a NAD reference written inside an object of own_namespace names a NAD of network."""
    return split_nad_ref(reference, own_namespace) in network_nads(network)


def nad_network_name(nad):
    """The OVN network a NetworkAttachmentDefinition belongs to (``name`` in its config), or None."""
    config = _nad_config(nad)
    name = config.get("name") if config else None
    return name if isinstance(name, str) and name else None


def _meta(obj):
    return obj.get("metadata") or {}


def _split_ip(text):
    """'192.168.77.91/24' -> ('192.168.77.91', '192.168.77.91/24'); no prefix -> (ip, None)."""
    text = str(text).strip()
    address = text.split("/", 1)[0]
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return None, None
    return address, (text if "/" in text else None)


def _addresses(texts):
    """Valid addresses of texts as (ips, cidrs), order kept, duplicates dropped."""
    ips, cidrs = [], {}
    for text in texts or []:
        ip, cidr = _split_ip(text)
        if ip and ip not in ips:
            ips.append(ip)
        if ip and cidr:
            cidrs.setdefault(ip, cidr)
    return ips, cidrs


def _json_annotation(obj, key):
    raw = (_meta(obj).get("annotations") or {}).get(key)
    if not raw:
        return []
    try:
        value = json.loads(raw)
    except ValueError:
        return None  # the comma-separated short form, or garbage: no addresses in it
    return value if isinstance(value, list) else []


# --- pods --------------------------------------------------------------------------------

def pod_attachment(pod, network):
    """The pod's attachment to network: {ips, cidrs, interface, source} or None if not attached.

    network-status is what the CNI reported and wins; the networks annotation's ``ips`` is
    what was asked for, the only place an IPAM-less pod's address is written down before it runs.
    """
    namespace = _meta(pod).get("namespace")
    requested = _requested_attachment(pod, namespace, network)
    reported = _reported_attachment(pod, namespace, network)
    if requested is None and reported is None:
        return None
    requested = requested or {}
    reported = reported or {}
    ips, cidrs = _addresses(reported.get("ips"))
    source = "network-status"
    requested_ips, requested_cidrs = _addresses(requested.get("ips"))
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
        if _refers_to(reference, namespace, network):
            return entry
    return None


def _short_form_attachment(pod, namespace, network):
    """``ns/nad@iface, nad2`` -> {interface} for the matching element, else None."""
    raw = _meta(pod)["annotations"][NETWORKS_ANNOTATION]
    for element in raw.split(","):
        reference, interface = (element.strip().split("@", 1) + [None])[:2]
        if _refers_to(reference, namespace, network):
            return {"interface": interface or None}
    return None


def _reported_attachment(pod, namespace, network):
    for entry in _json_annotation(pod, NETWORK_STATUS_ANNOTATION) or []:
        if isinstance(entry, dict) and _refers_to(entry.get("name", ""), namespace, network):
            return entry
    return None


def is_launcher_pod(pod):
    labels = _meta(pod).get("labels") or {}
    return labels.get(LAUNCHER_LABEL) == LAUNCHER_VALUE or VM_NAME_LABEL in labels


def _launcher_vm_name(pod):
    labels = _meta(pod).get("labels") or {}
    if VM_NAME_LABEL in labels:
        return labels[VM_NAME_LABEL]
    for owner in _meta(pod).get("ownerReferences") or []:
        if owner.get("kind") == "VirtualMachineInstance":
            return owner.get("name")
    return None


def _is_terminated(pod):
    return (pod.get("status") or {}).get("phase") in TERMINATED_PHASES or bool(
        _meta(pod).get("deletionTimestamp")
    )


# --- virtual machines ---------------------------------------------------------------------

def vm_interface(template_spec, namespace, network):
    """The interface of a VM(I) spec on network: {name, mac, index} or None."""
    network_names = [
        item.get("name")
        for item in template_spec.get("networks") or []
        if _refers_to(((item.get("multus") or {}).get("networkName") or ""), namespace, network)
    ]
    interfaces = ((template_spec.get("domain") or {}).get("devices") or {}).get("interfaces") or []
    for index, interface in enumerate(interfaces):
        if interface.get("name") in network_names:
            return {"name": interface["name"], "mac": interface.get("macAddress"),
                    "index": index, "count": len(interfaces)}
    return None


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


def _cloud_init_addresses(template_spec, nic, secret_network_data):
    for text, source in _network_data_texts(template_spec, secret_network_data):
        interface = match_network_data(network_data_interfaces(text), nic)
        if interface and interface.get("addresses"):
            return interface["addresses"], source
    return [], None


def _vmi_status_addresses(vmi, nic):
    for interface in (vmi or {}).get("status", {}).get("interfaces") or []:
        if interface.get("name") == nic["name"]:
            return interface.get("ipAddresses") or (
                [interface["ipAddress"]] if interface.get("ipAddress") else [])
    return []


# --- assembling ---------------------------------------------------------------------------

def collect_endpoints(network, pods=(), vms=(), vmis=(), secret_network_data=None, extra=()):
    """Endpoints on network ((ns, nad) or '<ns>/<nad>') from cluster objects plus extra hosts.

    secret_network_data maps '<ns>/<secret name>' to its networkData text.
    Returns {endpoints, unresolved}: unresolved lists what is attached but has no address,
    with the reason, so a missing row in the matrix is explained rather than silent.
    """
    network = network_nads(network)
    secrets = secret_network_data or {}
    launchers = _launchers_by_vm(pods)
    vmis_by_name = {(_meta(v).get("namespace"), _meta(v).get("name")): v for v in vmis}
    endpoints, unresolved = [], []
    for vm in vms:
        key = (_meta(vm).get("namespace"), _meta(vm).get("name"))
        spec = ((vm.get("spec") or {}).get("template") or {}).get("spec") or {}
        _add(_machine_endpoint(vm, "vm", spec, network, vmis_by_name.pop(key, None),
                               launchers.pop(key, None), secrets), endpoints, unresolved)
    for key, vmi in sorted(vmis_by_name.items()):
        _add(_machine_endpoint(vmi, "vmi", vmi.get("spec") or {}, network, vmi,
                               launchers.pop(key, None), secrets), endpoints, unresolved)
    for pod in pods:
        if not is_launcher_pod(pod) and not _is_terminated(pod):
            _add(_pod_endpoint(pod, network), endpoints, unresolved)
    endpoints = _unique_names(endpoints) + outside_endpoints(extra)
    _check_unique(endpoints)
    return {"endpoints": endpoints, "unresolved": sorted(unresolved, key=_sort_key)}


def _add(result, endpoints, unresolved):
    if result is None:
        return
    (endpoints if result.get("ip") else unresolved).append(result)


def _launchers_by_vm(pods):
    launchers = {}
    for pod in pods:
        if is_launcher_pod(pod) and not _is_terminated(pod):
            launchers[(_meta(pod).get("namespace"), _launcher_vm_name(pod))] = pod
    return launchers


def _pod_endpoint(pod, network):
    attachment = pod_attachment(pod, network)
    if attachment is None:
        return None
    meta = _meta(pod)
    endpoint = _base("pod", meta, dict(meta.get("labels") or {}))
    endpoint.update({"pod": meta.get("name"), "interface": attachment["interface"],
                     "running": (pod.get("status") or {}).get("phase") == "Running"})
    return _with_addresses(endpoint, attachment["ips"], attachment["cidrs"], attachment["source"],
                           "no address on {0}: no ips in the networks annotation and none "
                           "in network-status (IPAM-less network?)".format(
                               ", ".join("/".join(nad) for nad in sorted(network))))


def _machine_endpoint(obj, kind, spec, network, vmi, launcher, secrets):
    meta = _meta(obj)
    nic = vm_interface(spec, meta.get("namespace"), network)
    if nic is None:
        return None
    endpoint = _base(kind, meta, _machine_labels(obj, kind, spec, vmi, launcher))
    endpoint.update({"pod": _meta(launcher).get("name") if launcher else None,
                     "interface": nic["name"], "running": launcher is not None})
    namespaced = {k.split("/", 1)[1]: v for k, v in secrets.items()
                  if k.split("/", 1)[0] == meta.get("namespace")}
    for addresses, source in (
        (_vmi_status_addresses(vmi, nic), "vmi-status"),
        ((pod_attachment(launcher, network) or {}).get("ips") if launcher else [], "launcher-pod"),
        _cloud_init_addresses(spec, nic, namespaced),
    ):
        ips, cidrs = _addresses(addresses)
        if ips:
            return _with_addresses(endpoint, ips, cidrs, source, None)
    return _with_addresses(endpoint, [], {}, None, (
        "no address for interface {0}: no guest-agent report, none on the launcher pod, and no "
        "cloud-init networkData matching its MAC or eth{1}".format(nic["name"], nic["index"])))


def _machine_labels(obj, kind, spec, vmi, launcher):
    """The labels a policy sees: the launcher pod's, else what KubeVirt will give it."""
    if launcher is not None:
        return dict(_meta(launcher).get("labels") or {})
    source = vmi if vmi is not None else (
        obj if kind == "vmi" else (obj.get("spec") or {}).get("template") or {})
    labels = dict(_meta(source).get("labels") or {})
    labels.setdefault(VM_NAME_LABEL, _meta(obj).get("name"))
    labels.setdefault(LAUNCHER_LABEL, LAUNCHER_VALUE)
    return labels


def _base(kind, meta, labels):
    return {"name": meta.get("name"), "object": meta.get("name"), "kind": kind,
            "namespace": meta.get("namespace"), "labels": labels}


def _with_addresses(endpoint, ips, cidrs, source, missing_reason):
    endpoint.update({"ip": ips[0] if ips else None, "ips": ips,
                     "cidr": cidrs.get(ips[0]) if ips else None, "source": source})
    if not ips:
        endpoint["reason"] = missing_reason
    return endpoint


def outside_endpoints(extra):
    """Validate outside hosts [{name, ip}] into endpoints of kind 'outside'."""
    result = []
    for index, host in enumerate(extra or []):
        field = "endpoints[{0}]".format(index)
        if not isinstance(host, dict) or not host.get("name"):
            raise MultinetError("needs a name and an ip", field, host)
        ip = _split_ip(host.get("ip", ""))[0]
        if ip is None or "/" in str(host.get("ip")):
            raise MultinetError("must be a single IP address", field + ".ip", host.get("ip"))
        result.append({"name": str(host["name"]), "object": None, "kind": "outside",
                       "ip": ip, "ips": [ip], "source": "parameter"})
    return result


def _unique_names(endpoints):
    """Name cluster endpoints by object name; qualify with namespace then kind only on clashes."""
    endpoints = sorted(endpoints, key=_sort_key)
    if len({e["namespace"] for e in endpoints}) > 1:
        for e in endpoints:
            e["name"] = "{0}/{1}".format(e["namespace"], e["object"])
    names = [e["name"] for e in endpoints]
    for e in endpoints:
        if names.count(e["name"]) > 1:
            e["name"] = "{0}:{1}".format(e["kind"], e["name"])
    return endpoints


def _check_unique(endpoints):
    seen = set()
    for endpoint in endpoints:
        if endpoint["name"] in seen:
            raise MultinetError("endpoint names must be unique", "endpoints", endpoint["name"])
        seen.add(endpoint["name"])


def _sort_key(endpoint):
    return (endpoint.get("namespace") or "", endpoint.get("object") or "", endpoint["kind"])


# --- lining up with an intent -------------------------------------------------------------

def align_with_intent(endpoints, intent, extra=()):
    """Name live endpoints after the intent's workloads and add what the intent names but
    the cluster lacks, so expected and live matrices have the same rows.

    ``intent`` is the parsed ``intent.Intent``. A live endpoint in the intent's namespace is a
    workload's when its address is one of the workload's ``ips``, else when its labels carry the
    workload's selector (``vm:`` meaning ``vm.kubevirt.io/name``). Workloads with no live match
    appear with ``present: false`` at their first intent address. Outside endpoints of the
    intent get a representative address (``extra`` hosts of the same name override it).
    Returns {endpoints, warnings}.
    """
    workloads = {workload.name: workload for workload in intent.workloads}
    matched, warnings, result, unmatched = {}, [], [], []
    for endpoint in (dict(e) for e in endpoints if e.get("kind") != "outside"):
        workload = _workload_of(endpoint, intent.namespace, workloads)
        if workload is None:
            unmatched.append(endpoint)
        else:
            matched.setdefault(workload, []).append(endpoint)
    # The intent's workloads lead, so the report reads in the order the intent was written.
    for name in sorted(workloads):
        result.extend(_workload_endpoints(workloads[name], intent.namespace, matched.get(name, []), warnings))
    result.extend(unmatched)
    overrides = {e["name"]: e for e in outside_endpoints(extra)}
    overrides.update({e["name"]: e for e in endpoints if e.get("kind") == "outside"})
    for outside in intent.endpoints:
        result.append(overrides.pop(outside.name, None) or _intent_outside(outside))
    result.extend(overrides[name] for name in sorted(overrides))
    _check_unique(result)
    return {"endpoints": result, "warnings": warnings}


def _workload_of(endpoint, namespace, workloads):
    if endpoint.get("kind") == "outside" or endpoint.get("namespace") != namespace:
        return None
    for name in sorted(workloads):
        if endpoint.get("ip") in _plain_ips(workloads[name]):
            return name
    labels = endpoint.get("labels") or {}
    for name in sorted(workloads):
        wanted = dict(workloads[name].selector)
        if wanted and all(labels.get(k) == v for k, v in wanted.items()):
            return name
    return None


def _plain_ips(workload):
    return [block.cidr.split("/", 1)[0] for block in workload.ips]


def _workload_endpoints(workload, namespace, live, warnings):
    name, intent_ips = workload.name, _plain_ips(workload)
    for endpoint in live:
        if intent_ips and endpoint["ip"] not in intent_ips:
            warnings.append("workload {0}: {1} {2} has {3}, the intent says {4}".format(
                name, endpoint["kind"], endpoint["object"], endpoint["ip"], ", ".join(intent_ips)))
        endpoint["workload"] = name
        endpoint["name"] = name if len(live) == 1 else "{0}[{1}]".format(name, endpoint["object"])
    if live:
        return live
    if not intent_ips:
        warnings.append("workload {0}: nothing in the cluster matches it and the intent gives "
                        "no ips, so it is left out of the matrix".format(name))
        return []
    warnings.append("workload {0}: nothing in namespace {1} matches it; using the intent's "
                    "address {2}".format(name, namespace, intent_ips[0]))
    labels = dict(workload.selector)
    return [{"name": name, "object": None, "kind": "vm" if set(labels) == {VM_NAME_LABEL} else "pod",
             "namespace": namespace, "labels": labels, "ip": intent_ips[0],
             "ips": intent_ips, "source": "intent", "present": False, "workload": name,
             "running": False, "pod": None}]


def _intent_outside(outside):
    block = outside.block
    ip = representative_ip(block.cidr, block.excepts, field="endpoints.{0}".format(outside.name))
    single = block.sort_key[2] in (32, 128)
    return {"name": outside.name, "object": None, "kind": "outside", "ip": ip, "ips": [ip],
            "source": "intent" if single else "intent (first address of {0})".format(block.cidr)}


def representative_ip(cidr, excepts=(), field="cidr"):
    """An address inside cidr and outside every except block: the first such one.

    The first usable host is skipped past each except block that contains it; a cidr fully
    covered by its excepts has no representative and is an error.
    """
    try:
        network = ipaddress.ip_network(str(cidr), strict=False)
        holes = sorted(ipaddress.ip_network(str(e), strict=False) for e in excepts)
    except ValueError as exc:
        raise MultinetError("not an IP network: {0}".format(exc), field, cidr) from exc
    candidate = network.network_address + (1 if network.num_addresses > 2 else 0)
    for hole in holes:
        if candidate in hole:
            if hole.broadcast_address == network.broadcast_address:
                raise MultinetError("has no address outside its except blocks", field, cidr)
            candidate = hole.broadcast_address + 1
    if candidate not in network or any(candidate in hole for hole in holes):
        raise MultinetError("has no address outside its except blocks", field, cidr)
    return str(candidate)


def simulation_endpoints(endpoints):
    """Project endpoints onto what ``connectivity.simulate`` reads: {name, ip[, namespace, labels]}."""
    projected = []
    for endpoint in endpoints:
        item = {"name": endpoint["name"], "ip": endpoint["ip"]}
        if endpoint.get("kind") != "outside":
            item.update(namespace=endpoint["namespace"], labels=dict(endpoint.get("labels") or {}))
        projected.append(item)
    return projected


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


# --- probes -------------------------------------------------------------------------------

_TCP_PROBE = ("if command -v nc >/dev/null 2>&1; then nc -z -w {t} {ip} {port}; "
              "elif command -v bash >/dev/null 2>&1; then timeout {t} bash -c '</dev/tcp/{ip}/{port}'; "
              "else exit 127; fi")


def probe_plan(endpoints, port=None, timeout=2):
    """What to run, from which pod, to probe each ordered pair for one kind of traffic.

    Returns [{from, to, port, namespace, pod, command, skip}] where ``skip`` says why a pair
    cannot be probed (then ``command`` is None): only pods can be exec'ed into (a VM's launcher
    pod is not the guest), only TCP and ICMP have an answer to observe, and a target outside
    the source's subnet would leave through the pod's primary network, not this one.
    """
    traffic = parse_traffic(port)
    plan = []
    for source in endpoints:
        if source.get("kind") == "outside":
            continue
        for target in endpoints:
            if target is not source:
                skip = _probe_skip(source, target, traffic)
                plan.append({"from": source["name"], "to": target["name"],
                             "port": format_port(*traffic) if traffic else ICMP,
                             "namespace": source.get("namespace"), "pod": source.get("pod"),
                             "skip": skip,
                             "command": None if skip else _probe_command(source, target, traffic, timeout)})
    return plan


def _probe_skip(source, target, traffic):
    if source.get("kind") != "pod":
        return "cannot exec into the guest of {0} {1}".format(source.get("kind"), source["name"])
    if source.get("present") is False or not source.get("pod"):
        return "{0} is not in the cluster".format(source["name"])
    if not source.get("running"):
        return "pod {0} is not running".format(source["pod"])
    if target.get("present") is False:
        return "{0} is not in the cluster".format(target["name"])
    if traffic and traffic[0] != "TCP":
        return "{0} has no handshake a probe can observe".format(traffic[0])
    if source.get("cidr") and not _in_subnet(source["cidr"], target["ip"]):
        return "{0} is outside {1}'s subnet {2}: the pod would route it through its primary " \
               "network".format(target["ip"], source["name"], source["cidr"])
    return None


def _in_subnet(cidr, ip):
    try:
        return ipaddress.ip_address(ip) in ipaddress.ip_interface(cidr).network
    except ValueError:
        return False


def _probe_command(source, target, traffic, timeout):
    if traffic is None:
        interface = " -I {0}".format(source["interface"]) if source.get("interface") else ""
        return "ping -c 1 -W {0}{1} {2}".format(timeout, interface, target["ip"])
    script = _TCP_PROBE.format(t=timeout, ip=target["ip"], port=traffic[1])
    return "sh -c \"{0}\"".format(script.replace('"', '\\"'))
