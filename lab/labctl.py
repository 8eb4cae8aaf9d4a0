#!/usr/bin/env python3
"""Lab control plane: a real etcd, kube-apiserver and kube-controller-manager on loopback,
and the data plane (lab/dataplane/): real OVS/OVN per simulated node in network namespaces.

Commands (progress goes to stderr; results to stdout):
  build                                  build and cache the binaries only (ovnkube and, for 4.18, OVN included)
  build-ovnkube                          build and cache the profile's ovnkube from its upstream source tarball only
  build-ovn                              build and cache OVN 24.09 and OVS from the upstream source tarballs
  roll-ovnkube                           restart the ovnkube processes whose flags the Network changed
  up                                     start everything (idempotent); prints the kubeconfig path
  down [--purge]                         stop everything; --purge also deletes etcd data and PKI
  status                                 exit 0 healthy, 1 degraded (names what), 3 not running
  kubeconfig-for-serviceaccount NS NAME  kubeconfig with a TokenRequest token; prints its path
  exec HOST -- CMD...                    run CMD in a LAN host's (HOST) or a VM guest's
                                         (NAMESPACE/VM) network namespace; exits with its code

State lives in $OCPVIRT_LAB_DIR (default <repo>/.lab/, and <repo>/.lab-4.18/ for the 4.18 profile,
so a lab of each profile can exist side by side); binaries are cached per pinned version or
source digest under $OCPVIRT_LAB_CACHE (default ${XDG_CACHE_HOME:-~/.cache}/ocpvirt-multinet-lab/).

`up` runs the real OVN-Kubernetes (controlplane/ovnkube.py): ovnkube built once from the upstream
source tarball and cached like the Kubernetes binaries.

$OCPVIRT_LAB_PROFILE (controlplane/profiles.py) picks the OpenShift era: 4.15 (default: the 4.15
CRDs, ovnkube dad2fde5a, Debian's OVN/OVS) or 4.18 (the 4.18 CRDs, ovnkube 6c366bb49, OVN 24.09.3
and OVS 3.4 built from source, controlplane/ovn.py). Each has its own state folder; a lab whose
data (an explicit $OCPVIRT_LAB_DIR) was made with another profile is refused by `up`, naming the
command that clears it.
"""

import argparse
import json
import os
import shutil
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import yaml
from kubernetes import client, config
from kubernetes.dynamic import DynamicClient

import dataplane  # lab/dataplane/ (this script's directory is on sys.path)
from controlplane import log, ovn, ovnkube, profiles
from controlplane.binaries import (build, build_ovn, build_ovnkube, cached_ovn, etcd_version, file_lock,
                                   kubelet_binary_name, kubernetes_version)
from controlplane.pki import ensure_kubelet_pki, ensure_pki, write_cert_kubeconfig, write_kubeconfig
from controlplane.ports import add_missing_ports, apiserver_url, choose_ports, settings
from controlplane.processes import ensure_running, log_file, running_pid, start, stop
from controlplane.state import (CRD_SET_FILE, ETCD_DATA_DIR, EXEC_TARGETS_DIR, KUBECONFIG, LAB_DIR, PKI_DIR,
                                PROFILE_FILE, REPO_DIR, SERVICE_ACCOUNT_ISSUER, SERVICE_CIDR, SETTINGS_FILE,
                                STATE_DIR)
from simulator import crdsets, olm, ovn_node_pods

FIELD_MANAGER = "ocpvirt-labctl"
LABCTL = ".venv/bin/python lab/labctl.py"  # how the docs run this script, for messages

# Controllers a cluster without kubelets still needs so that namespaced deletion, ownerReference
# garbage collection, ServiceAccounts and aggregated RBAC roles behave as on a real cluster.
CONTROLLERS = ",".join([
    "namespace-controller",
    "garbage-collector-controller",
    "serviceaccount-controller",
    "serviceaccount-token-controller",
    "root-ca-certificate-publisher-controller",
    "clusterrole-aggregation-controller",
])

