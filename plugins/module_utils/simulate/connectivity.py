# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Who may open a connection to whom on one secondary network, simulated from MultiNetworkPolicies.

Pure: no Ansible, no I/O. ``simulate`` answers for every ordered pair of endpoints (at least one
of them a pod or VM) whether a connection may be *initiated*, the way OVN-Kubernetes enforces
MultiNetworkPolicy: the source's egress and the destination's ingress must both allow it, and
replies to an allowed connection always pass (OVN-K's ACLs are ``allow-related``).

Endpoints are ``{name, ip}`` plus, for pods and VMs (virt-launcher pods), ``namespace`` and
``labels``. An endpoint without ``namespace`` is an outside host: no policy isolates it; it only
matters as a peer of pods and VMs.

Replies pass only where OVN tracks connections: on a node's switch (one OVN zone per node) with
at least one stateful ACL. When pods and VMs carry their ``node``, a connection whose replies that
node's switch drops is denied too (``_Index.reply_verdict``).
"""

import ipaddress
from dataclasses import dataclass, field

from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.errors import MultinetError
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.policy_model import (
    DIRECTIONS,
    Network,
    parse_policy,
)
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.vocabulary import (
    NAMESPACE_NAME_LABEL,
    nad_ref,
    parse_traffic,
    split_nad_ref,
)

_ENDPOINT_KEYS = frozenset(("name", "ip", "namespace", "labels", "namespace_labels", "node"))


@dataclass(frozen=True, eq=False)
class Endpoint:
    name: str
    ip: object
    namespace: str = None  # None: an outside host
    labels: dict = field(default_factory=dict)
    namespace_labels: dict = field(default_factory=dict)
    node: str = None  # where a pod or VM runs, when known

    @property
    def is_workload(self):
        return self.namespace is not None

    @property
    def description(self):
        return "{0} ({1})".format(self.name, self.ip)


def simulate(policies, network, endpoints, port=None, ipam=False, target_honours_end_port=False, only=None):
    """Return one row {from, to, allowed, reason} per ordered pair with a pod or VM on one side.

    ``network`` is one NAD '<ns>/<nad>', or the NADs of one OVN network as a list of them or as
    ``{name, nads}`` (the network name is the ``name`` in the NAD config; a policy applies when
    its policy-for names any of its NADs); ``port`` is 'tcp/22'-style, or None ('icmp') for ICMP-like traffic;
    ``ipam`` says whether the network has IPAM (without it OVN-K rejects any policy that has a
    podSelector or namespaceSelector peer, and enforces nothing from it);
    ``target_honours_end_port`` whether the cluster's OVN-K reads ``endPort`` (none does up to at
    least OpenShift 4.18: a range then opens its first port only). Rows follow the order
    of ``endpoints``: every destination of the first endpoint, then of the second, and so on.
    ``only`` (endpoint names) keeps the pairs with one of them on either side.

    The filter's entry: it parses its arguments once, then ``matrix`` judges the models.
    """
    network = parse_network(network)
    eps = parse_endpoints(endpoints)
    traffic = parse_traffic(port)
    return matrix(parse_policies(policies, target_honours_end_port), network, eps, traffic, ipam, only)


def parse_policies(policies, honours_end_port=False):
    """A list of MultiNetworkPolicy manifests -> [Policy]; a malformed one is named by its index."""
    if not isinstance(policies, list):
        raise MultinetError("must be a list of MultiNetworkPolicy manifests", "policies", policies)
    return [parse_policy(p, "policies[{0}]".format(i), honours_end_port) for i, p in enumerate(policies)]


def matrix(policies, network, endpoints, traffic=None, ipam=False, only=None):
    """``simulate`` over models: [Policy] (parsed with the target's endPort reading), a Network,
    the Endpoints (``parse_endpoints``) and a Traffic, or None for ICMP-like traffic."""
    applicable = [p for p in policies if p.applies_to(network)]
    rejected = [p for p in applicable if not ipam and p.selector_peer() is not None]
    index = _Index(endpoints, traffic, ipam)
    for policy in applicable:
        if policy not in rejected:
            index.add(policy)
    notes = _notes(applicable, rejected, endpoints)
    return [
        _row(index, notes, src, dst, traffic)
        for src in range(len(endpoints))
        for dst in range(len(endpoints))
        if src != dst and (endpoints[src].is_workload or endpoints[dst].is_workload)
        and (only is None or endpoints[src].name in only or endpoints[dst].name in only)
    ]


def parse_network(network):
    """'<ns>/<nad>', a list of them, or {name, nads} -> Network."""
    if isinstance(network, Network):
        return network
    name, nads, field = None, network, "network"
    if isinstance(network, dict):
        unknown = sorted(set(network) - {"name", "nads"})
        if unknown:
            raise MultinetError("unknown keys (allowed: name, nads)", "network", unknown)
        name, nads, field = network.get("name"), network.get("nads"), "network.nads"
    if isinstance(nads, str):
        nads = [nads]
    if not isinstance(nads, list) or not nads:
        raise MultinetError("must be '<namespace>/<nad name>', a list of them, or a mapping of name and nads",
                            field, nads)
    refs = []
    for index, nad in enumerate(nads):
        ref = split_nad_ref(nad)
        if ref is None:
            where = field if isinstance(network, str) else "{0}[{1}]".format(field, index)
            raise MultinetError("must be '<namespace>/<nad name>'", where, nad)
        refs.append(nad_ref(*ref))
    if name is not None and (not isinstance(name, str) or not name):
        raise MultinetError("must be a non-empty string (the name in the NAD config)", "network.name", name)
    return Network(name=name or refs[0], nads=frozenset(refs))


def parse_endpoints(endpoints):
    if not isinstance(endpoints, list):
        raise MultinetError("must be a list of mappings with name and ip (pods and VMs: namespace, labels)",
                            "endpoints", endpoints)
    parsed = [_endpoint(ep, "endpoints[{0}]".format(i)) for i, ep in enumerate(endpoints)]
    seen = set()
    for i, ep in enumerate(parsed):
        if ep.name in seen:
            raise MultinetError("duplicate endpoint name", "endpoints[{0}].name".format(i), ep.name)
        seen.add(ep.name)
    return tuple(parsed)


def _endpoint(data, where):
    if not isinstance(data, dict):
        raise MultinetError("must be a mapping", where, data)
    unknown = sorted(set(data) - _ENDPOINT_KEYS)
    if unknown:
        raise MultinetError("unknown keys (allowed: {0})".format(", ".join(sorted(_ENDPOINT_KEYS))), where, unknown)
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise MultinetError("must be a non-empty string", where + ".name", name)
    namespace = data.get("namespace")
    if namespace is None and ("labels" in data or "namespace_labels" in data):
        raise MultinetError("labels need a namespace (an endpoint without one is an outside host)", where, data)
    if namespace is not None and (not isinstance(namespace, str) or not namespace):
        raise MultinetError("must be a non-empty string", where + ".namespace", namespace)
    node = data.get("node")
    if node is not None and (namespace is None or not isinstance(node, str) or not node):
        raise MultinetError("must be a non-empty string, on a pod or VM (an endpoint with a namespace)",
                            where + ".node", node)
    namespace_labels = dict(_labels(data.get("namespace_labels"), where + ".namespace_labels"))
    if namespace is not None:
        # Every namespace carries this label; namespaceSelectors commonly match on it.
        namespace_labels[NAMESPACE_NAME_LABEL] = namespace
    return Endpoint(
        name=name,
        ip=_ip(data.get("ip"), where + ".ip"),
        namespace=namespace,
        labels=dict(_labels(data.get("labels"), where + ".labels")),
        namespace_labels=namespace_labels,
        node=node,
    )


def _labels(value, where):
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise MultinetError("must be a mapping of strings to strings", where, value)
    return value


def _ip(value, where):
    try:
        # An interface address ('192.168.77.91/24', as in the pod networks annotation) names its IP.
        return ipaddress.ip_interface(value).ip
    except (TypeError, ValueError):
        raise MultinetError("must be an IP address", where, value) from None


class _Index:
    """Per endpoint and direction: which policies isolate it and which rules admit which peers.

    Built once per simulation (policies x endpoints), so each pair is then a dictionary lookup.
    """

    def __init__(self, eps, traffic, ipam):
        self.eps = eps
        self.traffic = traffic
        # A rule without peers matches every address of the network's IP families; an IPAM-less
        # network has none configured, and OVN-K's allIPsMatch falls back to "ip4" there
        # (gress_policy.go), so such a rule never admits an IPv6 peer.
        self.any_peer_ipv6 = ipam
        self.isolated_by = {d: {} for d in DIRECTIONS}  # direction -> ep -> [policy keys]
        self.any_peer = {d: {} for d in DIRECTIONS}  # direction -> ep -> [rule labels admitting everyone]
        self.peer = {d: {} for d in DIRECTIONS}  # direction -> ep -> peer -> [rule labels]
        self.descriptions = [ep.description for ep in eps]
        self.suffix = _traffic_suffix(traffic)
        self.stateful_nodes = set()  # nodes whose switch holds an allow-related ACL

    def add(self, policy):
        """policyTypes decide isolation; the rules of both directions allow regardless of them
        (OVN-K ``base_network_controller_policy.go``, "regardless of this policy type")."""
        selected = _selected(policy, self.eps)
        if policy.rules:
            # Every rule becomes allow-related ACLs (gress_policy.go:337, action :=
            # nbdb.ACLActionAllowRelated) on the policy's port group, which holds the selected
            # pods of each zone: the switch of every node where it selects one is stateful.
            self.stateful_nodes.update(self.eps[i].node for i in selected)
        for direction in DIRECTIONS:
            if direction in policy.isolates:
                for i in selected:
                    self.isolated_by[direction].setdefault(i, []).append(policy.key)
            for rule in policy.rules_for(direction):
                if rule.admits(self.traffic):
                    self._add_rule(policy, rule, selected)

    def _add_rule(self, policy, rule, selected):
        label = "{0} {1}".format(policy.key, rule.label)
        if rule.peers is None:
            for i in selected:
                self.any_peer[rule.direction].setdefault(i, []).append(label)
            return
        peers = [j for j, ep in enumerate(self.eps) if any(_peer_matches(p, policy, ep) for p in rule.peers)]
        for i in selected:
            admitted = self.peer[rule.direction].setdefault(i, {})
            for j in peers:
                admitted.setdefault(j, []).append(label)

    def verdict(self, direction, here, there):
        """(allowed, explanation) for endpoint ``here`` talking with ``there`` in ``direction``."""
        ep = self.eps[here]
        if not ep.is_workload:
            return True, "{0}: {1} is an outside host".format(direction, ep.name)
        isolating = self.isolated_by[direction].get(here)
        if not isolating:
            return True, "{0}: {1} not isolated".format(direction, ep.name)
        any_peer = self.any_peer[direction].get(here, [])
        if any_peer and self.eps[there].ip.version == 6 and not self.any_peer_ipv6:
            any_peer, suffix = [], "{0} (rules without peers match IPv4 only on an IPAM-less network)".format(
                self.suffix)
        else:
            suffix = self.suffix
        rules = any_peer + self.peer[direction].get(here, {}).get(there, [])
        if rules:
            return True, "{0} {1}".format(direction, ", ".join(rules))
        return False, "{0} denied: {1} is isolated for {0} by {2} and no {0} rule allows {3}{4}".format(
            direction, ep.name, ", ".join(isolating), self.descriptions[there], suffix,
        )

    def reply_verdict(self, src, dst):
        """(passes, explanation) for the replies of an allowed src -> dst connection.

        A default deny is a `drop` ACL (base_network_controller_policy.go buildDenyACLs). Only on
        a switch with an allow-related ACL does OVN let replies of tracked connections pass ahead
        of every ACL (ovn-org/ovn northd/northd.c build_acls: `has_stateful`, then the priority
        65532 flow `ct.est && !ct.rel && !ct.new && ct.rpl && ct_mark.blocked == 0`). Elsewhere a
        reply meets the isolated end's default deny: dst's for egress as it leaves, src's for
        ingress as it arrives. Unknown when a pod's or VM's node is not given."""
        for here, direction in ((dst, "egress"), (src, "ingress")):
            ep = self.eps[here]
            if ep.node is None or ep.node in self.stateful_nodes:
                continue
            isolating = self.isolated_by[direction].get(here)
            if isolating:
                return False, ("replies dropped: {0} is isolated for {1} by {2}, and no policy with rules selects a "
                               "pod or VM on its node {3}, so that node's switch has no stateful ACL to let replies "
                               "of {4} -> {5} pass".format(ep.name, direction, ", ".join(isolating), ep.node,
                                                           self.eps[src].name, self.eps[dst].name))
        return True, None


def _selected(policy, eps):
    """Indexes of the pods and VMs the policy's podSelector picks in its namespace."""
    return [i for i, ep in enumerate(eps) if ep.namespace == policy.namespace and policy.pod_selector.matches(ep.labels)]


def _peer_matches(peer, policy, ep):
    if peer.ip_block is not None:
        return peer.ip_block.contains(ep.ip)
    if not ep.is_workload:
        return False
    if peer.namespace_selector is None:
        in_namespace = ep.namespace == policy.namespace
    else:
        in_namespace = peer.namespace_selector.matches(ep.namespace_labels)
    return in_namespace and (peer.pod_selector is None or peer.pod_selector.matches(ep.labels))


def _notes(applicable, rejected, eps):
    """Per endpoint: why a policy that selects it is rejected or partly ignored by OVN-K."""
    notes = {}
    for policy in applicable:
        reasons = list(policy.notes)
        if policy in rejected:
            reasons.insert(0, "is not enforced: IPAM-less networks can only have ipBlock peers, and it has a "
                              "selector peer at {0}".format(policy.selector_peer()))
        if not reasons:
            continue
        for i in _selected(policy, eps):
            notes.setdefault(i, []).extend("{0} {1}".format(policy.key, r) for r in reasons)
    return notes


def _row(index, notes, src, dst, traffic):
    egress_ok, egress = index.verdict("egress", src, dst)
    ingress_ok, ingress = index.verdict("ingress", dst, src)
    reply_ok, reply = index.reply_verdict(src, dst) if egress_ok and ingress_ok else (True, None)
    if not reply_ok:
        reason = reply
    elif egress_ok and ingress_ok:
        reason = "allowed{0}: {1}; {2}".format(_traffic_suffix(traffic), egress, ingress)
    else:
        reason = "; ".join(text for ok, text in ((egress_ok, egress), (ingress_ok, ingress)) if not ok)
    extra = notes.get(src, []) + [n for n in notes.get(dst, []) if n not in notes.get(src, [])]
    if extra:
        reason += " (note: {0})".format("; ".join(extra))
    return {
        "from": index.eps[src].name,
        "to": index.eps[dst].name,
        "allowed": egress_ok and ingress_ok and reply_ok,
        "reason": reason,
    }


def _traffic_suffix(traffic):
    if traffic is None:
        return ""
    return " on {0}/{1}".format(traffic[0].lower(), traffic[1])
