"""Thin I/O layer of the data plane: commands, network namespaces, veths and processes."""
import os
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

from .topology import PACKAGES


class DataPlaneError(RuntimeError):
    pass


def require(program):
    """Full path of `program`, or an error naming the Debian package that brings it."""
    path = shutil.which(program) or shutil.which(program, path="/usr/sbin:/sbin")
    if not path:
        raise DataPlaneError(f"{program} not found: apt-get install {PACKAGES.get(program, program)}")
    return path


def share_dir():
    """The share/ folder beside the ovsdb-server on PATH, which holds the schemas it serves."""
    return Path(require("ovsdb-server")).resolve().parent.parent / "share"


def run(argv, *, netns=None, env=None, check=True, timeout=60, stdin_text=None):
    """Run argv (inside `netns` if given, with `stdin_text` on its stdin); returns stdout.
    Errors name the command and stderr."""
    argv = [require(argv[0]), *argv[1:]]
    if netns:
        argv = [require("ip"), "netns", "exec", netns, *argv]
    result = subprocess.run(argv, env={**os.environ, **(env or {})}, input=stdin_text,
                            stdin=subprocess.DEVNULL if stdin_text is None else None,
                            capture_output=True, text=True, timeout=timeout)
    if check and result.returncode:
        raise DataPlaneError(f"{' '.join(argv)} failed ({result.returncode}): {result.stderr.strip()}")
    return result.stdout


def ip_batch(netns, commands):
    """`ip` commands (argument lists) run by one `ip -n <netns> -batch -`, in order; it stops at
    the first that fails, and the error names it."""
    if commands:
        run(["ip", "-n", netns, "-batch", "-"], stdin_text="".join(" ".join(c) + "\n" for c in commands))


def ip(netns, *args, check=True):
    return run(["ip", "-n", netns, *args], check=check)


def netns_list():
    return [line.split()[0] for line in run(["ip", "netns", "list"]).splitlines() if line.strip()]


def netns_exists(name):
    return Path("/run/netns", name).exists()


def ensure_netns(name):
    """A network namespace with loopback up. New namespaces have no links to anywhere."""
    if not netns_exists(name):
        run(["ip", "netns", "add", name])
    ip(name, "link", "set", "lo", "up")
    run(["sysctl", "-qw", "net.ipv4.ip_forward=0"], netns=name)


def delete_netns(name):
    if netns_exists(name):
        run(["ip", "netns", "delete", name])


def link_exists(netns, ifname):
    return netns_exists(netns) and bool(ip(netns, "link", "show", ifname, check=False))


def veth(netns, ifname, peer_netns, peer_ifname):
    """A veth pair created directly between two lab namespaces (never in the root namespace)."""
    ip(netns, "link", "add", ifname, "type", "veth", "peer", "name", peer_ifname, "netns", peer_netns)
    ip(netns, "link", "set", ifname, "up")
    ip(peer_netns, "link", "set", peer_ifname, "up")


def configure_interface(netns, ifname, *, addresses=(), mac=None):
    """Addresses (and MAC) on an interface. TX checksum offload off: the userspace datapath
    receives packets through AF_PACKET, where a partial checksum would stay unfilled."""
    if mac:
        ip(netns, "link", "set", ifname, "address", mac)
    run(["ethtool", "-K", ifname, "tx", "off"], netns=netns)
    for address in addresses:
        ip(netns, "address", "replace", address, "dev", ifname)
    ip(netns, "link", "set", ifname, "up")


def isolate_interface(netns, ifname):
    """What ensure_netns and configure_interface do by `ip netns exec` for a plugged interface,
    in one: no IPv4 forwarding in the namespace, TX checksum offload off on `ifname`."""
    run(["sh", "-ec", '"$1" -qw net.ipv4.ip_forward=0; "$2" -K "$3" tx off', "sh",
         require("sysctl"), require("ethtool"), ifname], netns=netns)


def replace_file(path, text):
    """`path` holds `text` all at once: a reader in another thread never sees half of it."""
    partial = Path(path).with_name(f".{Path(path).name}.{os.getpid()}.{threading.get_ident()}")
    partial.write_text(text)
    os.replace(partial, path)


def add_routes(netns, routes):
    for route in routes:
        ip(netns, "route", "replace", route["to"], "via", route["via"])


# --- processes ----------------------------------------------------------------------------

def cmdline(pid):
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().rstrip(b"\0").split(b"\0")
    except OSError:
        return []


def pid_from_file(pidfile, program):
    """The pid in `pidfile` if that process is alive and runs `program` (pids get reused)."""
    try:
        pid = int(Path(pidfile).read_text().strip())
    except (OSError, ValueError):
        return None
    argv = cmdline(pid)
    return pid if argv and os.path.basename(argv[0].decode()) == program else None


def processes_using(directory):
    """Pids whose command line names a file in `directory`: every daemon a lab node started."""
    marker = f"{Path(directory)}/".encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and any(marker in arg for arg in cmdline(entry.name)):
            pids.append(int(entry.name))
    return pids


def terminate(pids, timeout=10):
    """SIGTERM, then SIGKILL what is left after `timeout` seconds."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + timeout
        while (pids := [p for p in pids if Path(f"/proc/{p}").exists() and not zombie(p)]) \
                and time.monotonic() < deadline:
            time.sleep(0.1)
        if not pids:
            return


def zombie(pid):
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False
