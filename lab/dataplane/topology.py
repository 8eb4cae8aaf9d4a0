"""The lab data plane as data (pure): names, paths, daemon command lines and the LAN layout.

Nothing here runs a command; `lifecycle.py` and `plumbing.py` carry the plans out.
"""
import hashlib
import ipaddress
from dataclasses import dataclass
from pathlib import Path

import yaml

CONFIG_FILE = Path(__file__).resolve().parent / "network.yaml"
IFNAME_MAX = 15  # IFNAMSIZ - 1
LAN = "lan"
LAN_BRIDGE = "lanbr"
UPLINK = "enp1s0"  # the node-side end of a node's uplink, a port of br-ex (as on the seed's nodes)
# Relative to the share/ folder beside the programs' (Debian's /usr/share, or an OVN build's
# <prefix>/share): the schemas must be those of the ovsdb-server that serves them.
SCHEMAS = {
    "Open_vSwitch": "openvswitch/vswitch.ovsschema",
    "OVN_Northbound": "ovn/ovn-nb.ovsschema",
    "OVN_Southbound": "ovn/ovn-sb.ovsschema",
}
DEBIAN_SHARE = Path("/usr/share")
# Which Debian package brings each program (for the "not found: apt-get install" line).
PACKAGES = {
    "ovsdb-server": "openvswitch-switch", "ovsdb-tool": "openvswitch-switch",
    "ovs-vswitchd": "openvswitch-switch", "ovs-vsctl": "openvswitch-switch",
    "ovs-appctl": "openvswitch-switch",
    "ovn-northd": "ovn-central", "ovn-nbctl": "ovn-central",
    "ovn-controller": "ovn-host",
    "ip": "iproute2", "ethtool": "ethtool",
}


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class Daemon:
    """One OVS/OVN daemon of a node. `ctl` None: the program's default `<name>.<pid>.ctl`."""
    name: str
    program: str
    pidfile: str
    ctl: str | None
    database: str | None  # the file an ovsdb-server serves (created from `schema` when absent)
    schema: str | None
    in_netns: bool  # ovs-vswitchd's netdev bridges create their tap devices where it runs


def load_config(path=CONFIG_FILE):
    config = yaml.safe_load(Path(path).read_text())
    validate_config(config)
    return config


def validate_config(config):
    ipaddress.ip_network(config["lan"]["subnet"])
    if not config.get("nodes"):
        raise ConfigError("network.yaml: nodes: at least one data-plane node is needed")
    for host, spec in config["hosts"].items():
        for ifname, iface in spec["interfaces"].items():
            where = f"network.yaml: hosts.{host}.interfaces.{ifname}"
            if len(ifname) > IFNAME_MAX:
                raise ConfigError(f"{where}: name longer than {IFNAME_MAX} characters")
            if ("bridge" in iface) == ("peer" in iface):
                raise ConfigError(f"{where}: needs exactly one of 'bridge: lan' or 'peer: HOST/IFNAME'")
            if iface.get("bridge", LAN) != LAN:
                raise ConfigError(f"{where}.bridge: {iface['bridge']!r} is not 'lan'")
            if "peer" in iface:
                peer_host, _, peer_if = iface["peer"].partition("/")
                back = config["hosts"].get(peer_host, {}).get("interfaces", {}).get(peer_if, {})
                if back.get("peer") != f"{host}/{ifname}":
                    raise ConfigError(f"{where}.peer: {iface['peer']!r} does not name {host}/{ifname} back")
            for address in iface.get("addresses", []):
                ipaddress.ip_interface(address)


def data_plane_nodes(config):
    return list(config["nodes"])


def lab_id(state_dir):
    """Short id of one lab (one state directory), so two labs' namespaces never collide."""
    return hashlib.sha256(str(Path(state_dir).resolve()).encode()).hexdigest()[:6]


def netns_prefix(state_dir):
    return f"ocpvl-{lab_id(state_dir)}-"


def node_netns(state_dir, node):
    return f"{netns_prefix(state_dir)}node-{node}"


