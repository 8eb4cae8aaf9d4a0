"""Start, check and stop the lab data plane: per node OVS/OVN daemons in a network namespace,
the LAN bridge namespace and the hosts on it. `up` is idempotent and restarts what died."""
import json
import shutil
import subprocess
from pathlib import Path

from . import shell, topology
from .shell import DataPlaneError

# Files of a node directory that `down` keeps (for reading after the fact); all else goes.
KEPT_SUFFIXES = (".log",)


def required_programs():
    return sorted({d.program for d in topology.daemons()}
                  | {"ovsdb-tool", "ovs-vsctl", "ovs-appctl", "ovn-nbctl", "ip", "ethtool"})


def exec_target_file(state_dir, kind, *parts):
    return Path(state_dir, "exec-targets", kind, *parts[:-1], f"{parts[-1]}.json")


def write_exec_target(path, netns, env=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"netns": netns, "env": env or {}}))


# --- up -------------------------------------------------------------------------------------

def require_programs():
    for program in required_programs():
        shell.require(program)


def up(state_dir, log):
    require_programs()
    config = topology.load_config()
    lan = topology.lan_netns(state_dir)
    shell.ensure_netns(lan)
    if not shell.link_exists(lan, topology.LAN_BRIDGE):
        shell.ip(lan, "link", "add", topology.LAN_BRIDGE, "type", "bridge")
    shell.ip(lan, "link", "set", topology.LAN_BRIDGE, "up")
    for node in topology.data_plane_nodes(config):
        up_node(state_dir, config, node, log)
    for host in config["hosts"]:
        up_host(state_dir, config, host)
    for host_a, if_a, host_b, if_b in topology.host_links(config):
        ns_a, ns_b = topology.host_netns(state_dir, host_a), topology.host_netns(state_dir, host_b)
        if not shell.link_exists(ns_a, if_a):
            shell.veth(ns_a, if_a, ns_b, if_b)
    for host, spec in config["hosts"].items():
        configure_host(state_dir, host, spec)


def attach_to_lan(state_dir, name, netns, ifname):
    """A veth from `netns` (as `ifname`) to a port of the LAN bridge, unless it is there."""
    lan = topology.lan_netns(state_dir)
    port = topology.lan_port(name)
    if shell.link_exists(netns, ifname):
        return
    shell.ip(lan, "link", "delete", port, check=False)  # a dangling end from an earlier run
    shell.veth(lan, port, netns, ifname)
    shell.ip(lan, "link", "set", port, "master", topology.LAN_BRIDGE)


def up_node(state_dir, config, node, log):
    netns = topology.node_netns(state_dir, node)
    directory = topology.node_dir(state_dir, node)
    directory.mkdir(parents=True, exist_ok=True)
    shell.ensure_netns(netns)
    shell.ip(netns, "address", "replace", f"{config['nodes'][node]['encap_ip']}/32", "dev", "lo")
    attach_to_lan(state_dir, node, netns, topology.UPLINK)
    env = topology.node_env(state_dir, node)
    for daemon in topology.daemons(shell.share_dir()):
        if shell.pid_from_file(directory / daemon.pidfile, daemon.program):
            continue
        fresh = bool(daemon.database) and not (directory / daemon.database).exists()
        if fresh:
            shell.run(["ovsdb-tool", "create", str(directory / daemon.database), daemon.schema])
        log(f"starting {node} {daemon.name} (log: {directory / (daemon.name + '.log')})")
        shell.run(topology.daemon_argv(daemon, directory), env=env, netns=netns if daemon.in_netns else None)
        if daemon.name == "ovsdb-server":
            shell.run(["ovs-vsctl", *topology.ovs_init_commands(config, node, directory, fresh)], env=env)
        elif fresh and daemon.name == "ovnnb_db":
            shell.run(["ovn-nbctl", "--no-wait", "init"], env=env)


def up_host(state_dir, config, host):
    netns = topology.host_netns(state_dir, host)
    shell.ensure_netns(netns)
    for ifname, iface in config["hosts"][host]["interfaces"].items():
        if iface.get("bridge") == topology.LAN:
            attach_to_lan(state_dir, host, netns, ifname)


def configure_host(state_dir, host, spec):
    netns = topology.host_netns(state_dir, host)
    for ifname, iface in spec["interfaces"].items():
        shell.configure_interface(netns, ifname, addresses=iface.get("addresses", []))
    shell.add_routes(netns, spec.get("routes", []))
    forward = 1 if spec.get("ip_forward") else 0
    shell.run(["sysctl", "-qw", f"net.ipv4.ip_forward={forward}"], netns=netns)
    write_exec_target(exec_target_file(state_dir, "hosts", host), netns)


# --- status ---------------------------------------------------------------------------------

def daemon_health(state_dir, node, daemon):
    """(pid or None, problem or None) of one daemon: alive and answering on its control socket."""
    directory = topology.node_dir(state_dir, node)
    pid = shell.pid_from_file(directory / daemon.pidfile, daemon.program)
    if not pid:
        return None, "not running"
    ctl = topology.ctl_path(daemon, directory, pid)
    try:
        shell.run(["ovs-appctl", "-t", str(ctl), "version"], timeout=5)
    except (DataPlaneError, subprocess.TimeoutExpired) as error:
        return pid, f"not answering on {ctl}: {error}"
    return pid, None


