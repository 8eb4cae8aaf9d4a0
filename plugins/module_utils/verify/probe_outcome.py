# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What one probe's exit code and output say about the path between two endpoints.

Pure: (traffic, exit code, output line) in, an outcome out. The question a probe answers is
whether the network (the policies) let the packet through to the target, not whether the target
serves it, so who answered matters more than the exit code:

- ``open``: a reply, a completed TCP handshake, or the UDP token echoed: allowed.
- ``refused``: a TCP reset (``Connection refused``): the target's kernel answered, so the packet
  got through and nothing listens on the port: allowed, shown as "reached (refused)".
  (OVN-Kubernetes' policy ACLs drop; they never answer with a reset.)
- ``blocked``: no answer within the timeout (a TCP connect that timed out, a ping with no reply,
  a UDP token never echoed by a listener that ran): denied.
- ``rejected``: an ICMP "prohibited" or "filtered" error from an address other than the target:
  something on the way refused it: denied. From the target itself it is the target's own
  firewall answering, so the packet got through: ``refused`` (reached).
- ``unreachable``: an ICMP host or network unreachable error, or ``No route to host``: nobody
  answered ARP for the address (the target is down, or not at that address) or no route: no
  verdict on the policies.
- ``no-tool``: exit 126/127, the probe's tool is missing in the image: no verdict.

The outputs read are those of the tools the probe commands run (``probes.probe_command``):
iputils and busybox ``ping``, OpenBSD ``nc -v -z``, bash's ``/dev/tcp`` under ``timeout`` (exit 124
when it expires), and the UDP client's own lines.
"""
import re
from collections import namedtuple

from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.vocabulary import parse_traffic

Outcome = namedtuple("Outcome", "name allowed words")

OPEN = "open"
REFUSED = "refused"
BLOCKED = "blocked"
REJECTED = "rejected"
UNREACHABLE = "unreachable"
NO_TOOL = "no-tool"
# Exit codes of a shell that could not run the probe tool: the probe says nothing then.
TOOL_MISSING_CODES = (126, 127)

# iputils: "From 192.168.1.5 icmp_seq=1 Destination Host Unreachable" (a name, then the address in
# parentheses, when the address resolves).
_ICMP_ERROR = re.compile(r"^From (?:\S+ \()?([0-9A-Fa-f.:]+)\)?:? icmp_seq=\d+ (.+?)\s*(?:;|$)", re.MULTILINE)
_FILTERED = re.compile(r"prohibited|filtered", re.IGNORECASE)
_TCP_UNREACHABLE = re.compile(r"no route to host|host is unreachable|network is unreachable", re.IGNORECASE)


def read(port, rc, output, target_ip=None):
    """The Outcome of a probe of ``port`` (``icmp`` or ``<proto>/<port>``) that exited ``rc``
    having printed ``output`` (its decisive line(s)), sent to ``target_ip``."""
    text = str(output or "")
    if rc in TOOL_MISSING_CODES:
        return Outcome(NO_TOOL, None, "probe tool missing")
    if rc == 0:
        return Outcome(OPEN, True, "got through")
    traffic = parse_traffic(port)
    if traffic is None:
        return _icmp(text, target_ip)
    if traffic[0] == "TCP":
        return _tcp(text)
    return Outcome(BLOCKED, False, "blocked")


def _icmp(text, target_ip):
    match = _ICMP_ERROR.search(text)
    if not match:
        return Outcome(BLOCKED, False, "blocked")
    sender, error = match.group(1), match.group(2)
    if _FILTERED.search(error):
        if target_ip and sender == target_ip:
            return Outcome(REFUSED, True, "reached ({0} answered: {1})".format(sender, error))
        return Outcome(REJECTED, False, "rejected by {0} ({1})".format(sender, error))
    return Outcome(UNREACHABLE, None, "unreachable ({0} answered: {1}): nothing answered at that "
                                      "address, which says nothing about the policies".format(sender, error))


def _tcp(text):
    if re.search(r"refused", text, re.IGNORECASE):
        return Outcome(REFUSED, True, "reached (refused): the target answered with a reset, nothing listens there")
    if _TCP_UNREACHABLE.search(text):
        return Outcome(UNREACHABLE, None, "unreachable: no ARP answer or no route (or a firewall answered "
                                          "host-prohibited), which says nothing about the policies")
    return Outcome(BLOCKED, False, "blocked")  # timed out (bash under `timeout`: exit 124, silent)
