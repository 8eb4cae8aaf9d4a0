"""Scheduler, kubelet and Multus stand-in logic (pure).

Pods without a node are bound to a simulated node that fits (nodeSelector, taints), then reported
Running with a primary IP from the node's pod CIDR (10.128.x.y, as OVN-Kubernetes would give)
and, for pods asking for secondary networks, Multus' `k8s.v1.cni.cncf.io/network-status`
annotation. A requested NetworkAttachmentDefinition that does not exist keeps the pod in
ContainerCreating, as Multus does. No container is ever started.
"""
import hashlib
import ipaddress
import json

NETWORKS_ANNOTATION = "k8s.v1.cni.cncf.io/networks"
NETWORK_STATUS_ANNOTATION = "k8s.v1.cni.cncf.io/network-status"
POD_NETWORKS_ANNOTATION = "k8s.ovn.org/pod-networks"  # written by the real ovnkube
FIRST_HOST_INDEX = 10


class NetworksAnnotationError(ValueError):
    pass


def parse_networks(pod):
    """The pod's Multus requests as dicts with name, namespace and optional ips/mac/interface."""
    raw = ((pod["metadata"].get("annotations") or {}).get(NETWORKS_ANNOTATION) or "").strip()
    if not raw:
        return []
    namespace = pod["metadata"]["namespace"]
    if raw.startswith("["):
        try:
            entries = json.loads(raw)
        except json.JSONDecodeError as error:
            raise NetworksAnnotationError(f"{NETWORKS_ANNOTATION}: invalid JSON: {error}") from error
    else:
        entries = []
        for item in raw.split(","):
            ref, _, interface = item.strip().partition("@")
            ns, _, name = ref.rpartition("/")
            entries.append({"name": name, "namespace": ns or namespace, **({"interface": interface} if interface else {})})
    return [{**entry, "namespace": entry.get("namespace") or namespace} for entry in entries]


def tolerates(pod, taint):
    for toleration in pod["spec"].get("tolerations") or []:
        if toleration.get("operator") == "Exists" and not toleration.get("key"):
            return True
        if toleration.get("key") == taint["key"] and toleration.get("effect") in (None, "", taint["effect"]):
            if toleration.get("operator") == "Exists" or toleration.get("value") == taint.get("value"):
                return True
    return False


def fits(pod, node):
    selector = pod["spec"].get("nodeSelector") or {}
    labels = node["metadata"].get("labels") or {}
    if any(labels.get(k) != v for k, v in selector.items()):
        return False
    return all(tolerates(pod, t) for t in node["spec"].get("taints") or []
               if t.get("effect") in ("NoSchedule", "NoExecute"))


def pick_node(pod, nodes, pods_per_node):
    """The fitting node with the fewest pods (ties by name), or None."""
    candidates = sorted((pods_per_node.get(n["metadata"]["name"], 0), n["metadata"]["name"])
                        for n in nodes if fits(pod, n))
    return candidates[0][1] if candidates else None


def allocate_pod_ip(pod_cidr, used):
    network = ipaddress.ip_network(pod_cidr)
    for index, host in enumerate(network.hosts()):
        if index + 1 >= FIRST_HOST_INDEX and str(host) not in used:
            return str(host)
    raise RuntimeError(f"pod CIDR {pod_cidr} exhausted")


def mac_from_ip(ip):
    """OVN-Kubernetes derives an interface's MAC from its first IP (pkg/util/net.go
    IPAddrToHWAddr): 0a:58 + the four octets of an IPv4 address, or + the first four bytes of
    the SHA-256 of an IPv6 address's text."""
    address = ipaddress.ip_address(ip)
    raw = address.packed if address.version == 4 else hashlib.sha256(str(address).encode()).digest()[:4]
    return "0a:58:" + ":".join(f"{byte:02x}" for byte in raw)


def secondary_mac(seed):
    """A stable locally administered MAC for a secondary interface that did not ask for one."""
    digest = hashlib.sha256(seed.encode()).hexdigest()
    return "0a:58:" + ":".join(digest[i:i + 2] for i in range(0, 8, 2))


def iface_id(pod_namespace, pod_name, nad):
    """The OVS iface-id the CNI gives a pod's interface on the NAD `ns/name` (also the name of the
    logical switch port ovnkube made for it): go-controller/pkg/cni/helper_linux.go ConfigureOVS
    calls util.GetSecondaryNetworkIfaceId (pkg/util/util.go:325), the NAD name with `-` and `/`
    turned into `.` plus `_` (GetSecondaryNetworkPrefix, pkg/util/multi_network.go:369), then
    `<pod namespace>_<pod name>` (composePortName, pkg/util/util.go:339)."""
    return nad.replace("-", ".").replace("/", ".") + "_" + f"{pod_namespace}_{pod_name}"


