"""Names OVN-Kubernetes gives the Northbound objects of a secondary localnet network, computed
with its own formulas (ovn-org/ovn-kubernetes dad2fde5a, go-controller/pkg/), and a runner for
ovn-nbctl against a lab node's NB. The tests read what the real ovnkube wrote under these names.
"""
import subprocess


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


def policy_port_group_name(network, namespace, policy):
    """getNetworkPolicyPGName (pkg/ovn/base_network_controller_policy.go:839): the hashed
    network-scoped `<ns>_<policy>`, and that readable name (the port group's external_ids:name)."""
    readable = f"{namespace}_{policy}"
    return hash_for_ovn(network_prefix(network) + readable), readable


def default_deny_port_group_name(network, namespace, suffix):
    """defaultDenyPortGroupName (pkg/ovn/base_network_controller_policy.go:315): the hashed
    network-scoped namespace, `_`, and ingressDefaultDeny or egressDefaultDeny."""
    return hash_for_ovn(network_prefix(network) + namespace) + "_" + suffix


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
