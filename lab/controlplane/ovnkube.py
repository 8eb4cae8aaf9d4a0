"""The real OVN-Kubernetes in the lab (issue 21).

`build` makes `ovnkube` from an upstream source tarball (ovn-org/ovn-kubernetes at dad2fde5a, the
code OpenShift 4.15 was cut from, or 6c366bb49 for 4.18; ../shared/upstream-src/SOURCES.md),
offline from its `vendor/`, cached by the tarball's sha256. The rest is what labctl needs to run it as
cluster-manager plus one ovnkube-controller per data-plane node (each node its own OVN zone), and
the parts of ovnkube-node's nbdb container the lab plays: the NB schema with `ACL.tier` and
NB_Global's name. Pure functions except `build` and `prepare_node`.
"""
import copy
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

SOURCE_ENV = "OCPVIRT_UPSTREAM_SRC"
COMMIT = "dad2fde5a"  # the default (4.15) profile's; lab/controlplane/profiles.py names each profile's
TARBALL_PREFIX, TARBALL_SUFFIX = "ovn-kubernetes-", ".tar.gz"
TARBALL = f"{TARBALL_PREFIX}{COMMIT}{TARBALL_SUFFIX}"
CONFIG_NAMESPACE = "openshift-ovn-kubernetes"
# The node that hosts cluster-manager (ovnkube-control-plane runs on the masters).
CLUSTER_MANAGER_NODE = "master-0"
CLUSTER_MANAGER = "ovnkube-cluster-manager"
# Offline: every dependency is in the tarball's vendor/; the proxy and toolchain downloads are off.
BUILD_ENV = {"GOFLAGS": "-mod=vendor", "GOPROXY": "off", "GOTOOLCHAIN": "local"}
# The ovnkube-node pod's `ovnkube-controller` container log in the node's directory (the file the
# simulator names in the pod's exec target, lab/simulator/ovn_node_pods.py) and its writer.
CONTAINER_LOG = "ovnkube-controller.log"
CONMON = Path(__file__).with_name("conmon.py")


class OvnkubeError(RuntimeError):
    """One line for the user: the path concerned and what to do."""


def tarball(environ=None, repo_dir=None, commit=COMMIT):
    """$OCPVIRT_UPSTREAM_SRC/ovn-kubernetes-<commit>.tar.gz, else the same in
    <repo>/../shared/upstream-src/."""
    environ = os.environ if environ is None else environ
    folder = environ.get(SOURCE_ENV) or Path(repo_dir).parent / "shared" / "upstream-src"
    return Path(folder).resolve() / f"{TARBALL_PREFIX}{commit}{TARBALL_SUFFIX}"


