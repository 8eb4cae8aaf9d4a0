# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Intent schema v1: parse and validate an allow-list intent into immutable dataclasses.

Pure: no Ansible import, no I/O. Every problem is collected with its field path and value and
raised together as one ``IntentError`` (a ``MultinetError``), so the compiler only ever sees a
complete, valid ``Intent`` and never produces partial output.
"""
import ipaddress
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple, Optional, Tuple, Union

try:
    import yaml  # ansible-core's own dependency, so present wherever the module runs
except ImportError:  # pragma: no cover
    yaml = None

from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.errors import MultinetError, problems_message
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.vocabulary import (
    DIRECTIONS,
    VM_NAME_LABEL,
    PortRange,
    dns1123_label_problem,
    dns1123_subdomain_problem,
    label_key_problem,
    label_value_problem,
    nad_ref,
    parse_port_text,
    split_nad_ref,
)

TOP_LEVEL_KEYS = ("name", "namespace", "network", "ipam", "target_honours_end_port", "default_deny", "workloads",
                  "endpoints", "allow")
# The MultiNetworkPolicy API OVN-Kubernetes vendors (through its December 2024 code, so OpenShift
# 4.15-4.18) has no endPort: go-controller/vendor/github.com/k8snetworkplumbingwg/
# multi-networkpolicy/pkg/apis/k8s.cni.cncf.io/v1beta1/types.go, MultiNetworkPolicyPort; nor does
# the CRD, byte-identical in 4.15 and 4.18 (endPort arrives in 4.19's CRD). So a range is
# compiled into single ports, at most this many per range as written.
MAX_EXPANDED_RANGE = 32
WORKLOAD_KEYS = ("selector", "vm", "ips")
ENDPOINT_KEYS = ("cidr", "except")
ALLOW_KEYS = ("from", "to", "ports")

_HOST_PREFIXES = (32, 128)
_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_DOTTED_QUAD = re.compile(r"\.".join([_OCTET] * 4) + r"\Z")


class IntentError(MultinetError):
    """All problems found in one intent; ``errors`` holds one MultinetError per problem."""

    def __init__(self, errors):
        self.errors = list(errors)
        super().__init__(problems_message(self.errors, "intent has {0} problems".format(len(self.errors))))
        self.field = self.errors[0].field
        self.value = self.errors[0].value


class _Problems:
    """Collects problems while parsing so the user sees all of them at once."""

    def __init__(self):
        self.errors = []

    def add(self, field, message, value):
        self.errors.append(MultinetError(message, field, value))

    def raise_if_any(self):
        if self.errors:
            raise IntentError(self.errors)


# ---------------------------------------------------------------------------------------------
# The model
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, order=True, slots=True)
class IpBlock:
    """A normalised CIDR with its exceptions; ``sort_key`` orders blocks numerically."""

    sort_key: tuple
    cidr: str
    excepts: Tuple[str, ...] = ()


@dataclass(frozen=True, order=True, slots=True)
class WorkloadRef:
    """An allow peer that names a workload (resolved by the compiler to selector or ipBlocks)."""

    name: str


Peer = Union[WorkloadRef, IpBlock]


@dataclass(frozen=True, slots=True)
class Workload:
    name: str
    selector: Tuple[Tuple[str, str], ...]
    ips: Tuple[IpBlock, ...]


@dataclass(frozen=True, slots=True)
class Endpoint:
    name: str
    block: IpBlock


@dataclass(frozen=True, slots=True)
class Allow:
    """One allow entry; ``ports`` None means every port."""

    index: int
    sources: Tuple[Peer, ...]
    destinations: Tuple[Peer, ...]
    ports: Optional[Tuple[PortRange, ...]]


class IntentIdentity(NamedTuple):
    """What finds an intent's policies (``state: absent`` needs nothing more)."""

    name: str
    namespace: str
    network: str


