"""The lab's ovnkube-controller log lines (lab/simulator/ovnk_log.py, pure): klog's header as in the
seed's line, the CRI container-log format the kubelet reads, and only the real controller's text."""
import re
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

REPO_DIR = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_DIR / "lab"))

from simulator import ovnk_log  # noqa: E402  pylint: disable=wrong-import-position

SEED = (REPO_DIR / "tests" / "lab" / "fixtures" / "seed_ovn_nb.txt").read_text()
SEED_LINE = next(line for line in SEED.splitlines() if "obj_retry.go" in line).lstrip("> ")
REFUSAL = ("Retry add failed for *v1beta1.MultiNetworkPolicy llm-demo/allow-specific-pods, will try again later: "
           "invalid ingress peer {&LabelSelector{MatchLabels:map[string]string{app: tinypod-01,},MatchExpressions:"
           "[]LabelSelectorRequirement{},} nil <nil>} in multi-network policy allow-specific-pods; IPAM-less "
           "networks can only have `ipBlock` peers")
WHEN = datetime(2026, 7, 18, 13, 3, 32, 619246, tzinfo=timezone.utc)


def test_klog_header_is_the_seeds():
    header, message = SEED_LINE.split("] ", 1)
    assert ovnk_log.klog_line("I", WHEN, 7659, "obj_retry.go:346", message) == SEED_LINE
    assert header == "I0718 13:03:32.619246    7659 obj_retry.go:346"


def test_cri_line_is_what_the_kubelet_parses():
    line = ovnk_log.cri_line(WHEN, "stderr", "I0718 text")
    assert line == "2026-07-18T13:03:32.619246000Z stderr F I0718 text\n"


@pytest.mark.parametrize("message, written", [
    (REFUSAL, True),
    (REFUSAL.replace("ingress peer", "egress peer"), True),
    # the emulation's own notes stay in simulator.log
    ("Retry add failed for *v1beta1.MultiNetworkPolicy ns/p, will try again later: ingress selector peer in "
     "multi-network policy p: address sets of IPAM networks are not emulated by the lab", False),
    ("net-attach-def ns/n is first seen and is invalid: net-attach-def name (ns/n) is inconsistent with config (x)",
     False),
])
def test_only_the_real_controllers_lines_are_written(message, written):
    lines = ovnk_log.controller_lines([message], WHEN, 42)
    assert len(lines) == (1 if written else 0)
    if written:
        assert re.fullmatch(r"2026-07-18T13:03:32\.619246000Z stderr F I0718 13:03:32\.619246      42 "
                            r"obj_retry\.go:370\] (.*)\n", lines[0]).group(1) == message


def test_log_path_is_in_the_nodes_directory(tmp_path):
    assert ovnk_log.log_path(tmp_path, "worker-0") == tmp_path / "ovn" / "worker-0" / "ovnkube-controller.log"


def test_append_adds_lines_and_keeps_what_was_there(tmp_path):
    path = tmp_path / "ctl.log"
    ovnk_log.append(path, ["a\n"])
    ovnk_log.append(path, [])
    ovnk_log.append(path, ["b\n"])
    assert path.read_text() == "a\nb\n"
