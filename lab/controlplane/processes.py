"""Starting, checking and stopping the lab's components: one process group each, its pid and
command line in STATE_DIR/<component>.pid, its output in STATE_DIR/<component>.log."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from . import log
from .state import STATE_DIR


def pid_file(component):
    return STATE_DIR / f"{component}.pid"


def log_file(component):
    return STATE_DIR / f"{component}.log"


def running_pid(component):
    """The recorded pid if that process still runs the command we started (pids get reused)."""
    try:
        record = json.loads(pid_file(component).read_text())
        cmdline = Path(f"/proc/{record['pid']}/cmdline").read_bytes().split(b"\0")[0].decode()
    except (OSError, ValueError, KeyError):
        return None
    return record["pid"] if cmdline == record["argv0"] else None


def recorded_argv(component):
    try:
        return json.loads(pid_file(component).read_text()).get("argv")
    except (OSError, ValueError):
        return None


def start(component, argv, cwd=None, env=None):
    if running_pid(component):
        if recorded_argv(component) == argv:
            return
        log(f"restarting {component}: its command line changed")
        stop(component)
    log(f"starting {component} (log: {log_file(component)})")
    with open(log_file(component), "ab") as out:
        # A new session detaches the process from our terminal and lets `down` signal its group.
        process = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True,
                                   env={**os.environ, **env} if env else None)
    pid_file(component).write_text(json.dumps({"pid": process.pid, "argv0": argv[0], "argv": argv}))
    wait_for_exec(process, component)


def wait_for_exec(process, component, timeout=5.0):
    """Until the child has exec'ed: before that its /proc cmdline is still ours, and
    running_pid would take the new process for a dead one."""
    deadline = time.monotonic() + timeout
    while process.poll() is None and not running_pid(component) and time.monotonic() < deadline:
        time.sleep(0.01)


def stop(component):
    pid = running_pid(component)
    if pid:
        log(f"stopping {component} (pid {pid})")
        os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        while running_pid(component) and time.monotonic() < deadline:
            time.sleep(0.2)
        if running_pid(component):
            os.killpg(pid, signal.SIGKILL)
    pid_file(component).unlink(missing_ok=True)


def ensure_running(component):
    if not running_pid(component):
        tail = log_file(component).read_text(errors="replace")[-3000:] if log_file(component).exists() else ""
        sys.exit(f"labctl: {component} exited; end of {log_file(component)}:\n{tail}")