def status(state_dir):
    """[(component, pid or None, problem or None)] for every daemon and namespace of the lab."""
    require_programs()
    config = topology.load_config()
    rows = []
    for node in topology.data_plane_nodes(config):
        for daemon in topology.daemons():
            rows.append((f"{node} {daemon.name}", *daemon_health(state_dir, node, daemon)))
    for name, netns in [("lan", topology.lan_netns(state_dir))] + \
            [(host, topology.host_netns(state_dir, host)) for host in config["hosts"]]:
        rows.append((f"netns {name}", None, None if shell.netns_exists(netns) else f"{netns} missing"))
    return rows


def anything_running(state_dir):
    return any(shell.netns_exists(n) for n in lab_namespaces(state_dir)) or any(
        shell.processes_using(d) for d in node_dirs(state_dir))


# --- down -----------------------------------------------------------------------------------

def node_dirs(state_dir):
    base = topology.ovn_dir(state_dir)
    return sorted(p for p in base.iterdir() if p.is_dir() and p.name != "plugged") if base.is_dir() else []


def plugged_dir(state_dir):
    return topology.ovn_dir(state_dir) / "plugged"


def lab_namespaces(state_dir):
    """The lab's namespaces: by their prefix, and those plug() made under any other name."""
    prefix = topology.netns_prefix(state_dir)
    recorded = [p.stem for p in plugged_dir(state_dir).glob("*.json")] if plugged_dir(state_dir).is_dir() else []
    return sorted({n for n in shell.netns_list() if n.startswith(prefix)} | set(recorded))


def down(state_dir, log):
    for directory in node_dirs(state_dir):
        pids = shell.processes_using(directory)
        if pids:
            log(f"stopping {directory.name} OVS/OVN daemons (pids {' '.join(map(str, pids))})")
            shell.terminate(pids)
    for netns in lab_namespaces(state_dir):
        log(f"deleting network namespace {netns}")
        shell.delete_netns(netns)
    for directory in node_dirs(state_dir):
        for path in directory.iterdir():
            if not path.name.endswith(KEPT_SUFFIXES):
                path.unlink()
    shutil.rmtree(plugged_dir(state_dir), ignore_errors=True)
    shutil.rmtree(Path(state_dir, "exec-targets"), ignore_errors=True)


# --- plugging namespaces into br-int ------------------------------------------------------

def plug(state_dir, node, netns, *, ifname, mac, addresses, routes, iface_id, iface_id_ver=None):
    """Namespace `netns` (made if needed) gets `ifname`, a veth whose other end is a port of the
    node's br-int with external_ids:iface-id=<iface_id> (and iface-id-ver, in the same
    transaction: set later, OVN 23.03 binds the port but installs no flows until a recompute).
    Plugging the same ifname again replaces it; each interface of a namespace has its own port.
    A few processes in all (topology.plug_batches): plugging is what a lab with many pods waits on.
    Safe to run for different namespaces at once."""
    node_ns = topology.node_netns(state_dir, node)
    port = topology.plug_port(netns, ifname)
    env = topology.node_env(state_dir, node)
    record = plugged_dir(state_dir) / f"{netns}.json"
    record.parent.mkdir(parents=True, exist_ok=True)
    ports = json.loads(record.read_text())["ports"] if record.exists() else []
    # Recorded first: `down` must find the namespace even if a step below fails.
    shell.replace_file(record, json.dumps({"node": node, "ports": sorted({*ports, port})}))
    if not shell.netns_exists(netns):
        shell.run(["ip", "netns", "add", netns])
    if port in ports:  # plugged before (a port is recorded before it is made): replaced
        shell.ip(node_ns, "link", "delete", port, check=False)
    node_commands, netns_commands = topology.plug_batches(netns, port, ifname, mac=mac, addresses=addresses,
                                                          routes=routes)
    shell.ip_batch(node_ns, node_commands)
    shell.ip_batch(netns, netns_commands)
    shell.isolate_interface(netns, ifname)
    shell.run(["ovs-vsctl", *topology.plug_port_command(port, iface_id, iface_id_ver)], env=env)


def plugged_node(state_dir, netns):
    """The node `netns` was plugged into, or None."""
    try:
        return json.loads((plugged_dir(state_dir) / f"{netns}.json").read_text())["node"]
    except FileNotFoundError:  # never plugged, or unplugged (maybe by another thread just now)
        return None


def unplug(state_dir, node, netns):
    """Removes the namespace, its veths and their br-int ports."""
    record = plugged_dir(state_dir) / f"{netns}.json"
    ports = json.loads(record.read_text())["ports"] if record.exists() else []
    node_ns = topology.node_netns(state_dir, node)
    ovs_up = shell.pid_from_file(topology.node_dir(state_dir, node) / "ovsdb-server.pid", "ovsdb-server")
    for port in ports:
        # Deleting one end of a veth removes both at once; a deleted namespace's links go later.
        shell.ip(node_ns, "link", "delete", port, check=False)
    if ovs_up and ports:
        shell.run(["ovs-vsctl", "--no-wait", *topology.del_ports_arguments(ports)],
                  env=topology.node_env(state_dir, node))
    shell.delete_netns(netns)
    record.unlink(missing_ok=True)