@dataclass(frozen=True, slots=True)
class Intent:
    name: str
    namespace: str
    network: str
    ipam: bool
    target_honours_end_port: bool
    default_deny: Tuple[str, ...]
    workloads: Tuple[Workload, ...]
    endpoints: Tuple[Endpoint, ...]
    allow: Tuple[Allow, ...]

    @property
    def deny_policy_name(self):
        return "{0}-default-deny".format(self.name)

    def policy_name(self, workload_name):
        return "{0}-allow-{1}".format(self.name, workload_name)

    def shared_policy_name(self, digest):
        """A policy several workloads share: no '-allow-', so never a workload policy's name."""
        return "{0}-shared-{1}".format(self.name, digest)


# ---------------------------------------------------------------------------------------------
# Addresses
# ---------------------------------------------------------------------------------------------
@lru_cache(maxsize=65536)
def _parse_cidr(text):
    """'IP' or 'CIDR' -> (sort_key, normalised cidr, None) or (None, None, reason).

    A bare IP becomes a /32 or /128. Cached and kept off ``ip_network`` for bare addresses
    because large intents list thousands of them.
    """
    match = _DOTTED_QUAD.match(text)
    if match is not None:
        # The common case, parsed without ipaddress; the pattern admits only canonical text.
        octets = [int(octet) for octet in match.groups()]
        return (4, (octets[0] << 24) | (octets[1] << 16) | (octets[2] << 8) | octets[3], 32), text + "/32", None
    if "/" not in text:
        try:
            address = ipaddress.ip_address(text)
        except ValueError:
            return None, None, "not an IP address or CIDR"
        return (address.version, int(address), address.max_prefixlen), \
            "{0}/{1}".format(address, address.max_prefixlen), None
    try:
        network = ipaddress.ip_network(text, strict=True)
    except ValueError as error:
        try:
            address = ipaddress.ip_interface(text).ip
        except ValueError:
            return None, None, "not an IP address or CIDR ({0})".format(error)
        # Never a hint at the network: following it would open the whole subnet.
        return None, None, ("host bits set in CIDR (a network's host bits are zero); for the one address "
                            "write {0}".format(address))
    return (network.version, int(network.network_address), network.prefixlen), str(network), None


def _parse_block_text(text, field, problems):
    """A CIDR or bare IP string -> IpBlock without excepts, or None after recording the problem."""
    if not isinstance(text, str):
        problems.add(field, "must be an IP address or CIDR string", text)
        return None
    sort_key, cidr, reason = _parse_cidr(text.strip())
    if reason:
        problems.add(field, reason, text)
        return None
    return IpBlock(sort_key, cidr)


def _parse_excepts(block, excepts, field, problems):
    if not isinstance(excepts, list):
        problems.add(field, "must be a list of CIDRs", excepts)
        return None
    network = ipaddress.ip_network(block.cidr)
    parsed = {}
    for index, text in enumerate(excepts):
        item_field = "{0}[{1}]".format(field, index)
        inner_block = _parse_block_text(text, item_field, problems)
        if inner_block is None:
            continue
        inner = ipaddress.ip_network(inner_block.cidr)
        if inner.version != network.version:
            problems.add(item_field, "mixed IP families in one ipBlock (cidr is {0})".format(network), text)
        elif not (inner.subnet_of(network) and inner.prefixlen > network.prefixlen):
            problems.add(item_field, "except must be a strict subset of its cidr {0}".format(network), text)
        else:
            parsed[inner_block.sort_key] = inner_block.cidr
    return tuple(parsed[key] for key in sorted(parsed))


