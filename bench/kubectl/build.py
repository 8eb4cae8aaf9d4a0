#!/usr/bin/env python3
"""Build kubectl of the lab's Kubernetes release into the lab's binary cache; print its path.

The module in this directory pins k8s.io/kubernetes like lab/kube/go.mod does, with
k8s.io/kubernetes/cmd/kubectl as its tool, so kubectl matches the lab's kube-apiserver.
Built once (minutes on 2 cores) with labctl's own build step; later calls only print the path.
"""
import sys
from pathlib import Path

KUBECTL_MODULE = Path(__file__).resolve().parent
sys.path.insert(0, str(KUBECTL_MODULE.parents[1] / "lab"))
from controlplane import binaries  # noqa: E402


def main():
    pinned, lab = binaries.pinned_version(KUBECTL_MODULE / "go.mod", "k8s.io/kubernetes"), binaries.kubernetes_version()
    if pinned != lab:
        sys.exit(f"bench/kubectl/go.mod pins k8s.io/kubernetes {pinned}, the lab runs {lab}: update it")
    binary = binaries.bin_dir() / "kubectl"
    with binaries.file_lock(binary.parent / ".build-kubectl.lock"):
        binaries.build_binary(binary, KUBECTL_MODULE, "k8s.io/kubernetes/cmd/kubectl",
                              binaries.version_ldflags(binaries.kubernetes_version()))
    print(binary)


if __name__ == "__main__":
    main()
