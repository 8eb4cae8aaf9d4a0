"""Reconcile benchmark: the module, kubectl server-side apply and kubernetes.core.k8s in a loop,
on the same manifests against the same lab control plane.

Each tool gets a fresh namespace per size and is run three times: the first apply, a no-op
re-run, and a re-run after one policy was changed by hand (a merge patch under another field
manager). Every run reports wall seconds, HTTP requests by verb counted at the client, and the
peak memory of the tool's processes. The cluster state is checked after every run with the
kubernetes client, never taken from the tool's own report.
"""
import contextlib
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from kubernetes import client, config

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
VENV_BIN = REPO_DIR / ".venv" / "bin"
PROBE_DIR = BENCH_DIR / "probe"
PLAYBOOKS = BENCH_DIR / "playbooks"
COLLECTIONS = REPO_DIR / ".venv" / "collections"

sys.path.insert(0, str(BENCH_DIR))
from compile_bench import make_intent  # noqa: E402  (bench/ is not a package; it also puts the collection on sys.path)
from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.compiler import compile_intent  # noqa: E402

GROUP, VERSION, PLURAL = "k8s.cni.cncf.io", "v1beta1", "multi-networkpolicies"
READ_VERBS = {"GET", "HEAD", "OPTIONS"}
HAND_EDIT_MANAGER = "bench-hand-edit"
KUBECTL_FIELD_MANAGER = "kubectl-bench"
BENCH_RUN_LABEL = "multinet.ocpvirt.io/bench-run"
# The lab's control-plane processes (lab/labctl.py's pid files), whose CPU a run costs the
# machine beside the client's own.
CONTROL_PLANE = ("kube-apiserver", "etcd", "kube-controller-manager", "simulator")


# --- inputs -------------------------------------------------------------------------------

def bench_intent(size, namespace):
    """compile_bench's ring of `size` workloads plus two more allow entries per workload.

    Every workload i may reach i+1 on tcp/8080 (the ring), the gateway on udp/53 and workload
    i+size/2 on tcp/22, so each workload policy has egress and ingress rules with several peers.
    """
    intent = make_intent(size)
    names = sorted(intent["workloads"])
    intent["namespace"] = namespace
    intent["allow"] = intent["allow"] + [
        entry
        for index, name in enumerate(names)
        for entry in ({"from": name, "to": "gateway", "ports": ["udp/53"]},
                      {"from": name, "to": names[(index + size // 2) % size], "ports": ["tcp/22"]})
        if entry["from"] != entry["to"]
    ]
    return intent


# --- processes ----------------------------------------------------------------------------

def run_process(argv, workdir, env=None, label="run"):
    """Run `argv` to completion; wall seconds, exit code, CPU seconds and peak RSS of its process
    tree, output.

    os.wait4 returns the resource usage of this child and the descendants it waited for
    (ru_maxrss: the largest RSS among them), unlike RUSAGE_CHILDREN, which accumulates over
    every child this process ever had. CPU seconds do not grow when the machine is busy with
    other work; wall seconds do.
    """
    stdout_path, stderr_path = workdir / f"{label}.stdout", workdir / f"{label}.stderr"
    with open(stdout_path, "wb") as stdout, open(stderr_path, "wb") as stderr:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=stdout, stderr=stderr, env=env, cwd=REPO_DIR)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {
        "seconds": seconds,
        "returncode": proc.returncode,
        "tree_cpu_seconds": usage.ru_utime + usage.ru_stime,
        "tree_maxrss_kib": usage.ru_maxrss,
        "stdout": stdout_path.read_text(errors="replace"),
        "stderr": stderr_path.read_text(errors="replace"),
    }


def checked(run, argv):
    if run["returncode"] != 0:
        raise RuntimeError("{0} failed (rc {1}):\n{2}\n{3}".format(
            " ".join(map(str, argv[:3])), run["returncode"], run["stdout"][-3000:], run["stderr"][-3000:]))
    return run


def writes(requests):
    """Requests that may change the policies: not reads, not server-side dry runs, not the
    intent's Lease (taken and deleted once by a run that writes)."""
    return sum(count for verb, count in requests.items()
               if verb not in READ_VERBS and not verb.endswith((" dryRun", " lease")))


def measurement(run, requests, process_maxrss_kib, **extra):
    return dict({
        "seconds": round(run["seconds"], 3),
        "client_cpu_seconds": round(run["tree_cpu_seconds"], 3),
        "requests": dict(sorted(requests.items())),
        "writes": writes(requests),
        "process_maxrss_kib": process_maxrss_kib,
        "tree_maxrss_kib": run["tree_maxrss_kib"],
    }, **extra)


# --- the lab ------------------------------------------------------------------------------

class Lab:
    """The lab apiserver, seen as another user would see it (a plain kubernetes client)."""

    def __init__(self, kubeconfig, run_id):
        self.kubeconfig, self.run_id = str(kubeconfig), run_id
        self.state_dir = Path(kubeconfig).parent  # labctl writes the kubeconfig into its state dir
        self.api = config.new_client_from_config(config_file=self.kubeconfig)
        self.core = client.CoreV1Api(self.api)
        self.custom = client.CustomObjectsApi(self.api)

    def control_plane_cpu(self):
        """CPU seconds each control-plane process of this lab has used so far ({} when unknown)."""
        used = {}
        for component in CONTROL_PLANE:
            try:
                pid = json.loads((self.state_dir / f"{component}.pid").read_text())["pid"]
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, ValueError, KeyError):
                continue
            # utime, stime, and the same of the children it waited for (fields 14-17 of proc(5))
            used[component] = sum(int(value) for value in fields[11:15]) / os.sysconf("SC_CLK_TCK")
        return used

    def server_version(self):
        return client.VersionApi(self.api).get_code().git_version

    def create_namespace(self, name):
        """A namespace labelled with this run, so that cleaning up never touches another run's."""
        namespace = f"bench-{self.run_id}-{name}"
        self.core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(
            name=namespace, labels={BENCH_RUN_LABEL: self.run_id})))
        return namespace

    def delete_namespaces(self):
        """Delete the namespaces this run made (the namespace controller empties them)."""
        for namespace in self.core.list_namespace(label_selector=f"{BENCH_RUN_LABEL}={self.run_id}").items:
            if not namespace.metadata.deletion_timestamp:
                self.core.delete_namespace(namespace.metadata.name)

    def policies(self, namespace):
        found = self.custom.list_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL)
        return {item["metadata"]["name"]: item for item in found["items"]}

    def edit_by_hand(self, namespace, name):
        """Empty the policy's ingress rules, as `kubectl edit` would (another field manager)."""
        self.custom.patch_namespaced_custom_object(
            GROUP, VERSION, namespace, PLURAL, name, {"spec": {"ingress": []}}, field_manager=HAND_EDIT_MANAGER,
            _content_type="application/merge-patch+json")

    def matches(self, namespace, manifests):
        """True when the namespace holds exactly `manifests` (names and specs)."""
        live = self.policies(namespace)
        return sorted(live) == sorted(m["metadata"]["name"] for m in manifests) and all(
            live[m["metadata"]["name"]]["spec"] == m["spec"] for m in manifests)