def _parse_ip_block(spec, field, problems):
    """An endpoint or literal peer: 'IP', 'CIDR' or {cidr, except} -> IpBlock or None."""
    if not isinstance(spec, dict):
        return _parse_block_text(spec, field, problems)
    _reject_unknown_keys(spec, ENDPOINT_KEYS, field, problems)
    if "cidr" not in spec:
        problems.add(field, "an endpoint mapping needs a 'cidr'", spec)
        return None
    block = _parse_block_text(spec["cidr"], field + ".cidr", problems)
    if block is None:
        return None
    excepts = _parse_excepts(block, spec.get("except") or [], field + ".except", problems)
    if excepts is None:
        return None
    return IpBlock(block.sort_key, block.cidr, excepts)


# ---------------------------------------------------------------------------------------------
# Sections
# ---------------------------------------------------------------------------------------------
def _reject_unknown_keys(mapping, known, field, problems):
    for key in mapping:
        if key not in known:
            where = "{0}.{1}".format(field, key) if field else str(key)
            problems.add(where, "unknown key, expected one of {0}".format(", ".join(known)), key)


def _require_string(raw, key, problems):
    value = raw.get(key)
    if not isinstance(value, str) or not value:
        problems.add(key, "required, must be a non-empty string", value)
        return None
    return value


def _parse_identity(raw, problems):
    """The fields that name things: (intent name, namespace, '<ns>/<nad>'); None parts if invalid."""
    namespace = _require_string(raw, "namespace", problems)
    if namespace is not None and dns1123_label_problem(namespace):
        problems.add("namespace", dns1123_label_problem(namespace), namespace)
        namespace = None
    network = _parse_network_ref(raw, namespace, problems)
    name = _parse_intent_name(raw, network, problems)
    return name, namespace, network


def _parse_network_ref(raw, namespace, problems):
    text = _require_string(raw, "network", problems)
    if text is None:
        return None
    qualified = "/" in text
    # A bare NAD name is in the intent's namespace; when that is invalid (and reported), None.
    ref = split_nad_ref(text) if qualified else (namespace, text.strip())
    if ref is None:
        problems.add("network", "must be '<nad name>' or '<namespace>/<nad name>'", text)
        return None
    nad_namespace, nad = ref
    if qualified and dns1123_label_problem(nad_namespace):
        problems.add("network", "namespace part " + dns1123_label_problem(nad_namespace), text)
        return None
    if dns1123_subdomain_problem(nad):
        problems.add("network", "NAD name " + dns1123_subdomain_problem(nad), text)
        return None
    return None if nad_namespace is None else nad_ref(nad_namespace, nad)


def _parse_intent_name(raw, network, problems):
    if "name" in raw:
        name, field = raw["name"], "name"
    elif network is not None:
        name, field = network.rpartition("/")[2], "network"
    else:
        return None
    if not isinstance(name, str) or not name:
        problems.add(field, "intent name must be a non-empty string", name)
        return None
    problem = dns1123_subdomain_problem(name) or label_value_problem(name)
    if problem:
        hint = "" if field == "name" else " (the NAD name is the default intent name; set 'name')"
        problems.add(field, "intent name is used as policy name prefix and label value: " + problem + hint, name)
        return None
    return name


def _parse_flag(raw, key, problems):
    value = raw.get(key, False)
    if not isinstance(value, bool):
        problems.add(key, "must be a boolean", value)
        return False
    return value


def _parse_default_deny(raw, problems):
    value = raw.get("default_deny", list(DIRECTIONS))
    if not isinstance(value, list):
        problems.add("default_deny", "must be a list of 'ingress' and/or 'egress'", value)
        return ()
    seen = set()
    for index, item in enumerate(value):
        field = "default_deny[{0}]".format(index)
        if item not in DIRECTIONS:
            problems.add(field, "must be 'ingress' or 'egress'", item)
        elif item in seen:
            problems.add(field, "duplicate direction", item)
        seen.add(item)
    return tuple(direction for direction in DIRECTIONS if direction in seen)


