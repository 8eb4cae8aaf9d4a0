# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Commands that probe who reaches whom from inside pods, one per ordered pair of endpoints.

Pure: endpoints in, a plan out ({from, to, port, namespace, pod, command, server, skip}); a
playbook runs the commands with ``kubernetes.core.k8s_exec``. Nothing here runs anything.

What a probe can tell (``probe_outcome`` reads the answers):
- ICMP: an echo reply proves the pair open; no reply within the timeout is read as blocked; an
  ICMP error (host unreachable, prohibited) says who answered, and is read as such.
- TCP: a completed handshake proves the path; a reset (connection refused) proves it too (the
  packet got through and the target's kernel answered: "reached (refused)"); silence is read as
  blocked. So that an open port is proven open, not only reached, a TCP pair whose target is a
  running pod (or a guest, with a way in) gets a listener started on purpose, as UDP does (with
  ``tcp_servers``): it accepts connections on the target's address and exits once each of its
  ``clients`` connected, or after ``lifetime`` seconds; one that cannot start (the port is taken
  by a real service, no python3/nc/socat) leaves the pair to the real service or to "reached
  (refused)". The client retries a refused connect for half the listener's lifetime (the
  listener's exec may start a few seconds after the client's); a timeout ends it at once.
- UDP has no handshake: silence may be a policy drop, no listener, or a lost answer, and a
  closed port's ICMP port-unreachable is not reliably sent or reported. So a UDP pair is probed
  only against a listener started on purpose: ``server`` is an echo to start in the target pod
  first, the same for every pair probing that pod and port (start it once): it answers every
  datagram and exits once it has answered each of the ``clients`` source addresses the plan
  sends to it, or after ``lifetime`` seconds (``timeout`` exits 124: some sender never got
  through). ``command`` sends a token every half second for half the listener's lifetime (so
  a listener whose exec starts a few seconds after the client's still answers) and succeeds
  only when the same token comes back. A UDP pair whose target is an outside host or a pod that
  is not running cannot get a listener and is skipped with that reason, and so is every UDP pair
  unless the caller says it starts servers. A VM guest gets its listener (``via: guest``) only
  where the caller has a way into guests (``probe_batch.guest_probes``); the plan of
  ``probe_plan`` alone skips UDP pairs to guests.
