# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One ovn_converged run against the cluster, after the module's name checks: read the network's
live policies, wait until every zone's Northbound database holds them (``ovn/convergence.py``
judges each zone), then until each zone's chassis have installed them (``ovn-nbctl --wait=hv``)."""
import time

from ansible_collections.ocpvirt.multinet.plugins.module_utils.k8s.snapshot import NAD, POD, POLICY
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.errors import MultinetError
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.vocabulary import nad_ref, parse_nad_ref
from ansible_collections.ocpvirt.multinet.plugins.module_utils.ovn import convergence, ovsdb, policy_map
from ansible_collections.ocpvirt.multinet.plugins.module_utils.ovn.access import none_readable

NETWORK_CONFIG = ("Network", "operator.openshift.io/v1")
CFG_COMMAND = ["ovn-nbctl", "get", "NB_Global", ".", "nb_cfg", "sb_cfg", "hv_cfg"]


def wait_converged(reader, params):
    """The module's result but ``changed``, once OVN enforces the live policies of
    ``params["network"]`` in every zone that can be read; ``reader`` is a ``k8s.ovn_reader.Reader``.
    Fails, naming what is pending, after ``params["timeout"]`` seconds."""
    started = time.monotonic()
    deadline = started + params["timeout"]
    network = policy_map.network_of(nad_ref(*parse_nad_ref(params["network"])), reader.list(NAD))
    policies = [p for p in reader.list(POLICY) if policy_map.applies(p, network)]
    cluster = reader.get(NETWORK_CONFIG, "cluster")
    skipped = "" if cluster is None or (cluster.get("spec") or {}).get("useMultiNetworkPolicy") else \
        "useMultiNetworkPolicy is off (Network.operator.openshift.io cluster): OVN-Kubernetes applies no policy"
    if skipped:
        zones, ovnkube_pods, errors = reader.read_nodes(params, lambda run: run(CFG_COMMAND), none_readable)
        nodes = {node: {} for node in zones}
    else:
        namespaces = sorted({parse_nad_ref(key)[0] for key in network["nads"]} |
                            {p["metadata"]["namespace"] for p in policies})
        pods = [pod for namespace in namespaces for pod in reader.list(POD, namespace)]
        nodes, ovnkube_pods, errors = wait_for_nb(reader, params, network, policies, pods, deadline, started)
    wait_for_chassis(reader, params, nodes, ovnkube_pods, deadline, started)
    keys = sorted("{0}/{1}".format(p["metadata"]["namespace"], p["metadata"]["name"]) for p in policies)
    return dict(nodes=nodes, seconds=round(time.monotonic() - started, 2), unreadable=errors,
                skipped_policies=skipped, policies=keys)


def nb_zone(run):
    """One node's NB tables (``run`` runs an argv in its ovnkube-node pod)."""
    return ovsdb.parse_nb_output(run(ovsdb.NB_COMMAND))


def wait_for_nb(reader, params, network, policies, pods, deadline, started):
    """({node: {"nb": seconds until its NB held the policies}}, {node: pod}, {node: why unreadable})."""
    done = {}
    while True:
        zones, ovnkube_pods, errors = reader.read_nodes(params, nb_zone, none_readable)
        pending = []
        for node, nb in sorted(zones.items()):
            found = convergence.zone_pending(network, node, nb, policies, pods)
            pending += found
            if not found:
                done.setdefault(node, {"nb": round(time.monotonic() - started, 2)})
        if not pending:
            return done, ovnkube_pods, errors
        if time.monotonic() > deadline:
            raise MultinetError("OVN-Kubernetes has not written every policy into the zones within the timeout "
                                "of {0} s; still pending: {1}".format(params["timeout"], "; ".join(pending)))
        time.sleep(params["interval"])


def wait_for_chassis(reader, params, nodes, ovnkube_pods, deadline, started):
    """`ovn-nbctl --wait=hv sync` in each node's pod within the time left; nodes[node]["hv"] is
    the second it returned."""
    namespace, container = params["ovn_namespace"], params["container"]
    pending = []
    for node in sorted(nodes):
        left = max(1, int(deadline - time.monotonic()))
        try:
            reader.exec(namespace, ovnkube_pods[node], container,
                        ["ovn-nbctl", "--timeout={0}".format(left), "--wait=hv", "sync"])
            nodes[node]["hv"] = round(time.monotonic() - started, 2)
        except MultinetError as error:
            try:
                stage = convergence.sync_stage(*(int(value) for value in reader.exec(
                    namespace, ovnkube_pods[node], container, CFG_COMMAND).split()))
            except (MultinetError, ValueError) as why:
                stage = "NB_Global could not be read ({0})".format(why)
            pending.append("zone {0}: {1}".format(node, stage or "ovn-nbctl --wait=hv sync failed: {0}".format(error)))
    if pending:
        raise MultinetError("OVN has not caught up with the policies within the timeout of {0} s; still pending: "
                            "{1}".format(params["timeout"], "; ".join(pending)))
