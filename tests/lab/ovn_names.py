"""Names OVN-Kubernetes gives the Northbound objects of a secondary localnet network, computed
with its own formulas (ovn-org/ovn-kubernetes dad2fde5a for 4.15, 6c366bb49 for 4.18,
go-controller/pkg/), and a runner for ovn-nbctl against a lab node's NB. The tests read what the
real ovnkube wrote under these names. Switch and port names are the same in both eras; the port
groups' are not, so their functions take the era (`LAB_ERA`: the running lab's profile; the
seed's output is 4.15's, `SEED_ERA`).
"""
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "lab"))
from controlplane import profiles  # noqa: E402

SEED_ERA = "4.15"
LAB_ERA = profiles.selected(os.environ).name


def network_prefix(name):
    """util.GetSecondaryNetworkPrefix (pkg/util/multi_network.go:369): `-` and `/` become `.`,
    plus `_`; secondaryNetInfo.GetNetworkScopedName (multi_network.go:158) prepends it."""
    return name.replace("-", ".").replace("/", ".") + "_"


def logical_port_name(nad_namespace, nad_name, pod_namespace, pod_name):
    """util.GetSecondaryNetworkLogicalPortName (pkg/util/util.go:317): the prefix of the NAD's
    `ns/name`, then composePortName `<pod ns>_<pod name>` (util.go:339)."""
    return network_prefix(f"{nad_namespace}/{nad_name}") + f"{pod_namespace}_{pod_name}"


def hash_for_ovn(text):
    """util.HashForOVN (pkg/util/util.go:224): `a` + the decimal FNV-1a 64-bit hash."""
    value = 0xcbf29ce484222325
    for byte in text.encode():
        value = ((value ^ byte) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return f"a{value}"


def switch_name(network):
    """GetNetworkScopedName(types.OVNLocalnetSwitch) (pkg/ovn/secondary_localnet_network_controller.go:101,
    pkg/types/const.go:53)."""
    return network_prefix(network) + "ovn_localnet_switch"


def localnet_port_name(network):
    """GetNetworkScopedName(types.OVNLocalnetPort) (pkg/types/const.go:55)."""
    return network_prefix(network) + "ovn_localnet_port"


def controller_id(network, owner_type, *keys):
    """The port group's k8s.ovn.org/id at 6c366bb49: DbObjectIDs.getUniqueID
    (pkg/libovsdb/ops/db_object_ids.go:260), `<controller>:<owner type>:<key>...`, the controller
    of a secondary network being `<network>-network-controller` (pkg/ovn/base_network_controller.go:199)."""
    return ":".join([f"{network}-network-controller", owner_type, *keys])


def policy_port_group_name(network, namespace, policy, era=LAB_ERA):
    """(name, readable) of a policy's port group, readable being what its external_ids name it by.
    4.15, getNetworkPolicyPGName (dad2fde5a pkg/ovn/base_network_controller_policy.go:839): the
    hashed network-scoped `<ns>_<policy>`, readable that `<ns>_<policy>` (external_ids:name).
    4.18 (6c366bb49 base_network_controller_policy.go:910, libovsdb/util/port_group.go:9): the
    hash of its k8s.ovn.org/id, type PortGroupNetworkPolicy keyed by `<ns>:<policy>`
    (BuildNamespaceNameKey), readable that key (external_ids:k8s.ovn.org/name)."""
    if era == "4.15":
        readable = f"{namespace}_{policy}"
        return hash_for_ovn(network_prefix(network) + readable), readable
    readable = f"{namespace}:{policy}"
    return hash_for_ovn(controller_id(network, "NetworkPolicy", readable)), readable


def default_deny_port_group_name(network, namespace, direction, era=LAB_ERA):
    """A namespace's default-deny port group for `direction` (Ingress or Egress).
    4.15, defaultDenyPortGroupName (dad2fde5a base_network_controller_policy.go:315): the hashed
    network-scoped namespace, `_`, and ingressDefaultDeny or egressDefaultDeny.
    4.18 (6c366bb49 base_network_controller_policy.go:364): the hash of its k8s.ovn.org/id, type
    PortGroupNetpolNamespace keyed by the namespace and the direction."""
    if era == "4.15":
        return hash_for_ovn(network_prefix(network) + namespace) + "_" + direction.lower() + "DefaultDeny"
    return hash_for_ovn(controller_id(network, "NetpolNamespace", namespace, direction))


class NbctlError(RuntimeError):
    pass


def nbctl_runner(node_dir):
    """A function running one ovn-nbctl command line against `node_dir`'s NB socket."""
    def run(args):
        argv = ["ovn-nbctl", f"--db=unix:{node_dir}/ovnnb_db.sock", "--timeout=10", *args]
        result = subprocess.run(argv, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise NbctlError(f"{' '.join(argv[:4])} ... failed ({result.returncode}): {result.stderr.strip()}")
        return result.stdout
    return run