def _parse_selector(selector, field, problems):
    if not isinstance(selector, dict) or not selector:
        problems.add(field, "must be a non-empty mapping of label keys to values", selector)
        return ()
    pairs = []
    for key, value in selector.items():
        item_field = "{0}.{1}".format(field, key)
        if not isinstance(key, str):
            problems.add(field, "label keys must be strings", key)
            continue
        if not isinstance(value, str):
            problems.add(item_field, "label values must be strings (quote numbers and booleans)", value)
            continue
        problem = label_key_problem(key)
        if problem:
            problems.add(item_field, problem, key)
        problem = label_value_problem(value)
        if problem:
            problems.add(item_field, problem, value)
        pairs.append((key, value))
    return tuple(sorted(pairs))


def _parse_workload_selector(spec, field, problems):
    if ("selector" in spec) == ("vm" in spec):
        problems.add(field, "needs exactly one of 'selector' or 'vm'", spec)
        return ()
    if "selector" in spec:
        return _parse_selector(spec["selector"], field + ".selector", problems)
    vm = spec["vm"]
    # A VM name (a DNS-1123 subdomain) that is also a label value: Bad_VM would select no VM.
    problem = "must be a VM name string" if not isinstance(vm, str) or not vm else (
        label_value_problem(vm) or dns1123_subdomain_problem(vm))
    if problem:
        problems.add(field + ".vm", problem, vm)
        return ()
    return ((VM_NAME_LABEL, vm),)


@lru_cache(maxsize=65536)
def _non_unicast_problem(sort_key):
    """Why an address (by its sort key) cannot be a workload's own, or None.

    A policy peer made of such an address matches no workload (0.0.0.0, ::), or every host
    of a segment (255.255.255.255, a multicast group), or none on the network (loopback).
    """
    address = ipaddress.ip_address(sort_key[1]) if sort_key[0] == 4 else ipaddress.IPv6Address(sort_key[1])
    kinds = (
        ("the unspecified address", address.is_unspecified),
        ("a multicast address", address.is_multicast),
        ("a loopback address", address.is_loopback),
        ("the broadcast address or a reserved one (240.0.0.0/4)", address.version == 4 and address.is_reserved),
    )
    for kind, bad in kinds:
        if bad:
            return "must be a unicast address of the workload, not " + kind
    return None


def _parse_workload_ips(spec, field, ipam, problems):
    ips = spec.get("ips", [])
    if not isinstance(ips, list):
        problems.add(field, "must be a list of IP addresses", ips)
        return ()
    if not ips and not ipam:
        problems.add(field, "required on an IPAM-less network (ipam: false): peers compile to ipBlocks", ips)
        return ()
    blocks = {}
    for index, text in enumerate(ips):
        # Field paths are built only on error: large intents list thousands of addresses.
        sort_key, cidr, reason = _parse_cidr(text.strip()) if isinstance(text, str) else (None, None, "must be a string")
        if reason is None and sort_key[2] not in _HOST_PREFIXES:
            reason = "must be a single address (no prefix, or /32 and /128)"
        if reason is None:
            reason = _non_unicast_problem(sort_key)
        if reason:
            problems.add("{0}[{1}]".format(field, index), reason, text)
        else:
            blocks[sort_key] = IpBlock(sort_key, cidr)
    return tuple(blocks[key] for key in sorted(blocks))


def _check_entry_name(name, field, problems):
    """Workload and endpoint names are DNS-1123 labels of at most 63 characters. With the intent
    name (a DNS-1123 subdomain and label value, so at most 63 too) every generated policy name,
    '<intent>-allow-<workload>' (at most 133) or '<intent>-default-deny', is a valid object name."""
    if not isinstance(name, str):
        problems.add(field, "names must be strings", name)
        return False
    problem = dns1123_label_problem(name)
    if problem:
        problems.add(field, "names " + problem, name)
        return False
    return True


def _section(raw, key, kind, message, problems):
    """raw[key] when it is of `kind`; absent or null -> an empty one; anything else (``[]``,
    ``""``, ``false`` where a mapping is expected) is refused instead of read as empty."""
    value = raw.get(key)
    if value is None:
        return kind()
    if not isinstance(value, kind):
        problems.add(key, message, value)
        return None
    return value