def pod_networks(pod):
    """The real ovnkube's `k8s.ovn.org/pod-networks`, keyed "default" or "<nad ns>/<nad name>"
    (go-controller/pkg/util/pod_annotation.go UnmarshalPodAnnotationAllNetworks); {} when absent or
    unreadable (the CNI then waits, as for an absent one)."""
    raw = (pod["metadata"].get("annotations") or {}).get(POD_NETWORKS_ANNOTATION)
    try:
        networks = json.loads(raw) if raw else {}
    except json.JSONDecodeError:
        return {}
    return networks if isinstance(networks, dict) else {}


def unannotated(requests, localnet, networks):
    """`ns/name` of the requested localnet NADs the real ovnkube has not annotated yet, and
    `default` while a pod with any of them lacks its default network's entry: its CNI waits for
    each NAD's entry before it plugs anything (go-controller/pkg/cni/utils.go
    GetPodWithAnnotations with isOvnReady), the default network's first, as Multus calls it
    first. ovnkube's default and secondary controllers annotate independently, so the localnet
    entry can come first; the pod IP is then the default entry's, never one of our own."""
    keys = [f"{r['namespace']}/{r['name']}" for r in requests]
    waiting = [key for key in keys if key in localnet and key not in networks]
    if "default" not in networks and any(key in localnet for key in keys):
        waiting.insert(0, "default")
    return waiting


def default_pod_ip(networks):
    """The pod IP ovnkube chose on the default network, if it annotated one."""
    addresses = (networks.get("default") or {}).get("ip_addresses") or []
    return str(ipaddress.ip_interface(addresses[0]).ip) if addresses else None


def network_status(pod, pod_ip, requests, networks=None):
    """Multus' network-status: the default OVN-K network first, then each secondary network.
    With `networks` (the real ovnkube's pod-networks), an annotated network's MAC and IPs are
    ovnkube's: its CNI returns them (go-controller/pkg/cni/utils.go PodAnnotation2PodInfo,
    pkg/cni/cni.go getCNIResult) and Multus writes the CNI result."""
    uid, networks = pod["metadata"]["uid"], networks or {}
    entries = [{"name": "ovn-kubernetes", "interface": "eth0", "ips": [pod_ip],
                "mac": (networks.get("default") or {}).get("mac_address") or mac_from_ip(pod_ip),
                "default": True, "dns": {}}]
    for index, request in enumerate(requests, start=1):
        chosen = networks.get(f"{request['namespace']}/{request['name']}")
        ips = [str(ipaddress.ip_interface(ip).ip)
               for ip in (chosen.get("ip_addresses") if chosen else request.get("ips")) or []]
        # OVN-K's MAC for a secondary network: the requested one, else from the first IP
        # (pkg/allocator/pod/pod_annotation.go), else random (here: stable per pod and index).
        mac = (chosen or {}).get("mac_address") or request.get("mac") or \
            (mac_from_ip(ips[0]) if ips else secondary_mac(f"{uid}/{index}"))
        entry = {"name": f"{request['namespace']}/{request['name']}",
                 "interface": request.get("interface") or f"net{index}", "mac": mac, "dns": {}}
        if ips:
            entry["ips"] = ips
        entries.append(entry)
    return json.dumps(entries, indent=4)


