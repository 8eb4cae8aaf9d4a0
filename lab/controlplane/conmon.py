"""The container runtime's log writer for a lab process that plays a container (the
ovnkube-controllers): `python conmon.py <container log> -- <argv...>` runs argv and appends each
line it writes to the container log in the CRI log format, as CRI-O's conmon / containerd's CRI
logger do for /var/log/pods/...; the kubelet stand-in serves that file as the container's log
(pods/log). Each line also goes unchanged to our own stdout (labctl's log of the component).

Written from:
- containerd v1.7 pkg/cri/io/logger.go redirectLogs: `<time.RFC3339Nano> <stdout|stderr> <F|P> <text>\\n`,
  a line longer than the maximum (max_container_log_line_size, 16 KiB by default) written in
  parts tagged `P`, the last `F`;
- k8s.io/cri-client/pkg/logs logs.go parseCRILog, the kubelet's reader of that format.

Stdlib only: it runs as a script, before and without the lab's packages.
"""
import signal
import subprocess
import sys
import threading
from datetime import datetime, timezone

MAX_LINE = 16 * 1024  # containerd's default max_container_log_line_size


def stamp(when):
    """RFC3339 with nanoseconds in UTC (the kubelet parses any RFC3339Nano)."""
    return f"{when:%Y-%m-%dT%H:%M:%S}.{when.microsecond:06d}000Z"


def cri_lines(when, stream, line, max_line=MAX_LINE):
    """The CRI log record(s) of one output line (bytes, without its newline)."""
    parts = [line[i:i + max_line] for i in range(0, len(line), max_line)] or [b""]
    head = stamp(when).encode()
    return [b"%s %s %s %s\n" % (head, stream.encode(), b"F" if i == len(parts) - 1 else b"P", part)
            for i, part in enumerate(parts)]


def copy(source, stream, log_path, echo, lock):
    """Each line of the child's stream into the container log (CRI) and to our stdout (raw)."""
    with open(log_path, "ab") as log:
        for line in iter(source.readline, b""):
            with lock:
                log.writelines(cri_lines(datetime.now(timezone.utc), stream, line.rstrip(b"\n")))
                log.flush()
                echo.write(line)
                echo.flush()


def main(argv):
    if len(argv) < 3 or argv[1] != "--":
        sys.exit("usage: conmon.py <container log> -- <command> [args...]")
    log_path, command = argv[0], argv[2:]
    child = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # labctl stops a component by signalling its process group (ours and the child's): the child
    # gets the signal itself, we only wait for it and drain its output.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    lock = threading.Lock()
    copiers = [threading.Thread(target=copy, args=(pipe, name, log_path, sys.stdout.buffer, lock))
               for pipe, name in ((child.stdout, "stdout"), (child.stderr, "stderr"))]
    for copier in copiers:
        copier.start()
    code = child.wait()
    for copier in copiers:
        copier.join()
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
