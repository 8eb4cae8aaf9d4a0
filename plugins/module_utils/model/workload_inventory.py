# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The inventory's VMs and test pods (the workloads role's ``workloads_vms`` and
``workloads_pods``), checked and completed once.

Pure: no Ansible import, no I/O. ``check_inventory`` reports every problem at once, each naming
the entry (``workloads_vms[pay-db].ip``) and the one field that failed, and returns the entries
with what the user may leave out filled in (a VM's MAC). The workloads role builds its manifests
from what it returns; the intent's addresses are compared with it (``addresses``).
"""
import hashlib
import ipaddress
import re

try:
    import yaml  # ansible-core's own dependency, so present wherever this runs
except ImportError:  # pragma: no cover
    yaml = None

from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.errors import MultinetError
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.vocabulary import (
    VM_NAME_LABEL,
    dns1123_subdomain_problem,
    label_key_problem,
    label_value_problem,
)

VMS, PODS = "workloads_vms", "workloads_pods"
# The label KubeVirt's VM template carries in the workloads role (vm.yml.j2): the launcher pod has it.
DOMAIN_LABEL = "kubevirt.io/domain"
_MAC = re.compile(r"[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}\Z")
CLOUD_CONFIG_HEADER = "#cloud-config"


class InventoryError(MultinetError):
    """Every problem of the inventory's workloads, one per line."""

    def __init__(self, problems):
        self.problems = list(problems)
        lines = "\n".join("- {0}".format(problem) for problem in self.problems)
        super().__init__("workloads: {0} problem(s):\n{1}".format(len(self.problems), lines))


def check_inventory(vms, pods, gateway="", namespace="", user_data=""):
    """Validate ``workloads_vms``, ``workloads_pods`` and ``workloads_vm_user_data``; return
    {vms, pods} completed (a VM without ``mac`` gets a stable locally administered one from its
    namespace and name) or raise InventoryError naming each entry and field that is wrong."""
    problems = []
    problem = user_data_problem(user_data)
    if problem:
        # No "(got ...)": the user data holds credentials.
        problems.append(MultinetError("workloads_vm_user_data: {0} (value not shown: it may hold credentials)".format(
            problem)))
    vms = [_check_entry(VMS, index, entry, problems, gateway) for index, entry in enumerate(_list(vms, VMS, problems))]
    pods = [_check_entry(PODS, index, entry, problems) for index, entry in enumerate(_list(pods, PODS, problems))]
    vms = [dict(vm, mac=vm.get("mac") or generated_mac(namespace, vm["name"])) if vm.get("name") else vm for vm in vms]
    _check_unique(vms, pods, problems)
    if problems:
        raise InventoryError(problems)
    return {"vms": vms, "pods": pods}


def _list(value, variable, problems):
    if value is None:
        return []
    if not isinstance(value, list):
        problems.append(MultinetError("must be a list of mappings", variable, value))
        return []
    return value


def _where(variable, index, entry):
    """``workloads_vms[pay-db]`` when the entry has a usable name, else ``workloads_vms[2]``."""
    name = entry.get("name") if isinstance(entry, dict) else None
    return "{0}[{1}]".format(variable, name if isinstance(name, str) and name else index)


def _check_entry(variable, index, entry, problems, gateway=""):
    where = _where(variable, index, entry)
    if not isinstance(entry, dict):
        problems.append(MultinetError("must be a mapping with name and ip", where, entry))
        return {}
    name = entry.get("name")
    if not isinstance(name, str) or not name:
        problems.append(MultinetError("required, a VM or pod name", where + ".name", name))
    elif name_problem(name):
        problems.append(MultinetError("name " + name_problem(name), where + ".name", name))
    interface = _check_interface(entry.get("ip"), where + ".ip", problems)
    _check_labels(entry.get("labels"), where + ".labels", problems)
    if variable == VMS:
        _check_gateway(entry.get("gateway") or gateway, interface,
                       where + ".gateway" if entry.get("gateway") else "workloads_vm_gateway", problems)
        _check_mac(entry.get("mac"), where + ".mac", problems)
        for server_index, server in enumerate(entry.get("dns") or []):
            _check_address(server, "{0}.dns[{1}]".format(where, server_index), problems)
    return dict(entry)


def name_problem(name):
    """Why a VM or pod name is not one, or None: an object name (DNS-1123 subdomain) that is also
    a label value (at most 63 characters), since the VM's pod carries it in labels."""
    return label_value_problem(name) or dns1123_subdomain_problem(name)


def _check_interface(text, field, problems):
    """'address/prefix' -> ip_interface, or None after recording the one problem."""
    if not isinstance(text, str) or "/" not in text:
        problems.append(MultinetError("required, the address with its prefix, like 10.20.0.5/24", field, text))
        return None
    try:
        interface = ipaddress.ip_interface(text.strip())
    except ValueError:
        problems.append(MultinetError("not an address with a prefix, like 10.20.0.5/24", field, text))
        return None
    problem = host_address_problem(interface)
    if problem:
        problems.append(MultinetError(problem, field, text))
        return None
    return interface


def host_address_problem(interface):
    """Why an ip_interface cannot be a host's own address on a network, or None."""
    address, network = interface.ip, interface.network
    if address.is_unspecified or address.is_multicast or address.is_loopback or (
            address.version == 4 and address.is_reserved):
        return "must be a unicast address of the workload"
    if address.version == 4 and network.prefixlen < 31 and address in (
            network.network_address, network.broadcast_address):
        return "is the network's own address or its broadcast address, not a host's"
    return None


def _check_address(text, field, problems):
    try:
        return ipaddress.ip_address(text.strip() if isinstance(text, str) else text)
    except ValueError:
        problems.append(MultinetError("not an IP address", field, text))
        return None


def _check_gateway(text, interface, field, problems):
    if not text:
        return
    gateway = _check_address(text, field, problems)
    if gateway is None:
        return
    if gateway.version != 4:
        # The template writes it as cloud-init's gateway4.
        problems.append(MultinetError("must be an IPv4 address (it becomes gateway4)", field, text))
    elif interface is not None and interface.version == 4 and gateway not in interface.network:
        problems.append(MultinetError("is outside the VM's subnet {0}".format(interface.network), field, text))


def _check_mac(text, field, problems):
    if text is None:
        return
    if not isinstance(text, str) or not _MAC.match(text):
        problems.append(MultinetError("must be a MAC address xx:xx:xx:xx:xx:xx", field, text))
    elif int(text[1], 16) % 2:
        problems.append(MultinetError("must be a unicast MAC (second hex digit even)", field, text))


def _check_labels(labels, field, problems):
    if labels is None:
        return
    if not isinstance(labels, dict):
        problems.append(MultinetError("must be a mapping of label keys to values", field, labels))
        return
    for key, value in labels.items():
        problem = label_key_problem(key) if isinstance(key, str) else "label keys must be strings"
        if not problem:
            problem = label_value_problem(value) if isinstance(value, str) else "label values must be strings"
        if problem:
            problems.append(MultinetError(problem, "{0}.{1}".format(field, key), value))


def _check_unique(vms, pods, problems):
    """One L2 network: no two workloads with one name, address or MAC."""
    seen = {}
    for variable, entries in ((VMS, vms), (PODS, pods)):
        for index, entry in enumerate(entries):
            keys = (("name", entry.get("name")), ("address", bare_address(entry.get("ip"))),
                    ("mac", (entry.get("mac") or "").lower() or None))
            for kind, value in keys:
                if value is None:
                    continue
                first = seen.setdefault((kind, value), (variable, index, _where(variable, index, entry)))
                if first[:2] != (variable, index):
                    problems.append(MultinetError("{0} is also {1}'s; each must be unique on the network".format(
                        kind, first[2]), _where(variable, index, entry), value))


def bare_address(text):
    """'10.20.0.5/24' -> '10.20.0.5' (normalised); None when it is not an address/prefix."""
    try:
        return str(ipaddress.ip_interface(text.strip()).ip) if isinstance(text, str) else None
    except ValueError:
        return None


def generated_mac(namespace, name):
    """A stable locally administered unicast MAC for a VM whose entry gives none: the same VM
    gets the same MAC on every run, so cloud-init's match on it keeps holding."""
    digest = hashlib.sha256("{0}/{1}".format(namespace, name).encode("utf-8")).hexdigest()
    return ":".join(["02"] + [digest[i:i + 2] for i in range(0, 10, 2)])


def pod_labels(kind, entry):
    """The labels the workload's pod carries, which a policy selector sees: the workloads role's
    (vm.yml.j2, pod.yml.j2) and, for a VM, the one KubeVirt adds to its launcher pod."""
    if kind == "vm":
        labels = {DOMAIN_LABEL: entry["name"], VM_NAME_LABEL: entry["name"]}
        labels.update(entry.get("labels") or {})
        return labels
    return dict(entry.get("labels") or {"app": entry["name"]})


def user_data_problem(text):
    """Why ``workloads_vm_user_data`` is not YAML cloud-config, or None (empty: not set).

    The text holds credentials: the problem names a line, never the content.
    """
    if not text:
        return None
    if not isinstance(text, str) or not text.lstrip().startswith(CLOUD_CONFIG_HEADER):
        return "must be YAML cloud-config starting with the line '{0}'".format(CLOUD_CONFIG_HEADER)
    try:
        loaded = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = " at line {0}".format(mark.line + 1) if mark else ""
        return "is not valid YAML{0}: {1}".format(where, getattr(error, "problem", None) or "parse error")
    if not isinstance(loaded, dict):
        return "must be a YAML mapping of cloud-config keys"
    return None
