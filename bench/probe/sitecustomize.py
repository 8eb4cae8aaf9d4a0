"""Benchmark probe, loaded by every Python process started with this directory on PYTHONPATH.

When OCPVIRT_BENCH_PROBE_LOG names a file, each process appends one JSON line at exit: its
argv[0], wall seconds since start-up, CPU seconds, peak RSS (KiB) and the HTTP requests it sent, by verb,
counted at urllib3 (the transport under the kubernetes client, so every REST call, retry and
redirect is seen). Ansible starts modules as separate processes (AnsiballZ_<module>.py), so
this is how the module's own requests and memory are measured without touching the module.
"""
import atexit
import json
import os
import resource
import sys
import threading
import time

_LOG = os.environ.get("OCPVIRT_BENCH_PROBE_LOG")
_STARTED = time.monotonic()
_REQUESTS = {}
_COUNTING = threading.Lock()  # the module sends writes from several threads


def _count_requests():
    from urllib3 import connectionpool

    original = connectionpool.HTTPConnectionPool.urlopen

    def urlopen(self, method, url, *args, **kwargs):
        # A server-side dry run (dryRun=All: the module checks every write before the first
        # real one) stores nothing, so it is counted apart from the writes, e.g. "PATCH dryRun".
        # The intent's Lease (one writer per intent) is counted apart too, e.g. "POST lease".
        verb = method.upper() + (" dryRun" if "dryRun=All" in url else "") + (" lease" if "/leases" in url else "")
        with _COUNTING:
            _REQUESTS[verb] = _REQUESTS.get(verb, 0) + 1
        return original(self, method, url, *args, **kwargs)

    connectionpool.HTTPConnectionPool.urlopen = urlopen


def _report():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    record = {
        "pid": os.getpid(),
        "program": os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "",
        "seconds": time.monotonic() - _STARTED,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "maxrss_kib": usage.ru_maxrss,
        "requests": _REQUESTS,
    }
    # One short write per process with O_APPEND: lines from concurrent processes do not interleave.
    with open(_LOG, "a", encoding="utf-8") as log:
        log.write(json.dumps(record) + "\n")


if _LOG:
    try:
        _count_requests()
    except ImportError:  # a process without urllib3 sends no Kubernetes requests
        pass
    atexit.register(_report)
