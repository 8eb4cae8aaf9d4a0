# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Commands that probe who reaches whom from inside pods, one per ordered pair of endpoints.

Pure: endpoints in, a plan out ({from, to, port, namespace, pod, command, skip}); a playbook runs
the commands with ``kubernetes.core.k8s_exec``. Nothing here runs anything.
"""
import ipaddress

from ansible_collections.ocpvirt.multinet.plugins.module_utils.vocabulary import (
    ICMP,
    format_port,
    parse_traffic,
)

_TCP_PROBE = ("if command -v nc >/dev/null 2>&1; then nc -z -w {t} {ip} {port}; "
              "elif command -v bash >/dev/null 2>&1; then timeout {t} bash -c '</dev/tcp/{ip}/{port}'; "
              "else exit 127; fi")


def probe_plan(endpoints, port=None, timeout=2):
    """What to run, from which pod, to probe each ordered pair for one kind of traffic.

    Returns [{from, to, port, namespace, pod, command, skip}] where ``skip`` says why a pair
    cannot be probed (then ``command`` is None): only pods can be exec'ed into (a VM's launcher
    pod is not the guest), only TCP and ICMP have an answer to observe, and a target outside
    the source's subnet would leave through the pod's primary network, not this one.
    """
    traffic = parse_traffic(port)
    plan = []
    for source in endpoints:
        if source.get("kind") == "outside":
            continue
        for target in endpoints:
            if target is not source:
                skip = _probe_skip(source, target, traffic)
                plan.append({"from": source["name"], "to": target["name"],
                             "port": format_port(*traffic) if traffic else ICMP,
                             "namespace": source.get("namespace"), "pod": source.get("pod"),
                             "skip": skip,
                             "command": None if skip else probe_command(source, target, traffic, timeout)})
    return plan


def _probe_skip(source, target, traffic):
    if source.get("kind") != "pod":
        return "cannot exec into the guest of {0} {1}".format(source.get("kind"), source["name"])
    if source.get("present") is False or not source.get("pod"):
        return "{0} is not in the cluster".format(source["name"])
    if not source.get("running"):
        return "pod {0} is not running".format(source["pod"])
    if target.get("present") is False:
        return "{0} is not in the cluster".format(target["name"])
    if traffic and traffic[0] != "TCP":
        return "{0} has no handshake a probe can observe".format(traffic[0])
    if source.get("cidr") and not _in_subnet(source["cidr"], target["ip"]):
        return "{0} is outside {1}'s subnet {2}: the pod would route it through its primary " \
               "network".format(target["ip"], source["name"], source["cidr"])
    return None


def _in_subnet(cidr, ip):
    try:
        return ipaddress.ip_address(ip) in ipaddress.ip_interface(cidr).network
    except ValueError:
        return False


def probe_command(source, target, traffic, timeout):
    if traffic is None:
        interface = " -I {0}".format(source["interface"]) if source.get("interface") else ""
        return "ping -c 1 -W {0}{1} {2}".format(timeout, interface, target["ip"])
    script = _TCP_PROBE.format(t=timeout, ip=target["ip"], port=traffic[1])
    return "sh -c \"{0}\"".format(script.replace('"', '\\"'))