# Stop order: dependents first, so nothing logs errors about a vanished apiserver or etcd.
COMPONENTS = ["simulator", "kubelet", "kube-controller-manager", "kube-apiserver", "etcd"]


# --- components ---------------------------------------------------------------------------

def etcd_argv(binaries, ports):
    client_url = f"https://127.0.0.1:{ports['etcd_client']}"
    peer_url = f"http://127.0.0.1:{ports['etcd_peer']}"  # single member: no peer traffic flows
    return [str(binaries / "etcd"), "--name=lab", f"--data-dir={ETCD_DATA_DIR}",
            f"--listen-client-urls={client_url}", f"--advertise-client-urls={client_url}",
            f"--listen-peer-urls={peer_url}", f"--initial-advertise-peer-urls={peer_url}",
            f"--initial-cluster=lab={peer_url}",
            f"--cert-file={PKI_DIR / 'etcd-server.crt'}", f"--key-file={PKI_DIR / 'etcd-server.key'}",
            f"--trusted-ca-file={PKI_DIR / 'ca.crt'}", "--client-cert-auth"]


def apiserver_argv(binaries, ports):
    return [str(binaries / "kube-apiserver"),
            "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", f"--secure-port={ports['apiserver']}",
            f"--etcd-servers=https://127.0.0.1:{ports['etcd_client']}",
            f"--etcd-cafile={PKI_DIR / 'ca.crt'}", f"--etcd-certfile={PKI_DIR / 'apiserver-etcd-client.crt'}",
            f"--etcd-keyfile={PKI_DIR / 'apiserver-etcd-client.key'}",
            f"--tls-cert-file={PKI_DIR / 'apiserver.crt'}", f"--tls-private-key-file={PKI_DIR / 'apiserver.key'}",
            f"--client-ca-file={PKI_DIR / 'ca.crt'}",
            "--authorization-mode=RBAC",
            f"--service-account-issuer={SERVICE_ACCOUNT_ISSUER}",
            f"--service-account-signing-key-file={PKI_DIR / 'sa.key'}",
            f"--service-account-key-file={PKI_DIR / 'sa.pub'}",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            # pods/exec goes to the kubelet stand-in: every simulated node's InternalDNS address is
            # 127.0.0.1 (lab/simulator/nodes.py), so no other address is ever dialled.
            f"--kubelet-client-certificate={PKI_DIR / 'apiserver-kubelet-client.crt'}",
            f"--kubelet-client-key={PKI_DIR / 'apiserver-kubelet-client.key'}",
            f"--kubelet-certificate-authority={PKI_DIR / 'ca.crt'}",
            "--kubelet-preferred-address-types=InternalDNS",
            # The "kubernetes" Service keeps its ClusterIP, but its Endpoints would have to be the
            # loopback advertise address, which validation rejects; nothing in the lab needs them.
            "--endpoint-reconciler-type=none",
            "--allow-privileged=true", "--profiling=false"]


def controller_manager_argv(binaries, ports):
    kubeconfig = str(STATE_DIR / "controller-manager.kubeconfig")
    return [str(binaries / "kube-controller-manager"),
            # No --authentication/--authorization-kubeconfig: its port only serves the /healthz
            # probe (always allowed), and delegated authn would need a front-proxy CA.
            f"--kubeconfig={kubeconfig}",
            "--bind-address=127.0.0.1", f"--secure-port={ports['controller_manager']}",
            f"--cert-dir={STATE_DIR / 'controller-manager-certs'}",
            f"--controllers={CONTROLLERS}",
            # As kubeadm does: each controller acts as its own ServiceAccount with its own RBAC
            # role, so the controller-manager identity itself only needs bootstrap rights.
            "--use-service-account-credentials=true",
            f"--service-account-private-key-file={PKI_DIR / 'sa.key'}",
            f"--root-ca-file={PKI_DIR / 'ca.crt'}",
            "--leader-elect=false", "--profiling=false"]