def host_netns(state_dir, host):
    return f"{netns_prefix(state_dir)}host-{host}"


def lan_netns(state_dir):
    return f"{netns_prefix(state_dir)}{LAN}"


def ovn_dir(state_dir):
    return Path(state_dir) / "ovn"


def node_dir(state_dir, node):
    return ovn_dir(state_dir) / node


def node_env(state_dir, node):
    """Environment that points every OVS/OVN tool at this node's sockets and files."""
    directory = str(node_dir(state_dir, node))
    return {f"{prefix}_{kind}": directory for prefix in ("OVS", "OVN")
            for kind in ("RUNDIR", "LOGDIR", "DBDIR", "SYSCONFDIR")}


def short_ifname(prefix, name):
    """`prefix + name` if it fits in IFNAMSIZ, else prefix + a hash of name."""
    candidate = f"{prefix}{name}"
    if len(candidate) <= IFNAME_MAX:
        return candidate
    return f"{prefix}{hashlib.sha256(name.encode()).hexdigest()[:IFNAME_MAX - len(prefix)]}"


def lan_port(name):
    """The LAN-bridge end of the veth that connects node or host `name` to the LAN."""
    return short_ifname("to-", name)


def plug_port(netns, ifname):
    """The node-side end (a br-int port) of the veth that plugs `ifname` of namespace `netns`."""
    return short_ifname("pl", hashlib.sha256(f"{netns}/{ifname}".encode()).hexdigest())


def plug_batches(netns, port, ifname, *, mac, addresses, routes):
    """The `ip` commands that plug `ifname` of `netns` in, as two batches: the node namespace's
    (the veth, made directly between the two namespaces, its br-int end up) and the plugged
    namespace's (loopback up, MAC, addresses, the interface up, then the routes, which need it up)."""
    node = [["link", "add", port, "type", "veth", "peer", "name", ifname, "netns", netns],
            ["link", "set", port, "up"]]
    plugged = [["link", "set", "lo", "up"],
               *([["link", "set", ifname, "address", mac]] if mac else []),
               *(["address", "replace", address, "dev", ifname] for address in addresses),
               ["link", "set", ifname, "up"],
               *(["route", "replace", route["to"], "via", route["via"]] for route in routes)]
    return node, plugged


def plug_port_command(port, iface_id, iface_id_ver=None):
    """ovs-vsctl's arguments that put `port` on br-int with its iface-id (and iface-id-ver) in
    one transaction. --no-wait: ovn-controller binds the port once ovs-vswitchd has given it an
    ofport (controller/binding.c takes interfaces with an iface-id and ofport > 0, and watches
    the column), so waiting for vswitchd's reconfiguration here only serialises the plugs."""
    version = [f"external_ids:iface-id-ver={iface_id_ver}"] if iface_id_ver else []
    return ["--no-wait", "--may-exist", "add-port", "br-int", port, "--",
            "set", "Interface", port, f"external_ids:iface-id={iface_id}", *version]


def del_ports_arguments(ports):
    """ovs-vsctl's arguments that take every one of `ports` off br-int in one transaction."""
    arguments = []
    for port in sorted(ports):
        arguments += [*(["--"] if arguments else []), "--if-exists", "del-port", "br-int", port]
    return arguments


def daemons(share_dir=DEBIAN_SHARE):
    """Per-node daemons in start order (databases first). File names are the defaults of
    ovs-ctl/ovn-ctl, so OVS_RUNDIR/OVN_RUNDIR select the node for every client tool."""
    schema = {database: str(Path(share_dir) / path) for database, path in SCHEMAS.items()}
    return [
        Daemon("ovsdb-server", "ovsdb-server", "ovsdb-server.pid", None, "conf.db", schema["Open_vSwitch"], False),
        Daemon("ovnnb_db", "ovsdb-server", "ovnnb_db.pid", "ovnnb_db.ctl", "ovnnb_db.db",
               schema["OVN_Northbound"], False),
        Daemon("ovnsb_db", "ovsdb-server", "ovnsb_db.pid", "ovnsb_db.ctl", "ovnsb_db.db",
               schema["OVN_Southbound"], False),
        Daemon("ovn-northd", "ovn-northd", "ovn-northd.pid", None, None, None, False),
        Daemon("ovs-vswitchd", "ovs-vswitchd", "ovs-vswitchd.pid", None, None, None, True),
        Daemon("ovn-controller", "ovn-controller", "ovn-controller.pid", None, None, None, True),
    ]


