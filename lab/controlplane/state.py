"""Where a lab's state lives ($OCPVIRT_LAB_DIR, default <repo>/.lab/ for the default profile and
<repo>/.lab-<profile>/ for another) and its fixed settings."""
import os
from pathlib import Path

from . import profiles

LAB_DIR = Path(__file__).resolve().parents[1]
REPO_DIR = LAB_DIR.parent


def state_dir(environ, repo_dir=REPO_DIR):
    """$OCPVIRT_LAB_DIR, else the profile's own folder: a lab per profile (its own etcd data,
    ports and network namespaces, dataplane/topology.py lab_id), so switching profiles is
    setting $OCPVIRT_LAB_PROFILE, never a purge."""
    explicit = environ.get("OCPVIRT_LAB_DIR")
    if explicit:
        return Path(explicit).resolve()
    profile = environ.get(profiles.ENV) or profiles.DEFAULT
    return (Path(repo_dir) / (".lab" if profile == profiles.DEFAULT else f".lab-{profile}")).resolve()


STATE_DIR = state_dir(os.environ)
PKI_DIR = STATE_DIR / "pki"
ETCD_DATA_DIR = STATE_DIR / "etcd-data"
KUBECONFIG = STATE_DIR / "kubeconfig"
SETTINGS_FILE = STATE_DIR / "settings.json"
EXEC_TARGETS_DIR = STATE_DIR / "exec-targets"  # written by the data plane and the simulator (DATAPLANE.md)
CRD_SET_FILE = STATE_DIR / "crd-set.txt"  # which CRD set `up` installed, for `status`
PROFILE_FILE = STATE_DIR / "profile.txt"  # the lab profile `up` made the etcd data with (controlplane/profiles.py)

CLUSTER_NAME = "ocpvirt-lab"
SERVICE_CIDR = "10.96.0.0/24"
SERVICE_ACCOUNT_ISSUER = "https://kubernetes.default.svc.cluster.local"
# Preferred loopback ports; below Linux's ephemeral range (32768+) so that outgoing
# connections cannot occupy them between runs. Busy ones are replaced by any free port.
PREFERRED_PORTS = {"apiserver": 6443, "etcd_client": 22379, "etcd_peer": 22380, "controller_manager": 20257,
                   "kubelet": 10250}
