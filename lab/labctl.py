#!/usr/bin/env python3
"""Lab control plane: a real etcd, kube-apiserver and kube-controller-manager on loopback,
and the data plane (lab/dataplane/): real OVS/OVN per simulated node in network namespaces.

Commands (progress goes to stderr; results to stdout):
  build                                  build and cache the binaries only
  build-ovnkube                          build and cache ovnkube from the upstream source tarball
  roll-ovnkube                           real mode: restart ovnkube whose flags the Network changed
  up                                     start everything (idempotent); prints the kubeconfig path
  down [--purge]                         stop everything; --purge also deletes etcd data and PKI
  status                                 exit 0 healthy, 1 degraded (names what), 3 not running
  kubeconfig-for-serviceaccount NS NAME  kubeconfig with a TokenRequest token; prints its path
  exec HOST -- CMD...                    run CMD in a LAN host's (HOST) or a VM guest's
                                         (NAMESPACE/VM) network namespace; exits with its code

State lives in $OCPVIRT_LAB_DIR (default <repo>/.lab/); binaries are cached per pinned
version under ${XDG_CACHE_HOME:-~/.cache}/ocpvirt-multinet-lab/.

OCPVIRT_LAB_OVNK=real makes `up` run the real OVN-Kubernetes (controlplane/ovnkube.py) instead of
the simulator's emulation of it; the default is `emulated`.
"""

import argparse
import base64
import contextlib
import datetime
import fcntl
import hashlib
import ipaddress
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from kubernetes import client, config
from kubernetes.dynamic import DynamicClient

import dataplane  # lab/dataplane/ (this script's directory is on sys.path)
from controlplane import ovnkube
from simulator import crdsets, ovn_node_pods

LAB_DIR = Path(__file__).resolve().parent
REPO_DIR = LAB_DIR.parent
STATE_DIR = Path(os.environ.get("OCPVIRT_LAB_DIR") or REPO_DIR / ".lab").resolve()
PKI_DIR = STATE_DIR / "pki"
ETCD_DATA_DIR = STATE_DIR / "etcd-data"
KUBECONFIG = STATE_DIR / "kubeconfig"
SETTINGS_FILE = STATE_DIR / "settings.json"
EXEC_TARGETS_DIR = STATE_DIR / "exec-targets"  # written by the data plane and the simulator (DATAPLANE.md)
CRD_SET_FILE = STATE_DIR / "crd-set.txt"  # which CRD set `up` installed, for `status`
OVNK_MODE_FILE = STATE_DIR / "ovnkube-mode.txt"  # which OVN-Kubernetes `up` ran, for `status`

CLUSTER_NAME = "ocpvirt-lab"
SERVICE_CIDR = "10.96.0.0/24"
SERVICE_ACCOUNT_ISSUER = "https://kubernetes.default.svc.cluster.local"
# Preferred loopback ports; below Linux's ephemeral range (32768+) so that outgoing
# connections cannot occupy them between runs. Busy ones are replaced by any free port.
PREFERRED_PORTS = {"apiserver": 6443, "etcd_client": 22379, "etcd_peer": 22380, "controller_manager": 20257,
                   "kubelet": 10250}
FIELD_MANAGER = "ocpvirt-labctl"

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


def log(message):
    print(f"labctl: {message}", file=sys.stderr, flush=True)


# --- binaries -----------------------------------------------------------------------------

def pinned_version(go_mod, module):
    match = re.search(rf"^\s*(?:require\s+)?{re.escape(module)}\s+(v\S+)", go_mod.read_text(), re.M)
    if not match:
        sys.exit(f"labctl: {go_mod} does not pin {module}")
    return match.group(1)


def kubernetes_version():
    return pinned_version(LAB_DIR / "kube" / "go.mod", "k8s.io/kubernetes")


def etcd_version():
    return pinned_version(LAB_DIR / "etcd" / "go.mod", "go.etcd.io/etcd/server/v3")


def cache_root():
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ocpvirt-multinet-lab"


def bin_dir():
    return cache_root() / f"k8s-{kubernetes_version()}_etcd-{etcd_version()}" / "bin"


def go_tool():
    go = os.environ.get("GO") or shutil.which("go") or "/usr/local/go/bin/go"
    if not Path(go).exists() and not shutil.which(go):
        sys.exit("labctl: no Go toolchain found (set GO=/path/to/go)")
    return go