def _parse_workloads(raw, ipam, problems):
    section = _section(raw, "workloads", dict, "must be a mapping of workload names to specs", problems)
    if section is None:
        return ()
    workloads = []
    for name, spec in section.items():
        field = "workloads.{0}".format(name)
        if not _check_entry_name(name, field, problems):
            continue
        if not isinstance(spec, dict):
            problems.add(field, "must be a mapping with 'selector' or 'vm', and 'ips'", spec)
            continue
        _reject_unknown_keys(spec, WORKLOAD_KEYS, field, problems)
        selector = _parse_workload_selector(spec, field, problems)
        ips = _parse_workload_ips(spec, field + ".ips", ipam, problems)
        workloads.append(Workload(name, selector, ips))
    _check_shared_ips(workloads, problems)
    return tuple(sorted(workloads, key=lambda workload: workload.name))


def _check_shared_ips(workloads, problems):
    """One address, one workload: with ipBlock peers a rule for one would open the other."""
    owner = {}
    for workload in workloads:
        for block in workload.ips:
            first = owner.setdefault(block.sort_key, workload.name)
            if first != workload.name:
                problems.add("workloads.{0}.ips".format(workload.name),
                             "address is also workload {0!r}'s; each address belongs to one workload".format(first),
                             block.cidr.split("/")[0])


def _parse_endpoints(raw, problems):
    section = _section(raw, "endpoints", dict, "must be a mapping of endpoint names to CIDRs", problems)
    if section is None:
        return ()
    endpoints = []
    for name, spec in section.items():
        field = "endpoints.{0}".format(name)
        if not _check_entry_name(name, field, problems):
            continue
        block = _parse_ip_block(spec, field, problems)
        if block is not None:
            endpoints.append(Endpoint(name, block))
    return tuple(sorted(endpoints, key=lambda endpoint: endpoint.name))


def _check_duplicate_names(raw, problems):
    workloads = raw.get("workloads")
    endpoints = raw.get("endpoints")
    if isinstance(workloads, dict) and isinstance(endpoints, dict):
        for name in sorted(set(workloads) & set(endpoints), key=str):
            problems.add("endpoints.{0}".format(name), "name is also a workload; names must be unique", name)


# ---------------------------------------------------------------------------------------------
# Allow entries
# ---------------------------------------------------------------------------------------------
@lru_cache(maxsize=4096)
def normalise_ports(ports):
    """Tuple of PortRange -> canonical tuple: sorted, duplicates and contained ranges dropped,
    overlapping ranges joined.

    Two single ports are never joined into a range: ``endPort`` needs a recent OVN-Kubernetes,
    so a range appears in the output only where the intent wrote one.
    """
    merged = []
    for port in sorted(set(ports)):
        if merged and _joinable(merged[-1], port):
            previous = merged[-1]
            merged[-1] = PortRange(previous.protocol, previous.start, max(previous.end, port.end))
        else:
            merged.append(port)
    return tuple(merged)


def _joinable(previous, port):
    if previous.protocol != port.protocol:
        return False
    if port.start <= previous.end:
        return True
    is_range = previous.start != previous.end or port.start != port.end
    return is_range and port.start == previous.end + 1


