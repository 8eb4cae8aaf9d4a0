"""The simulator's writes into a node's Open_vSwitch database (thin I/O, `ovs-vsctl`).

Used when the lab runs a data plane (lab/dataplane: per node, its databases and sockets under
`STATE_DIR/ovn/<node>/`, the Open_vSwitch one at `db.sock`); without it nothing is written.
The nmstate handler simulator sets `external_ids:ovn-bridge-mappings` here, as nmstate's OVN
support does on a real node (`ovs-vsctl set Open_vSwitch . external_ids:ovn-bridge-mappings=...`),
so ovn-controller patches a localnet switch to the mapped bridge only when the mapping exists. It
reads the value there and writes what a pure merge makes of it (nmstate.merged_bridge_mappings).
"""
import subprocess

from dataplane import node_dir

MAPPINGS_KEY = "ovn-bridge-mappings"


class VsctlError(RuntimeError):
    pass


def vsctl_runner(directory, binary="ovs-vsctl"):
    def run(args):
        # --no-wait: external_ids are read by ovn-controller; there is no bridge change for
        # ovs-vswitchd to confirm (and a test database has no ovs-vswitchd)
        argv = [binary, f"--db=unix:{directory}/db.sock", "--timeout=10", "--no-wait", *args]
        result = subprocess.run(argv, capture_output=True, text=True)
        if result.returncode != 0:
            raise VsctlError(f"{' '.join(argv[:3])} {' '.join(args)} failed ({result.returncode}): "
                             f"{result.stderr.strip()}")
        return result.stdout
    return run


def sync_bridge_mappings(run, merge):
    """Set `external_ids:ovn-bridge-mappings` to `merge(current value)` (removed when that is
    empty); `merge` returns None to leave it. The value written, else None."""
    current = run(["--if-exists", "get", "Open_vSwitch", ".", f"external_ids:{MAPPINGS_KEY}"])
    value = merge(current.strip().strip('"'))
    if value is None:
        return None
    if value:
        run(["set", "Open_vSwitch", ".", f'external_ids:{MAPPINGS_KEY}="{value}"'])
    else:
        run(["remove", "Open_vSwitch", ".", "external_ids", MAPPINGS_KEY])
    return value


def write_bridge_mappings(state_dir, node, merge):
    """The nmstate handler's side effect on a data-plane node: the value written, or None when
    nothing was (no change, or the node has no data plane)."""
    if state_dir is None or not (node_dir(state_dir, node) / "db.sock").exists():
        return None
    return sync_bridge_mappings(vsctl_runner(node_dir(state_dir, node)), merge)


def system_id(state_dir, node):
    """The node's OVS `external_ids:system-id`, its OVN chassis name, read as ovnkube-node reads it
    (ovn-kubernetes go-controller/pkg/util/util.go GetNodeChassisID: `ovs-vsctl get Open_vSwitch .
    external_ids:system-id`)."""
    run = vsctl_runner(node_dir(state_dir, node))
    return run(["get", "Open_vSwitch", ".", "external_ids:system-id"]).strip().strip('"')
