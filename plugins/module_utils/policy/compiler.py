# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Compile an allow-list intent (schema v1) into MultiNetworkPolicy manifests.

Pure: no Ansible import, no I/O. The intent is validated completely by ``intent.parse_intent``
before anything is built, so callers get either every manifest or a ``MultinetError``. The
boundary (a filter, a module) parses the intent once and passes the ``Intent`` model on:
``compile_policies`` and ``selector_for`` take the model's parts; ``compile_intent`` and
``intent_selector`` are the same for a raw intent dict.

Shape of the output, and why:
- one deny-all policy (empty podSelector) carrying the ``default_deny`` directions;
- one policy per workload that has rules, whose ``policyTypes`` list only the directions it has
  rules in: naming a workload isolates it in that direction only, as NetworkPolicy does, and
  OVN-Kubernetes reads ``policyTypes`` as written (an Egress type without egress rules would
  silently deny all egress of that workload even when ``default_deny`` does not ask for it);
- rules merged per workload and direction: each peer gets the union of the ports it is allowed
  on, then peers with the same port set share one rule; peers and ports are sorted, so the same
  intent always gives byte-identical manifests;
- a port range becomes single ports (the intent refuses ranges wider than
  ``intent.MAX_EXPANDED_RANGE``): OVN-Kubernetes' MultiNetworkPolicy API has no ``endPort`` up
  to at least OpenShift 4.18, so an emitted ``endPort`` would be dropped and open the first port
  only. ``endPort`` is emitted only when the intent sets ``target_honours_end_port``;
- every port carries its ``protocol``: OVN-K does not default a missing one to TCP;
- a rule's ipBlock peers are written as the fewest ipBlocks matching exactly their addresses
  (``cidr_cover.exact_cover``), because OVN-K makes one ACL of each ipBlock; ``merge_peers=False``
  keeps one ipBlock per address or endpoint, as written in the intent;
- workloads whose compiled rules are identical (same directions, peers and ports) and whose
  selectors are one label of one key share one policy (``share_policies``): its podSelector is
  ``<key> In [values]``, which selects exactly the pods the members' selectors select, so who may
  reach whom is unchanged while OVN-K keeps one port group and one set of ACLs instead of one per
  workload. Its name, ``<intent>-shared-<digest>``, is a digest of the rules and the label key,
  not of the members, so a workload joining or leaving the group updates the policy's selector;
  the members are listed in the ``WORKLOADS_ANNOTATION``. A workload with rules nobody shares
  keeps its ``<intent>-allow-<workload>`` policy. ``share_policies=False`` writes one policy per
  workload.
"""
import gc
import hashlib
import json
from contextlib import contextmanager

from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.cidr_cover import exact_cover
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.intent import (
    WorkloadRef,
    normalise_ports,
    parse_intent,
    parse_intent_identity,
)
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.vocabulary import (
    EGRESS,
    INGRESS,
    INTENT_LABEL,
    MANAGED_BY_LABEL,
    MANAGED_BY_VALUE,
    POLICY_FOR_ANNOTATION,
    WORKLOADS_ANNOTATION,
)

API_VERSION = "k8s.cni.cncf.io/v1beta1"
KIND = "MultiNetworkPolicy"

_POLICY_TYPE = {INGRESS: "Ingress", EGRESS: "Egress"}
_PEER_KEY = {INGRESS: "from", EGRESS: "to"}
ALL_PORTS = None
DIGEST_LENGTH = 10  # hex digits of a shared policy's name: 40 bits, no collision in practice


def intent_name(intent):
    """The intent's name: its ``name`` key, default the NAD name part of ``network``."""
    return parse_intent_identity(intent)[0]


def intent_selector(intent):
    """Label selector string matching every policy this intent (a raw dict) manages."""
    return selector_for(intent_name(intent))


def selector_for(name):
    """Label selector string matching every policy of the intent named ``name`` (for list and prune)."""
    return "{0}={1},{2}={3}".format(MANAGED_BY_LABEL, MANAGED_BY_VALUE, INTENT_LABEL, name)