def version_ldflags(version):
    major, minor = version.lstrip("v").split(".")[:2]
    pkg = "k8s.io/component-base/version"
    # The release tooling stamps these; without them the binaries report v0.0.0 to clients.
    return (f"-X {pkg}.gitVersion={version} -X {pkg}.gitMajor={major} "
            f"-X {pkg}.gitMinor={minor} -X {pkg}.gitTreeState=clean")


def kubelet_binary_name():
    """The kubelet stand-in is lab code, not a pinned release: its cache name carries a digest of
    its sources, so a changed stand-in is rebuilt next to the pinned binaries."""
    digest = hashlib.sha256()
    for path in sorted((LAB_DIR / "kubelet").glob("*")):
        if path.suffix in (".go", ".mod", ".sum"):
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return f"kubelet-standin-{digest.hexdigest()[:12]}"


def build_targets():
    k8s = kubernetes_version()
    return {
        kubelet_binary_name(): (LAB_DIR / "kubelet", ".", ""),
        "etcd": (LAB_DIR / "etcd", ".", ""),
        "kube-apiserver": (LAB_DIR / "kube", "k8s.io/kubernetes/cmd/kube-apiserver", version_ldflags(k8s)),
        "kube-controller-manager": (LAB_DIR / "kube", "k8s.io/kubernetes/cmd/kube-controller-manager",
                                    version_ldflags(k8s)),
    }


def build():
    target_dir = bin_dir()
    with file_lock(target_dir / ".build.lock"):
        for name, (module_dir, package, ldflags) in build_targets().items():
            build_binary(target_dir / name, module_dir, package, ldflags)
    return target_dir


def build_ovnkube():
    with file_lock(cache_root() / ".ovnkube-build.lock"):
        return ovnkube.build(ovnkube.tarball(repo_dir=REPO_DIR), cache_root(), go_tool(), log)


def build_binary(binary, module_dir, package, ldflags):
    if binary.exists():
        return
    log(f"building {binary.name} into {binary.parent} (first build takes minutes)")
    started = time.monotonic()
    partial = binary.with_suffix(".partial")
    # -mod=readonly: go.sum is committed and the build must not silently change it.
    subprocess.run([go_tool(), "build", "-mod=readonly", "-trimpath",
                    f"-ldflags=-s -w {ldflags}".strip(), "-o", str(partial), package],
                   cwd=module_dir, check=True, stdout=sys.stderr)
    partial.rename(binary)
    log(f"built {binary.name} in {time.monotonic() - started:.0f}s")


@contextlib.contextmanager
def file_lock(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


# --- PKI ----------------------------------------------------------------------------------

def write_private_key(path, key):
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.TraditionalOpenSSL,
                                       serialization.NoEncryption()))
    path.chmod(0o600)


