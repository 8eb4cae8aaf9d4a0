# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The words every part of ocpvirt.multinet shares, defined once.

Pure: no Ansible import, no I/O. Annotation and label keys, protocols and directions, the
Kubernetes name rules, and the two text formats the collection reads and writes:
``<ns>/<nad>`` (a NetworkAttachmentDefinition, as Multus and OVN-Kubernetes write it) and
``<proto>/<port>[-<end>]`` (traffic and port ranges, like ``tcp/22`` or ``tcp/8000-8010``).
The intent, the compiler, the connectivity simulator and the endpoint reader import them from
here; nothing here imports them.
"""
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.errors import MultinetError

# --- keys ---------------------------------------------------------------------------------------
# OVN-K: go-controller/pkg/ovn/base_network_controller_multipolicy.go, PolicyForAnnotation.
POLICY_FOR_ANNOTATION = "k8s.v1.cni.cncf.io/policy-for"
NETWORKS_ANNOTATION = "k8s.v1.cni.cncf.io/networks"
NETWORK_STATUS_ANNOTATION = "k8s.v1.cni.cncf.io/network-status"
# KubeVirt puts it on a VM's virt-launcher pod: how a policy selects a VM.
VM_NAME_LABEL = "vm.kubevirt.io/name"
# Every namespace carries it; namespaceSelectors commonly match on it.
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
# On everything ocpvirt.multinet writes; a policy also names the intent it was compiled from.
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY_VALUE = "ocpvirt.multinet"
INTENT_LABEL = "multinet.ocpvirt.io/intent"
# On a policy that several workloads share: their names, comma-separated (the name is a digest).
WORKLOADS_ANNOTATION = "multinet.ocpvirt.io/workloads"

# --- traffic ------------------------------------------------------------------------------------
INGRESS = "ingress"
EGRESS = "egress"
DIRECTIONS = (INGRESS, EGRESS)
PROTOCOLS = ("TCP", "UDP", "SCTP")
ICMP = "icmp"
PORT_MIN, PORT_MAX = 1, 65535

# --- Kubernetes names ---------------------------------------------------------------------------
DNS1123_LABEL_MAX = 63
DNS1123_SUBDOMAIN_MAX = 253
LABEL_VALUE_MAX = 63
DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?\Z")
_DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\Z")
_QUALIFIED_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]\Z")

# [0-9], not \d: \d matches every Unicode digit (int() reads "tcp/\uff12\uff12" as 22).
_PORT_TEXT = re.compile(r"([A-Za-z]+)/([0-9]+)(?:-([0-9]+))?\Z")
_NAMED_PORT = re.compile(r"[A-Za-z]+/[A-Za-z][-A-Za-z0-9]*\Z")


def _name_problem(text, limit, pattern, what):
    if len(text) > limit:
        return "must be at most {0} characters".format(limit)
    if not pattern.match(text):
        return "must be a " + what
    return None


@lru_cache(maxsize=4096)
def dns1123_label_problem(text):
    return _name_problem(text, DNS1123_LABEL_MAX, DNS1123_LABEL,
                         "DNS-1123 label (lowercase letters, digits and '-', alphanumeric at both ends)")


@lru_cache(maxsize=4096)
def dns1123_subdomain_problem(text):
    return _name_problem(text, DNS1123_SUBDOMAIN_MAX, _DNS1123_SUBDOMAIN,
                         "DNS-1123 subdomain (lowercase letters, digits, '-' and '.', alphanumeric at both ends)")


@lru_cache(maxsize=4096)
def label_key_problem(key):
    prefix, slash, name = key.rpartition("/")
    if slash and (not prefix or dns1123_subdomain_problem(prefix)):
        return "label key prefix must be a DNS-1123 subdomain of at most 253 characters"
    if not name or len(name) > LABEL_VALUE_MAX or not _QUALIFIED_NAME.match(name):
        return ("label key name must be at most 63 characters of letters, digits, '-', '_' and '.', "
                "alphanumeric at both ends")
    return None


@lru_cache(maxsize=65536)
def label_value_problem(value):
    if len(value) > LABEL_VALUE_MAX:
        return "label value must be at most {0} characters".format(LABEL_VALUE_MAX)
    if value and not _QUALIFIED_NAME.match(value):
        return "label value must be letters, digits, '-', '_' and '.', alphanumeric at both ends"
    return None


# --- '<ns>/<nad>' -------------------------------------------------------------------------------
def split_nad_ref(text, default_namespace=None):
    """'<ns>/<nad>', or '<nad>' when default_namespace is given -> (ns, nad); None if malformed."""
    if not isinstance(text, str):
        return None
    parts = text.strip().split("/")
    if len(parts) == 2 and all(parts):
        return parts[0], parts[1]
    if len(parts) == 1 and parts[0] and default_namespace:
        return default_namespace, parts[0]
    return None


def parse_nad_ref(text, default_namespace=None, field="network"):
    """Like split_nad_ref, but a MultinetError naming field and value when malformed."""
    ref = split_nad_ref(text, default_namespace)
    if ref is None:
        raise MultinetError("must be '<namespace>/<nad name>'", field, text)
    return ref


def nad_ref(namespace, name):
    return "{0}/{1}".format(namespace, name)


def parse_policy_for(annotation, namespace):
    """The NADs ('<ns>/<nad>') a policy-for annotation names, split as OVN-K splits it
    (``shouldApplyMultiPolicy``: spaces removed, comma-separated, a bare name in the policy's
    namespace)."""
    refs = (split_nad_ref(entry, namespace) for entry in annotation.replace(" ", "").split(","))
    return tuple(nad_ref(*ref) for ref in refs if ref)


# --- '<proto>/<port>[-<end>]' -------------------------------------------------------------------
@dataclass(frozen=True, order=True, slots=True)
class PortRange:
    """One protocol and port, or port range when ``end`` > ``start``."""

    protocol: str
    start: int
    end: int

    def covers(self, traffic):
        """Whether traffic ('TCP', 22) falls in this range; ICMP-like traffic (None) never does."""
        return traffic is not None and traffic[0] == self.protocol and self.start <= traffic[1] <= self.end


@lru_cache(maxsize=4096)
def parse_port_text(text):
    """'tcp/22' or 'udp/8000-8010' -> (PortRange, None) or (None, reason)."""
    text = text.strip()
    match = _PORT_TEXT.match(text)
    if match is None and _NAMED_PORT.match(text):
        return None, "named ports are not supported (OVN-Kubernetes treats them as every port); use a number"
    if match is None:
        return None, "must be '<protocol>/<port>' or '<protocol>/<start>-<end>', like tcp/22 or tcp/8000-8010"
    protocol = match.group(1).upper()
    if max(len(match.group(2)), len(match.group(3) or "")) > len(str(PORT_MAX)):
        # Before int(): a number of thousands of digits is slow to read, or refused by Python.
        return None, "ports must be between {0} and {1}".format(PORT_MIN, PORT_MAX)
    start = int(match.group(2))
    end = int(match.group(3)) if match.group(3) else start
    if protocol not in PROTOCOLS:
        return None, "protocol must be tcp, udp or sctp"
    if not (PORT_MIN <= start <= PORT_MAX and PORT_MIN <= end <= PORT_MAX):
        return None, "ports must be between {0} and {1}".format(PORT_MIN, PORT_MAX)
    if start > end:
        return None, "port range start must not exceed its end"
    return PortRange(protocol, start, end), None


class Traffic(NamedTuple):
    """One kind of traffic with a port, parsed once at the edge: Traffic('TCP', 22). ICMP-like
    traffic (no protocol and port a rule's ``ports`` could name) is ``None`` everywhere."""

    protocol: str
    port: int


def traffic_name(traffic):
    """Traffic('TCP', 22) -> 'tcp/22'; None -> 'icmp': the text parse_traffic reads back."""
    return ICMP if traffic is None else format_port(traffic.protocol, traffic.port)


def parse_traffic(port, field="port"):
    """One kind of traffic: 'tcp/22' -> Traffic('TCP', 22); None or 'icmp' -> None (ICMP-like traffic)."""
    if port is None or (isinstance(port, str) and port.strip().lower() == ICMP):
        return None
    parsed, reason = parse_port_text(port) if isinstance(port, str) else (None, "must be a string")
    if parsed is not None and parsed.start != parsed.end:
        reason = "one port, not a range"
    if reason:
        raise MultinetError("must be '<tcp|udp|sctp>/<1-65535>', or 'icmp' or null for ICMP: " + reason, field, port)
    return Traffic(parsed.protocol, parsed.start)


def format_port(protocol, start, end=None):
    """('TCP', 8000, 8010) -> 'tcp/8000-8010'; a single port without the '-<end>'."""
    if end is None or end == start:
        return "{0}/{1}".format(protocol.lower(), start)
    return "{0}/{1}-{2}".format(protocol.lower(), start, end)