def compile_intent(intent, merge_peers=True, share_policies=True):
    """Intent dict -> list of MultiNetworkPolicy manifests sorted by name; MultinetError if invalid."""
    with _cyclic_gc_paused():
        return compile_policies(parse_intent(intent), merge_peers, share_policies)


def compile_policies(model, merge_peers=True, share_policies=True):
    """Intent model -> list of MultiNetworkPolicy manifests sorted by name.

    ``merge_peers`` writes each rule's ipBlock peers as their smallest exact cover;
    ``share_policies`` gives workloads with identical rules one policy (see the module doc).
    """
    with _cyclic_gc_paused():
        rules = _collect_rules(model)
        with_rules = [workload for workload in model.workloads if workload.name in rules]
        groups = _sharing_groups(with_rules, rules) if share_policies else [[workload] for workload in with_rules]
        policies = [_group_policy(model, group, rules[group[0].name], merge_peers) for group in groups]
        if model.default_deny:
            policies.append(_deny_policy(model))
        return sorted(policies, key=lambda policy: policy["metadata"]["name"])


@contextmanager
def _cyclic_gc_paused():
    """Pause the cycle collector while compiling, restoring its previous state afterwards.

    Compiling allocates a few small containers per workload, none of which form reference
    cycles, so the collector's repeated passes over them reclaim nothing; on 10,000 workloads
    they cost about 40% of the run. Reference counting still frees everything as usual, and
    anything cyclic (a raised error's traceback) is collected once the collector resumes.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# ---------------------------------------------------------------------------------------------
# Rules: workload name -> direction -> peer key -> ports (None = every port)
#
# A peer key is a plain tuple that sorts peers into their manifest order and hashes fast:
# (0, selector pairs) for a podSelector, (1, sort key, cidr, excepts) for an ipBlock.
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


def _block_key(block):
    return (1, block.sort_key, block.cidr, block.excepts)


def _peer_resolver(model):
    """Peer -> tuple of peer keys; workloads resolved once, up front."""
    if model.ipam:
        workload_peers = {workload.name: ((0, workload.selector),) for workload in model.workloads}
    else:
        # IPAM-less networks accept only ipBlock peers: a workload is its /32 and /128 addresses.
        workload_peers = {workload.name: tuple(_block_key(ip) for ip in workload.ips)
                          for workload in model.workloads}

    def peers_of(peer):
        if isinstance(peer, WorkloadRef):
            return workload_peers[peer.name]
        return (_block_key(peer),)

    return peers_of


def _add_rule(rules, workload, direction, peers, ports):
    by_peer = rules.setdefault(workload, {}).setdefault(direction, {})
    for peer in peers:
        if peer not in by_peer:
            by_peer[peer] = ports
        elif by_peer[peer] is not ALL_PORTS:
            # Rules are ORed, so one peer allowed on two port sets is allowed on their union.
            by_peer[peer] = ALL_PORTS if ports is ALL_PORTS else normalise_ports(by_peer[peer] + ports)


# ---------------------------------------------------------------------------------------------
# Manifests
# ---------------------------------------------------------------------------------------------
def _peer_manifest(peer):
    if peer[0] == 0:
        return {"podSelector": {"matchLabels": dict(peer[1])}}
    _kind, _sort_key, cidr, excepts = peer
    if excepts:
        return {"ipBlock": {"cidr": cidr, "except": list(excepts)}}
    return {"ipBlock": {"cidr": cidr}}


def _port_manifests(port, honours_end_port):
    if port.end == port.start:
        return [{"protocol": port.protocol, "port": port.start}]
    if honours_end_port:
        return [{"protocol": port.protocol, "port": port.start, "endPort": port.end}]
    return [{"protocol": port.protocol, "port": number} for number in range(port.start, port.end + 1)]


def _ports_sort_key(ports):
    # Every-port rules first, then by their (already sorted) port tuples.
    return () if ports is ALL_PORTS else (ports,)


def _merged_peers(peers):
    """Sorted peer keys -> manifests: selector peers as they are, ipBlocks as their exact cover.

    When the peers hold no address at all (their excepts cover their CIDRs), the first is kept
    as written: it matches nobody, as they did, where an empty peer list would admit every peer.
    """
    blocks = [(peer[2], peer[3]) for peer in peers if peer[0] == 1]
    if len(blocks) == 1 and not blocks[0][1]:
        # One CIDR is its own smallest cover; most rules have one peer, so skip parsing it again.
        return [_peer_manifest(peer) for peer in peers]
    merged = ([_peer_manifest(peer) for peer in peers if peer[0] == 0]
              + [_peer_manifest((1, None, cidr, excepts)) for cidr, excepts in exact_cover(blocks)])
    return merged or [_peer_manifest(peers[0])]


def _direction_rules(direction, by_peer, honours_end_port, merge_peers):
    """Peers with the same port set share one rule; rules and their peers sorted."""
    by_ports = {}
    for peer, ports in by_peer.items():
        by_ports.setdefault(ports, []).append(peer)
    peer_key = _PEER_KEY[direction]
    rules = []
    for ports in sorted(by_ports, key=_ports_sort_key):
        peers = sorted(by_ports[ports])
        rule = {peer_key: _merged_peers(peers) if merge_peers else [_peer_manifest(peer) for peer in peers]}
        if ports is not ALL_PORTS:
            rule["ports"] = [manifest for port in ports for manifest in _port_manifests(port, honours_end_port)]
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


# ---------------------------------------------------------------------------------------------
# Sharing: workloads with identical rules, one policy
# ---------------------------------------------------------------------------------------------
def _sharing_groups(workloads, rules):
    """Workloads (sorted by name) -> lists of workloads that can share one policy, in order of
    their first member.

    Two workloads share when their rules (direction -> peer -> ports) are equal and each selects
    by one label of the same key: then one ``In`` expression over their values selects exactly
    their pods, no other. A workload selecting by several labels keeps a policy of its own.
    """
    groups = {}
    for workload in workloads:
        label_key = workload.selector[0][0] if len(workload.selector) == 1 else workload.name
        by_direction = rules[workload.name]
        signature = frozenset((direction, frozenset(by_peer.items())) for direction, by_peer in by_direction.items())
        groups.setdefault((len(workload.selector) == 1, label_key, signature), []).append(workload)
    return list(groups.values())


def _group_policy(model, members, rules_by_direction, merge_peers):
    directions = [direction for direction in (INGRESS, EGRESS) if direction in rules_by_direction]
    spec = {
        "podSelector": _group_selector(members),
        "policyTypes": [_POLICY_TYPE[direction] for direction in directions],
    }
    for direction in directions:
        spec[direction] = _direction_rules(direction, rules_by_direction[direction], model.target_honours_end_port,
                                           merge_peers)
    if len(members) == 1:
        return _manifest(model, model.policy_name(members[0].name), spec)
    manifest = _manifest(model, model.shared_policy_name(_rules_digest(members[0].selector[0][0], spec)), spec)
    manifest["metadata"]["annotations"][WORKLOADS_ANNOTATION] = ",".join(member.name for member in members)
    return manifest


def _group_selector(members):
    """A workload's own labels, or one ``In`` expression over the members' values of their key."""
    if len(members) == 1:
        return {"matchLabels": dict(members[0].selector)}
    label_key = members[0].selector[0][0]
    return {"matchExpressions": [
        {"key": label_key, "operator": "In", "values": sorted({member.selector[0][1] for member in members})}]}


def _rules_digest(label_key, spec):
    """What a shared policy allows, and by which label it selects, as DIGEST_LENGTH hex digits;
    its members are left out, so they can change under one name."""
    shape = {key: value for key, value in spec.items() if key != "podSelector"}
    text = json.dumps([label_key, shape], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:DIGEST_LENGTH]


def _deny_policy(model):
    spec = {"podSelector": {}, "policyTypes": [_POLICY_TYPE[direction] for direction in model.default_deny]}
    return _manifest(model, model.deny_policy_name, spec)