def running_status(pod, node_address, pod_ip, now, previous=None):
    previous = previous or {}
    started = previous.get("startTime", now)
    conditions = [{"type": t, "status": "True", "lastProbeTime": None,
                   "lastTransitionTime": _kept_time(previous, t, now)}
                  for t in ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled")]
    containers = [{"name": c["name"], "image": c.get("image", ""), "imageID": c.get("image", ""),
                   "ready": True, "started": True, "restartCount": 0,
                   "containerID": "cri-o://" + hashlib.sha256(f"{pod['metadata']['uid']}/{c['name']}".encode()).hexdigest(),
                   "state": {"running": {"startedAt": started}}}
                  for c in pod["spec"].get("containers") or []]
    return {"phase": "Running", "conditions": conditions, "hostIP": node_address,
            "hostIPs": [{"ip": node_address}], "podIP": pod_ip, "podIPs": [{"ip": pod_ip}],
            "startTime": started, "containerStatuses": containers, "qosClass": "BestEffort"}


def waiting_status(pod, message, now, previous=None):
    previous = previous or {}
    containers = [{"name": c["name"], "image": c.get("image", ""), "imageID": "", "ready": False,
                   "started": False, "restartCount": 0,
                   "state": {"waiting": {"reason": "ContainerCreating", "message": message}}}
                  for c in pod["spec"].get("containers") or []]
    return {"phase": "Pending", "startTime": previous.get("startTime", now),
            "conditions": [{"type": "PodScheduled", "status": "True", "lastProbeTime": None,
                            "lastTransitionTime": _kept_time(previous, "PodScheduled", now)},
                           {"type": "Ready", "status": "False", "reason": "ContainersNotReady",
                            "message": message, "lastProbeTime": None,
                            "lastTransitionTime": _kept_time(previous, "Ready", now, "False")}],
            "containerStatuses": containers, "qosClass": "BestEffort"}


def _kept_time(previous, type_, now, status="True"):
    for cond in previous.get("conditions") or []:
        if cond.get("type") == type_ and cond.get("status") == status:
            return cond.get("lastTransitionTime") or now
    return now


# --- sandboxes on the data plane (lab/dataplane/): namespaces plugged into a node's br-int ---------

LAUNCHER_LABEL = "kubevirt.io"
VM_NAME_LABEL = "vm.kubevirt.io/name"


def localnet_networks(nads):
    """`ns/name` of every NetworkAttachmentDefinition of an OVN-Kubernetes localnet network."""
    keys = set()
    for nad in nads:
        try:
            config = json.loads((nad.get("spec") or {}).get("config") or "{}")
        except json.JSONDecodeError:
            continue
        if config.get("topology") == "localnet":
            keys.add(f"{nad['metadata']['namespace']}/{nad['metadata']['name']}")
    return keys


def _prefixed(ip, requested):
    """`ip` with the prefix length it was requested with (Multus' network-status drops it)."""
    for candidate in requested:
        if str(ipaddress.ip_interface(candidate).ip) == ip:
            return str(ipaddress.ip_interface(candidate))
    return f"{ip}/32"


def sandboxes(pods, localnet, guest_nics_by_vm):
    """What the kubelet's CNI call would set up on a data-plane node, keyed by
    (kind, namespace, name): kind `pods` for a pod, `guests` for the guest of a VM whose
    virt-launcher pod it is. Each has the interfaces on localnet networks: ifname, mac,
    addresses (CIDR), routes, the iface_id of the pod's logical switch port and iface_id_ver, the
    pod's UID, which ovnkube puts in the port's options and ovn-controller then requires on the
    OVS interface (go-controller/pkg/cni/helper_linux.go ConfigureOVS sets both in one add-port).
    MAC and addresses are the network-status entry's, which Multus wrote from the CNI result, i.e.
    from ovnkube's pod-networks (network_status above). A VM's guest
    carries the VM's MAC (the pod's interface is only a bridge to it) and its cloud-init
    addresses; `guest_nics_by_vm` maps (namespace, vm) to kubevirt.guest_nics()."""
    result = {}
    for pod in pods:
        metadata, status = pod["metadata"], pod.get("status") or {}
        if metadata.get("deletionTimestamp") or status.get("phase") != "Running":
            continue
        try:
            entries = json.loads((metadata.get("annotations") or {}).get(NETWORK_STATUS_ANNOTATION) or "[]")
            requests = parse_networks(pod)
        except (json.JSONDecodeError, NetworksAnnotationError):
            continue
        namespace, labels = metadata["namespace"], metadata.get("labels") or {}
        vm = labels.get(VM_NAME_LABEL) if labels.get(LAUNCHER_LABEL) == "virt-launcher" else None
        interfaces = []
        for entry in entries:
            if entry.get("default") or entry.get("name") not in localnet:
                continue
            iface = {"mac": entry["mac"], "iface_id": iface_id(namespace, metadata["name"], entry["name"]),
                     "iface_id_ver": metadata["uid"]}
            if vm:
                nic = (guest_nics_by_vm.get((namespace, vm)) or {}).get(entry["interface"])
                if nic:
                    interfaces.append({**nic, **iface})
                continue
            requested = [ip for r in requests if f"{r['namespace']}/{r['name']}" == entry["name"]
                         for ip in r.get("ips") or []]
            interfaces.append({"ifname": entry["interface"], **iface, "routes": [],
                               "addresses": [_prefixed(ip, requested) for ip in entry.get("ips") or []]})
        if interfaces:
            result[("guests", namespace, vm) if vm else ("pods", namespace, metadata["name"])] = {
                "node": pod["spec"]["nodeName"], "interfaces": interfaces}
    return result