def _parse_ports(entry, field, honours_end_port, problems):
    """None means every port: ``ports`` omitted, null or empty, as in NetworkPolicy.

    Unless the target honours ``endPort``, a range wider than MAX_EXPANDED_RANGE is refused: it
    would compile into that many single ports.
    """
    ports = entry.get("ports")
    if ports is None:
        return None
    if not isinstance(ports, list):
        problems.add(field, "must be a list like [tcp/22, udp/53, tcp/8000-8010]", ports)
        return None
    if not all(isinstance(text, str) for text in ports):
        for index, text in enumerate(ports):
            if not isinstance(text, str):
                problems.add("{0}[{1}]".format(field, index), "must be a string like tcp/22 or tcp/8000-8010", text)
        return None
    parsed, errors = _ports_from_texts(tuple(ports))
    for index, reason in errors:
        problems.add("{0}[{1}]".format(field, index), reason, ports[index])
    if not honours_end_port:
        for index, text in enumerate(ports):
            port = parse_port_text(text)[0]
            if port is not None and port.end - port.start + 1 > MAX_EXPANDED_RANGE:
                problems.add("{0}[{1}]".format(field, index), (
                    "range of {0} ports: OVN-Kubernetes up to at least OpenShift 4.18 drops endPort "
                    "(it would open port {1} only), so ranges compile into single ports, at most {2}; "
                    "split the range, or set target_honours_end_port: true for a cluster whose "
                    "OVN-Kubernetes honours endPort").format(port.end - port.start + 1, port.start,
                                                             MAX_EXPANDED_RANGE), text)
    return parsed or None


@lru_cache(maxsize=4096)
def _ports_from_texts(texts):
    """A ports list (as a tuple) -> (normalised PortRanges, [(index, reason)]); cached because
    large intents repeat the same few lists."""
    results = [parse_port_text(text) for text in texts]
    errors = tuple((index, reason) for index, (_port, reason) in enumerate(results) if reason)
    return normalise_ports(tuple(port for port, _reason in results if port is not None)), errors


def _resolve_peer(ref, field, names, problems):
    """A name or a literal CIDR -> WorkloadRef or IpBlock, or None if invalid."""
    if not isinstance(ref, str):
        problems.add(field, "must be a workload or endpoint name, or a CIDR", ref)
        return None
    if ref in names:
        # None for a declared but invalid entry: its own error is already reported.
        return names[ref]
    # Names are DNS-1123 labels, so '.', ':' or '/' can only mean an address.
    if any(char in ref for char in "./:"):
        return _parse_ip_block(ref, field, problems)
    problems.add(field, "unknown name: not a workload, an endpoint or a CIDR", ref)
    return None


def _parse_side(entry, key, field, names, problems):
    """One side of an allow entry -> tuple of (reference as written, resolved peer)."""
    if key not in entry:
        problems.add(field, "required", None)
        return ()
    refs = entry[key]
    if isinstance(refs, str) and names.get(refs) is not None:
        return ((refs, names[refs]),)
    if isinstance(refs, list):
        if not refs:
            problems.add(field, "must name at least one workload, endpoint or CIDR", refs)
        fields = ["{0}[{1}]".format(field, index) for index in range(len(refs))]
    else:
        refs, fields = [refs], [field]
    resolved = [(ref, _resolve_peer(ref, item_field, names, problems)) for ref, item_field in zip(refs, fields)]
    return tuple((ref, peer) for ref, peer in resolved if peer is not None)


def _check_pairs(field, sources, destinations, problems):
    """Every (from, to) pair needs a workload on at least one side to carry the rule."""
    orphans = ["{0} -> {1}".format(source, destination)
               for source, source_peer in sources if not isinstance(source_peer, WorkloadRef)
               for destination, destination_peer in destinations
               if not isinstance(destination_peer, WorkloadRef)]
    if orphans:
        problems.add(field, "neither side is a workload, so no policy could carry the rule", ", ".join(orphans))


