# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One connectivity_info run over one snapshot of the cluster: the module's result, pure.

``k8s.snapshot.read_snapshot`` reads the cluster once; everything here is computed from that
dict: the OVN network of the NAD, the endpoints, the live policies that apply, and per kind of
traffic the simulated matrix, the probe plan and (with an intent) the expected flows.
"""
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.errors import MultinetError
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.policy_model import Network, parse_policy
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.vocabulary import (
    Traffic,
    nad_ref,
    parse_nad_ref,
    parse_traffic,
    traffic_name,
)
from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.compiler import compile_policies
from ansible_collections.ocpvirt.multinet.plugins.module_utils.simulate import cluster_endpoints as ce
from ansible_collections.ocpvirt.multinet.plugins.module_utils.simulate.attachments import nad_has_ipam, nad_network_name
from ansible_collections.ocpvirt.multinet.plugins.module_utils.simulate.connectivity import matrix, parse_endpoints
from ansible_collections.ocpvirt.multinet.plugins.module_utils.verify.intent_flows import expected_flows
from ansible_collections.ocpvirt.multinet.plugins.module_utils.verify.probes import probe_plan
from ansible_collections.ocpvirt.multinet.plugins.module_utils.verify.revision import revision


def resolve_scope(params, intent):
    """(network, namespaces, ipam or None, ipam_source) from the parameters and the intent."""
    network = params["network"] or (intent.network if intent else None)
    if network is None:
        raise MultinetError("is required unless intent is given", "network", None)
    nad_namespace, nad_name = parse_nad_ref(network, intent.namespace if intent else None)
    network = nad_ref(nad_namespace, nad_name)
    if intent and network != intent.network:
        raise MultinetError("differs from the intent's network " + intent.network, "network", network)
    namespaces = params["namespaces"] or [intent.namespace if intent else nad_namespace]
    if params["ipam"] is not None:
        return network, sorted(set(namespaces)), params["ipam"], "parameter"
    if intent:
        return network, sorted(set(namespaces)), intent.ipam, "intent"
    return network, sorted(set(namespaces)), None, None


def applicable_policies(manifests, network, honours_end_port=False):
    """Live policies that apply to ``network``, each parsed once: [(manifest reduced to what the
    simulator reads, Policy)]; a malformed one is named in the error."""
    result = []
    for manifest in manifests:
        meta = manifest["metadata"]
        slim = {"apiVersion": manifest.get("apiVersion"), "kind": manifest.get("kind"),
                "metadata": {k: meta.get(k) for k in ("name", "namespace", "labels", "annotations")},
                "spec": manifest.get("spec") or {}}
        where = "MultiNetworkPolicy {0}/{1}".format(meta["namespace"], meta["name"])
        policy = parse_policy(slim, where, honours_end_port)
        if policy.applies_to(network):
            result.append((slim, policy))
    return result


def intent_traffic(intent):
    """ICMP (None), then each port the intent names as Traffic: both ends of a range, so a dropped
    endPort shows."""
    ports = sorted({(p.protocol, number) for a in intent.allow for p in a.ports or () for number in (p.start, p.end)})
    return [None] + [Traffic(protocol, number) for protocol, number in ports]


def traffic_list(ports, intent):
    """The kinds of traffic to simulate, each once, parsed (None for ICMP, else Traffic): the
    ones given, else the intent's (RV(intent_traffic)), else ICMP alone. A bad one names the field."""
    if not ports:
        return intent_traffic(intent) if intent else [None]
    chosen = []
    for text in ports:
        traffic = parse_traffic(str(text).strip(), field="ports")
        if traffic not in chosen:
            chosen.append(traffic)
    return chosen


def network_of(snapshot, network):
    """The OVN network of NAD ``network``: the ``name`` in its config, with every NAD of the
    snapshot that has the same name (OVN-K applies a policy that names any NAD of the network:
    go-controller/pkg/ovn/base_network_controller_multipolicy.go, shouldApplyMultiPolicy)."""
    name = nad_network_name(snapshot["nad"])
    nads = {network}
    if name:
        nads.update(ref for ref, nad in snapshot["nads"].items() if nad_network_name(nad) == name)
    return Network(name=name or network, nads=frozenset(nads))


def connectivity(snapshot, params, intent, traffic, network_ref, ipam, ipam_source):
    """The module's result from one snapshot of the cluster: pure, one entry of ``results`` per
    kind of ``traffic`` (``traffic_list``)."""
    if ipam is None:
        ipam = nad_has_ipam(snapshot["nad"])
        ipam_source = "default" if ipam is None else "nad"
        ipam = bool(ipam)
    network = network_of(snapshot, network_ref)
    collected = ce.collect_endpoints(network.nads, snapshot["pods"], snapshot["vms"], snapshot["vmis"],
                                     snapshot["secrets"], [] if intent else params["endpoints"])
    endpoints, warnings = collected["endpoints"], list(snapshot["warnings"])
    warnings += ["{0} {1}: {2}".format(u["kind"], u["object"], u["reason"]) for u in collected["unresolved"]]
    if intent:
        aligned = ce.align_with_intent(endpoints, intent, params["endpoints"])
        endpoints, warnings = aligned["endpoints"], warnings + aligned["warnings"]
    end_port = params["target_honours_end_port"]
    if end_port is None:
        end_port = intent.target_honours_end_port if intent else False
    live = applicable_policies(snapshot["policies"], network, end_port)
    policies = [policy for _manifest, policy in live]
    sim_endpoints = parse_endpoints(ce.simulation_endpoints(endpoints))
    results = []
    for kind in traffic:
        entry = dict(port=traffic_name(kind), matrix=matrix(policies, network, sim_endpoints, kind, ipam),
                     probes=probe_plan(endpoints, kind, params["probe_timeout"], params["probe_udp"],
                                       params["probe_tcp_listeners"]))
        if intent:
            entry["expected"] = expected_flows(intent, endpoints, kind)
        results.append(entry)
    manifests = [manifest for manifest, _policy in live]
    result = dict(
        changed=False, network=network_ref, nads=sorted(network.nads), ipam=ipam, ipam_source=ipam_source,
        endpoints=endpoints, unresolved=collected["unresolved"], warnings_list=warnings,
        policies=["{0}/{1}".format(p["metadata"]["namespace"], p["metadata"]["name"]) for p in manifests],
        results=results, revision=revision(params["intent"], manifests),
    )
    if intent:
        result.update(expected_policies=[p["metadata"]["name"] for p in compile_policies(intent)],
                      intent_traffic=[traffic_name(kind) for kind in intent_traffic(intent)])
    return result