def kubelet_argv(binaries, ports):
    return [str(binaries / kubelet_binary_name()), f"--listen=127.0.0.1:{ports['kubelet']}",
            f"--tls-cert-file={PKI_DIR / 'kubelet.crt'}", f"--tls-private-key-file={PKI_DIR / 'kubelet.key'}",
            f"--client-ca-file={PKI_DIR / 'ca.crt'}", f"--exec-targets={EXEC_TARGETS_DIR}"]


def simulator_argv(upstream_crds, profile):
    argv = [sys.executable, "-m", "simulator", "--kubeconfig", str(KUBECONFIG), "--state-dir", str(STATE_DIR),
            "--rejected-writes-log", str(log_file("simulator-rejected")), "--profile", profile.name]
    return argv + (["--upstream-crds", str(upstream_crds)] if upstream_crds else [])


def ovnkube_components():
    """The ovnkube processes, in stop order (controllers, then cluster-manager)."""
    return [ovnkube.controller_component(node) for node in dataplane.data_plane_nodes()] + \
        [ovnkube.CLUSTER_MANAGER]


def network_spec():
    """The operator's Network "cluster" spec, which the Cluster Network Operator renders into
    ovnkube's flags."""
    dynamic = DynamicClient(api_client())
    networks = dynamic.resources.get(api_version="operator.openshift.io/v1", kind="Network")
    return networks.get(name="cluster").to_dict().get("spec") or {}


def start_ovnkube(binary):
    """The Cluster Network Operator's and ovnkube-node's part for the real OVN-Kubernetes: the
    nodes' NB ready for it, then cluster-manager and one ovnkube-controller per zone."""
    flags = ovnkube.network_flags(network_spec())
    for node in dataplane.data_plane_nodes():
        directory = dataplane.node_dir(STATE_DIR, node)
        ovnkube.prepare_node(node, directory, dataplane.node_env(STATE_DIR, node),
                             dataplane.topology.ovn_dir(STATE_DIR) / "ovn-nb-with-tier.ovsschema")
    start(ovnkube.CLUSTER_MANAGER, ovnkube.cluster_manager_argv(binary, KUBECONFIG, flags))
    for node in dataplane.data_plane_nodes():
        directory = dataplane.node_dir(STATE_DIR, node)
        start(ovnkube.controller_component(node), ovnkube.controller_argv(binary, node, directory, KUBECONFIG, flags),
              env=ovnkube.controller_env(directory, dataplane.node_env(STATE_DIR, node)))


# --- health -------------------------------------------------------------------------------

def admin_tls_context():
    context = ssl.create_default_context(cafile=str(PKI_DIR / "ca.crt"))
    context.load_cert_chain(str(PKI_DIR / "admin.crt"), str(PKI_DIR / "admin.key"))
    return context


