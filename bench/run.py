#!/usr/bin/env python3
"""`make bench`: compile and reconcile at scale on the lab control plane, side by side with
kubectl server-side apply and kubernetes.core.k8s in a loop.

Starts the lab (lab/labctl.py up), builds kubectl of the lab's release if it is not cached,
runs every measurement, then writes bench/results.json and docs/benchmarks.md (rendered by
bench/report.py from that JSON). Exit status 1 when a target is missed.

Usage: python bench/run.py [--sizes 10 100 1000 5000] [--loop-sizes 10]
                           [--compile-sizes 10 100 1000 5000 10000] [--dataplane-sizes 100 1000]
                           [--dataplane-shapes tiers cells]
                           [--tools module kubectl k8s_loop]
                           [--fleet-sizes 1000]
                           [--json PATH] [--markdown PATH]
"""
import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from importlib import metadata
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
sys.path.insert(0, str(BENCH_DIR))

import compile_bench  # noqa: E402
import dataplane_bench  # noqa: E402
import reconcile_bench  # noqa: E402
import report  # noqa: E402

TOOLS = ("module", "kubectl", "k8s_loop")
# Hand-written findings of the profile (issue 16), included in the generated page.
PROFILE_FINDINGS = REPO_DIR / "docs" / "benchmarks-profile.md"


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000, 5000],
                        help="workloads per intent for the reconcile runs")
    parser.add_argument("--loop-sizes", type=int, nargs="*", default=[10],
                        help="sizes at which kubernetes.core.k8s runs in a loop (one process per manifest)")
    parser.add_argument("--compile-sizes", type=int, nargs="+", default=[10, 100, 1000, 5000, 10000])
    parser.add_argument("--fleet-sizes", type=int, nargs="*", default=[1000],
                        help="sizes applied by one playbook run to one lab, then to two (a second lab is started)")
    parser.add_argument("--dataplane-sizes", type=int, nargs="*", default=list(dataplane_bench.DEFAULT_SIZES),
                        help="workloads of each intent shape counted in OVN, merged, per workload and the limit "
                        "(issue 23)")
    parser.add_argument("--dataplane-shapes", nargs="*", choices=tuple(dataplane_bench.SHAPES),
                        default=list(dataplane_bench.SHAPES),
                        help="intent shapes of the data-plane bench: the three tiers, the seed's shape scaled up")
    parser.add_argument("--tools", nargs="+", choices=TOOLS, default=list(TOOLS))
    parser.add_argument("--json", type=Path, default=BENCH_DIR / "results.json")
    parser.add_argument("--markdown", type=Path, default=REPO_DIR / "docs" / "benchmarks.md")
    parser.add_argument("--keep-namespaces", action="store_true", help="leave the bench namespaces in the lab")
    return parser.parse_args(argv)


def log(message):
    print(f"bench: {message}", file=sys.stderr, flush=True)


def lab_up():
    labctl = [sys.executable, str(REPO_DIR / "lab" / "labctl.py"), "up"]
    return subprocess.run(labctl, check=True, stdout=subprocess.PIPE, text=True).stdout.strip().splitlines()[-1]


def build_kubectl():
    """kubectl of the lab's release, built once into the lab's binary cache (low CPU priority)."""
    build = ["nice", "-n", "19", sys.executable, str(BENCH_DIR / "kubectl" / "build.py")]
    return Path(subprocess.run(build, check=True, stdout=subprocess.PIPE, text=True).stdout.strip())


def command_output(argv):
    try:
        return subprocess.run(argv, check=True, capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError) as error:
        return f"unavailable ({error})"


def collection_version(namespace, name):
    manifest = (REPO_DIR / ".venv" / "lib").glob(
        f"python*/site-packages/ansible_collections/{namespace}/{name}/MANIFEST.json")
    for path in manifest:
        return json.loads(path.read_text())["collection_info"]["version"]
    return "not installed"


def machine():
    cpu_model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                      if line.startswith("model name")), platform.processor())
    mem_kib = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal:"))
    return {
        "nproc": os.cpu_count(),
        "cpu_model": cpu_model,
        "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "kernel": platform.release(),
        "load_average_at_start": [round(value, 2) for value in os.getloadavg()],
    }