def write_certificate(path, cert):
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def new_certificate(subject_cn, organization, issuer, issuer_key, public_key, *, is_ca=False,
                    server_names=(), client=False):
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, subject_cn)]
    if organization:
        attributes.insert(0, x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    subject = x509.Name(attributes)
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder()
               .subject_name(subject)
               .issuer_name(issuer or subject)
               .public_key(public_key)
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5))
               .not_valid_after(now + datetime.timedelta(days=365))
               .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True))
    if is_ca:
        builder = builder.add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False, False),
                                        critical=True)
    else:
        usages = ([ExtendedKeyUsageOID.SERVER_AUTH] if server_names else []) + \
                 ([ExtendedKeyUsageOID.CLIENT_AUTH] if client else [])
        builder = builder.add_extension(x509.ExtendedKeyUsage(usages), critical=False)
    if server_names:
        builder = builder.add_extension(x509.SubjectAlternativeName(list(server_names)), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def server_names(*dns_names, ips=("127.0.0.1",)):
    return [x509.DNSName(n) for n in dns_names] + [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]


def issue(ca_cert, ca_key, name, cn, organization=None, *, names=(), client=False):
    key = ec.generate_private_key(ec.SECP256R1())
    cert = new_certificate(cn, organization, ca_cert.subject, ca_key, key.public_key(),
                           server_names=names, client=client)
    write_private_key(PKI_DIR / f"{name}.key", key)
    write_certificate(PKI_DIR / f"{name}.crt", cert)


def ensure_pki():
    if (PKI_DIR / "ca.crt").exists():
        return
    log(f"generating CA, certificates and the service-account signing key in {PKI_DIR}")
    PKI_DIR.mkdir(parents=True, exist_ok=True)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = new_certificate(f"{CLUSTER_NAME}-ca", None, None, ca_key, ca_key.public_key(), is_ca=True)
    # The first service IP is where in-cluster clients reach "kubernetes.default".
    first_service_ip = str(next(ipaddress.ip_network(SERVICE_CIDR).hosts()))
    issue(ca_cert, ca_key, "apiserver", "kube-apiserver",
          names=server_names("localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
                             "kubernetes.default.svc.cluster.local", ips=("127.0.0.1", first_service_ip)))
    issue(ca_cert, ca_key, "etcd-server", "etcd", names=server_names("localhost"))
    issue(ca_cert, ca_key, "apiserver-etcd-client", "kube-apiserver-etcd-client", client=True)
    # system:masters is the cluster-admin group that RBAC bootstraps; the lab admin is that.
    issue(ca_cert, ca_key, "admin", "lab-admin", "system:masters", client=True)
    issue(ca_cert, ca_key, "controller-manager", "system:kube-controller-manager", client=True)
    sa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    write_private_key(PKI_DIR / "sa.key", sa_key)
    (PKI_DIR / "sa.pub").write_bytes(sa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    write_private_key(PKI_DIR / "ca.key", ca_key)
    write_certificate(PKI_DIR / "ca.crt", ca_cert)  # written last: its presence means "PKI complete"


def ensure_kubelet_pki():
    """The kubelet stand-in's serving certificate and kube-apiserver's client certificate for it,
    added to a PKI made before the stand-in existed too."""
    if (PKI_DIR / "apiserver-kubelet-client.crt").exists():
        return
    ca_cert = x509.load_pem_x509_certificate((PKI_DIR / "ca.crt").read_bytes())
    ca_key = serialization.load_pem_private_key((PKI_DIR / "ca.key").read_bytes(), password=None)
    issue(ca_cert, ca_key, "kubelet", "kubelet-standin", names=server_names("localhost"))
    # kubeadm's name for the identity the apiserver presents to kubelets.
    issue(ca_cert, ca_key, "apiserver-kubelet-client", "kube-apiserver-kubelet-client", client=True)


# --- kubeconfigs --------------------------------------------------------------------------

def b64_file(path):
    return base64.b64encode(path.read_bytes()).decode()


def write_kubeconfig(path, user_name, user):
    kubeconfig = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": CLUSTER_NAME, "cluster": {
            "server": apiserver_url(), "certificate-authority-data": b64_file(PKI_DIR / "ca.crt")}}],
        "users": [{"name": user_name, "user": user}],
        "contexts": [{"name": f"{user_name}@{CLUSTER_NAME}",
                      "context": {"cluster": CLUSTER_NAME, "user": user_name}}],
        "current-context": f"{user_name}@{CLUSTER_NAME}",
    }
    path.write_text(json.dumps(kubeconfig, indent=2))  # JSON is valid kubeconfig YAML
    path.chmod(0o600)
    return path


def write_cert_kubeconfig(path, cert_name, user_name):
    return write_kubeconfig(path, user_name, {
        "client-certificate-data": b64_file(PKI_DIR / f"{cert_name}.crt"),
        "client-key-data": b64_file(PKI_DIR / f"{cert_name}.key"),
    })


# --- ports and settings -------------------------------------------------------------------

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


# --- processes ----------------------------------------------------------------------------

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


def simulator_argv(upstream_crds, ovnk_mode):
    argv = [sys.executable, "-m", "simulator", "--kubeconfig", str(KUBECONFIG), "--state-dir", str(STATE_DIR),
            "--rejected-writes-log", str(log_file("simulator-rejected"))]
    # Only in real mode, so the default command line (and a running lab's simulator) stays as it was.
    return argv + (["--upstream-crds", str(upstream_crds)] if upstream_crds else []) + \
        (["--ovnkube", ovnk_mode] if ovnk_mode != "emulated" else [])


def ovnkube_components():
    """The ovnkube processes real mode runs, in stop order (controllers, then cluster-manager)."""
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