def _parse_allow(raw, names, honours_end_port, problems):
    if "allow" in raw and not isinstance(raw["allow"], list):
        # Not read as "allow nothing": {}, "" or false is a templating mistake more often than not.
        problems.add("allow", "must be a list of {from, to, ports} entries (write [] to allow nothing)", raw["allow"])
        return ()
    section = raw.get("allow", [])
    entries = []
    for index, entry in enumerate(section):
        field = "allow[{0}]".format(index)
        if not isinstance(entry, dict):
            problems.add(field, "must be a mapping with 'from', 'to' and optional 'ports'", entry)
            continue
        _reject_unknown_keys(entry, ALLOW_KEYS, field, problems)
        sources = _parse_side(entry, "from", field + ".from", names, problems)
        destinations = _parse_side(entry, "to", field + ".to", names, problems)
        ports = _parse_ports(entry, field + ".ports", honours_end_port, problems)
        _check_pairs(field, sources, destinations, problems)
        entries.append(Allow(index, tuple(peer for _ref, peer in sources),
                             tuple(peer for _ref, peer in destinations), ports))
    return tuple(entries)


def _peer_names(raw, workloads, endpoints):
    """Every declared name -> its peer; None for entries that failed validation."""
    names = {}
    for section in ("workloads", "endpoints"):
        if isinstance(raw.get(section), dict):
            names.update((name, None) for name in raw[section] if isinstance(name, str))
    names.update((workload.name, WorkloadRef(workload.name)) for workload in workloads)
    names.update((endpoint.name, endpoint.block) for endpoint in endpoints)
    return names


# ---------------------------------------------------------------------------------------------
# Entry points
# ---------------------------------------------------------------------------------------------
def parse_intent(raw):
    """Validate a raw intent dict completely; return an Intent or raise IntentError."""
    problems = _Problems()
    if not isinstance(raw, dict):
        problems.add("intent", "must be a mapping", raw)
        problems.raise_if_any()
    _reject_unknown_keys(raw, TOP_LEVEL_KEYS, "", problems)
    name, namespace, network = _parse_identity(raw, problems)
    ipam = _parse_flag(raw, "ipam", problems)
    honours_end_port = _parse_flag(raw, "target_honours_end_port", problems)
    default_deny = _parse_default_deny(raw, problems)
    workloads = _parse_workloads(raw, ipam, problems)
    endpoints = _parse_endpoints(raw, problems)
    _check_duplicate_names(raw, problems)
    allow = _parse_allow(raw, _peer_names(raw, workloads, endpoints), honours_end_port, problems)
    problems.raise_if_any()
    return Intent(name, namespace, network, ipam, honours_end_port, default_deny, workloads, endpoints, allow)


# Limits of an intent file's YAML, checked on the parsed node graph before any object is built:
# an alias repeats a node without copying it, so 549 bytes of nested aliases stand for 387
# million nodes, which the first error message quoting a value (or any walk over it) expands.
# A 1,000-workload intent is about 12,000 nodes (bench/compile_bench.py's).
MAX_YAML_NODES = 1000000
MAX_NESTING = 64
_MERGE_TAG = "tag:yaml.org,2002:merge"
_SHOWN_LINE = 80  # characters of the offending line a message quotes


def load_intent_text(text, source):
    """The raw intent mapping that `text`, the contents of the file `source`, holds: JSON or YAML.

    JSON is tried first because it parses in milliseconds where YAML takes a noticeable part of
    a second for an intent of 1,000 workloads (libyaml's loader when PyYAML has it, else seconds).
    A key written twice in one mapping is refused (in JSON as in YAML), naming the key and its
    line, as Ansible's ``duplicate_dict_key = error`` refuses it in an inline intent. A message
    quotes at most the offending line of the file, never more of it.
    """
    raw = load_data_text(text, source, "src")
    if not isinstance(raw, dict):
        raise MultinetError("the file must hold one intent, a mapping; it holds {0}".format(
            type(raw).__name__ if raw is not None else "nothing"), "src", source)
    return raw


def load_data_text(text, source, field):
    """The data `text` (the contents of the file `source`) holds, JSON or YAML, with the checks
    of load_intent_text; errors name `field`."""
    try:
        return json.loads(text, object_pairs_hook=_refuse_json_duplicates)
    except _DuplicateKey as duplicate:
        raise _json_duplicate_error(text, source, field, duplicate.key) from None
    except RecursionError:
        raise MultinetError("nested deeper than {0} levels".format(MAX_NESTING), field, source) from None
    except ValueError:
        return _load_yaml(text, source, field)


