"""Loopback ports of the lab's components, kept in STATE_DIR/settings.json."""
import json
import socket

from .state import PREFERRED_PORTS, SETTINGS_FILE


def port_is_free(port):
    with socket.socket() as sock:
        # Servers bind with SO_REUSEADDR; without it, TIME_WAIT from a stopped run reads as busy.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port(preferred):
    if port_is_free(preferred):
        return preferred
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def add_missing_ports(ports):
    """Ports of components added after this lab's ports were chosen (its others are in use)."""
    missing = {name: free_port(preferred) for name, preferred in PREFERRED_PORTS.items() if name not in ports}
    if missing:
        ports = {**ports, **missing}
        SETTINGS_FILE.write_text(json.dumps(ports, indent=2))
    return ports


def settings():
    if SETTINGS_FILE.exists():
        return json.loads(SETTINGS_FILE.read_text())
    return {}


def choose_ports():
    """Keep the ports of an earlier run (kubeconfigs point at them) unless one got taken."""
    chosen = settings()
    for name, preferred in PREFERRED_PORTS.items():
        previous = chosen.get(name)
        chosen[name] = previous if previous and port_is_free(previous) else free_port(preferred)
    SETTINGS_FILE.write_text(json.dumps(chosen, indent=2))
    return chosen


def apiserver_url():
    return f"https://127.0.0.1:{settings()['apiserver']}"