# --- tools --------------------------------------------------------------------------------

def ansible_env(probe_log, results_file):
    """Ansible as users run it (default output), plus the probe that counts each module process's
    requests and the callback that summarises each task's result into `results_file`."""
    return dict(
        os.environ,
        ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS),
        ANSIBLE_STDOUT_CALLBACK="default",
        ANSIBLE_CALLBACK_PLUGINS=str(PLAYBOOKS / "callback_plugins"),
        ANSIBLE_CALLBACKS_ENABLED="bench_results",
        OCPVIRT_BENCH_RESULTS=str(results_file),
        ANSIBLE_LOCALHOST_WARNING="false",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
        PYTHONPATH=os.pathsep.join(filter(None, [str(PROBE_DIR), os.environ.get("PYTHONPATH")])),
        OCPVIRT_BENCH_PROBE_LOG=str(probe_log),
    )


def probe_records(probe_log, program_prefix):
    """The probe's lines for the processes whose argv[0] starts with `program_prefix`."""
    if not probe_log.exists():
        return []
    records = [json.loads(line) for line in probe_log.read_text().splitlines() if line.strip()]
    return [record for record in records if record["program"].startswith(program_prefix)]


def summed_requests(records):
    total = {}
    for record in records:
        for verb, count in record["requests"].items():
            total[verb] = total.get(verb, 0) + count
    return total


def run_playbook(workdir, label, playbook, extra_vars, inventory=None):
    """ansible-playbook with the probe; (process run, task summaries, probe records)."""
    probe_log, results_file = workdir / f"{label}.probe.jsonl", workdir / f"{label}.results.json"
    argv = [str(VENV_BIN / "ansible-playbook"), str(PLAYBOOKS / playbook)]
    if inventory is not None:
        argv += ["-i", str(inventory)]
    for name, value in extra_vars.items():
        argv += ["-e", f"{name}={value}"]
    run = checked(run_process(argv, workdir, ansible_env(probe_log, results_file), label), argv)
    return run, json.loads(results_file.read_text()), probe_log


