# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What-if: which flows a change of MultiNetworkPolicies opens, closes or decides differently.

Pure: no Ansible, no I/O. Built on ``connectivity.simulate``: the before and the after policies
are simulated over the same endpoints, for ICMP and for every port any rule of either side
names (so removing a tcp/8080 allow shows its flows closed, never "no change"), and the rows
are compared pair by pair. A flow is ``{from, to, traffic, before, after}``: the endpoint names,
the traffic (``icmp``, ``tcp/22``) and the simulator's reason on each side, which names the
rules that allow it or the policies that isolate it.
"""

from ansible_collections.ocpvirt.multinet.plugins.module_utils.simulate.cluster_endpoints import representative_ip
from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.compiler import compile_policies
from ansible_collections.ocpvirt.multinet.plugins.module_utils.simulate.connectivity import (
    matrix,
    parse_endpoints,
    parse_network,
    parse_policies,
)
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.errors import MultinetError
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.intent import parse_intent, parse_intent_identity
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.vocabulary import Traffic, parse_traffic, traffic_name

CHANGES = ("opened", "closed", "reason_changed")
ALL_TRAFFIC = "all"
# A flow judged with ICMP: no rule of either side names its port, so the verdict is that of ICMP
# and of every port no rule names alike (a label "icmp" read as ping only).
OTHER_TRAFFIC = "icmp and other ports"


def connectivity_diff(before, after, network, endpoints, ipam=False, target_honours_end_port=False, ports=()):
    """{traffic, opened, closed, reason_changed} between two lists of policy manifests.

    ``traffic`` lists what was judged: ``icmp``, then every port a rule of ``before`` or
    ``after`` names, plus ``ports`` (extra 'tcp/22'-style traffic). ``opened`` holds the flows
    allowed only after, ``closed`` those allowed only before, ``reason_changed`` those allowed
    on both sides by other rules. A pair that changes the same way for every kind judged is
    one flow with traffic ``all`` (ICMP's verdict is that of every port no rule names, so the
    change is one of all its traffic), and the reasons of ICMP; otherwise each kind is a flow,
    ICMP's with traffic ``icmp and other ports`` (OTHER_TRAFFIC). Flows come in the simulator's pair order, then by traffic.
    The other arguments are ``connectivity.simulate``'s.

    The filter's entry: everything is parsed once here, then ``diff`` compares the models.
    """
    sides = [parse_policies(policies, target_honours_end_port) for policies in (before, after)]
    traffic = judged_traffic(sides, parse_ports(ports))
    eps = parse_endpoints(endpoints)
    return diff(sides[0], sides[1], parse_network(network), eps, ipam, traffic)


def diff(before, after, network, endpoints, ipam, traffic):
    """``connectivity_diff`` over models: the [Policy] of each side, the Network, the Endpoints
    and the kinds of traffic to judge (``judged_traffic``)."""
    only = touched_endpoints(before, after, endpoints)
    by_pair = {}  # row -> [(change, flow)] in traffic order
    for kind in traffic:
        was = matrix(before, network, endpoints, kind, ipam, only)
        now = matrix(after, network, endpoints, kind, ipam, only)
        for row, (old, new) in enumerate(zip(was, now)):
            change = _change(old, new)
            if change:
                by_pair.setdefault(row, []).append((change, {
                    "from": old["from"], "to": old["to"],
                    "traffic": OTHER_TRAFFIC if kind is None else traffic_name(kind),
                    "before": old["reason"], "after": new["reason"]}))
    result = {"traffic": [traffic_name(kind) for kind in traffic]}
    result.update((key, []) for key in CHANGES)
    for row in sorted(by_pair):
        for change, flow in _grouped(by_pair[row], len(traffic)):
            result[change].append(flow)
    return result


def _grouped(changes, kinds):
    """One pair's changes: a single ``all`` flow when every kind changed the same way."""
    if len(changes) == kinds and len({change for change, _flow in changes}) == 1:
        change, flow = changes[0]  # ICMP's, first in traffic order
        return [(change, dict(flow, traffic=ALL_TRAFFIC))]
    return changes


def _change(old, new):
    """A flow opens, closes, or stays allowed under other rules; who isolates a denied flow
    is not a change of what passes, so a denied flow's reason is not compared."""
    if old["allowed"] != new["allowed"]:
        return "opened" if new["allowed"] else "closed"
    return "reason_changed" if old["allowed"] and old["reason"] != new["reason"] else None


def touched_endpoints(before, after, endpoints):
    """Names of the endpoints a policy that differs between the two lists of [Policy] selects
    (either version).

    A pair's verdict reads only the policies that select its source (egress) or its
    destination (ingress), as ``connectivity.matrix`` builds it, so only pairs with a touched
    endpoint on one side can change.
    """
    versions = [{policy.key: policy for policy in policies} for policies in (before, after)]
    changed = [policy for key in set(versions[0]) | set(versions[1])
               if versions[0].get(key) != versions[1].get(key)
               for policy in (versions[0].get(key), versions[1].get(key)) if policy is not None]
    return frozenset(endpoint.name for endpoint in endpoints
                     if any(endpoint.namespace == policy.namespace and policy.pod_selector.matches(endpoint.labels)
                            for policy in changed))