def https_ok(url, context):
    try:
        with urllib.request.urlopen(url, context=context, timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


def apiserver_ready():
    return bool(SETTINGS_FILE.exists() and (PKI_DIR / "admin.crt").exists()
                and https_ok(f"{apiserver_url()}/readyz", admin_tls_context()))


def controller_manager_healthy():
    # Its serving certificate is self-signed in --cert-dir; this probe only asks "is it up" on
    # loopback, so skipping verification leaks nothing.
    context = ssl._create_unverified_context()
    return https_ok(f"https://127.0.0.1:{settings()['controller_manager']}/healthz", context)


def kubelet_healthy(ports):
    return https_ok(f"https://127.0.0.1:{ports['kubelet']}/healthz", admin_tls_context())


def wait_until(description, check, component, timeout=120):
    deadline = time.monotonic() + timeout
    while not check():
        ensure_running(component)
        if time.monotonic() > deadline:
            sys.exit(f"labctl: timed out after {timeout}s waiting for {description}; see {log_file(component)}")
        time.sleep(0.5)


def etcd_ready(ports):
    context = ssl.create_default_context(cafile=str(PKI_DIR / "ca.crt"))
    context.load_cert_chain(str(PKI_DIR / "apiserver-etcd-client.crt"), str(PKI_DIR / "apiserver-etcd-client.key"))
    return https_ok(f"https://127.0.0.1:{ports['etcd_client']}/health", context)


# --- manifests ----------------------------------------------------------------------------

def api_client(kubeconfig=KUBECONFIG):
    return config.new_client_from_config(config_file=str(kubeconfig))


def yaml_documents(directory):
    for path in sorted(directory.rglob("*")):
        if path.suffix in (".yaml", ".yml") and path.is_file():
            for document in yaml.safe_load_all(path.read_text()):
                if document:
                    yield path, document


def server_side_apply(dynamic, document):
    resource = dynamic.resources.get(api_version=document["apiVersion"], kind=document["kind"])
    metadata = document["metadata"]
    return resource.server_side_apply(body=document, name=metadata["name"],
                                      namespace=metadata.get("namespace") if resource.namespaced else None,
                                      field_manager=FIELD_MANAGER, force_conflicts=True)


def apply_documents(dynamic, documents, source):
    for document in documents:
        log(f"applying {document['kind']}/{document['metadata']['name']} from {source}")
        server_side_apply(dynamic, document)


def crds_established(dynamic, names):
    crds = dynamic.resources.get(api_version="apiextensions.k8s.io/v1", kind="CustomResourceDefinition")
    for name in names:
        conditions = crds.get(name=name).to_dict().get("status", {}).get("conditions") or []
        if not any(c["type"] == "Established" and c["status"] == "True" for c in conditions):
            return False
    return True


def apply_lab_manifests(upstream, profile):
    """The base CRDs (upstream where there are, see simulator/crdsets.py), then the base objects."""
    crds, kept = crdsets.base_crds(upstream)
    dynamic = DynamicClient(api_client())
    for crd in crds:
        own = crd["metadata"]["name"] in kept or upstream is None
        apply_documents(dynamic, [crd], "lab/crds/base" if own else upstream)
    names = [crd["metadata"]["name"] for crd in crds]
    wait_until("CRDs to be Established", lambda: crds_established(dynamic, names), "kube-apiserver", 60)
    objects = LAB_DIR / "crds" / "base-objects"
    # A fresh client: discovery must see the resources the CRDs just added.
    dynamic = DynamicClient(api_client())
    for path, document in yaml_documents(objects):
        apply_documents(dynamic, [olm.catalog_object(document, profile.era)], path.relative_to(REPO_DIR))
    return crdsets.describe(upstream, kept, crdsets.upstream_location(folder=profile.crds), profile.name)


# --- profile ------------------------------------------------------------------------------

def recorded_profile():
    """The profile the lab's etcd data was made with; None for a lab without data. Data from
    before profiles existed is 4.15's."""
    if not ETCD_DATA_DIR.exists():
        return None
    return PROFILE_FILE.read_text().strip() if PROFILE_FILE.exists() else profiles.DEFAULT


def running_profile():
    """The profile of the lab as it is (for down, status, roll-ovnkube), else the selected one."""
    recorded = recorded_profile()
    return profiles.PROFILES.get(recorded) or profiles.selected(os.environ)


def use_ovn(profile, build_it):
    """The profile's OVN/OVS first on PATH for this process and all it starts; its prefix, or None
    for Debian's. Without `build_it` a missing build is left missing (nothing runs from it)."""
    if profile.ovn != profiles.BUILT:
        return None
    prefix = build_ovn() if build_it else cached_ovn()
    if prefix is not None:
        os.environ["PATH"] = profiles.path_with_ovn(prefix, os.environ.get("PATH", ""))
    return prefix


def program_version(program):
    """The first line of `program --version` and where it is, e.g. "ovn-northd 24.09.3 (/usr/bin/...)"."""
    path = shutil.which(program) or shutil.which(program, path="/usr/sbin:/sbin")
    if not path:
        return f"{program}: not found"
    done = subprocess.run([path, "--version"], capture_output=True, text=True, check=False, timeout=10)
    return f"{(done.stdout.splitlines() or ['?'])[0]} ({path})"


def reported_cluster_version():
    try:
        dynamic = DynamicClient(api_client())
        versions = dynamic.resources.get(api_version="config.openshift.io/v1", kind="ClusterVersion")
        desired = (versions.get(name="version").to_dict().get("status") or {}).get("desired") or {}
    except Exception as error:  # pylint: disable=broad-except  # status reports, never fails on it
        return f"not readable ({error.__class__.__name__})"
    return f"{desired.get('version', 'none yet')} (channels {', '.join(desired.get('channels') or []) or 'none'})"


# --- commands -----------------------------------------------------------------------------

def state_lock():
    """Serialise concurrent up/down (parallel test sessions, make targets) on one state dir."""
    return file_lock(STATE_DIR / "lock")


def up():
    profile = profiles.selected(os.environ)
    refusal = profiles.switch_refusal(recorded_profile(), profile, LABCTL)
    if refusal:
        sys.exit(f"labctl: {refusal}")
    use_ovn(profile, build_it=True)
    binaries = build()
    ovnkube_binary = build_ovnkube(profile.ovnkube_commit)
    with state_lock():
        log(f"lab profile {profile.name}: CRDs {profile.crds}, ovnkube {profile.ovnkube_commit}, "
            f"OVN/OVS {profile.ovn}, OpenShift {profile.openshift_version}")
        PROFILE_FILE.parent.mkdir(parents=True, exist_ok=True)
        PROFILE_FILE.write_text(profile.name + "\n")
        ensure_pki()
        ensure_kubelet_pki()
        # Components still running hold their ports; only a fully stopped lab may move.
        ports = add_missing_ports(settings()) if any(running_pid(c) for c in COMPONENTS) else choose_ports()
        start("etcd", etcd_argv(binaries, ports))
        wait_until("etcd", lambda: etcd_ready(ports), "etcd")
        start("kube-apiserver", apiserver_argv(binaries, ports))
        write_cert_kubeconfig(KUBECONFIG, cert_name="admin", user_name="lab-admin")
        wait_until("kube-apiserver /readyz", apiserver_ready, "kube-apiserver")
        write_cert_kubeconfig(STATE_DIR / "controller-manager.kubeconfig", cert_name="controller-manager",
                              user_name="system:kube-controller-manager")
        start("kube-controller-manager", controller_manager_argv(binaries, ports))
        wait_until("kube-controller-manager /healthz", controller_manager_healthy, "kube-controller-manager")
        upstream = crdsets.upstream_dir(folder=profile.crds)
        crd_set = apply_lab_manifests(upstream, profile)
        previous = CRD_SET_FILE.read_text().strip() if CRD_SET_FILE.exists() else None
        if previous != crd_set:  # a running simulator installs the operators' CRDs of the old set
            stop("simulator")
        CRD_SET_FILE.write_text(crd_set + "\n")
        log(f"CRDs: {crd_set}")
        start("kubelet", kubelet_argv(binaries, ports))
        wait_until("kubelet stand-in /healthz", lambda: kubelet_healthy(ports), "kubelet")
        # Before the simulator: its kubelet plugs pods into the nodes' br-int.
        dataplane.up(STATE_DIR, log)
        if (LAB_DIR / "simulator" / "__main__.py").exists():
            start("simulator", simulator_argv(upstream, profile), cwd=LAB_DIR)
            # `up` returns a settled lab: what the simulator creates at startup (the ovnkube-node
            # namespace and one running pod per node) is there before anyone looks at the cluster.
            wait_until("the simulated ovnkube-node pods to run", ovnkube_node_pods_running, "simulator")
        start_ovnkube(ovnkube_binary)
    print(KUBECONFIG)


def roll_ovnkube():
    """What the Cluster Network Operator does when the Network changes: ovnkube with the flags
    rendered anew (start() restarts a process only when its command line changed). The
    simulator's OvnkubeRollout runs it; a lab whose ovnkube `down` stopped is left alone."""
    with state_lock():
        if running_pid(ovnkube.CLUSTER_MANAGER):
            profile = running_profile()
            use_ovn(profile, build_it=False)
            start_ovnkube(build_ovnkube(profile.ovnkube_commit))


def ovnkube_node_pods_running():
    api = api_client()
    try:
        pods = client.CoreV1Api(api).list_namespaced_pod(ovn_node_pods.NAMESPACE,
                                                         label_selector=f"app={ovn_node_pods.APP}").items
    finally:
        api.close()
    running = {pod.spec.node_name for pod in pods if pod.status.phase == "Running"}
    return set(dataplane.data_plane_nodes()) <= running


def down(purge):
    with state_lock():
        for component in ovnkube_components():  # they write the nodes' NB
            stop(component)
        stop("simulator")  # it plugs namespaces into the data plane
        dataplane.down(STATE_DIR, log)
        for component in COMPONENTS:
            stop(component)
        if purge:
            log(f"removing etcd data and PKI under {STATE_DIR}")
            shutil.rmtree(ETCD_DATA_DIR, ignore_errors=True)
            shutil.rmtree(PKI_DIR, ignore_errors=True)
            shutil.rmtree(STATE_DIR / "ovn", ignore_errors=True)  # the data plane's logs
            SETTINGS_FILE.unlink(missing_ok=True)
            PROFILE_FILE.unlink(missing_ok=True)


def expected_components():
    has_simulator = (LAB_DIR / "simulator" / "__main__.py").exists()
    return ovnkube_components() + [c for c in COMPONENTS if c != "simulator" or has_simulator]


def status():
    running = {c: running_pid(c) for c in expected_components()}
    for component, pid in running.items():
        print(f"{component:26} {'running, pid ' + str(pid) if pid else 'not running'}")
    data_plane = dataplane.status(STATE_DIR)
    for component, pid, problem in data_plane:
        print(f"{component:26} {problem or ('running, pid ' + str(pid) if pid else 'ok')}")
    if not any(running.values()) and not dataplane.anything_running(STATE_DIR):
        return 3
    ready = apiserver_ready()
    print(f"{'kube-apiserver /readyz':26} {'ok' if ready else 'failing'}")
    print(f"{'kubeconfig':26} {KUBECONFIG}")
    print_versions(running_profile(), ready)
    broken = [c for c, pid in running.items() if not pid] + [f"{c}: {p}" for c, _, p in data_plane if p]
    if broken:
        log(f"degraded: {'; '.join(broken)}")
    return 0 if ready and not broken else 1


def print_versions(profile, apiserver_up):
    """The profile and every version the lab runs, from the binaries and the API where they tell."""
    selected = os.environ.get(profiles.ENV) or profiles.DEFAULT
    note = "" if selected == profile.name else f"; {profiles.ENV} selects {selected}: `{LABCTL} down --purge` first"
    print(f"{'lab profile':26} {profile.name}{note}")
    print(f"{'OpenShift (ClusterVersion)':26} "
          f"{reported_cluster_version() if apiserver_up else 'API not ready'}")
    print(f"{'Kubernetes':26} {kubernetes_version()} (etcd {etcd_version()})")
    if CRD_SET_FILE.exists():
        print(f"{'CRDs':26} {CRD_SET_FILE.read_text().strip()}")
    print(f"{'OVN-Kubernetes':26} ovnkube {profile.ovnkube_commit}")
    print(f"{'OVN':26} {program_version('ovn-northd')}")
    print(f"{'Open vSwitch':26} {program_version('ovs-vswitchd')}")


def kubeconfig_for_serviceaccount(namespace, name, expiration_seconds):
    core = client.CoreV1Api(api_client())
    request = client.AuthenticationV1TokenRequest(
        spec=client.V1TokenRequestSpec(audiences=[], expiration_seconds=expiration_seconds))
    token = core.create_namespaced_service_account_token(name, namespace, request).status.token
    path = STATE_DIR / f"sa-{namespace}-{name}.kubeconfig"
    print(write_kubeconfig(path, f"{namespace}-{name}", {"token": token}))


def exec_target_path(host):
    """HOST is a LAN host name (hosts/<host>.json) or NAMESPACE/VM (guests/<ns>/<vm>.json)."""
    namespace, slash, name = host.partition("/")
    if slash:
        return EXEC_TARGETS_DIR / "guests" / namespace / f"{name}.json"
    return EXEC_TARGETS_DIR / "hosts" / f"{host}.json"


def known_exec_hosts():
    hosts = sorted(p.stem for p in (EXEC_TARGETS_DIR / "hosts").glob("*.json"))
    guests = sorted(f"{p.parent.name}/{p.stem}" for p in (EXEC_TARGETS_DIR / "guests").glob("*/*.json"))
    return hosts + guests


def netns_argv(target, command):
    """`ip netns exec <netns> env <K=V...> <command...>`, as the kubelet stand-in runs pods' commands."""
    return ["ip", "netns", "exec", target["netns"], "env",
            *(f"{key}={value}" for key, value in sorted((target.get("env") or {}).items())), *command]


def exec_host(host, command):
    path = exec_target_path(host)
    if ".." in Path(host).parts or not path.is_file():
        sys.exit(f"labctl: exec: unknown host {host!r}; known: {', '.join(known_exec_hosts()) or f'none in {EXEC_TARGETS_DIR}'}")
    return subprocess.run(netns_argv(json.loads(path.read_text()), command), check=False).returncode


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("build", help="build and cache the control-plane binaries and ovnkube")
    commands.add_parser("build-ovnkube", help="build and cache ovnkube from the upstream source tarball")
    commands.add_parser("build-ovn", help="build and cache OVN 24.09 and OVS from the upstream source tarballs")
    commands.add_parser("roll-ovnkube", help="restart the ovnkube processes whose flags the Network changed")
    commands.add_parser("up", help="start the lab (idempotent); prints the kubeconfig path")
    down_parser = commands.add_parser("down", help="stop the lab (idempotent)")
    down_parser.add_argument("--purge", action="store_true", help="also delete etcd data and PKI")
    commands.add_parser("status", help="exit 0 healthy, 1 degraded, 3 not running")
    sa = commands.add_parser("kubeconfig-for-serviceaccount", help="kubeconfig with a ServiceAccount token")
    sa.add_argument("namespace")
    sa.add_argument("name")
    sa.add_argument("--expiration-seconds", type=int, default=3600)
    run = commands.add_parser("exec", help="run a command in a LAN host's or VM guest's network namespace")
    run.add_argument("host", help="LAN host (gateway, outside-vm, internet) or NAMESPACE/VM")
    run.add_argument("cmd", nargs="+", help="the command, after --")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        return run_command(args)
    except (dataplane.DataPlaneError, ovnkube.OvnkubeError, ovn.OvnBuildError, profiles.ProfileError) as error:
        sys.exit(f"labctl: {error}")


def run_command(args):
    if args.command == "build":
        profile = profiles.selected(os.environ)
        print(build())
        print(build_ovnkube(profile.ovnkube_commit))
        if profile.ovn == profiles.BUILT:
            print(build_ovn())
    elif args.command == "build-ovnkube":
        print(build_ovnkube(profiles.selected(os.environ).ovnkube_commit))
    elif args.command == "build-ovn":
        print(build_ovn())
    elif args.command == "roll-ovnkube":
        roll_ovnkube()
    elif args.command == "up":
        up()
    elif args.command == "down":
        use_ovn(running_profile(), build_it=False)
        down(args.purge)
    elif args.command == "status":
        use_ovn(running_profile(), build_it=False)
        return status()
    elif args.command == "kubeconfig-for-serviceaccount":
        kubeconfig_for_serviceaccount(args.namespace, args.name, args.expiration_seconds)
    elif args.command == "exec":
        return exec_host(args.host, args.cmd)
    return 0


if __name__ == "__main__":
    sys.exit(main())
