"""The lab's control plane beside lab/dataplane/: programs labctl builds and runs on loopback.

ovnkube.py: the real OVN-Kubernetes (ovnkube built from the upstream source tarball), opt-in with
OCPVIRT_LAB_OVNK=real (lab/README.md).
"""