def module_measurement(run, records, **extra):
    """A run of Ansible module processes, from the probe's per-process records."""
    return measurement(
        run, summed_requests(records), max(r["maxrss_kib"] for r in records),
        module_seconds=round(sum(r["seconds"] for r in records), 3),
        module_cpu_seconds=round(sum(r["cpu_seconds"] for r in records), 3), **extra)


def control_plane_used(before, after):
    """CPU seconds per control-plane component between two readings of each lab, summed over the labs."""
    used = {}
    for first, last in zip(before, after):
        for component in set(first) & set(last):
            used[component] = round(used.get(component, 0) + last[component] - first[component], 2)
    return dict(sorted(used.items()))


def ansible_floor(workdir, repeats=3):
    """`ansible-playbook` running one ansible.builtin.ping task, the fastest of `repeats` runs:
    what any run of one module task through Ansible costs before the module does anything."""
    runs = [run_playbook(workdir, f"floor-{index}", "floor.yml", {})[0] for index in range(repeats)]
    fastest = min(runs, key=lambda run: run["seconds"])
    return {"seconds": round(fastest["seconds"], 3), "client_cpu_seconds": round(fastest["tree_cpu_seconds"], 3)}


class ModuleTool:
    """ocpvirt.multinet.multinetwork_policy in a playbook, one task for the whole intent."""

    name = "module"
    title = "ocpvirt.multinet.multinetwork_policy"

    def __init__(self, lab, workdir):
        self.lab, self.workdir = lab, workdir

    def prepare(self, label, intent, manifests):
        path = self.workdir / f"{label}.intent.json"
        path.write_text(json.dumps(intent))
        return path

    def run(self, label, prepared):
        run, [result], probe_log = run_playbook(self.workdir, label, "module.yml", {
            "intent_file": prepared, "kubeconfig": self.lab.kubeconfig})
        records = probe_records(probe_log, "AnsiballZ_multinetwork_policy")
        return module_measurement(
            run, records, reported={key: result[key] for key in ("created", "updated", "deleted")},
            changed=result["changed"])


class KubectlTool:
    """`kubectl apply --server-side --force-conflicts -f <dir>`, one file per manifest."""

    name = "kubectl"
    title = "kubectl apply --server-side"
    _REQUEST_LINE = re.compile(r'verb="(\w+)" url=|\] (GET|POST|PUT|PATCH|DELETE) https?://')

    def __init__(self, lab, workdir, kubectl):
        self.lab, self.workdir, self.kubectl = lab, workdir, kubectl
        # Discovery is cached here between runs, as in ~/.kube/cache for a user.
        self.cache_dir = workdir / "kubectl-cache"

    def prepare(self, label, intent, manifests):
        directory = self.workdir / f"{label}.manifests"
        directory.mkdir()
        for manifest in manifests:
            (directory / "{0}.json".format(manifest["metadata"]["name"])).write_text(json.dumps(manifest))
        return directory

    def run(self, label, prepared):
        # -v=6 logs one line per request (verb, URL, status), which is how requests are counted.
        argv = [str(self.kubectl), "--kubeconfig", self.lab.kubeconfig, "--cache-dir", str(self.cache_dir),
                "apply", "--server-side", "--force-conflicts", f"--field-manager={KUBECTL_FIELD_MANAGER}",
                "-f", str(prepared), "-v=6"]
        run = checked(run_process(argv, self.workdir, None, label), argv)
        requests = {}
        for match in self._REQUEST_LINE.finditer(run["stderr"]):
            verb = (match.group(1) or match.group(2)).upper()
            requests[verb] = requests.get(verb, 0) + 1
        return measurement(run, requests, run["tree_maxrss_kib"],
                           applied_lines=len(run["stdout"].splitlines()))


class K8sLoopTool:
    """kubernetes.core.k8s with server-side apply, one loop item per manifest."""

    name = "k8s_loop"
    title = "kubernetes.core.k8s in a loop"

    def __init__(self, lab, workdir):
        self.lab, self.workdir = lab, workdir

    def prepare(self, label, intent, manifests):
        path = self.workdir / f"{label}.manifests.json"
        path.write_text(json.dumps({"manifests": manifests}))
        return path

    def run(self, label, prepared):
        run, [result], probe_log = run_playbook(self.workdir, label, "k8s_loop.yml", {
            "manifests_file": prepared, "kubeconfig": self.lab.kubeconfig})
        records = probe_records(probe_log, "AnsiballZ_k8s")
        return module_measurement(run, records, module_processes=len(records),
                                  changed_items=sum(result["items_changed"]))


# --- scenario -----------------------------------------------------------------------------

