"""Which OpenShift era the lab plays: `OCPVIRT_LAB_PROFILE` = 4.15 (default) or 4.18 (pure).

A profile names the CRD set (a folder beside the clone, ../shared/<crds>), the ovn-kubernetes
commit ovnkube is built from, the OVN/OVS the data-plane nodes run (Debian's packages, or the
24.09 build from the upstream tarballs, controlplane/ovn.py) and what the simulated
ClusterVersion reports. `up` records the profile in the state directory; a lab that was up with
one profile is not brought up with another over its etcd data (see `switch_refusal`).
"""
from dataclasses import dataclass
from pathlib import Path

ENV = "OCPVIRT_LAB_PROFILE"
DEFAULT = "4.15"
DEBIAN = "debian"  # the OVN/OVS of Debian's packages, on PATH
BUILT = "built"  # OVN 24.09.3 + OVS 3.4 built from ../shared/upstream-src (controlplane/ovn.py)


class ProfileError(ValueError):
    """One line for the user: the value, the choices and what to run."""


@dataclass(frozen=True)
class Era:
    """What the simulator's stand-ins report for their era: the nodes' nodeInfo, the
    redhat-operators catalog's tag and CSVs, KubeVirt's launcher image, HyperConverged's version."""
    kubelet_version: str
    os_image: str
    kernel_version: str
    container_runtime: str
    catalog_tag: str  # redhat-operator-index:<tag>
    nmstate_csv_version: str  # kubernetes-nmstate-operator.<version>
    virtualization_version: str  # kubevirt-hyperconverged-operator.v<version>, virt-launcher:v<version>


@dataclass(frozen=True)
class Profile:
    name: str
    crds: str  # folder name beside the clone: <repo>/../shared/<crds>
    ovnkube_commit: str
    ovn: str  # DEBIAN or BUILT
    openshift_version: str
    channel: str
    era: Era


# The 4.15 values are a 4.15.21 cluster's. The 4.18 ones follow what 4.18 is made of: Kubernetes
# 1.31 and CRI-O of the same minor, RHCOS 418.94 (on RHEL 9.4, kernel 5.14.0-427), OpenShift
# Virtualization 4.18.0 (HCO release-1.14, ../shared/upstream-crds-4.18/SOURCES.md); their build
# stamps and git hashes have the real format but are illustrative, not read from a 4.18 cluster.
ERA_415 = Era("v1.28.11+add48d0", "Red Hat Enterprise Linux CoreOS 415.92.202407091355-0 (Plow)",
              "5.14.0-284.73.1.el9_2.x86_64", "cri-o://1.28.8-5.rhaos4.15.git3c9ee4f.el9",
              "v4.15", "4.15.0-202407101936", "4.15.3")
ERA_418 = Era("v1.31.5", "Red Hat Enterprise Linux CoreOS 418.94.202502100215-0",
              "5.14.0-427.50.1.el9_4.x86_64", "cri-o://1.31.5-4.rhaos4.18.gitbd2e7d1.el9",
              "v4.18", "4.18.0-202502101302", "4.18.0")

PROFILES = {
    # Debian 12's OVN 23.03 / OVS 3.1 with ACL.tier added to the NB schema (controlplane/ovnkube.py).
    "4.15": Profile("4.15", "upstream-crds", "dad2fde5a", DEBIAN, "4.15.21", "stable-4.15", ERA_415),
    # ovnkube at 6c366bb49 needs NB schema 7.6.0 / SB 20.37.0: OVN 24.09.
    "4.18": Profile("4.18", "upstream-crds-4.18", "6c366bb49", BUILT, "4.18.1", "stable-4.18", ERA_418),
}


def selected(environ):
    """The profile $OCPVIRT_LAB_PROFILE names (unset or empty: the default)."""
    name = environ.get(ENV) or DEFAULT
    if name not in PROFILES:
        raise ProfileError(f"{ENV}={name!r}: no such lab profile; choose one of {', '.join(PROFILES)} "
                           f"(unset: {DEFAULT})")
    return PROFILES[name]


def path_with_ovn(prefix, path):
    """PATH with the OVN/OVS build's programs first, so that every daemon, client tool and child
    process (ovnkube runs ovn-nbctl, the kubelet stand-in runs pods' ovs-vsctl) uses that build."""
    return ":".join([str(Path(prefix) / "bin"), str(Path(prefix) / "sbin"), *filter(None, path.split(":"))])


def switch_refusal(recorded, wanted, labctl):
    """None if a lab recorded as `recorded` (a profile name, None: never up) may be brought up as
    `wanted`; else the one line that says what to run. The etcd data holds the other set's CRDs
    and objects and the nodes' databases the other OVN's schema: nothing of it carries over."""
    if recorded is None or recorded == wanted.name:
        return None
    return (f"this lab is on profile {recorded}, not {wanted.name} ({ENV}); run `{labctl} down --purge`, "
            f"then `{ENV}={wanted.name} {labctl} up`")
