"""The lab's control plane beside lab/dataplane/: what labctl builds, certifies and runs on loopback.

state.py: paths and fixed settings; binaries.py: Go builds and their cache; pki.py: the CA,
certificates and kubeconfigs; ports.py: loopback ports and settings.json; processes.py: starting,
checking and stopping components; ovnkube.py: the real OVN-Kubernetes (lab/README.md).
"""
import sys


def log(message):
    print(f"labctl: {message}", file=sys.stderr, flush=True)
