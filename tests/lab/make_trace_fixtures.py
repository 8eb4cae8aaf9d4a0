"""Regenerate the ovn-trace batch fixtures of tests/unit/fixtures/ovn/ from real OVN (no lab needed).

The plan is built by the shipped pure code (plugins/module_utils/ovn/trace_plan.py) from the NB
fixtures make_ovn_fixtures.py wrote (the seed's CNV stage: test pods on worker-0, the VMs'
launcher pods on worker-1) and the endpoints below; for each node this starts its zone again
(NB, SB, ovn-northd, synced by the OVN-Kubernetes emulation as make_ovn_fixtures.py does) and
runs that node's batch scripts with OVN_RUNDIR pointing at the zone, as they run in an
ovnkube-node pod. It writes:

- `trace-endpoints.json`: the endpoints (as connectivity_info returns them) and the traffic;
- `<node>/trace-batch.txt`: the output of the node's batch (every trace between its marks).

Run after make_ovn_fixtures.py: .venv/bin/python tests/lab/make_trace_fixtures.py
"""
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1] / ".venv" / "collections"))  # as tests/conftest.py links it

import make_ovn_fixtures as fixtures  # noqa: E402  (puts lab/ on sys.path)
import ovnk_seed as seed  # noqa: E402
from simulator import ovnk, ovnk_sync  # noqa: E402
from test_ovnk_trace import start_zone, stop_zone  # noqa: E402

sys.path.insert(0, str(HERE.parents[1] / "tests" / "unit" / "plugins" / "module_utils" / "ovn"))
from ovn_fixtures import nodes  # noqa: E402

from ansible_collections.ocpvirt.multinet.plugins.module_utils.ovn import policy_map, trace_plan  # noqa: E402

PORTS = ["icmp", "tcp/22"]


def endpoints():
    """The seed's workloads and LAN hosts, named and shaped as connectivity_info returns them."""
    found = [{"name": name, "kind": "pod", "namespace": seed.NAMESPACE, "pod": name, "ip": ip}
             for ip, name in (("192.168.77.91", "tinypod"), ("192.168.77.92", "tinypod-01"),
                              ("192.168.77.93", "tinypod-02"))]
    found += [{"name": vm, "kind": "vm", "namespace": seed.NAMESPACE, "pod": launcher, "ip": ip}
              for ip, (launcher, vm, _) in zip(("192.168.77.71", "192.168.77.72"), seed.LAUNCHERS)]
    return found + [{"name": name, "kind": "outside", "ip": ip} for name, ip in (
        ("gateway", "192.168.77.1"), ("outside-vm", "192.168.77.10"), ("internet", "203.0.113.10"))]


def zones():
    network = policy_map.network_of(seed.NAMESPACE + "/" + seed.NAD_NAME, [seed.nad()])
    return {node: policy_map.zone_objects(data["nb"], network["name"]) for node, data in nodes().items()}


def run_node(snapshot, node, scripts):
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        pids = start_zone(tmp, snapshot._replace(policies=[]))
        try:
            run = ovnk_sync.nbctl_runner(tmp)
            fixtures.foreign_objects(run)
            ovnk_sync.sync(run, ovnk.desired_nb(snapshot, node))
            run(["--wait=sb", "sync"])
            env = {**os.environ, "OVN_RUNDIR": str(tmp)}
            return "".join(subprocess.run(argv, env=env, check=True, capture_output=True, text=True).stdout
                           for argv in scripts)
        finally:
            stop_zone(pids)


def main():
    found = endpoints()
    (fixtures.OUT / "trace-endpoints.json").write_text(json.dumps({"endpoints": found, "ports": PORTS}, indent=1) + "\n")
    steps = trace_plan.plan(found, zones(), PORTS)
    snapshot = fixtures.cluster()
    for node, scripts in trace_plan.batches(steps).items():
        (fixtures.OUT / node / "trace-batch.txt").write_text(run_node(snapshot, node, scripts))
    print(f"wrote {fixtures.OUT}")


if __name__ == "__main__":
    main()