"""
import ipaddress
import shlex

from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.vocabulary import (
    parse_traffic,
    traffic_name,
)

# A TCP connect that says what happened (nc -v, when it has -z: busybox' has not; bash's
# /dev/tcp under timeout exits 124 on silence), retried while refused until {wait} seconds have
# passed (a listener may be starting).
_TCP_CLIENT = ("tcp() {{ if command -v nc >/dev/null 2>&1 && nc -h 2>&1 | grep -q -e -z; then nc -v -z -w {t} {ip} {port}; "
               "elif command -v bash >/dev/null 2>&1; then timeout {t} bash -c '</dev/tcp/{ip}/{port}'; "
               "else echo 'neither nc nor bash found' >&2; return 127; fi; }}\n"
               "end=$(($(date +%s) + {wait}))\n"
               "while :; do out=$(tcp 2>&1); rc=$?; case $rc:$out in 0:*) break;; "
               "*efused*) [ \"$(date +%s)\" -lt \"$end\" ] || break; sleep 1;; *) break;; esac; done\n"
               "printf '%s\\n' \"$out\"; exit $rc")
# A TCP listener on the target's address for a number of senders: python3, else nc (OpenBSD's
# -k keeps accepting), else socat; `timeout` stops it after its lifetime.
_TCP_SERVER_PY = ("import socket\n"
                  "s = socket.socket(socket.{family}, socket.SOCK_STREAM)\n"
                  "s.bind((\"{ip}\", {port}))\n"
                  "s.listen(64)\n"
                  "peers = set()\n"
                  "while len(peers) < {clients}:\n"
                  "    c, a = s.accept()\n"
                  "    c.close()\n"
                  "    peers.add(a[0])\n")
_TCP_SERVER = ("if command -v python3 >/dev/null 2>&1; then timeout {life} python3 -c {py}; "
               "elif command -v nc >/dev/null 2>&1; then timeout {life} nc -l -k {ip} {port}; "
               "elif command -v socat >/dev/null 2>&1; then timeout {life} socat {socat_tcp}-LISTEN:{port},bind={host},fork EXEC:true; "
               "else echo 'neither python3, nc nor socat found' >&2; exit 127; fi")
# A UDP echo (server) for a number of senders and a client that wants its token back: python3
# first, socat second (its server answers every datagram until `timeout` stops it).
_UDP_SERVER_PY = ("import socket\n"
                  "s = socket.socket(socket.{family}, socket.SOCK_DGRAM)\n"
                  "s.bind((\"{ip}\", {port}))\n"
                  "peers = set()\n"
                  "while len(peers) < {clients}:\n"
                  "    d, a = s.recvfrom(512)\n"
                  "    s.sendto(d, a)\n"
                  "    peers.add(a[0])\n")
_UDP_CLIENT_PY = ("import socket, sys, time\n"
                  "s = socket.socket(socket.{family}, socket.SOCK_DGRAM)\n"
                  "s.settimeout(0.5)\n"
                  "end = time.monotonic() + {wait}\n"
                  "while time.monotonic() < end:\n"
                  "    s.sendto(b\"{token}\", (\"{ip}\", {port}))\n"
                  "    try:\n"
                  "        if s.recv(512) == b\"{token}\":\n"
                  "            print(\"echo from {host}:{port}\")\n"
                  "            sys.exit(0)\n"
                  "    except OSError:\n"
                  "        pass\n"
                  "sys.exit(\"no echo from {host}:{port} within {wait}s\")\n")
_UDP_NO_TOOL = "else echo 'neither python3 nor socat found' >&2; exit 127; fi"
_UDP_SERVER = ("if command -v python3 >/dev/null 2>&1; then timeout {life} python3 -c {py}; "
               "elif command -v socat >/dev/null 2>&1; then timeout {life} socat -T {t} {socat}-RECVFROM:{port},bind={host},fork EXEC:cat; "
               + _UDP_NO_TOOL)
_UDP_CLIENT = ("if command -v python3 >/dev/null 2>&1; then python3 -c {py}; "
               "elif command -v socat >/dev/null 2>&1; then echo {token} | timeout {wait} socat -T {wait} - {socat}:{host}:{port} "
               "| grep -q {token}; " + _UDP_NO_TOOL)
UDP_TOKEN = "ocpvirt-multinet-probe"
# Endpoint kinds whose commands run in a guest (verify_guest_command), not through pods/exec.
GUEST_KINDS = ("vm", "vmi")


def probe_plan(endpoints, traffic=None, timeout=2, udp_servers=False, tcp_servers=False):
    """What to run, from which pod, to probe each ordered pair for one kind of ``traffic`` (a
    Traffic, or None for ICMP).

    Returns [{from, to, target_ip, port, namespace, pod, command, server, skip}] where ``skip`` says why a
    pair cannot be probed (then ``command`` is None): only pods can be exec'ed into (a VM's
    launcher pod is not the guest), a target outside the source's subnet would leave through
    the pod's primary network, not this one, and UDP needs a listener (see the module
    docstring): with ``udp_servers`` (the caller starts ``server`` before ``command``) a UDP
    pair whose target is a running pod gets ``server`` = {via, protocol, namespace, pod,
    command, clients, lifetime} (see ``with_servers``); other UDP pairs are skipped
    (``probe_batch.guest_probes`` plans the ones to and from VM guests where there is a way
    in). With ``tcp_servers`` a TCP pair whose target is a running pod gets a listener the same
    way (a TCP pair is probed with or without one). SCTP is never probed (no common client in
    pod images).
    """
    port = traffic_name(traffic)
    plan = []
    for source in endpoints:
        if source.get("kind") == "outside":
            continue
        for target in endpoints:
            if target is not source:
                skip = pair_skip(source, target, traffic, udp_servers)
                plan.append({"from": source["name"], "to": target["name"], "target_ip": target.get("ip"),
                             "port": port,
                             "namespace": source.get("namespace"), "pod": source.get("pod"), "skip": skip,
                             "command": None if skip else probe_command(source, target, traffic, timeout,
                                                                        tcp_servers)})
    return with_servers(plan, endpoints, timeout, tcp_servers, kinds={port: traffic})


def step_traffic(plan):
    """{port text: Traffic or None} of a plan's steps, each text parsed once."""
    kinds = {}
    for step in plan:
        port = step.get("port")
        if not (isinstance(port, str) and port in kinds):
            kinds[port if isinstance(port, str) else None] = parse_traffic(port)
    return kinds


def with_servers(plan, endpoints, timeout=2, tcp=False, guests=False, kinds=None):
    """The plan with ``server`` set on every runnable UDP step (else None), and with ``tcp`` on
    every runnable TCP step whose target can listen (a running pod; a running VM guest with
    ``guests``, a way in): one listener per target and port, the same mapping for every step to
    it, counting as ``clients`` the source addresses of those steps. A pod's listener runs
    through pods/exec (``via: pod``); a VM's in its guest (``via: guest``, with ``vm`` and
    ``ip`` for the way in). ``kinds``: the plan's ``step_traffic``, when the caller has it."""
    by_name = {e["name"]: e for e in endpoints}
    kinds = kinds if kinds is not None else step_traffic(plan)

    def listens(step):
        return _needs_listener(step, kinds[step.get("port")], by_name[step["to"]], tcp, guests)

    senders = {}
    for step in plan:
        if listens(step):
            source = by_name[step["from"]]
            senders.setdefault((step["to"], step["port"]), set()).add(source.get("ip") or source["name"])
    return [dict(step, server=_server(by_name[step["to"]], kinds[step.get("port")], timeout,
                                      len(senders[(step["to"], step["port"])]))
                 if listens(step) else None) for step in plan]