def parse_ports(ports):
    """Extra 'tcp/22'-style traffic to judge -> [Traffic or None]; a bad one names its index."""
    if not isinstance(ports, (list, tuple)):
        raise MultinetError("must be a list of '<protocol>/<port>'", "ports", ports)
    return [parse_traffic(text, "ports[{0}]".format(index)) for index, text in enumerate(ports)]


def judged_traffic(policy_lists, extra=()):
    """[None, Traffic('TCP', 22), ...]: ICMP, then every port a rule of any list of [Policy]
    names, with the ``extra`` Traffic, sorted.

    A range contributes its first port, and its last one when the policies were parsed with
    ``honours_end_port`` (without it the simulator, like OVN-K, opens the first port only). A
    named port stands for every port of its protocol and names no number, so it adds nothing here.
    """
    found = {traffic for traffic in extra if traffic is not None}
    for policies in policy_lists:
        for policy in policies:
            for rule in policy.rules:
                for port in rule.ports or ():
                    found.update(Traffic(port.protocol, number) for number in (port.start, port.end)
                                 if number is not None)
    return [None] + sorted(found)


def intent_endpoints(*models):
    """Simulation endpoints for the workloads and outside endpoints the intents name.

    A workload is an endpoint at its first address in its namespace, labelled with its
    selector; an outside endpoint sits at the first address of its block outside the
    excepts. Names are the intent's; when several intents name the same one, the last wins.
    Returns (endpoints, warnings): a workload without ``ips`` has no address to judge and is
    left out with a warning (``unjudged_workloads``).
    """
    workloads, outside = {}, {}
    for model in models:
        for workload in model.workloads:
            if not workload.ips:
                continue
            workloads[workload.name] = {
                "name": workload.name, "namespace": model.namespace, "labels": dict(workload.selector),
                "ip": representative_ip(workload.ips[0].cidr, field="workloads.{0}.ips".format(workload.name))}
        for endpoint in model.endpoints:
            block = endpoint.block
            outside[endpoint.name] = {"name": endpoint.name, "ip": representative_ip(
                block.cidr, block.excepts, field="endpoints.{0}".format(endpoint.name))}
    for name in set(workloads) & set(outside):
        del outside[name]
    return list(workloads.values()) + list(outside.values()), unjudged_workloads(*models)


def unjudged_workloads(*models):
    """A warning per workload without ``ips``: it has no address to judge its flows at."""
    return ["workload {0}: the intent gives no ips, so its flows are not judged".format(workload.name)
            for model in models for workload in model.workloads if not workload.ips]


def intent_diff(before_intent, after_intent, ports=()):
    """``connectivity_diff`` of two intents (raw mappings) of one network, each compiled.

    Either may be None (the intent is new, or removed). The endpoints are those both intents
    name; ``ipam`` and ``target_honours_end_port`` are the newer intent's. The result adds
    ``network`` and ``warnings``.
    """
    models = [None if raw is None else parse_intent(raw) for raw in (before_intent, after_intent)]
    present = [model for model in models if model is not None]
    if not present:
        raise MultinetError("at least one of the two intents must be given", "after_intent", after_intent)
    networks = sorted({model.network for model in present})
    if len(networks) > 1:
        raise MultinetError("the two intents must be of one network", "network", networks)
    latest = present[-1]
    endpoints, warnings = intent_endpoints(*present)
    sides = [parse_policies([] if model is None else compile_policies(model), latest.target_honours_end_port)
             for model in models]
    result = diff(sides[0], sides[1], parse_network(latest.network), parse_endpoints(endpoints), latest.ipam,
                  judged_traffic(sides, parse_ports(ports)))
    result.update(network=latest.network, warnings=warnings)
    return result


def plan_changes(before_intents, after_intents, ports=()):
    """``intent_diff`` per intent of two lists (two revisions of an inventory), paired by
    namespace and intent name: [{intent: '<ns>/<name>', network, traffic, opened, closed,
    reason_changed, warnings}], sorted by ``intent``. An intent on one side only is new or removed.
    """
    pairs = {}
    for side, (field, intents) in enumerate((("before_intents", before_intents), ("after_intents", after_intents))):
        if not isinstance(intents, list):
            raise MultinetError("must be a list of intents", field, intents)
        for index, raw in enumerate(intents):
            try:
                name, namespace, _network = parse_intent_identity(raw)
            except MultinetError as error:
                raise MultinetError("{0}[{1}]: {2}".format(field, index, error)) from error
            pair = pairs.setdefault("{0}/{1}".format(namespace, name), [None, None])
            if pair[side] is not None:
                raise MultinetError("two intents of one name in one namespace", "{0}[{1}]".format(field, index),
                                    "{0}/{1}".format(namespace, name))
            pair[side] = raw
    return [dict(intent_diff(*pairs[key], ports=ports), intent=key) for key in sorted(pairs)]
