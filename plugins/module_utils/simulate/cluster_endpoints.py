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
selects), so it is folded into the VM's endpoint instead of counted twice. Which objects are
attached and with which address: ``attachments`` and ``guest_network_data``; probing the
endpoints: ``probes``.
"""
import ipaddress

from ansible_collections.ocpvirt.multinet.plugins.module_utils.simulate.attachments import (
    LAUNCHER_LABEL,
    LAUNCHER_VALUE,
    is_launcher_pod,
    is_terminated,
    launcher_vm_name,
    network_nads,
    object_meta,
    pod_attachment,
    split_addresses,
    split_ip,
    vm_interface,
    vmi_status_addresses,
)
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.errors import MultinetError
from ansible_collections.ocpvirt.multinet.plugins.module_utils.simulate.guest_network_data import cloud_init_addresses
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.vocabulary import VM_NAME_LABEL


def collect_endpoints(network, pods=(), vms=(), vmis=(), secret_network_data=None, extra=()):
    """Endpoints on network ((ns, nad) or '<ns>/<nad>') from cluster objects plus extra hosts.

    secret_network_data maps '<ns>/<secret name>' to its networkData text.
    Returns {endpoints, unresolved}: unresolved lists what is attached but has no address,
    with the reason, so a missing row in the matrix is explained rather than silent.
    """
    network = network_nads(network)
    secrets = secret_network_data or {}
    launchers = _launchers_by_vm(pods)
    vmis_by_name = {(object_meta(v).get("namespace"), object_meta(v).get("name")): v for v in vmis}
    endpoints, unresolved = [], []
    for vm in vms:
        key = (object_meta(vm).get("namespace"), object_meta(vm).get("name"))
        spec = ((vm.get("spec") or {}).get("template") or {}).get("spec") or {}
        _add(_machine_endpoint(vm, "vm", spec, network, vmis_by_name.pop(key, None),
                               launchers.pop(key, None), secrets), endpoints, unresolved)
    for key, vmi in sorted(vmis_by_name.items()):
        _add(_machine_endpoint(vmi, "vmi", vmi.get("spec") or {}, network, vmi,
                               launchers.pop(key, None), secrets), endpoints, unresolved)
    for pod in pods:
        if not is_launcher_pod(pod) and not is_terminated(pod):
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
        if is_launcher_pod(pod) and not is_terminated(pod):
            launchers[(object_meta(pod).get("namespace"), launcher_vm_name(pod))] = pod
    return launchers


def _pod_endpoint(pod, network):
    attachment = pod_attachment(pod, network)
    if attachment is None:
        return None
    meta = object_meta(pod)
    endpoint = _base("pod", meta, dict(meta.get("labels") or {}))
    endpoint.update({"pod": meta.get("name"), "interface": attachment["interface"],
                     "running": (pod.get("status") or {}).get("phase") == "Running",
                     "node": (pod.get("spec") or {}).get("nodeName")})
    return _with_addresses(endpoint, attachment["ips"], attachment["cidrs"], attachment["source"],
                           "no address on {0}: no ips in the networks annotation and none "
                           "in network-status (IPAM-less network?)".format(
                               ", ".join("/".join(nad) for nad in sorted(network))))


def _machine_endpoint(obj, kind, spec, network, vmi, launcher, secrets):
    meta = object_meta(obj)
    nic = vm_interface(spec, meta.get("namespace"), network)
    if nic is None:
        return None
    endpoint = _base(kind, meta, _machine_labels(obj, kind, spec, vmi, launcher))
    endpoint.update({"pod": object_meta(launcher).get("name") if launcher else None,
                     "interface": nic["name"], "running": launcher is not None,
                     "node": (launcher.get("spec") or {}).get("nodeName") if launcher else None})
    namespaced = {k.split("/", 1)[1]: v for k, v in secrets.items()
                  if k.split("/", 1)[0] == meta.get("namespace")}
    for addresses, source in (
        (vmi_status_addresses(vmi, nic), "vmi-status"),
        ((pod_attachment(launcher, network) or {}).get("ips") if launcher else [], "launcher-pod"),
        cloud_init_addresses(spec, nic, namespaced),
    ):
        ips, cidrs = split_addresses(addresses)
        if ips:
            return _with_addresses(endpoint, ips, cidrs, source, None)
    return _with_addresses(endpoint, [], {}, None, (
        "no address for interface {0}: no guest-agent report, none on the launcher pod, and no "
        "cloud-init networkData matching its MAC or eth{1}".format(nic["name"], nic["index"])))


def _machine_labels(obj, kind, spec, vmi, launcher):
    """The labels a policy sees: the launcher pod's, else what KubeVirt will give it."""
    if launcher is not None:
        return dict(object_meta(launcher).get("labels") or {})
    source = vmi if vmi is not None else (
        obj if kind == "vmi" else (obj.get("spec") or {}).get("template") or {})
    labels = dict(object_meta(source).get("labels") or {})
    labels.setdefault(VM_NAME_LABEL, object_meta(obj).get("name"))
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
        ip = split_ip(host.get("ip", ""))[0]
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