def commit_of(source):
    """The commit a tarball's name carries (ovn-kubernetes-<commit>.tar.gz), which names its cache."""
    name = Path(source).name
    if not (name.startswith(TARBALL_PREFIX) and name.endswith(TARBALL_SUFFIX)):
        raise OvnkubeError(f"{source}: not named {TARBALL_PREFIX}<commit>{TARBALL_SUFFIX}; use the file name "
                           f"../shared/upstream-src/SOURCES.md gives")
    return name[len(TARBALL_PREFIX):-len(TARBALL_SUFFIX)]


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as source:
        for block in iter(lambda: source.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def binary_path(cache_root, digest, commit=COMMIT):
    return Path(cache_root) / f"ovnkube-{commit}-{digest[:16]}" / "ovnkube"


def build_argv(go, output):
    # nice: the build takes minutes of both cores of a shared machine.
    return ["nice", "-n", "19", go, "build", "-mod=vendor", "-trimpath", "-ldflags=-s -w",
            "-o", str(output), "./cmd/ovnkube"]


def missing_tarball_message(path):
    return (f"{path}: not found; put {Path(path).name} there (see ../shared/upstream-src/SOURCES.md) "
            f"or set {SOURCE_ENV} to the folder that holds it")


def build(source, cache_root, go, log):
    """The cached ovnkube built from `source` (the tarball); builds it first when absent."""
    if not Path(source).is_file():
        raise OvnkubeError(missing_tarball_message(source))
    binary = binary_path(cache_root, sha256_file(source), commit_of(source))
    if binary.exists():
        return binary
    work, build_log = binary.parent / "src", binary.parent / "build.log"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    log(f"building ovnkube from {source} into {binary.parent} (minutes; output: {build_log})")
    started = time.monotonic()
    try:
        unpack = subprocess.run(["tar", "-xzf", str(source), "-C", str(work)], capture_output=True, text=True)
        module = next(work.glob("*/go-controller"), None)
        if unpack.returncode != 0 or module is None:
            raise OvnkubeError(f"{source}: cannot unpack a go-controller/ from it "
                               f"({unpack.stderr.strip() or 'no go-controller/'}); replace it with the file "
                               f"SOURCES.md names (sha256 there)")
        partial = binary.with_suffix(".partial")
        with open(build_log, "w") as out:
            result = subprocess.run(build_argv(go, partial), cwd=module, env={**os.environ, **BUILD_ENV},
                                    stdout=out, stderr=subprocess.STDOUT)
        if result.returncode != 0:
            raise OvnkubeError(f"go build of ovnkube from {source} failed (exit {result.returncode}); "
                               f"read {build_log}, fix the Go toolchain ({go}) or the tarball, "
                               f"then run `labctl build-ovnkube` again")
        partial.rename(binary)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    log(f"built ovnkube in {time.monotonic() - started:.0f}s")
    return binary


# --- command lines ------------------------------------------------------------------------

def network_flags(network_spec):
    """ovnkube's flags from the operator's Network "cluster" spec, as the Cluster Network Operator
    renders them: clusterNetwork -> --cluster-subnets CIDR/hostPrefix, serviceNetwork ->
    --k8s-service-cidrs, useMultiNetworkPolicy -> --enable-multi-networkpolicy (ovnkube itself
    never reads the switch; flag names in go-controller/pkg/config/config.go)."""
    subnets = ",".join(f"{e['cidr']}/{e['hostPrefix']}" for e in network_spec.get("clusterNetwork") or [])
    services = ",".join(network_spec.get("serviceNetwork") or [])
    flags = ["--enable-interconnect", "--enable-multi-network", f"--cluster-subnets={subnets}",
             f"--k8s-service-cidrs={services}", f"--ovn-config-namespace={CONFIG_NAMESPACE}"]
    if network_spec.get("useMultiNetworkPolicy"):
        flags.append("--enable-multi-networkpolicy")
    return flags


def cluster_manager_argv(binary, kubeconfig, flags):
    return [str(binary), f"--init-cluster-manager={CLUSTER_MANAGER_NODE}", f"--k8s-kubeconfig={kubeconfig}",
            *flags]


def controller_component(node):
    return f"ovnkube-controller-{node}"


def controller_argv(binary, node, node_dir, kubeconfig, flags):
    """One zone's ovnkube-controller against the node's NB and SB, run under conmon.py as the
    container runtime runs ovnkube-node's `ovnkube-controller` container: its klog lines go to the
    pod's container log (CRI format, served by the kubelet stand-in) and to labctl's log."""
    d = Path(node_dir)
    return [sys.executable, str(CONMON), str(d / CONTAINER_LOG), "--",
            str(binary), f"--init-ovnkube-controller={node}", f"--zone={node}",
            f"--nb-address=unix:{d / 'ovnnb_db.sock'}", f"--sb-address=unix:{d / 'ovnsb_db.sock'}",
            f"--k8s-kubeconfig={kubeconfig}", *flags]


def controller_env(node_dir, node_env):
    """It still runs ovn-nbctl/ovn-sbctl/ovs-vsctl itself: point them at the node."""
    d = Path(node_dir)
    return {**node_env, "OVN_NB_DB": f"unix:{d / 'ovnnb_db.sock'}", "OVN_SB_DB": f"unix:{d / 'ovnsb_db.sock'}"}


# --- the node's NB (ovnkube-node's nbdb container) ----------------------------------------

def nb_schema_with_tier(schema):
    """OVN 23.03's NB schema with ACL.tier as OVN 23.09's ovn-nb.ovsschema defines it (integer
    0..3, default 0) and the `pass` ACL action that came with it. dad2fde5a's libovsdb model
    (go-controller/pkg/nbdb/acl.go, ACL.Tier) refuses a server schema without the column."""
    result = copy.deepcopy(schema)
    columns = result["tables"]["ACL"]["columns"]
    columns["tier"] = {"type": {"key": {"type": "integer", "minInteger": 0, "maxInteger": 3}}}
    actions = columns["action"]["type"]["key"]["enum"][1]
    if "pass" not in actions:
        actions.append("pass")
    return result


def has_tier(schema):
    return "tier" in schema["tables"]["ACL"]["columns"]


def prepare_node(node, node_dir, env, schema_file):
    """NB served with ACL.tier (converted online, so northd and the data stay) and NB_Global's
    name set to the zone: ovnkube-controller takes its zone from it (go-controller/pkg/libovsdb/
    util/nb_global.go GetNBZone) and waits for it to equal --zone."""
    socket = f"unix:{Path(node_dir) / 'ovnnb_db.sock'}"
    served = json.loads(subprocess.run(["ovsdb-client", "get-schema", socket, "OVN_Northbound"], env=env,
                                       check=True, capture_output=True, text=True).stdout)
    if not has_tier(served):
        Path(schema_file).write_text(json.dumps(nb_schema_with_tier(served), indent=1))
        subprocess.run(["ovsdb-client", "convert", socket, str(schema_file)], env=env, check=True,
                       capture_output=True, text=True)
    subprocess.run(["ovn-nbctl", f"--db={socket}", "set", "NB_Global", ".", f"name={node}"], env=env,
                   check=True, capture_output=True, text=True)
