"""The lab's simulated nodes (pure data): three Node objects and their simulated NICs.

Nothing runs on them; they exist so the scheduler stand-in can bind pods, the kubelet stand-in
can report pods Running, and the NMState handler stand-in has interfaces to validate policies
against. Every node's kubelet endpoint is the one kubelet stand-in (lab/kubelet/) on loopback: its
status carries an `InternalDNS` address 127.0.0.1, the only type the lab's kube-apiserver prefers
(`--kubelet-preferred-address-types=InternalDNS`), and `daemonEndpoints.kubeletEndpoint.Port`,
so the apiserver's pods/exec proxy dials the stand-in and never a simulated 192.168.99.x address.
Every node has the same NICs, as on the seed's bare-metal lab:

- enp1s0: ethernet, the uplink, port of br-ex (carries the node address)
- br-ex: the OVS bridge OVN-Kubernetes creates on the uplink (ovs-bridge + ovs-interface)
- enp9s0: ethernet, second NIC, up without addresses and unused (the seed's dedicated-bridge
  alternative uses it)
- lo

A policy naming any other NIC (for example enp10s0) fails on the node, as nmstate would.
The versions in nodeInfo are the lab profile's era (controlplane/profiles.py).
"""
from controlplane import profiles

KUBELET_ADDRESS = "127.0.0.1"

NODES = [
    {"name": "master-0", "role": "master", "address": "192.168.99.23", "pod_cidr": "10.128.0.0/23"},
    {"name": "worker-0", "role": "worker", "address": "192.168.99.24", "pod_cidr": "10.128.2.0/23"},
    {"name": "worker-1", "role": "worker", "address": "192.168.99.25", "pod_cidr": "10.128.4.0/23"},
]


def _mac(index, nic):
    return f"52:54:00:00:{index:02x}:{nic:02x}"


def node_manifest(spec):
    labels = {"kubernetes.io/hostname": spec["name"], "kubernetes.io/os": "linux",
              "kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux",
              "beta.kubernetes.io/arch": "amd64", "node.openshift.io/os_id": "rhcos",
              f"node-role.kubernetes.io/{spec['role']}": ""}
    if spec["role"] == "master":
        labels["node-role.kubernetes.io/control-plane"] = ""
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": spec["name"], "labels": labels,
                         "annotations": {"lab.ocpvirt.io/simulated": "true"}},
            "spec": {"podCIDR": spec["pod_cidr"], "podCIDRs": [spec["pod_cidr"]],
                     "taints": node_taints(spec)}}


def node_taints(spec):
    if spec["role"] == "master":
        return [{"key": "node-role.kubernetes.io/master", "effect": "NoSchedule"}]
    return []


def node_status(spec, now, kubelet_port, era=profiles.ERA_415):
    return {
        "conditions": [
            {"type": t, "status": s, "reason": r, "message": m,
             "lastHeartbeatTime": now, "lastTransitionTime": now}
            for t, s, r, m in [
                ("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                ("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                ("Ready", "True", "KubeletReady", "kubelet is posting ready status (simulated)")]],
        **kubelet_endpoint(spec, kubelet_port),
        "capacity": {"cpu": "16", "memory": "65851456Ki", "pods": "250", "ephemeral-storage": "209124332Ki"},
        "allocatable": {"cpu": "15500m", "memory": "64700480Ki", "pods": "250",
                        "ephemeral-storage": "191655242229"},
        "nodeInfo": {"kubeletVersion": era.kubelet_version, "kubeProxyVersion": "",
                     "operatingSystem": "linux", "architecture": "amd64",
                     "osImage": era.os_image, "containerRuntimeVersion": era.container_runtime,
                     "kernelVersion": era.kernel_version,
                     "machineID": "", "systemUUID": "", "bootID": ""},
    }


def kubelet_endpoint(spec, kubelet_port):
    """The status fields kube-apiserver reads to reach a node's kubelet (see the module docstring)."""
    return {"addresses": [{"type": "InternalIP", "address": spec["address"]},
                          {"type": "Hostname", "address": spec["name"]},
                          {"type": "InternalDNS", "address": KUBELET_ADDRESS}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": kubelet_port}}}


def initial_network_state(spec):
    """The node's interfaces as `nmstatectl show` would report them before any policy."""
    index = NODES.index(spec)
    address = {"ip": spec["address"], "prefix-length": 24}
    return {
        "interfaces": [
            {"name": "br-ex", "type": "ovs-bridge", "state": "up",
             "bridge": {"port": [{"name": "enp1s0"}, {"name": "br-ex"}], "options": {"stp": False}}},
            {"name": "br-ex", "type": "ovs-interface", "state": "up", "mac-address": _mac(index, 1),
             "ipv4": {"enabled": True, "dhcp": False, "address": [address]}},
            {"name": "enp1s0", "type": "ethernet", "state": "up", "mac-address": _mac(index, 1),
             "controller": "br-ex", "ipv4": {"enabled": False}},
            {"name": "enp9s0", "type": "ethernet", "state": "up", "mac-address": _mac(index, 9),
             "ipv4": {"enabled": False}},
            {"name": "lo", "type": "loopback", "state": "up",
             "ipv4": {"enabled": True, "address": [{"ip": "127.0.0.1", "prefix-length": 8}]}},
        ],
        "ovn": {"bridge-mappings": [{"localnet": "physnet", "bridge": "br-ex"}]},
        "routes": {"running": [{"destination": "0.0.0.0/0", "next-hop-address": "192.168.99.1",
                                "next-hop-interface": "br-ex", "table-id": 254}]},
        "dns-resolver": {"running": {"server": ["192.168.99.1"]}},
    }


def spec_for(name):
    return next((spec for spec in NODES if spec["name"] == name), None)
