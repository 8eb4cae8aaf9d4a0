#!/usr/bin/env python3
"""cProfile of one multinetwork_policy run in this process, against the lab (bench profiling).

Runs the module's main() as AnsiballZ would, with its arguments from a JSON file
({"ANSIBLE_MODULE_ARGS": {...}}), under cProfile with a CPU-time clock (a shared machine's
load does not inflate it), and prints the module's CPU and wall seconds, the size of its
result and the functions that took the most CPU, cumulatively.

Usage: python bench/profile_module.py --size 1000 --namespace NS --kubeconfig PATH [--inline] [--out FILE.prof]
(the bench intent of `size` workloads, see reconcile_bench.bench_intent, from a file as `src` or
with --inline as the `intent` option; the namespace must exist)
"""
import argparse
import cProfile
import contextlib
import io
import json
import pstats
import resource
import sys
import tempfile
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

import reconcile_bench  # noqa: E402  (also puts the collection on sys.path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, required=True)
    parser.add_argument("--namespace", required=True)
    parser.add_argument("--kubeconfig", required=True)
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "multinetwork_policy.prof")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--inline", action="store_true",
                        help="pass the intent as the intent option instead of a file (src), as the bench does")
    args = parser.parse_args(argv)
    intent = reconcile_bench.bench_intent(args.size, args.namespace)
    module_args = {"kubeconfig": args.kubeconfig, "require_network": False}
    if args.inline:
        module_args["intent"] = intent
    else:
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as intent_file:
            json.dump(intent, intent_file)
        module_args["src"] = intent_file.name
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump({"ANSIBLE_MODULE_ARGS": module_args}, handle)
    wall, cpu = time.perf_counter(), time.process_time()
    profile = cProfile.Profile(time.process_time)
    output = io.StringIO()
    profile.enable()
    from ansible_collections.ocpvirt.multinet.plugins.modules import multinetwork_policy
    sys.argv = ["multinetwork_policy", handle.name]
    with contextlib.redirect_stdout(output), contextlib.suppress(SystemExit):
        multinetwork_policy.main()
    profile.disable()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    Path(handle.name).unlink()
    if not args.inline:
        Path(module_args["src"]).unlink()
    profile.dump_stats(args.out)
    result = json.loads(output.getvalue())
    print("module: {0:.2f} s wall, {1:.2f} s CPU (profiled), result {2} bytes, peak RSS {3} MiB, changed {4}, "
          "created {5}, updated {6}".format(wall, cpu, len(output.getvalue()),
                                            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
                                            result.get("changed"), len(result.get("created", [])),
                                            len(result.get("updated", []))))
    pstats.Stats(str(args.out)).sort_stats("cumulative").print_stats(args.top)
    return 0 if not result.get("failed") else 1


if __name__ == "__main__":
    sys.exit(main())
