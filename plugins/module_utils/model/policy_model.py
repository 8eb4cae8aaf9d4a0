# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""MultiNetworkPolicy manifests parsed into what OVN-Kubernetes actually reads from them.

Pure: no Ansible, no I/O. The parse follows OVN-K's conversion of a MultiNetworkPolicy into a
NetworkPolicy (``convertMultiNetPolicyToNetPolicy``), not the NetworkPolicy API defaults:

- ``policyTypes`` is read as given and only decides which directions the selected pods are
  isolated in (which default-deny port groups they join): a policy without it isolates nothing.
  Values other than ``Ingress``/``Egress`` are ignored (OVN-K compares them verbatim).
- Every ingress and every egress rule becomes allow ACLs whatever ``policyTypes`` say, so a rule
  in a direction the policy does not isolate still opens a hole once another policy isolates the
  pod (``base_network_controller_policy.go``: "Consider both ingress and egress rules of the
  policy regardless of this policy type").
- ``k8s.v1.cni.cncf.io/policy-for`` is a comma-separated list (spaces removed) of ``<nad>``
  (the policy's own namespace) or ``<ns>/<nad>``; without it the policy applies to no network.
  The policy applies to a network when it names any NAD of that network: one OVN network (the
  ``name`` in the NAD config) can have NADs in several namespaces
  (``base_network_controller_multipolicy.go``, ``shouldApplyMultiPolicy``: ``HasNAD``).
- A port with a protocol and no number, or with a named (string) port, matches every port of
  that protocol, unless the same rule numbers a port of that protocol: then only the numbered
  ones match (``gress_policy.go`` ``getProtocolPortsMap``); a rule with ports never matches ICMP. A port without protocol is simulated as
  TCP with a note: the NetworkPolicy API server defaults it, the MultiNetworkPolicy CRD does not,
  and OVN-K's ``gressPolicy.addPortPolicy`` dereferences it without a nil check.
- ``endPort`` is dropped unless the caller says the target honours it: the MultiNetworkPolicy
  API OVN-K vendors (``vendor/github.com/k8snetworkplumbingwg/multi-networkpolicy/.../types.go``,
  ``MultiNetworkPolicyPort``: ``protocol`` and ``port`` only) cannot carry it, so a range opens
  its first port only; the policy's notes say so.
"""

import ipaddress
from dataclasses import dataclass, field

from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.errors import MultinetError
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.vocabulary import (
    DIRECTIONS,
    POLICY_FOR_ANNOTATION,
    PROTOCOLS,
    parse_policy_for,
)
_POLICY_TYPES = {"Ingress": "ingress", "Egress": "egress"}
_PEERS_KEY = {"ingress": "from", "egress": "to"}
_OPERATORS = {
    "In": lambda labels, key, values: key in labels and labels[key] in values,
    "NotIn": lambda labels, key, values: key not in labels or labels[key] not in values,
    "Exists": lambda labels, key, values: key in labels,
    "DoesNotExist": lambda labels, key, values: key not in labels,
}


@dataclass(frozen=True)
class Selector:
    """A label selector; the empty selector matches everything."""

    match_labels: tuple = ()
    expressions: tuple = ()  # (key, operator, frozenset(values))

    def matches(self, labels):
        if any(labels.get(key) != value for key, value in self.match_labels):
            return False
        return all(_OPERATORS[op](labels, key, values) for key, op, values in self.expressions)


@dataclass(frozen=True)
class IPBlock:
    """A CIDR minus its exceptions, kept as integer ranges: membership is tested per endpoint pair."""

    version: int
    first: int
    last: int
    excepts: tuple = ()  # ((first, last), ...) of the same IP version

    def contains(self, ip):
        value = int(ip)
        if ip.version != self.version or not self.first <= value <= self.last:
            return False
        return not any(first <= value <= last for first, last in self.excepts)


@dataclass(frozen=True)
class Peer:
    """Exactly one of: an ipBlock, or pod and/or namespace selectors."""

    ip_block: IPBlock = None
    pod_selector: Selector = None
    namespace_selector: Selector = None

    @property
    def needs_ipam(self):
        return self.ip_block is None


@dataclass(frozen=True)
class PortMatch:
    protocol: str
    start: int = None  # None: every port of the protocol
    end: int = None

    def matches(self, protocol, port):
        if protocol != self.protocol:
            return False
        if self.start is None:
            return True
        return self.start <= port <= (self.end if self.end is not None else self.start)


@dataclass(frozen=True)
class Rule:
    direction: str
    index: int
    peers: tuple = None  # None: every peer
    ports: tuple = None  # None: all traffic, ICMP included

    @property
    def label(self):
        return "{0}[{1}]".format(self.direction, self.index)

    def admits(self, traffic):
        """traffic is (protocol, port), or None for ICMP-like traffic."""
        if self.ports is None:
            return True
        if traffic is None:
            return False
        same = [port for port in self.ports if port.protocol == traffic[0]]
        # A port without number (none, or a named one) opens every port of its protocol only when
        # no port of the rule numbers that protocol: OVN-K lists the numbered ones and matches the
        # protocol alone only when that list is empty (go-controller/pkg/ovn/gress_policy.go
        # getProtocolPortsMap `else if pp.port != 0`, and getL4Match).
        numbered = [port for port in same if port.start is not None]
        return any(port.matches(*traffic) for port in numbered or same)


@dataclass(frozen=True)
class Network:
    """One OVN-K secondary network: its name (the ``name`` in the NAD config) and its NADs."""

    name: str
    nads: frozenset  # '<ns>/<nad>' of every NAD of the network

    @property
    def label(self):
        nads = ", ".join(sorted(self.nads))
        return nads if self.nads == frozenset((self.name,)) else "{0} (NADs {1})".format(self.name, nads)


@dataclass(frozen=True)
class Policy:
    namespace: str
    name: str
    networks: tuple
    pod_selector: Selector
    isolates: frozenset
    rules: tuple  # every rule, also of directions the policy does not isolate (OVN-K enforces them all)
    notes: tuple = field(default=())

    @property
    def key(self):
        return "{0}/{1}".format(self.namespace, self.name)

    def applies_to(self, network):
        """Whether policy-for names any NAD of ``network`` (a Network)."""
        return any(nad in network.nads for nad in self.networks)

    def rules_for(self, direction):
        """The rules of a direction OVN-K turns into allow ACLs, whether or not the policy isolates it."""
        return tuple(rule for rule in self.rules if rule.direction == direction)

    def selector_peer(self):
        """Where the first podSelector/namespaceSelector peer is, e.g. 'ingress[0].from[1]', or None."""
        for rule in self.rules:
            for position, peer in enumerate(rule.peers or ()):
                if peer.needs_ipam:
                    return "{0}.{1}[{2}]".format(rule.label, _PEERS_KEY[rule.direction], position)
        return None


def parse_policy(manifest, where="policy", honours_end_port=False):
    """Parse one MultiNetworkPolicy manifest; MultinetError names the field on bad input.

    ``honours_end_port``: whether the target's OVN-K reads ``endPort`` (none does up to at least
    OpenShift 4.18); when not, a range matches its first port only and a note says so.
    """
    metadata = _mapping(manifest.get("metadata") if isinstance(manifest, dict) else None, where + ".metadata")
    spec = _mapping(manifest.get("spec", {}), where + ".spec")
    namespace = _string(metadata.get("namespace"), where + ".metadata.namespace")
    name = _string(metadata.get("name"), where + ".metadata.name")
    annotations = _mapping(metadata.get("annotations") or {}, where + ".metadata.annotations")
    policy_for = annotations.get(POLICY_FOR_ANNOTATION, "")
    if not isinstance(policy_for, str):
        raise MultinetError("must be a string", where + ".metadata.annotations." + POLICY_FOR_ANNOTATION, policy_for)
    isolates, notes = _policy_types(spec.get("policyTypes"), where + ".spec.policyTypes")
    notes = list(notes)
    rules = []
    for direction in DIRECTIONS:
        rules.extend(_rules(spec.get(direction), direction, where + ".spec." + direction,
                            _PortReader(honours_end_port, direction, notes)))
    return Policy(
        namespace=namespace,
        name=name,
        networks=parse_policy_for(policy_for, namespace),
        pod_selector=parse_selector(spec.get("podSelector") or {}, where + ".spec.podSelector"),
        isolates=isolates,
        rules=tuple(rules),
        notes=tuple(notes),
    )


def parse_selector(data, where):
    data = _mapping(data, where)
    labels = _mapping(data.get("matchLabels") or {}, where + ".matchLabels")
    expressions = []
    for position, expr in enumerate(_list(data.get("matchExpressions") or [], where + ".matchExpressions")):
        here = "{0}.matchExpressions[{1}]".format(where, position)
        expr = _mapping(expr, here)
        operator = expr.get("operator")
        if operator not in _OPERATORS:
            raise MultinetError("operator must be one of " + ", ".join(_OPERATORS), here + ".operator", operator)
        values = frozenset(str(v) for v in _list(expr.get("values") or [], here + ".values"))
        expressions.append((_string(expr.get("key"), here + ".key"), operator, values))
    return Selector(
        match_labels=tuple(sorted((str(k), str(v)) for k, v in labels.items())),
        expressions=tuple(expressions),
    )


def parse_ip_block(data, where):
    data = _mapping(data, where)
    network = _network(data.get("cidr"), where + ".cidr")
    excepts = [
        _network(cidr, "{0}.except[{1}]".format(where, i))
        for i, cidr in enumerate(_list(data.get("except") or [], where + ".except"))
    ]
    return IPBlock(
        version=network.version,
        first=int(network.network_address),
        last=int(network.broadcast_address),
        excepts=tuple(
            (int(ex.network_address), int(ex.broadcast_address)) for ex in excepts if ex.version == network.version
        ),
    )


def _policy_types(value, where):
    if value is None:
        return frozenset(), ("has no policyTypes, so it isolates nothing (OVN-K does not default them); "
                             "its rules still allow traffic where another policy isolates",)
    types = _list(value, where)
    ignored = [t for t in types if t not in _POLICY_TYPES]
    notes = ("policyTypes {0!r} ignored (OVN-K reads only 'Ingress' and 'Egress')".format(ignored),) if ignored else ()
    return frozenset(_POLICY_TYPES[t] for t in types if t in _POLICY_TYPES), notes


def _rules(value, direction, where, read_port):
    rules = []
    for index, rule in enumerate(_list(value or [], where)):
        here = "{0}[{1}]".format(where, index)
        rule = _mapping(rule, here)
        peers = _list(rule.get(_PEERS_KEY[direction]) or [], here + "." + _PEERS_KEY[direction])
        ports = _list(rule.get("ports") or [], here + ".ports")
        rules.append(Rule(
            direction=direction,
            index=index,
            peers=tuple(_peer(p, "{0}.{1}[{2}]".format(here, _PEERS_KEY[direction], i)) for i, p in enumerate(peers)) or None,
            ports=tuple(read_port(p, index, i, "{0}.ports[{1}]".format(here, i)) for i, p in enumerate(ports)) or None,
        ))
    return rules


def _peer(data, where):
    data = _mapping(data, where)
    has_selector = "podSelector" in data or "namespaceSelector" in data
    if ("ipBlock" in data) == has_selector:
        raise MultinetError("a peer sets either ipBlock or podSelector/namespaceSelector", where, data)
    if "ipBlock" in data:
        return Peer(ip_block=parse_ip_block(data["ipBlock"], where + ".ipBlock"))
    return Peer(
        pod_selector=_optional_selector(data.get("podSelector"), where + ".podSelector"),
        namespace_selector=_optional_selector(data.get("namespaceSelector"), where + ".namespaceSelector"),
    )


def _optional_selector(data, where):
    return None if data is None else parse_selector(data, where)


class _PortReader:
    """Reads the ports of one direction's rules, adding to ``notes`` what OVN-K reads differently."""

    def __init__(self, honours_end_port, direction, notes):
        self.honours_end_port = honours_end_port
        self.direction = direction
        self.notes = notes

    def __call__(self, data, rule, index, where):
        data = _mapping(data, where)
        protocol = data.get("protocol")
        if protocol is None:
            self.notes.append("{0}[{1}].ports[{2}] has no protocol: OVN-K does not default it to TCP "
                              "(gress_policy.go addPortPolicy reads it unchecked), so the cluster may not "
                              "enforce this policy; simulated as TCP".format(self.direction, rule, index))
            protocol = "TCP"
        if protocol not in PROTOCOLS:
            raise MultinetError("protocol must be one of " + ", ".join(PROTOCOLS), where + ".protocol", protocol)
        port = data.get("port")
        if port is None or isinstance(port, str):
            # OVN-K does not resolve named ports: a string port matches every port of the protocol.
            return PortMatch(protocol=protocol)
        start = _port_number(port, where + ".port")
        end = data.get("endPort")
        if end is not None and _port_number(end, where + ".endPort") < start:
            raise MultinetError("endPort must not be below port {0}".format(start), where + ".endPort", end)
        if end is not None and not self.honours_end_port:
            self.notes.append("{0}[{1}].ports[{2}] endPort {3} is dropped: OVN-K's MultiNetworkPolicy API has "
                              "no endPort, so only port {4} opens".format(self.direction, rule, index, end, start))
            end = None
        return PortMatch(protocol=protocol, start=start, end=end)


def _port_number(value, where):
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise MultinetError("must be a port number 1-65535", where, value)
    return value


def _network(value, where):
    try:
        # strict=False: OVN-K matches a CIDR with host bits set as its network.
        return ipaddress.ip_network(_string(value, where), strict=False)
    except ValueError:
        raise MultinetError("must be a CIDR", where, value) from None


def _mapping(value, where):
    if not isinstance(value, dict):
        raise MultinetError("must be a mapping", where, value)
    return value


def _list(value, where):
    if not isinstance(value, list):
        raise MultinetError("must be a list", where, value)
    return value


def _string(value, where):
    if not isinstance(value, str) or not value:
        raise MultinetError("must be a non-empty string", where, value)
    return value
