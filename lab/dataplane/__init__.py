"""The lab's data plane: real Open vSwitch and OVN per simulated node, and a LAN of namespaces.

Per data-plane node (network.yaml `nodes`): a network namespace running ovs-vswitchd
(userspace `netdev` datapath) and ovn-controller, and three ovsdb-servers (Open_vSwitch, OVN NB,
OVN SB) plus ovn-northd, all on unix sockets with the default file names under
STATE_DIR/ovn/<node>/, so `OVS_RUNDIR=OVN_RUNDIR=STATE_DIR/ovn/<node>` (node_env) selects the
node for ovs-vsctl, ovn-nbctl, ovn-sbctl, ovn-trace and ovs-appctl. Each node's br-ex is uplinked
by a veth to one Linux bridge in the LAN namespace, where the outside hosts live.

The names exported here are what the rest of the lab imports (the issue 10 contract); the
pure layout is in topology.py, the commands in lifecycle.py and shell.py.
"""
from . import topology
from .lifecycle import anything_running, down, plug, plugged_node, status, unplug, up
from .shell import DataPlaneError
from .topology import host_netns, node_dir, node_env, node_netns

__all__ = ["DataPlaneError", "anything_running", "data_plane_nodes", "down", "host_netns", "node_dir",
           "node_env", "node_netns", "plug", "plugged_node", "status", "unplug", "up"]


def data_plane_nodes():
    return topology.data_plane_nodes(topology.load_config())