def _needs_listener(step, traffic, target, tcp, guests):
    if not step.get("command") or step.get("skip"):
        return False
    if _is_udp(traffic):
        return True
    if not (tcp and traffic and traffic[0] == "TCP" and target.get("pod") and target.get("running")):
        return False
    return target.get("kind") == "pod" or (guests and target.get("kind") in GUEST_KINDS)


def _is_udp(traffic):
    return bool(traffic) and traffic[0] == "UDP"


def pair_skip(source, target, traffic, udp_servers, guests=False):
    """Why the pair cannot be probed from ``source`` (a pod), else None (see ``probe_plan``);
    ``guests``: there is a way into guests to start a UDP listener in a VM target."""
    if source.get("kind") != "pod":
        return "cannot exec into the guest of {0} {1}".format(source.get("kind"), source["name"])
    if source.get("present") is False or not source.get("pod"):
        return "{0} is not in the cluster".format(source["name"])
    if not source.get("running"):
        return "pod {0} is not running".format(source["pod"])
    if target.get("present") is False:
        return "{0} is not in the cluster".format(target["name"])
    skip = traffic_skip(target, traffic, udp_servers, guests)
    if skip:
        return skip
    if source.get("cidr") and not _in_subnet(source["cidr"], target["ip"]):
        return "{0} is outside {1}'s subnet {2}: the pod would route it through its primary " \
               "network".format(target["ip"], source["name"], source["cidr"])
    return None


def traffic_skip(target, traffic, udp_servers, guests=False):
    """Why this kind of traffic to ``target`` cannot be probed from a source that can, else None:
    SCTP never; UDP only with ``udp_servers`` and a listener in the target, a running pod, or a
    running VM guest when there is a way into guests (``guests``)."""
    if traffic and traffic[0] == "SCTP":
        return "SCTP is not probed: pod images have no common SCTP client"
    if not _is_udp(traffic):
        return None
    silence = "UDP has no handshake: without a listener started on {0}, no answer would not mean blocked".format(
        target["name"])
    kind = target.get("kind")
    if not udp_servers:
        return silence + " (UDP probes are off)"
    if kind in GUEST_KINDS and not guests:
        return silence + " (no way into the guest of {0} {1} to start one: set verify_guest_command)".format(
            kind, target["name"])
    if kind not in GUEST_KINDS + ("pod",):
        return silence + " (no listener can be started in {0} {1})".format(kind, target["name"])
    if not (target.get("pod") and target.get("running")):
        return silence + " ({0} {1} is not running)".format(
            kind, target["name"] if kind in GUEST_KINDS else target.get("pod") or target["name"])
    return None


def _in_subnet(cidr, ip):
    try:
        return ipaddress.ip_address(ip) in ipaddress.ip_interface(cidr).network
    except ValueError:
        return False


def _words(ip, port, timeout):
    v6 = ipaddress.ip_address(ip).version == 6
    return dict(ip=ip, port=port, t=timeout, token=UDP_TOKEN, family="AF_INET6" if v6 else "AF_INET",
                socat="UDP6" if v6 else "UDP4", socat_tcp="TCP6" if v6 else "TCP4",
                host="[{0}]".format(ip) if v6 else ip,
                life=server_lifetime(timeout), wait=server_lifetime(timeout) // 2)


def server_lifetime(timeout):
    """Seconds a UDP echo server waits for its senders: room for the runner to start the clients."""
    return max(20, 10 * timeout)


def _server(target, traffic, timeout, clients):
    words = _words(target["ip"], traffic[1], timeout)
    udp = _is_udp(traffic)
    words["py"] = shlex.quote((_UDP_SERVER_PY if udp else _TCP_SERVER_PY).format(clients=clients, **words))
    server = {"via": "pod", "protocol": traffic[0].lower(), "namespace": target.get("namespace"),
              "pod": target["pod"], "clients": clients, "lifetime": words["life"],
              "command": "sh -c " + shlex.quote((_UDP_SERVER if udp else _TCP_SERVER).format(**words))}
    if target.get("kind") in GUEST_KINDS:
        server.update(via="guest", vm=target.get("object") or target["name"], ip=target["ip"])
    return server


def probe_command(source, target, traffic, timeout, retry_refused=False):
    """The command probing ``target`` from ``source``; with ``retry_refused`` a refused TCP
    connect is retried for half a listener's lifetime (a listener is being started)."""
    if traffic is None:
        interface = " -I {0}".format(source["interface"]) if source.get("interface") else ""
        return "ping -c 1 -W {0}{1} {2}".format(timeout, interface, target["ip"])
    words = _words(target["ip"], traffic[1], timeout)
    if _is_udp(traffic):
        words["py"] = shlex.quote(_UDP_CLIENT_PY.format(**words))
        return "sh -c " + shlex.quote(_UDP_CLIENT.format(**words))
    if not retry_refused:
        words["wait"] = 0
    return "sh -c " + shlex.quote(_TCP_CLIENT.format(**words))
