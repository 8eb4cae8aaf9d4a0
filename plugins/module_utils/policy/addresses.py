# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Addresses written once, checked everywhere.

Pure: no Ansible import, no I/O. An intent's workload selects pods and VMs; the inventory's
VMs and test pods (``workload_inventory``) say which address each has, and the live pods and
VMIs say which address each really has. So:

- ``resolve_intents``: a workload without ``ips`` takes the addresses of the inventory entries it
  selects (``{vm: pay-db}`` -> ``workloads_vms[pay-db].ip``), and a workload with ``ips`` must
  list the address of every inventory entry it selects;
- ``live_address_problems``: every live pod or VM a workload selects must have one of its ``ips``.

An address the intent gets wrong would compile into an ipBlock that matches nobody (or someone
else), so the flow it meant to open is cut when applied; these checks fail before any write,
naming the workload, the intent's address and the other one.
"""
import ipaddress

from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.errors import MultinetError, problems_message
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.vocabulary import VM_NAME_LABEL
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.workload_inventory import (
    PODS,
    VMS,
    bare_address,
    check_inventory,
    pod_labels,
)


class AddressError(MultinetError):
    """Every address problem of the intents, one per line."""

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__(problems_message(self.problems, "{0} address problems".format(len(self.problems))))


def inventory_workloads(inventory):
    """{namespace, vms, pods} (the workloads role's variables) -> (namespace, [(kind, entry
    field, name, address, labels)]); raises InventoryError when an entry is invalid."""
    inventory = inventory or {}
    checked = check_inventory(inventory.get("vms"), inventory.get("pods"), namespace=inventory.get("namespace") or "")
    entries = [("vm", "{0}[{1}].ip".format(VMS, vm["name"]), vm["name"], vm["ip"], pod_labels("vm", vm))
               for vm in checked["vms"]]
    entries += [("pod", "{0}[{1}].ip".format(PODS, pod["name"]), pod["name"], pod["ip"], pod_labels("pod", pod))
                for pod in checked["pods"]]
    return inventory.get("namespace") or "", entries


def workload_selector(spec):
    """The labels an intent workload's spec selects by (``vm`` meaning ``vm.kubevirt.io/name``);
    None when the spec is malformed (parse_intent reports it)."""
    if not isinstance(spec, dict):
        return None
    if isinstance(spec.get("vm"), str) and "selector" not in spec:
        return {VM_NAME_LABEL: spec["vm"]}
    selector = spec.get("selector")
    if isinstance(selector, dict) and selector and "vm" not in spec:
        return selector
    return None


def _selects(selector, labels):
    return all(labels.get(key) == value for key, value in selector.items())


def _intent_address(text):
    """An intent's ``ips`` item -> its normalised bare address, or None when it is not one."""
    if not isinstance(text, str):
        return None
    try:
        network = ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None
    return str(network.network_address) if network.prefixlen == network.max_prefixlen else None


def resolve_intents(intents, inventory, check=True):
    """The intents with each workload's missing ``ips`` taken from the inventory; with ``check``,
    every inventory entry a workload selects must have its address in the workload's ``ips``.

    Intents or workloads that are malformed are passed on untouched: parse_intent reports them.
    Raises AddressError naming the intent, the workload, the intent's addresses and the entry's.
    """
    namespace, entries = inventory_workloads(inventory)
    problems, resolved = [], []
    for intent in intents or []:
        resolved.append(_resolve_intent(intent, namespace, entries, check, problems))
    if problems:
        raise AddressError(problems)
    return resolved


def _resolve_intent(intent, namespace, entries, check, problems):
    if not isinstance(intent, dict) or not isinstance(intent.get("workloads"), dict):
        return intent
    here = entries if intent.get("namespace") == namespace else []
    workloads = {}
    for name, spec in intent["workloads"].items():
        selector = workload_selector(spec)
        if selector is None:
            workloads[name] = spec
            continue
        selected = [entry for entry in here if _selects(selector, entry[4])]
        field = "intent {0!r}: workloads.{1}.ips".format(intent.get("name") or intent.get("network"), name)
        if "ips" not in spec and selected:
            spec = dict(spec, ips=[bare_address(entry[3]) for entry in selected])
        elif "ips" not in spec and not intent.get("ipam"):
            problems.append(MultinetError(
                "no ips, and no VM or pod of the inventory ({0} and {1} in namespace {2!r}) is selected by "
                "{3}; write the ips, or list the workload in the inventory".format(
                    VMS, PODS, namespace, _describe(spec)), field, None))
        elif check and isinstance(spec.get("ips"), list):
            problems.extend(_inventory_mismatches(spec["ips"], selected, field))
        workloads[name] = spec
    return dict(intent, workloads=workloads)


def _describe(spec):
    return "vm {0!r}".format(spec["vm"]) if "vm" in spec else "selector {0!r}".format(spec["selector"])


def _inventory_mismatches(ips, selected, field):
    written = {_intent_address(text) for text in ips} - {None}
    if len(written) < len(ips):
        return []  # an ips item that is no address: parse_intent names it
    return [MultinetError("{0} {1} is at {2} in the inventory ({3} {4!r}), which the intent does not list".format(
        "VM" if kind == "vm" else "pod", name, bare_address(address), entry_field, address), field, ips)
        for kind, entry_field, name, address, _labels in selected if bare_address(address) not in written]


def _normalised(text):
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return text


def live_address_problems(model, endpoints):
    """Problems for every live pod or VM (endpoints of ``cluster_endpoints.collect_endpoints`` on
    the intent's network) that a workload of the parsed intent ``model`` selects and whose
    addresses are none of the workload's ``ips``."""
    problems = []
    for workload in model.workloads:
        written = {block.cidr.split("/", 1)[0] for block in workload.ips}
        selector = dict(workload.selector)
        if not written or not selector:
            continue
        for endpoint in endpoints:
            if (endpoint.get("kind") == "outside" or endpoint.get("namespace") != model.namespace
                    or not endpoint.get("ips") or not _selects(selector, endpoint.get("labels") or {})):
                continue
            if not written & {_normalised(ip) for ip in endpoint["ips"]}:
                problems.append(MultinetError(
                    "{0} {1} is at {2} on the cluster (from {3}), which the intent does not list".format(
                        "VM" if endpoint["kind"] in ("vm", "vmi") else "pod", endpoint["object"],
                        ", ".join(endpoint["ips"]), endpoint.get("source")),
                    "workloads.{0}.ips".format(workload.name), sorted(written)))
    return problems
