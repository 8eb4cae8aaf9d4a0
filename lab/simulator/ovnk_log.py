"""The `ovnkube-controller` container log of the OVN-Kubernetes emulation.

For each data-plane node, the lines the real ovnkube-controller logs (klog, to stderr) for what the
emulation refuses are appended to STATE_DIR/ovn/<node>/ovnkube-controller.log in the CRI log format
the container runtime stores on a node (/var/log/pods/...), which the kubelet stand-in serves as
that node's ovnkube-node pod's `ovnkube-controller` log (pods/log, `kubectl logs`).

Written from:
- ovn-org/ovn-kubernetes dad2fde5a go-controller/pkg/retry/obj_retry.go, resourceRetry line 370:
  `klog.Infof("Retry add failed for %s %s, will try again later: %v", ...)` (the seed's line 698 is
  the same function's delete branch, obj_retry.go:346, from the same build);
- k8s.io/klog/v2 klog.go formatHeader: `Lmmdd hh:mm:ss.uuuuuu <pid, 7 wide> file:line] message`;
- k8s.io/cri-client/pkg/logs logs.go parseCRILog: `<RFC3339Nano time> <stdout|stderr> F <text>`.

Only messages whose text is the real controller's are written (the refusal of a selector peer on
an IPAM-less network, ovnk.refusal); the emulation's own notes (what it does not emulate, NADs it
rejects) stay in simulator.log only. Each refusal is written once, when the emulation first sees it:
the add event's own `Failed to create` line (obj_retry.go:533) and the retries every 30 s
(RetryObjInterval, up to MaxFailedAttempts 15) are not repeated.
"""
import re
from pathlib import Path

from dataplane import node_dir

LOG_FILE = "ovnkube-controller.log"
CONTAINER = "ovnkube-controller"
STREAM = "stderr"  # klog's default (logtostderr)

# (message pattern, klog severity, source file:line) of the lines the real controller writes
SOURCES = (
    (re.compile(r"Retry add failed for \*v1beta1\.MultiNetworkPolicy \S+/\S+, will try again later: invalid "
                r"(ingress|egress) peer .* in multi-network policy \S+; IPAM-less networks can only have "
                r"`ipBlock` peers"), "I", "obj_retry.go:370"),
)


def log_path(state_dir, node):
    return Path(node_dir(state_dir, node)) / LOG_FILE


def klog_line(severity, when, pid, source, message):
    """klog's header and the message (`when` in UTC, as in the containers)."""
    return f"{severity}{when:%m%d %H:%M:%S}.{when.microsecond:06d} {pid:7d} {source}] {message}"


def cri_line(when, stream, text):
    """One full (`F`) line of a CRI container log."""
    return f"{when:%Y-%m-%dT%H:%M:%S}.{when.microsecond:06d}000Z {stream} F {text}\n"


def controller_lines(messages, when, pid):
    """The CRI log lines of ovnkube-controller for those of the emulation's messages it writes."""
    lines = []
    for message in messages:
        for pattern, severity, source in SOURCES:
            if pattern.fullmatch(message):
                lines.append(cri_line(when, STREAM, klog_line(severity, when, pid, source, message)))
    return lines


def append(path, lines):
    """Append the lines to the container's log (the thin shell)."""
    if lines:
        with open(path, "a", encoding="utf-8") as log:
            log.writelines(lines)