def apply_lab_manifests(upstream):
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
        apply_documents(dynamic, [document], path.relative_to(REPO_DIR))
    return crdsets.describe(upstream, kept, crdsets.upstream_location())


# --- commands -----------------------------------------------------------------------------

def state_lock():
    """Serialise concurrent up/down (parallel test sessions, make targets) on one state dir."""
    return file_lock(STATE_DIR / "lock")


def up():
    binaries = build()
    ovnk_mode = ovnkube.mode()
    ovnkube_binary = build_ovnkube() if ovnk_mode == "real" else None
    with state_lock():
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
        upstream = crdsets.upstream_dir()
        crd_set = apply_lab_manifests(upstream)
        previous = CRD_SET_FILE.read_text().strip() if CRD_SET_FILE.exists() else None
        if previous != crd_set:  # a running simulator installs the operators' CRDs of the old set
            stop("simulator")
        CRD_SET_FILE.write_text(crd_set + "\n")
        log(f"CRDs: {crd_set}")
        start("kubelet", kubelet_argv(binaries, ports))
        wait_until("kubelet stand-in /healthz", lambda: kubelet_healthy(ports), "kubelet")
        # Before the simulator: its kubelet plugs pods into the nodes' br-int.
        dataplane.up(STATE_DIR, log)
        if ovnk_mode == "emulated":
            for component in ovnkube_components():  # a lab that ran the real one before
                stop(component)
        OVNK_MODE_FILE.write_text(ovnk_mode + "\n")
        if (LAB_DIR / "simulator" / "__main__.py").exists():
            start("simulator", simulator_argv(upstream, ovnk_mode), cwd=LAB_DIR)
            # `up` returns a settled lab: what the simulator creates at startup (the ovnkube-node
            # namespace and one running pod per node) is there before anyone looks at the cluster.
            wait_until("the simulated ovnkube-node pods to run", ovnkube_node_pods_running, "simulator")
        if ovnkube_binary:
            start_ovnkube(ovnkube_binary)
    print(KUBECONFIG)


def real_ovnkube_running():
    return OVNK_MODE_FILE.exists() and OVNK_MODE_FILE.read_text().strip() == "real"


def roll_ovnkube():
    """What the Cluster Network Operator does when the Network changes: ovnkube with the flags
    rendered anew (start() restarts a process only when its command line changed). The
    simulator's OvnkubeRollout runs it in real mode; a lab not in real mode is left alone."""
    with state_lock():
        if real_ovnkube_running():
            start_ovnkube(build_ovnkube())


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


def expected_components():
    has_simulator = (LAB_DIR / "simulator" / "__main__.py").exists()
    return (ovnkube_components() if real_ovnkube_running() else []) + \
        [c for c in COMPONENTS if c != "simulator" or has_simulator]


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
    if CRD_SET_FILE.exists():
        print(f"{'CRDs':26} {CRD_SET_FILE.read_text().strip()}")
    if OVNK_MODE_FILE.exists():
        print(f"{'OVN-Kubernetes':26} {OVNK_MODE_FILE.read_text().strip()}")
    broken = [c for c, pid in running.items() if not pid] + [f"{c}: {p}" for c, _, p in data_plane if p]
    if broken:
        log(f"degraded: {'; '.join(broken)}")
    return 0 if ready and not broken else 1


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
    commands.add_parser("build", help="build and cache the control-plane binaries")
    commands.add_parser("build-ovnkube", help="build and cache ovnkube from the upstream source tarball")
    commands.add_parser("roll-ovnkube", help="real mode: restart the ovnkube processes whose flags changed")
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
    except (dataplane.DataPlaneError, ovnkube.OvnkubeError) as error:
        sys.exit(f"labctl: {error}")


def run_command(args):
    if args.command == "build":
        print(build())
    elif args.command == "build-ovnkube":
        print(build_ovnkube())
    elif args.command == "roll-ovnkube":
        roll_ovnkube()
    elif args.command == "up":
        up()
    elif args.command == "down":
        down(args.purge)
    elif args.command == "status":
        return status()
    elif args.command == "kubeconfig-for-serviceaccount":
        kubeconfig_for_serviceaccount(args.namespace, args.name, args.expiration_seconds)
    elif args.command == "exec":
        return exec_host(args.host, args.cmd)
    return 0


if __name__ == "__main__":
    sys.exit(main())
