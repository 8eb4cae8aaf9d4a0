"""Go builds of the lab's binaries, cached per pinned version (lab/README.md "Binaries")."""
import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from . import log, ovn, ovnkube
from .state import LAB_DIR, REPO_DIR


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
    """$OCPVIRT_LAB_CACHE (e.g. a temporary folder, to time uncached builds), else
    ${XDG_CACHE_HOME:-~/.cache}/ocpvirt-multinet-lab."""
    explicit = os.environ.get("OCPVIRT_LAB_CACHE")
    if explicit:
        return Path(explicit)
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


def build_ovnkube(commit=ovnkube.COMMIT):
    """ovnkube at `commit` (a profile's, controlplane/profiles.py), built from its tarball."""
    with file_lock(cache_root() / ".ovnkube-build.lock"):
        return ovnkube.build(ovnkube.tarball(repo_dir=REPO_DIR, commit=commit), cache_root(), go_tool(), log)


def build_ovn():
    """The prefix of OVN/OVS built from the upstream tarballs (controlplane/ovn.py)."""
    with file_lock(cache_root() / ".ovn-build.lock"):
        return ovn.build(*ovn.tarballs(repo_dir=REPO_DIR), cache_root(), log)


def cached_ovn():
    """The prefix of the OVN/OVS build if it is complete, else None (never builds)."""
    sources = ovn.tarballs(repo_dir=REPO_DIR)
    if not all(source.is_file() for source in sources):
        return None
    prefix = ovn.prefix_path(cache_root(), ovn.combined_digest(*(ovnkube.sha256_file(s) for s in sources)))
    return prefix if ovn.is_complete(prefix) else None


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
