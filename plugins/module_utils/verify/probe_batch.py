# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a probe plan with one exec per source pod, every probe of that pod at once.

``kubernetes.core.k8s_exec`` cannot run asynchronously (its action plugin does not support
``async``), so instead of one exec per pair the plan is grouped by source pod: one ``sh``
script per pod starts each probe command in the background, waits for all of them, and prints
one line per probe (``ocpvirt-probe <index> <exit code> <last output line>``). A pod's probes
then take as long as the slowest one (the probe timeout), not their sum.

``batches`` builds the scripts; ``runs`` turns the registered exec results back into one
k8s_exec-shaped result per plan step (``item``, ``rc``, ``stdout``, ``msg``), the shape
``report.probe_rows`` reads.

A VM's launcher pod is not its guest, so the plan skips VM sources. ``guest_probes`` gives
those steps back a command when the user names a way into guests, ``guest_command``: a command
line template run on the controller with ``{namespace}``, ``{vm}``, ``{ip}`` and ``{command}``
(the batch script, one shell-quoted word), e.g. ``ssh -i key cloud-user@{ip} {command}`` or, on
the lab, ``python lab/labctl.py exec {namespace}/{vm} -- sh -c {command}``. The same way in
starts UDP listeners in guests that UDP steps target (``servers`` with ``via: guest``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import shlex
import string

from ansible_collections.ocpvirt.multinet.plugins.module_utils.verify.probes import (
    GUEST_KINDS,
    pair_skip,
    probe_command,
    step_traffic,
    traffic_skip,
    with_servers,
)
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.errors import MultinetError

MARKER = "ocpvirt-probe"
_LINE = re.compile(r"^" + MARKER + r" (\d+) (\d+) ?(.*)$")
# Runs one probe in the background and reports its exit code and one line of its output: ping's
# summary ("1 packets transmitted, 1 received, ..."), which unlike its rtt line is the same on
# every run (so a re-run writes the same report), after the ICMP error ping printed if any
# ("From 192.0.2.9 icmp_seq=1 Destination Host Unreachable; 1 packets transmitted, ..."), else
# the last non-empty line. $1 is the step's index, $2 its command (a shell command line, as
# connectivity_info writes it).
_PROBE_FUNCTION = (
    "probe() {\n"
    "  out=$(eval \"$2\" 2>&1)\n"
    "  rc=$?\n"
    "  printf '%s\\n' \"$out\" | {\n"
    "    last=; summary=; error=\n"
    "    while IFS= read -r line; do\n"
    "      [ -n \"$line\" ] && last=$line\n"
    "      case $line in *' received'*) summary=$line;; 'From '*' icmp_seq='*) error=$line;; esac\n"
    "    done\n"
    "    printf '" + MARKER + " %s %s %s%s\\n' \"$1\" \"$rc\" \"${error:+$error; }\" \"${summary:-$last}\"\n"
    "  }\n"
    "}\n"
)


GUEST_FIELDS = ("namespace", "vm", "ip", "command")


def guest_probes(plan, endpoints, guest_command="", timeout=2, udp=False, tcp=False):
    """The plan with its VM-sourced steps probed from the guest (``via: guest``) when
    ``guest_command`` is set, else skipped with the reason; every other step gets ``via: pod``.

    A guest routes with its own routes (cloud-init), so a target outside the network's subnet
    is probed too, without ``-I``. With ``udp`` (UDP listeners are started, as the plan's
    ``probe_udp``), UDP steps to and from running guests are probed as well; with ``tcp`` (TCP
    listeners are started, as the plan's ``probe_tcp_listeners``) TCP steps to running guests
    get one too. The listeners are planned again over the whole plan (``probes.with_servers``),
    a guest's with its ``command`` filled into ``guest_command`` (run it on the controller).
    """
    check_guest_command(guest_command)
    by_name = {e.get("name"): e for e in endpoints or []}
    found, kinds = [], step_traffic(plan or [])
    for step in plan or []:
        source, target = by_name.get(step.get("from")), by_name.get(step.get("to"))
        traffic = kinds[step.get("port")]
        if source and source.get("kind") in GUEST_KINDS:
            skip = _guest_skip(source, target, traffic, guest_command, udp)
            step = dict(step, via="guest", vm=source.get("object"), ip=source.get("ip"), skip=skip,
                        command=None if skip else probe_command(dict(source, interface=None), target, traffic,
                                                                timeout, tcp))
        elif source and target and target.get("kind") in GUEST_KINDS and traffic and traffic[0] == "UDP":
            skip = pair_skip(source, target, traffic, udp, guests=bool(guest_command))
            step = dict(step, via="pod", skip=skip,
                        command=None if skip else probe_command(source, target, traffic, timeout))
        else:
            step = dict(step, via="pod")
        found.append(step)
    if not (udp or tcp):
        return found
    return [dict(step, server=_in_guest(step["server"], guest_command)) if step.get("server") else step
            for step in with_servers(found, endpoints or [], timeout, tcp, guests=bool(guest_command), kinds=kinds)]


def _in_guest(server, guest_command):
    if server.get("via") != "guest":
        return server
    return dict(server, command=_guest_command(guest_command, server, server["command"]))


def _guest_skip(source, target, traffic, guest_command, udp):
    kind = source.get("kind")
    if not guest_command:
        return "no way into the guest of {0} {1}: set verify_guest_command".format(kind, source["name"])
    if source.get("present") is False or not source.get("running"):
        return "{0} {1} is not running".format(kind, source["name"])
    if not source.get("ip"):
        return "{0} {1} has no address on the network".format(kind, source["name"])
    if not target or target.get("present") is False or not target.get("ip"):
        return "{0} is not in the cluster".format(target.get("name") if target else "the target")
    return traffic_skip(target, traffic, udp, guests=True)


def batches(plan, guest_command=""):
    """Group the plan's runnable steps by source pod (or VM guest, for ``via: guest`` steps).

    Returns [{namespace, pod, via, steps, command}] in the order the sources first appear;
    ``command`` is ``sh -c '<script>'`` for k8s_exec, or for a guest ``guest_command`` filled in
    (run it on the controller). Steps with ``skip`` or without a command are left out (the
    report gives their reason).
    """
    if not isinstance(plan, list):
        raise MultinetError("must be a list of probe steps", "probes", plan)
    check_guest_command(guest_command)
    grouped = {}
    for index, step in enumerate(plan):
        if not isinstance(step, dict):
            raise MultinetError("must be a mapping", "probes[{0}]".format(index), step)
        if step.get("skip") or not step.get("command"):
            continue
        if not step.get("namespace") or not step.get("pod"):
            raise MultinetError("needs namespace and pod to exec into", "probes[{0}]".format(index), step)
        grouped.setdefault((step["namespace"], step["pod"]), []).append(step)
    found = []
    for (namespace, pod), steps in grouped.items():
        command, via = _command(steps), steps[0].get("via") or "pod"
        if via == "guest":
            command = _guest_command(guest_command, steps[0], command)
        found.append({"namespace": namespace, "pod": pod, "via": via, "steps": steps, "command": command})
    return found


def check_guest_command(template):
    """A guest command template ("" is none) uses each of its fields bare (no attribute, index,
    conversion or format: ``{ip.__class__}`` would reach Python objects) and runs ``{command}``
    (without it the probes would never run)."""
    if not template:
        return
    try:
        fields = [(name, conversion, spec) for _text, name, spec, conversion
                  in string.Formatter().parse(str(template)) if name is not None]
    except ValueError as error:
        raise MultinetError("is not a valid template ({0})".format(error), "verify_guest_command", template) from None
    for name, conversion, spec in fields:
        if name not in GUEST_FIELDS or conversion or spec:
            raise MultinetError("must be a command line using only {{{0}}}, each written bare; {{{1}}} is not one".format(
                "}, {".join(GUEST_FIELDS), name + ("!" + conversion if conversion else "") + (":" + spec if spec else "")),
                "verify_guest_command", template)
    if "command" not in [name for name, _conversion, _spec in fields]:
        # The braces name the template's field, not a format.
        raise MultinetError(  # pylint: disable=raising-format-tuple
            "must run {command}, the probe script", "verify_guest_command", template)


def _guest_command(template, step, script):
    values = {"namespace": shlex.quote(step["namespace"]), "vm": shlex.quote(step.get("vm") or ""),
              "ip": shlex.quote(step.get("ip") or ""), "command": shlex.quote(script)}
    return str(template).format(**values)  # checked by check_guest_command


def _command(steps):
    lines = ["probe {0} {1} &".format(index, shlex.quote(step["command"])) for index, step in enumerate(steps)]
    return "sh -c " + shlex.quote(_PROBE_FUNCTION + "\n".join(lines) + "\nwait\n")


def servers(plan):
    """The UDP listeners the plan's runnable steps need, each once, in plan order.

    connectivity_info (and ``guest_probes``) give every step to one target and port the same
    ``server`` ({via, namespace, pod, command, clients, lifetime}, a guest's also ``vm`` and
    ``ip``); start them all before the steps' commands, all at once (each waits for its
    senders): ``via: pod`` ones e.g. with ``pod_exec`` and ``parallel`` at least their number,
    ``via: guest`` ones by running their ``command`` on the controller.
    """
    if not isinstance(plan, list):
        raise MultinetError("must be a list of probe steps", "probes", plan)
    found = []
    for step in plan:
        server = step.get("server") if isinstance(step, dict) else None
        if server and not step.get("skip") and step.get("command") and server not in found:
            found.append(server)
    return found


# Exit codes of a listener that ran: 0 (every sender answered), 124 (`timeout` stopped it: some
# sender never got through, which is the probe's own verdict).
_LISTENER_RAN = (0, 124)


def runs(results, server_results=None):
    """One k8s_exec-shaped result per step from the registered loop results over ``batches``.

    Each result has ``item`` (the batch) and k8s_exec's ``rc``, ``stdout``, ``stderr``,
    ``msg``. A step whose line is missing (the exec failed, or the pod has no shell) gets
    ``rc`` None and a ``msg`` saying why. ``server_results`` are ``pod_exec``'s results for
    ``servers``: a UDP step that got no echo while its listener did not run (no python3 or
    socat, the port taken, exec refused) gets ``rc`` None and ``no_verdict`` with the reason,
    since its silence says nothing about the path; a TCP step that failed while its listener
    did not run keeps its answer (a reset still proves the path) and gets ``note``, the reason.
    """
    listeners = {_server_key(r.get("item") or {}): r for r in server_results or []}
    return [_with_listener(run, listeners) for run in _step_runs(results)]


def _server_key(server):
    return (server.get("namespace"), server.get("pod"), server.get("command"))


def _with_listener(run, listeners):
    server = run["item"].get("server")
    listener = listeners.get(_server_key(server)) if server else None
    if listener is None or run["rc"] in (None, 0) or listener.get("rc") in _LISTENER_RAN:
        return run
    # stderr first: a guest's listener runs as a controller command, whose msg is only "non-zero return code"
    why = _last_line(listener.get("stderr")) or _last_line(listener.get("stdout")) or listener.get("msg")
    where = "{0} {1}/{2}".format(*(("the guest of", server["namespace"], server["vm"]) if server.get("via") == "guest"
                                   else ("pod", server["namespace"], server["pod"])))
    reason = "the {0} listener in {1} {2}{3}".format(
        (server.get("protocol") or "udp").upper(), where,
        "could not be started" if listener.get("rc") is None else "exited {0}".format(listener["rc"]),
        ": " + why if why else "")
    if server.get("protocol") == "tcp":  # a TCP probe's answer (reset or silence) stands without it
        return dict(run, note=reason)
    return dict(run, rc=None, msg=reason, no_verdict=reason)


def _step_runs(results):
    found = []
    for result in results or []:
        batch = result.get("item") or {}
        lines = {}
        for line in str(result.get("stdout") or "").splitlines():
            match = _LINE.match(line.strip())
            if match:
                lines[int(match.group(1))] = (int(match.group(2)), match.group(3).strip())
        for index, step in enumerate(batch.get("steps") or []):
            if index in lines:
                rc, output = lines[index]
                found.append({"item": step, "rc": rc, "stdout": output, "stderr": "", "msg": ""})
            else:
                found.append({"item": step, "rc": None, "stdout": "", "stderr": "",
                              "msg": _missing(result)})
    return found


def _missing(result):
    reason = result.get("msg") or _last_line(result.get("stderr")) or _last_line(result.get("stdout"))
    if result.get("rc") not in (None, 0):
        return "the probe script exited {0}{1}".format(result["rc"], ": " + reason if reason else "")
    return reason or "the probe script printed no result"


def _last_line(text):
    lines = [line for line in str(text or "").splitlines() if line.strip()]
    return lines[-1].strip() if lines else ""
