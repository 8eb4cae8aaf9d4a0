# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The flows an intent names, over concrete endpoints: the "expected" side of a verify report.

Pure: no Ansible import, no I/O. Simulating the compiled policies would only repeat the
intent's mistakes: a wrong workload address in the intent compiles into a wrong ipBlock, the
live policies (compiled from the same intent) deny the same pairs, and both sides "agree".
Here the intent is read by name instead: an entry from workload A to workload B expects every
endpoint that *is* A (as ``cluster_endpoints.align_with_intent`` matched it, by address or by
labels) to reach every endpoint that *is* B, whatever address it has. Endpoint and CIDR peers
are matched by address, as their ipBlocks are.

Isolation follows what the compiler builds: the deny-all policy isolates every pod and VM of
the intent's namespace in the ``default_deny`` directions, and a workload is isolated in a
direction once an entry names it on that side. Outside hosts and endpoints of other namespaces
are not governed by the intent.
"""
import ipaddress

from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.intent import WorkloadRef
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.vocabulary import (
    EGRESS,
    INGRESS,
    traffic_name,
)

_OWN_SIDE = {EGRESS: "sources", INGRESS: "destinations"}
_OTHER_SIDE = {EGRESS: "destinations", INGRESS: "sources"}
_TOWARDS = {EGRESS: "to", INGRESS: "from"}


def expected_flows(intent, endpoints, traffic=None):
    """One row {from, to, allowed, reason} per ordered pair with a pod or VM on one side.

    ``intent`` is the parsed ``intent.Intent``; ``endpoints`` are aligned endpoints ({name, ip,
    kind, namespace, workload}); ``traffic`` is a Traffic, or None for ICMP. Rows come in the
    order ``connectivity.simulate`` gives them for the same endpoints.
    """
    flows = _Flows(intent, traffic)
    return [flows.row(src, dst) for src in endpoints for dst in endpoints
            if src is not dst and (_governed_kind(src) or _governed_kind(dst))]


def _governed_kind(endpoint):
    return endpoint.get("kind") != "outside"


class _Flows:
    def __init__(self, intent, traffic):
        self.intent = intent
        self.traffic = traffic
        self.suffix = " on {0}".format(traffic_name(traffic)) if traffic else ""
        self.named = {direction: {peer.name for entry in intent.allow for peer in getattr(entry, _OWN_SIDE[direction])
                                  if isinstance(peer, WorkloadRef)}
                      for direction in (EGRESS, INGRESS)}

    def row(self, src, dst):
        egress_ok, egress = self.side(EGRESS, src, dst)
        ingress_ok, ingress = self.side(INGRESS, dst, src)
        if egress_ok and ingress_ok:
            reason = "intended{0}: {1}; {2}".format(self.suffix, egress, ingress)
        else:
            reason = "; ".join(text for ok, text in ((egress_ok, egress), (ingress_ok, ingress)) if not ok)
        return {"from": src["name"], "to": dst["name"], "allowed": egress_ok and ingress_ok, "reason": reason}

    def side(self, direction, here, there):
        """(allowed, explanation) for ``here`` talking with ``there`` in ``direction``."""
        if not _governed_kind(here) or here.get("namespace") != self.intent.namespace:
            return True, "{0}: {1} is not governed by the intent".format(direction, here["name"])
        workload = here.get("workload")
        if direction not in self.intent.default_deny and workload not in self.named[direction]:
            return True, "{0}: {1} not isolated by the intent".format(direction, here["name"])
        entries = ["allow[{0}]".format(entry.index) for entry in self.intent.allow
                   if workload is not None and self._names(entry, direction, workload, there)]
        if entries:
            return True, "{0} {1}".format(direction, ", ".join(entries))
        return False, "{0} denied: the intent allows {1} no {0} {2} {3}{4}".format(
            direction, here["name"], _TOWARDS[direction], there["name"], self.suffix)

    def _names(self, entry, direction, workload, there):
        own = getattr(entry, _OWN_SIDE[direction])
        if not any(isinstance(peer, WorkloadRef) and peer.name == workload for peer in own):
            return False
        admitted = entry.ports is None or any(port.covers(self.traffic) for port in entry.ports)
        return admitted and any(_covers(peer, there) for peer in getattr(entry, _OTHER_SIDE[direction]))


def _covers(peer, endpoint):
    """A workload peer covers the endpoints that are that workload; an ipBlock covers addresses."""
    if isinstance(peer, WorkloadRef):
        return endpoint.get("workload") == peer.name
    address = ipaddress.ip_address(endpoint["ip"])
    network = ipaddress.ip_network(peer.cidr)
    return (address.version == network.version and address in network
            and not any(address in ipaddress.ip_network(cidr) for cidr in peer.excepts))