def scenario(lab, tool, size):
    """First apply, no-op re-run and re-run after a hand edit of one policy, each checked."""
    load_average = [round(value, 2) for value in os.getloadavg()]  # others may share the machine
    namespace = lab.create_namespace(f"{tool.name.replace('_', '-')}-{size}")
    intent = bench_intent(size, namespace)
    manifests = compile_intent(intent)
    prepared = tool.prepare(f"{tool.name}-{size}", intent, manifests)
    runs = {}
    for phase in ("first_apply", "no_op", "after_hand_edit"):
        if phase == "after_hand_edit":
            lab.edit_by_hand(namespace, hand_edit_target(manifests))
        before = lab.control_plane_cpu()
        runs[phase] = tool.run(f"{tool.name}-{size}-{phase}", prepared)
        runs[phase]["control_plane_cpu_seconds"] = control_plane_used([before], [lab.control_plane_cpu()])
        runs[phase]["cluster_matches"] = lab.matches(namespace, manifests)
    return {"tool": tool.name, "workloads": size, "policies": len(manifests), "namespace": namespace,
            "load_average_at_start": load_average, "runs": runs}


def hand_edit_target(manifests):
    """The first workload policy (it has ingress rules, unlike the deny-all policy)."""
    return next(m["metadata"]["name"] for m in manifests if m["spec"].get("ingress"))


def warm_up(lab, tools):
    """One small apply per tool first, so discovery caches are warm, as on a user's machine."""
    for tool in tools:
        namespace = lab.create_namespace(f"warmup-{tool.name.replace('_', '-')}")
        intent = bench_intent(2, namespace)
        tool.run(f"{tool.name}-warmup", tool.prepare(f"{tool.name}-warmup", intent, compile_intent(intent)))


# --- a fleet of clusters ------------------------------------------------------------------

@contextlib.contextmanager
def second_lab(state_dir):
    """Another lab beside the default one, from the same tooling: its own state dir
    (OCPVIRT_LAB_DIR), so its own lab id (network namespaces) and free ports. Brought down and
    purged when the block ends, however it ends. Yields its kubeconfig path."""
    env = dict(os.environ, OCPVIRT_LAB_DIR=str(state_dir))
    labctl = [sys.executable, str(REPO_DIR / "lab" / "labctl.py")]
    try:
        up = subprocess.run(labctl + ["up"], env=env, check=True, stdout=subprocess.PIPE, text=True)
        yield up.stdout.strip().splitlines()[-1]
    finally:
        subprocess.run(labctl + ["down", "--purge"], env=env, check=False)


def write_fleet_inventory(path, kubeconfigs):
    """An inventory (JSON is YAML) whose group `clusters` has one host per kubeconfig."""
    hosts = {f"cluster{index}": {"kubeconfig": str(kubeconfig)} for index, kubeconfig in enumerate(kubeconfigs, 1)}
    path.write_text(json.dumps({"all": {"children": {"clusters": {"hosts": hosts, "vars": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}}))
    return path


def fleet_run(labs, workdir, size, label):
    """One ansible-playbook run applying one intent of `size` workloads to every lab in `labs`
    (first apply, fresh namespaces); checked on every cluster."""
    namespaces = {lab.create_namespace(f"{label}-{size}") for lab in labs}
    [namespace] = namespaces  # the same name on every cluster (one run id), as one intent needs
    intent = bench_intent(size, namespace)
    manifests = compile_intent(intent)
    intent_file = workdir / f"{label}-{size}.intent.json"
    intent_file.write_text(json.dumps(intent))
    inventory = write_fleet_inventory(workdir / f"{label}-{size}.inventory.json", [lab.kubeconfig for lab in labs])
    before = [lab.control_plane_cpu() for lab in labs]
    run, results, probe_log = run_playbook(workdir, f"{label}-{size}", "fleet.yml", {"intent_file": intent_file},
                                           inventory=inventory)
    used = control_plane_used(before, [lab.control_plane_cpu() for lab in labs])
    records = probe_records(probe_log, "AnsiballZ_multinetwork_policy")
    return module_measurement(run, records, clusters=len(labs), module_processes=len(records),
                              control_plane_cpu_seconds=used,
                              created=[result.get("created") for result in results],
                              cluster_matches=all(lab.matches(namespace, manifests) for lab in labs))


def fleet_scenario(labs, workdir, size):
    """The same first apply by one playbook run on one cluster, then on all of `labs`."""
    load_average = [round(value, 2) for value in os.getloadavg()]
    return {"workloads": size, "load_average_at_start": load_average,
            "one_cluster": fleet_run(labs[:1], workdir, size, "fleet-one"),
            "all_clusters": fleet_run(labs, workdir, size, "fleet-all")}