class _DuplicateKeyError(MultinetError):
    pass


class _DuplicateKey(Exception):
    def __init__(self, key):
        super().__init__(key)
        self.key = key


def _refuse_json_duplicates(pairs):
    mapping = dict(pairs)
    if len(mapping) != len(pairs):
        seen = set()
        raise _DuplicateKey(next(key for key, _value in pairs if key in seen or seen.add(key)))
    return mapping


def _json_duplicate_error(text, source, field, key):
    """The error for a JSON key written twice: the YAML walk finds its line (JSON is YAML, but
    for rare escapes), else the key alone."""
    try:
        _load_yaml(text, source, field)
    except _DuplicateKeyError as error:
        return error
    except MultinetError:
        pass
    return MultinetError("key {0!r} written twice in one mapping".format(key), field, source)


def _load_yaml(text, source, field):
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_yaml_node(node, text, source, field)
        return loader.construct_document(node)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problem = getattr(error, "problem", None) or str(error)
        raise MultinetError("is neither JSON nor valid YAML: {0}{1}".format(problem, _where(mark, text)),
                            field, source) from None
    finally:
        loader.dispose()


def _check_yaml_node(root, text, source, field):
    """Refuse duplicate keys, nesting deeper than MAX_NESTING and more than MAX_YAML_NODES
    nodes once aliases are expanded, counted without expanding them (each node once)."""
    sizes = {}
    active = set()

    def walk(node, depth):
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in active:
            raise MultinetError("an alias refers to a node that contains it{0}".format(
                _where(node.start_mark, text)), field, source)
        if depth > MAX_NESTING:
            raise MultinetError("nested deeper than {0} levels{1}".format(MAX_NESTING, _where(node.start_mark, text)),
                                field, source)
        active.add(key)
        size = 1
        if isinstance(node, yaml.MappingNode):
            _check_duplicate_keys(node, text, source, field)
            children = [child for pair in node.value for child in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = node.value
        else:
            children = []
        for child in children:
            size += walk(child, depth + 1)
            if size > MAX_YAML_NODES:
                raise MultinetError("holds more than {0} values once its aliases are expanded (an alias bomb?){1}".format(
                    MAX_YAML_NODES, _where(node.start_mark, text)), field, source)
        active.discard(key)
        sizes[key] = size
        return size

    walk(root, 0)


def _check_duplicate_keys(node, text, source, field):
    seen = {}
    for key, _value in node.value:
        if not isinstance(key, yaml.ScalarNode) or key.tag == _MERGE_TAG:
            continue
        first = seen.setdefault((key.tag, key.value), key.start_mark)
        if first is not key.start_mark:
            raise _DuplicateKeyError("key {0!r} written twice in one mapping{1} (first at line {2})".format(
                key.value, _where(key.start_mark, text), first.line + 1), field, source)


def _where(mark, text):
    """' at line L, column C: <that line>' (shortened), or '' without a mark."""
    if mark is None:
        return ""
    lines = text.split("\n")
    line = lines[mark.line].strip() if mark.line < len(lines) else ""
    if len(line) > _SHOWN_LINE:
        line = line[:_SHOWN_LINE] + "..."
    return " at line {0}, column {1}{2}".format(mark.line + 1, mark.column + 1, ": " + line if line else "")


def parse_intent_identity(raw):
    """Only the IntentIdentity (name, namespace, network) of an intent, e.g. to find its policies for pruning."""
    problems = _Problems()
    if not isinstance(raw, dict):
        problems.add("intent", "must be a mapping", raw)
        problems.raise_if_any()
    identity = _parse_identity(raw, problems)
    problems.raise_if_any()
    return IntentIdentity(*identity)
