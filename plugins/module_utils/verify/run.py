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
    ICMP,
    format_port,
    nad_ref,
    parse_nad_ref,
    parse_traffic,
)
from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.compiler import compile_policies
from ansible_collections.ocpvirt.multinet.plugins.module_utils.simulate import cluster_endpoints as ce
from ansible_collections.ocpvirt.multinet.plugins.module_utils.simulate.attachments import nad_has_ipam, nad_network_name
from ansible_collections.ocpvirt.multinet.plugins.module_utils.simulate.connectivity import simulate
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


def applicable_policies(manifests, network):
    """Live policies reduced to what the simulator reads; a malformed one is named in the error."""
    result = []
    for manifest in manifests:
        meta = manifest["metadata"]
        slim = {"apiVersion": manifest.get("apiVersion"), "kind": manifest.get("kind"),
                "metadata": {k: meta.get(k) for k in ("name", "namespace", "labels", "annotations")},
                "spec": manifest.get("spec") or {}}
        where = "MultiNetworkPolicy {0}/{1}".format(meta["namespace"], meta["name"])
        if parse_policy(slim, where).applies_to(network):
            result.append(slim)
    return result


def intent_traffic(intent):
    """ICMP, then each port the intent names: both ends of a range, so a dropped endPort shows."""
    ports = sorted({(p.protocol, number) for a in intent.allow for p in a.ports or () for number in (p.start, p.end)})
    return [ICMP] + [format_port(protocol, number) for protocol, number in ports]


def traffic_list(ports, intent):
    """The kinds of traffic to simulate, each once and normalised ('icmp' or 'tcp/22'): the ones
    given, else the intent's (RV(intent_traffic)), else ICMP alone. A bad one names the field."""
    chosen, seen = [], set()
    for text in ports or (intent_traffic(intent) if intent else [ICMP]):
        traffic = parse_traffic(str(text).strip(), field="ports")
        name = format_port(*traffic) if traffic else ICMP
        if name not in seen:
            seen.add(name)
            chosen.append(name)
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


def connectivity(snapshot, params, intent, network_ref, ipam, ipam_source):
    """The module's result from one snapshot of the cluster: pure, one entry of ``results`` per port."""
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
    live = applicable_policies(snapshot["policies"], network)
    sim_endpoints = ce.simulation_endpoints(endpoints)
    end_port = params["target_honours_end_port"]
    if end_port is None:
        end_port = intent.target_honours_end_port if intent else False
    results = []
    for port in traffic_list(params["ports"], intent):
        traffic = None if port == ICMP else port
        entry = dict(port=port, matrix=simulate(live, network, sim_endpoints, traffic, ipam, end_port),
                     probes=probe_plan(endpoints, traffic, params["probe_timeout"], params["probe_udp"],
                                       params["probe_tcp_listeners"]))
        if intent:
            entry["expected"] = expected_flows(intent, endpoints, traffic)
        results.append(entry)
    result = dict(
        changed=False, network=network_ref, nads=sorted(network.nads), ipam=ipam, ipam_source=ipam_source,
        endpoints=endpoints, unresolved=collected["unresolved"], warnings_list=warnings,
        policies=["{0}/{1}".format(p["metadata"]["namespace"], p["metadata"]["name"]) for p in live],
        results=results, revision=revision(params["intent"], live),
    )
    if intent:
        result.update(expected_policies=[p["metadata"]["name"] for p in compile_policies(intent)],
                      intent_traffic=intent_traffic(intent))
    return result