def daemon_socket(daemon):
    return {"ovsdb-server": "db.sock", "ovnnb_db": "ovnnb_db.sock", "ovnsb_db": "ovnsb_db.sock"}.get(daemon.name)


def daemon_argv(daemon, directory):
    """Command line of `daemon` with all its files in `directory`; it detaches once ready."""
    d = Path(directory)
    common = [f"--pidfile={d / daemon.pidfile}", f"--log-file={d / (daemon.name + '.log')}",
              "--detach", "--no-chdir"] + ([f"--unixctl={d / daemon.ctl}"] if daemon.ctl else [])
    if daemon.database:
        remotes = [f"--remote=punix:{d / daemon_socket(daemon)}"]
        if daemon.name == "ovsdb-server":
            remotes.append("--remote=db:Open_vSwitch,Open_vSwitch,manager_options")
        return [daemon.program, str(d / daemon.database), *remotes, *common]
    if daemon.name == "ovn-northd":
        return [daemon.program, f"--ovnnb-db=unix:{d / 'ovnnb_db.sock'}",
                f"--ovnsb-db=unix:{d / 'ovnsb_db.sock'}", *common]
    # ovs-vswitchd: no kernel datapath, only netdev (userspace) bridges.
    extra = ["--disable-system"] if daemon.name == "ovs-vswitchd" else []
    return [daemon.program, f"unix:{d / 'db.sock'}", *extra, *common]


def ctl_path(daemon, directory, pid):
    return Path(directory) / (daemon.ctl or f"{daemon.program}.{pid}.ctl")


def ovs_init_commands(config, node, directory, fresh):
    """ovs-vsctl arguments that configure a node's Open_vSwitch database. The bridge mapping is
    only written into a fresh database: later it belongs to whoever changes it (the NNCP)."""
    d = Path(directory)
    external_ids = {
        "system-id": node,
        "ovn-remote": f"unix:{d / 'ovnsb_db.sock'}",
        "ovn-encap-type": "geneve",
        "ovn-encap-ip": config["nodes"][node]["encap_ip"],
        "ovn-bridge-datapath-type": "netdev",
        **({"ovn-bridge-mappings": config["bridge_mappings"]} if fresh else {}),
    }
    return ["--no-wait", "init", "--", "set", "Open_vSwitch", ".",
            *[f"external_ids:{k}={v}" for k, v in external_ids.items()],
            "--", "--may-exist", "add-br", "br-int",
            "--", "set", "Bridge", "br-int", "datapath_type=netdev", "fail_mode=secure",
            "other_config:disable-in-band=true",
            "--", "--may-exist", "add-br", "br-ex", "--", "set", "Bridge", "br-ex", "datapath_type=netdev",
            "--", "--may-exist", "add-port", "br-ex", UPLINK]


def host_links(config):
    """(host, ifname, peer_host, peer_ifname) for each point-to-point link between hosts, once."""
    links = []
    for host, spec in config["hosts"].items():
        for ifname, iface in spec["interfaces"].items():
            peer_host, _, peer_if = iface.get("peer", "").partition("/")
            if peer_host and (host, ifname) < (peer_host, peer_if):
                links.append((host, ifname, peer_host, peer_if))
    return links


def lab_subnets(config):
    """Every subnet the lab's own addresses are in (for the "no route out" check)."""
    subnets = {ipaddress.ip_network(config["lan"]["subnet"])}
    for spec in config["hosts"].values():
        for iface in spec["interfaces"].values():
            subnets |= {ipaddress.ip_interface(a).network for a in iface.get("addresses", [])}
    subnets |= {ipaddress.ip_network(f"{n['encap_ip']}/32") for n in config["nodes"].values()}
    return sorted(subnets)
