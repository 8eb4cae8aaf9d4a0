"""The emulated NB content decides the seed's observed pings: ovn-northd turns it into logical
flows and ovn-trace walks a packet through them (no ovn-controller, no ovs-vswitchd, no packet).

The seed's CNV stage (deny-by-default, allow-ipblock, allow-ipblock-01, allow-ipblock-cnv-01/-02/
-03) with what the seed saw (seed lines 560-640 and 856-936; docs domain brief "What the seed
observed"): tinypod-01 reaches tinypod; the VM .71 reaches the gateway, tinypod-01 and the internet
but not .10 or .93; the VM .72 reaches only the gateway; nobody else reaches .71.
"""
import os
import shutil
import subprocess

import pytest

import ovnk_seed as seed
from simulator import ovnk, ovnk_sync
from test_ovnk_sync import NB_SCHEMA, start_ovsdb, stop_daemon

SB_SCHEMA = "/usr/share/ovn/ovn-sb.ovsschema"
SWITCH = "localnet.cnv_ovn_localnet_switch"
LOCALNET_PORT = "localnet.cnv_ovn_localnet_port"
OUTSIDE_MAC = "52:54:00:00:00:0a"  # a LAN host (gateway .1, outside host .10, the internet via .1)
ENDPOINTS = {  # address: (logical port or None for the LAN, MAC)
    "192.168.77.91": ("tinypod", "0a:58:c0:a8:4d:5b"),
    "192.168.77.92": ("tinypod-01", "0a:58:c0:a8:4d:5c"),
    "192.168.77.93": ("tinypod-02", "0a:58:c0:a8:4d:5d"),
    "192.168.77.71": (seed.LAUNCHERS[0][0], "02:00:a3:00:00:01"),
    "192.168.77.72": (seed.LAUNCHERS[1][0], "02:00:a3:00:00:02"),
    "192.168.77.1": (None, OUTSIDE_MAC),
    "192.168.77.10": (None, OUTSIDE_MAC),
    "203.0.113.10": (None, OUTSIDE_MAC),  # the lab's stand-in for the seed's 8.8.8.8, via the gateway
}
SEED_PINGS = [  # (source, destination, reached) as the seed observed them in the CNV stage
    ("192.168.77.92", "192.168.77.91", True),
    ("192.168.77.71", "192.168.77.1", True),
    ("192.168.77.71", "192.168.77.92", True),
    ("192.168.77.71", "203.0.113.10", True),
    ("192.168.77.71", "192.168.77.10", False),
    ("192.168.77.71", "192.168.77.93", False),
    ("192.168.77.92", "192.168.77.71", False),
    ("192.168.77.72", "192.168.77.1", True),
    ("192.168.77.72", "192.168.77.71", False),
    ("192.168.77.10", "192.168.77.71", False),
    ("192.168.77.91", "192.168.77.92", False),
    ("192.168.77.93", "192.168.77.91", False),
]

pytestmark = pytest.mark.skipif(not all(shutil.which(b) for b in ("ovsdb-server", "ovn-northd", "ovn-trace"))
                                or not os.path.exists(SB_SCHEMA),
                                reason="needs ovsdb-server, ovn-northd and ovn-trace (Debian ovn-central)")


def start_zone(directory, snapshot):
    """NB and SB ovsdb-servers and ovn-northd in `directory`, the NB synced with `snapshot`."""
    pids = [start_ovsdb(directory, NB_SCHEMA, "ovnnb_db.db", "ovnnb_db.sock"),
            start_ovsdb(directory, SB_SCHEMA, "ovnsb_db.db", "ovnsb_db.sock")]
    subprocess.run(["ovn-northd", "--detach", "--no-chdir", f"--pidfile={directory / 'northd.pid'}",
                    f"--log-file={directory / 'northd.log'}", f"--unixctl={directory / 'northd.ctl'}",
                    f"--ovnnb-db=unix:{directory / 'ovnnb_db.sock'}", f"--ovnsb-db=unix:{directory / 'ovnsb_db.sock'}"],
                   check=True)
    pids.append(int((directory / "northd.pid").read_text()))
    run = ovnk_sync.nbctl_runner(directory)
    ovnk_sync.sync(run, ovnk.desired_nb(snapshot, seed.NODE))
    run(["--wait=sb", "sync"])  # northd has turned the NB into logical flows
    return pids


def stop_zone(pids):
    for pid in reversed(pids):
        stop_daemon(pid)


@pytest.fixture(scope="module")
def seed_zone(tmp_path_factory):
    directory = tmp_path_factory.mktemp("zone")
    pids = start_zone(directory, seed.snapshot())
    yield directory
    stop_zone(pids)


def port(address):
    name, _ = ENDPOINTS[address]
    if name is None:
        return LOCALNET_PORT
    return ovnk.logical_port_name(seed.NAMESPACE, seed.NAD_NAME, seed.NAMESPACE, name)


def trace(directory, source, destination):
    """The logical ports a new ICMP echo request from `source` to `destination` is output to."""
    _, source_mac = ENDPOINTS[source]
    _, destination_mac = ENDPOINTS[destination]
    flow = (f'inport == "{port(source)}" && eth.src == {source_mac} && eth.dst == {destination_mac} && '
            f"ip4.src == {source} && ip4.dst == {destination} && ip.ttl == 64 && icmp4.type == 8")
    result = subprocess.run(["ovn-trace", f"--db=unix:{directory / 'ovnsb_db.sock'}", "--minimal", "--ct=new",
                             SWITCH, flow], capture_output=True, text=True, check=True)
    return [line.split('"')[1] for line in result.stdout.splitlines() if "output(" in line]


@pytest.mark.parametrize("source, destination, reached", SEED_PINGS,
                         ids=[f"{s}->{d}" for s, d, _ in SEED_PINGS])
def test_seed_pings(seed_zone, source, destination, reached):
    outputs = trace(seed_zone, source, destination)
    assert outputs == ([port(destination)] if reached else []), outputs


def test_without_multi_network_policy_everything_passes(tmp_path):
    pids = start_zone(tmp_path, seed.snapshot(multi_network_policy=False))
    try:
        for source, destination, _ in SEED_PINGS:
            assert trace(tmp_path, source, destination) == [port(destination)], (source, destination)
    finally:
        stop_zone(pids)