def versions(lab, kubectl):
    kubectl_version = json.loads(command_output([str(kubectl), "version", "--client", "-o", "json"]))[
        "clientVersion"]["gitVersion"] if kubectl else "not run"
    return {
        "python": platform.python_version(),
        "ansible-core": metadata.version("ansible-core"),
        "kubernetes.core": collection_version("kubernetes", "core"),
        "kubernetes (Python client)": metadata.version("kubernetes"),
        "urllib3": metadata.version("urllib3"),
        "kubectl": kubectl_version,
        "kube-apiserver": lab.server_version(),
    }


def make_tools(names, lab, workdir, kubectl):
    factories = {
        "module": lambda: reconcile_bench.ModuleTool(lab, workdir),
        "kubectl": lambda: reconcile_bench.KubectlTool(lab, workdir, kubectl),
        "k8s_loop": lambda: reconcile_bench.K8sLoopTool(lab, workdir),
    }
    return [factories[name]() for name in names]


def intent_compile_seconds(size):
    """Cold compile of the reconcile intent itself (three allow entries per workload)."""
    intent = reconcile_bench.bench_intent(size, "bench")
    started = time.perf_counter()
    reconcile_bench.compile_intent(intent)
    return round(time.perf_counter() - started, 4)


def reconcile_runs(args, lab, tools):
    results = []
    for size in args.sizes:
        for tool in tools:
            if tool.name == "k8s_loop" and size not in args.loop_sizes:
                continue
            log(f"{tool.title}: {size} workloads")
            started = time.perf_counter()
            outcome = reconcile_bench.scenario(lab, tool, size)
            outcome["compile_seconds"] = intent_compile_seconds(size)
            results.append(outcome)
            log(f"{tool.title}: {size} workloads done in {time.perf_counter() - started:.0f}s")
    return results


def fleet_runs(args, lab, workdir):
    """The fleet: a second lab from the same tooling, brought down afterwards."""
    if not args.fleet_sizes:
        return []
    log("fleet: starting a second lab")
    with reconcile_bench.second_lab(REPO_DIR / ".lab" / "fleet-bench") as kubeconfig:
        labs = [lab, reconcile_bench.Lab(kubeconfig, lab.run_id)]
        results = []
        for size in args.fleet_sizes:
            log(f"fleet: {size} workloads on one cluster, then two")
            results.append(reconcile_bench.fleet_scenario(labs, workdir, size))
        return results


def main(argv=None):
    args = parse_args(argv)
    started = time.perf_counter()
    kubeconfig = lab_up()
    lab = reconcile_bench.Lab(kubeconfig, run_id=uuid.uuid4().hex[:6])
    kubectl = build_kubectl() if "kubectl" in args.tools else None
    results = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "arguments": sys.argv[1:] if argv is None else list(argv),
        "machine": machine(),
        "versions": versions(lab, kubectl),
        "sizes": args.sizes,
        "loop_sizes": [size for size in args.loop_sizes if size in args.sizes] if "k8s_loop" in args.tools else [],
    }
    log("compile: " + ", ".join(map(str, args.compile_sizes)) + " workloads")
    results["compile"] = compile_bench.run(args.compile_sizes)
    log("data plane: " + ", ".join(map(str, args.dataplane_sizes)) + " workloads, " + ", ".join(args.dataplane_shapes))
    results["dataplane"] = dataplane_bench.run(args.dataplane_sizes, lab, args.dataplane_shapes)
    workdir = Path(tempfile.mkdtemp(prefix="ocpvirt-bench-"))
    try:
        tools = make_tools(args.tools, lab, workdir, kubectl)
        reconcile_bench.warm_up(lab, tools)
        if "module" in args.tools:
            results["ansible_floor"] = reconcile_bench.ansible_floor(workdir)
        results["reconcile"] = reconcile_runs(args, lab, tools)
        results["fleet"] = fleet_runs(args, lab, workdir)
    finally:
        if not args.keep_namespaces:
            lab.delete_namespaces()
        shutil.rmtree(workdir, ignore_errors=True)
    results["machine"]["load_average_at_end"] = [round(value, 2) for value in os.getloadavg()]
    results["total_seconds"] = round(time.perf_counter() - started, 1)
    results["targets"] = report.targets(results)
    args.json.write_text(json.dumps(results, indent=2) + "\n")
    args.markdown.write_text(report.markdown(results, PROFILE_FINDINGS.read_text()))
    log(f"wrote {args.json} and {args.markdown} in {results['total_seconds']:.0f}s")
    for line in report.verdict_lines(results):
        log(line)
    return 1 if report.missed(results) else 0


if __name__ == "__main__":
    sys.exit(main())
