"""Compile an allow-list intent (schema v1) into MultiNetworkPolicy manifests.

Pure: no Ansible import, no I/O. The intent is validated completely by ``intent.parse_intent``
before anything is built, so callers get either every manifest or a ``MultinetError``.

Shape of the output, and why:
- one deny-all policy (empty podSelector) carrying the ``default_deny`` directions;
- one policy per workload that has rules, whose ``policyTypes`` list only the directions it has
  rules in: naming a workload isolates it in that direction only, as NetworkPolicy does, and
  OVN-Kubernetes reads ``policyTypes`` as written (an Egress type without egress rules would
  silently deny all egress of that workload even when ``default_deny`` does not ask for it);
- rules merged per workload and direction: each peer gets the union of the ports it is allowed
  on, then peers with the same port set share one rule; peers and ports are sorted, so the same
  intent always gives byte-identical manifests.
"""
from ansible_collections.ocpvirt.multinet.plugins.module_utils.intent import (
    EGRESS,
    INGRESS,
    WorkloadRef,
    parse_intent,
    parse_intent_identity,
)

API_VERSION = "k8s.cni.cncf.io/v1beta1"
KIND = "MultiNetworkPolicy"
POLICY_FOR_ANNOTATION = "k8s.v1.cni.cncf.io/policy-for"
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY_VALUE = "ocpvirt.multinet"
INTENT_LABEL = "multinet.ocpvirt.io/intent"

_POLICY_TYPE = {INGRESS: "Ingress", EGRESS: "Egress"}
_PEER_KEY = {INGRESS: "from", EGRESS: "to"}
ALL_PORTS = None


def intent_name(intent):
    """The intent's name: its ``name`` key, default the NAD name part of ``network``."""
    return parse_intent_identity(intent)[0]


def intent_selector(intent):
    """Label selector string matching every policy this intent manages (for list and prune)."""
    return "{0}={1},{2}={3}".format(MANAGED_BY_LABEL, MANAGED_BY_VALUE, INTENT_LABEL, intent_name(intent))


def compile_intent(intent):
    """Intent dict -> list of MultiNetworkPolicy manifests sorted by name; MultinetError if invalid."""
    model = parse_intent(intent)
    rules = _collect_rules(model)
    policies = [_workload_policy(model, workload, rules[workload.name])
                for workload in model.workloads if workload.name in rules]
    if model.default_deny:
        policies.append(_deny_policy(model))
    return sorted(policies, key=lambda policy: policy["metadata"]["name"])


# ---------------------------------------------------------------------------------------------
# Rules: workload name -> direction -> peer -> ports
# ---------------------------------------------------------------------------------------------
def _collect_rules(model):
    peers_of = _peer_resolver(model)
    rules = {}
    for entry in model.allow:
        for source in entry.sources:
            for destination in entry.destinations:
                if isinstance(source, WorkloadRef):
                    _add_rule(rules, source.name, EGRESS, peers_of(destination), entry.ports)
                if isinstance(destination, WorkloadRef):
                    _add_rule(rules, destination.name, INGRESS, peers_of(source), entry.ports)
    return rules


def _peer_resolver(model):
    """Peer -> tuple of hashable, sortable peer keys as they appear in the manifest."""
    if model.ipam:
        selectors = {workload.name: (("podSelector", workload.selector),) for workload in model.workloads}
    else:
        # IPAM-less networks accept only ipBlock peers: a workload is its /32 and /128 addresses.
        selectors = {workload.name: tuple(("ipBlock", ip) for ip in workload.ips) for workload in model.workloads}

    def peers_of(peer):
        if isinstance(peer, WorkloadRef):
            return selectors[peer.name]
        return (("ipBlock", peer),)

    return peers_of


def _add_rule(rules, workload, direction, peers, ports):
    by_peer = rules.setdefault(workload, {}).setdefault(direction, {})
    for peer in peers:
        if peer in by_peer:
            by_peer[peer] = _union_ports(by_peer[peer], ports)
        else:
            by_peer[peer] = ports


def _union_ports(left, right):
    if left is ALL_PORTS or right is ALL_PORTS:
        return ALL_PORTS
    return left + right


# ---------------------------------------------------------------------------------------------
# Ports: sorted, duplicates and contained ranges dropped, overlapping ranges joined
# ---------------------------------------------------------------------------------------------
def normalise_ports(ports):
    """Tuple of PortRange -> canonical tuple of (protocol, start, end).

    Two single ports are never joined into a range: ``endPort`` needs a recent OVN-Kubernetes,
    so a range appears in the output only where the intent wrote one.
    """
    merged = []
    for port in sorted(set(ports)):
        if merged and _joinable(merged[-1], port):
            protocol, start, end = merged[-1]
            merged[-1] = (protocol, start, max(end, port.end))
        else:
            merged.append((port.protocol, port.start, port.end))
    return tuple(merged)


def _joinable(previous, port):
    protocol, start, end = previous
    if protocol != port.protocol:
        return False
    if port.start <= end:
        return True
    is_range = start != end or port.start != port.end
    return is_range and port.start == end + 1


def _port_manifest(port):
    protocol, start, end = port
    manifest = {"protocol": protocol, "port": start}
    if end != start:
        manifest["endPort"] = end
    return manifest


# ---------------------------------------------------------------------------------------------
# Manifests
# ---------------------------------------------------------------------------------------------
def _peer_manifest(peer):
    kind, value = peer
    if kind == "podSelector":
        return {"podSelector": {"matchLabels": dict(value)}}
    block = {"cidr": value.cidr}
    if value.excepts:
        block["except"] = list(value.excepts)
    return {"ipBlock": block}


def _peer_sort_key(peer):
    kind, value = peer
    if kind == "podSelector":
        return (0, value)
    return (1, value.sort_key, value.excepts)


def _direction_rules(direction, by_peer):
    """Peers with the same port set share one rule; rules sorted, all-ports rules first."""
    by_ports = {}
    for peer, ports in by_peer.items():
        key = ALL_PORTS if ports is ALL_PORTS else normalise_ports(ports)
        by_ports.setdefault(key, []).append(peer)
    rules = []
    for ports in sorted(by_ports, key=lambda key: () if key is ALL_PORTS else (key,)):
        peers = sorted(by_ports[ports], key=_peer_sort_key)
        rule = {_PEER_KEY[direction]: [_peer_manifest(peer) for peer in peers]}
        if ports is not ALL_PORTS:
            rule["ports"] = [_port_manifest(port) for port in ports]
        rules.append(rule)
    return rules


def _metadata(model, name):
    return {
        "name": name,
        "namespace": model.namespace,
        "labels": {MANAGED_BY_LABEL: MANAGED_BY_VALUE, INTENT_LABEL: model.name},
        "annotations": {POLICY_FOR_ANNOTATION: model.network},
    }


def _manifest(model, name, spec):
    return {"apiVersion": API_VERSION, "kind": KIND, "metadata": _metadata(model, name), "spec": spec}


def _workload_policy(model, workload, rules_by_direction):
    directions = [direction for direction in (INGRESS, EGRESS) if direction in rules_by_direction]
    spec = {
        "podSelector": {"matchLabels": dict(workload.selector)},
        "policyTypes": [_POLICY_TYPE[direction] for direction in directions],
    }
    for direction in directions:
        spec[direction] = _direction_rules(direction, rules_by_direction[direction])
    return _manifest(model, model.policy_name(workload.name), spec)


def _deny_policy(model):
    spec = {"podSelector": {}, "policyTypes": [_POLICY_TYPE[direction] for direction in model.default_deny]}
    return _manifest(model, model.deny_policy_name, spec)

