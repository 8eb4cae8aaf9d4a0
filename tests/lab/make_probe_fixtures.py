"""Regenerate tests/unit/fixtures/probes/outputs.json: what real probes print on the lab, per case.

Each case runs the probe command the shipped code plans (plugins/module_utils/verify/probes.py
`probe_command`) in a lab namespace, with the tools the lab's pods and guests have (the host's
iputils ping, bash and python3), and again with OpenBSD netcat (what the agnhost test image
carries as `nc`) and busybox' ping (agnhost's `ping`) put first on PATH; then the same step
through the batch script of plugins/module_utils/verify/probe_batch.py, whose one line per probe is what
the report reads. Cases:

- ICMP: a reply (outside-vm -> gateway); no reply, dropped by OVN (gateway -> a pod the policies
  isolate); no host at the address (gateway -> an address nobody holds, with 2 s and 5 s); an ICMP
  "communication administratively prohibited" error from the gateway, made by a sender in the
  gateway's namespace that answers every echo request it forwards with one
  (outside-vm -> an internet address);
- TCP: a listener (the planned TCP listener, in outside-vm); nothing listening (outside-vm);
  dropped by OVN (gateway -> the isolated pod); no host at the address (with the default 2 s
  timeout, and with 5 s, past the 3 s the kernel gives ARP).

Run on a running lab, with the tools' directories (each holding `nc` or `ping`) in
PROBE_NC_DIR and PROBE_BUSYBOX_DIR (e.g. from `apt-get download netcat-openbsd busybox` and
`dpkg -x`):
    PROBE_NC_DIR=... PROBE_BUSYBOX_DIR=... .venv/bin/python -m pytest -p no:cacheprovider \
        tests/lab/make_probe_fixtures.py
"""
import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest

from test_seed_stages import LABCTL, multi_network_policy  # noqa: F401  (a fixture)
from test_verify_tcp import PODS, tcp_lab  # noqa: F401  (a fixture)

from ansible_collections.ocpvirt.multinet.plugins.module_utils.verify import probe_batch, probes

OUT = Path(__file__).resolve().parents[1] / "unit" / "fixtures" / "probes" / "outputs.json"
NOBODY = "192.168.77.188"          # no host holds it on the LAN
FORWARDED = "203.0.113.99"         # routed by the gateway to the internet link, where nobody holds it
GATEWAY, OUTSIDE_VM = "192.168.77.1", "192.168.77.10"
PORT = 5432
# Answers each echo request the gateway forwards from the LAN with ICMP type 3 code 13, as a
# filtering router would: the original IP header and 8 bytes after it, as RFC 792 says.
PROHIBITING_ROUTER = r"""
import socket, struct, sys, time
def checksum(data):
    data += b"\0" * (len(data) % 2)
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    total = (total >> 16) + (total & 0xffff)
    return ~(total + (total >> 16)) & 0xffff
sniff = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.ntohs(0x0800))
sniff.bind(("eth0", 0))
send = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
end = time.monotonic() + float(sys.argv[2])
sniff.settimeout(1)
while time.monotonic() < end:
    try:
        frame = sniff.recv(2048)
    except OSError:
        continue
    packet = frame[14:]
    header = (packet[0] & 15) * 4
    if packet[9] != 1 or socket.inet_ntoa(packet[12:16]) != sys.argv[1] or packet[header] != 8:
        continue
    body = packet[:header + 8]
    error = struct.pack("!BBHI", 3, 13, 0, 0) + body
    error = error[:2] + struct.pack("!H", checksum(error)) + error[4:]
    send.sendto(error, (socket.inet_ntoa(packet[12:16]), 0))
"""


def in_host(host, command, path=None):
    """(exit code, stdout and stderr) of a shell command line in a LAN host's namespace."""
    env = ["env", "PATH={0}:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin".format(path)] if path else []
    done = subprocess.run([sys.executable, str(LABCTL), "exec", host, "--", *env, "sh", "-c", command],
                          capture_output=True, text=True, timeout=120, check=False)
    return done.returncode, done.stdout + done.stderr


def case(name, tool, host, target_ip, port, path=None, timeout=2):
    traffic = None if port == "icmp" else ("TCP", PORT)
    command = probes.probe_command({"name": host}, {"name": "t", "ip": target_ip}, traffic, timeout)
    rc, output = in_host(host, command, path)
    step = {"from": host, "to": "t", "port": port, "namespace": "lab", "pod": host, "command": command}
    [batch] = probe_batch.batches([step])
    _rc, batch_output = in_host(host, shlex.split(batch["command"])[2], path)
    return {"case": name, "tool": tool, "from": host, "target_ip": target_ip, "port": port, "command": command,
            "rc": rc, "output": output, "batch_line": batch_output.strip()}


def listening(host, ip):
    """A TCP listener as the plan starts it, in the background: planned for two senders, it
    outlives both runs of a case (from one address) and stops after its lifetime."""
    steps = [{"from": name, "to": "t", "port": "tcp/{0}".format(PORT), "command": "x", "skip": None}
             for name in ("s1", "s2")]
    endpoints = [{"name": "s1", "ip": GATEWAY}, {"name": "s2", "ip": NOBODY},
                 {"name": "t", "kind": "pod", "pod": "t", "running": True, "ip": ip}]
    server = probes.with_servers(steps, endpoints, 2, tcp=True)[0]["server"]
    return subprocess.Popen([sys.executable, str(LABCTL), "exec", host, "--", "sh", "-c",
                             shlex.split(server["command"])[2]])


def test_make_probe_fixtures(tcp_lab):  # noqa: F811  pylint: disable=redefined-outer-name,unused-argument
    nc_dir, busybox_dir = os.environ["PROBE_NC_DIR"], os.environ["PROBE_BUSYBOX_DIR"]
    isolated = PODS["ledger"][0]
    cases = []
    for tool, path in (("iputils ping", None), ("busybox ping", busybox_dir)):
        cases += [case("reply", tool, "outside-vm", GATEWAY, "icmp", path),
                  case("dropped", tool, "gateway", isolated, "icmp", path),
                  case("no host", tool, "gateway", NOBODY, "icmp", path),
                  case("no host, 5 s", tool, "gateway", NOBODY, "icmp", path, timeout=5)]
        router = subprocess.Popen([sys.executable, str(LABCTL), "exec", "gateway", "--", "python3", "-c",
                                   PROHIBITING_ROUTER, OUTSIDE_VM, "15"])
        time.sleep(2)
        cases.append(case("prohibited", tool, "outside-vm", FORWARDED, "icmp", path))
        router.wait(timeout=60)
    for tool, path in (("OpenBSD nc", nc_dir), ("bash /dev/tcp", None)):
        server = listening("outside-vm", OUTSIDE_VM)
        time.sleep(2)
        cases.append(case("listening", tool, "gateway", OUTSIDE_VM, "tcp/5432", path))
        server.wait(timeout=60)
        cases += [case("nothing listening", tool, "gateway", OUTSIDE_VM, "tcp/5432", path),
                  case("dropped", tool, "gateway", isolated, "tcp/5432", path),
                  case("no host", tool, "gateway", NOBODY, "tcp/5432", path),
                  case("no host, 5 s", tool, "gateway", NOBODY, "tcp/5432", path, timeout=5)]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(cases, indent=1) + "\n")


if __name__ == "__main__":
    sys.exit(pytest.main(["-p", "no:cacheprovider", __file__]))
