"""KubeVirt, CDI and kubemacpool simulator logic (pure).

VirtualMachine -> VirtualMachineInstance (same name, owned by the VM) -> virt-launcher pod
(generateName `virt-launcher-<vm>-`, owned by the VMI) with KubeVirt's labels and the Multus
networks annotation; the kubelet stand-in runs the pod, then the VMI becomes Running/Ready and
reports the guest's addresses taken from the cloud-init networkData (as the guest agent would).
kubemacpool's webhook is imitated by assigning missing MACs after the fact and stamping
`kubemacpool.io/transaction-timestamp`. dataVolumeTemplates become DataVolumes that CDI
"imports" at once when their DataSource exists.
"""
import base64
import copy
import hashlib
import ipaddress
import json

import yaml

from controlplane import profiles

from .conditions import condition, merge_conditions

KUBEVIRT_API = "kubevirt.io/v1"
CDI_API = "cdi.kubevirt.io/v1beta1"
LAUNCHER_REPOSITORY = "registry.redhat.io/container-native-virtualization/virt-launcher-rhel9"
DEFAULT_VERSION = profiles.ERA_415.virtualization_version  # the profile's era gives it (controllers.py)
MAC_POOL_PREFIX = "02:5a:c3"
KUBEMACPOOL_ANNOTATION = "kubemacpool.io/transaction-timestamp"
NETWORKS_ANNOTATION = "k8s.v1.cni.cncf.io/networks"
TIME_FIELDS = ("lastProbeTime", "lastTransitionTime")


def run_strategy(vm):
    spec = vm["spec"]
    if spec.get("runStrategy"):
        return spec["runStrategy"]
    return "Always" if spec.get("running") else "Halted"


def wants_running(vm, vmi):
    """True/False when the VM must (not) have a VMI; None when KubeVirt leaves it as it is."""
    strategy = run_strategy(vm)
    if strategy in ("Always", "RerunOnFailure"):
        return True
    if strategy == "Halted":
        return False
    if strategy == "Once":
        return vmi is not None or not (vm.get("status") or {}).get("created")
    return None  # Manual: started and stopped through subresources only


def template_interfaces(vm):
    return (((vm["spec"]["template"].get("spec") or {}).get("domain") or {}).get("devices") or {}).get("interfaces") or []


def used_macs(vms):
    return {i["macAddress"].lower() for vm in vms for i in template_interfaces(vm) if i.get("macAddress")}


def kubemacpool_patch(vm, taken, now):
    """Merge patch giving every interface without macAddress a pool MAC, or None if none is missing."""
    interfaces = copy.deepcopy(template_interfaces(vm))
    if all(i.get("macAddress") for i in interfaces):
        return None
    taken = set(taken)
    for iface in interfaces:
        if not iface.get("macAddress"):
            iface["macAddress"] = _next_mac(taken)
            taken.add(iface["macAddress"])
    return {"metadata": {"resourceVersion": vm["metadata"]["resourceVersion"],
                         "annotations": {KUBEMACPOOL_ANNOTATION: now}},
            "spec": {"template": {"spec": {"domain": {"devices": {"interfaces": interfaces}}}}}}


def _next_mac(taken):
    for n in range(1, 1 << 24):
        mac = f"{MAC_POOL_PREFIX}:{n >> 16 & 0xff:02x}:{n >> 8 & 0xff:02x}:{n & 0xff:02x}"
        if mac not in taken:
            return mac
    raise RuntimeError("kubemacpool simulator: MAC pool exhausted")


def owner(obj):
    return {"apiVersion": obj["apiVersion"], "kind": obj["kind"], "name": obj["metadata"]["name"],
            "uid": obj["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}


def new_data_volumes(vm):
    volumes = []
    for template in vm["spec"].get("dataVolumeTemplates") or []:
        metadata = copy.deepcopy(template.get("metadata") or {})
        metadata.pop("creationTimestamp", None)
        metadata.update(namespace=vm["metadata"]["namespace"], ownerReferences=[owner(vm)])
        volumes.append({"apiVersion": CDI_API, "kind": "DataVolume", "metadata": metadata,
                        "spec": copy.deepcopy(template["spec"])})
    return volumes


def data_volume_status(dv, source_exists, now):
    """CDI stand-in: a DataVolume cloned from an existing DataSource (or any other source) succeeds."""
    previous = (dv.get("status") or {}).get("conditions")
    if source_exists:
        desired = {"phase": "Succeeded", "progress": "100.0%", "claimName": dv["metadata"]["name"]}
        conds = [condition("Bound", "True", "Bound", "PVC bound (simulated storage)"),
                 condition("Ready", "True", "", ""),
                 condition("Running", "False", "Completed", "")]
    else:
        ref = dv["spec"].get("sourceRef") or {}
        desired = {"phase": "Pending", "progress": "N/A"}
        conds = [condition("Bound", "False", "NotFound", ""),
                 condition("Ready", "False", "NotFound",
                           f"DataSource {ref.get('namespace', dv['metadata']['namespace'])}/{ref.get('name')} not found"),
                 condition("Running", "False", "NotFound", "")]
    desired["conditions"] = merge_conditions(previous, conds, now, ("lastHeartbeatTime", "lastTransitionTime"))
    return desired


def data_source_status(ds, now):
    previous = (ds.get("status") or {}).get("conditions")
    return {"source": copy.deepcopy(ds["spec"]["source"]),
            "conditions": merge_conditions(previous, [condition("Ready", "True", "Ready", "")], now,
                                           ("lastHeartbeatTime", "lastTransitionTime"))}


def new_vmi(vm):
    template = copy.deepcopy(vm["spec"]["template"])
    metadata = template.get("metadata") or {}
    labels = dict(metadata.get("labels") or {})
    labels["vm.kubevirt.io/name"] = vm["metadata"]["name"]
    annotations = dict(metadata.get("annotations") or {})
    annotations["kubevirt.io/latest-observed-api-version"] = "v1"
    return {"apiVersion": KUBEVIRT_API, "kind": "VirtualMachineInstance",
            "metadata": {"name": vm["metadata"]["name"], "namespace": vm["metadata"]["namespace"],
                         "labels": labels, "annotations": annotations,
                         "ownerReferences": [owner(vm)]},
            "spec": template.get("spec") or {}}


def pod_interface_name(network_name):
    """KubeVirt's hashed pod-side interface name for a secondary network (e.g. podffec3d98bf3)."""
    return "pod" + hashlib.sha256(network_name.encode()).hexdigest()[:11]


def _networks(vmi):
    return vmi["spec"].get("networks") or []


def _interfaces(vmi):
    return ((vmi["spec"].get("domain") or {}).get("devices") or {}).get("interfaces") or []


def multus_networks(vmi):
    """The Multus request KubeVirt writes on the launcher pod for the VMI's secondary networks."""
    macs = {i["name"]: i.get("macAddress") for i in _interfaces(vmi)}
    requests = []
    for network in _networks(vmi):
        multus = network.get("multus")
        if not multus or multus.get("default"):
            continue
        namespace, _, name = multus["networkName"].rpartition("/")
        request = {"name": name, "namespace": namespace or vmi["metadata"]["namespace"]}
        if macs.get(network["name"]):
            request["mac"] = macs[network["name"]]
        request["interface"] = pod_interface_name(network["name"])
        requests.append(request)
    return requests


def launcher_image(version):
    """OpenShift Virtualization `version`'s virt-launcher image."""
    return f"{LAUNCHER_REPOSITORY}:v{version}"


def new_launcher_pod(vmi, version=DEFAULT_VERSION):
    name, namespace, uid = vmi["metadata"]["name"], vmi["metadata"]["namespace"], vmi["metadata"]["uid"]
    labels = dict(vmi["metadata"].get("labels") or {})
    labels.update({"kubevirt.io": "virt-launcher", "kubevirt.io/created-by": uid,
                   "vm.kubevirt.io/name": name})
    annotations = {k: v for k, v in (vmi["metadata"].get("annotations") or {}).items()
                   if not k.startswith("kubevirt.io/latest-observed")}
    annotations.update({"kubevirt.io/domain": name, "kubectl.kubernetes.io/default-container": "compute"})
    networks = multus_networks(vmi)
    if networks:
        annotations[NETWORKS_ANNOTATION] = json.dumps(networks, separators=(",", ":"))
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"generateName": f"virt-launcher-{name}-", "namespace": namespace,
                         "labels": labels, "annotations": annotations,
                         "ownerReferences": [owner(vmi)]},
            "spec": {"containers": [{"name": "compute", "image": launcher_image(version),
                                     "command": ["/usr/bin/virt-launcher-monitor", "--name", name,
                                                 "--namespace", namespace, "--uid", uid]}],
                     "nodeSelector": {"kubevirt.io/schedulable": "true"},
                     "restartPolicy": "Never", "automountServiceAccountToken": False,
                     "hostname": name, "terminationGracePeriodSeconds": 30}}


def network_data_source(vmi):
    """('inline', text), ('secret', name) or None: where the cloud-init networkData lives."""
    for volume in vmi["spec"].get("volumes") or []:
        source = volume.get("cloudInitNoCloud") or volume.get("cloudInitConfigDrive")
        if not source:
            continue
        if source.get("networkData"):
            return "inline", source["networkData"]
        if source.get("networkDataBase64"):
            return "inline", base64.b64decode(source["networkDataBase64"]).decode()
        if (source.get("networkDataSecretRef") or {}).get("name"):
            return "secret", source["networkDataSecretRef"]["name"]
    return None


def guest_addresses(vmi, network_data):
    """Interface name -> static addresses (no prefix) configured by cloud-init networkData v1/v2."""
    return {name: [_strip(a) for a in config["addresses"]]
            for name, config in guest_network_config(vmi, network_data).items()}


def guest_network_config(vmi, network_data):
    """VMI interface name -> {"addresses": [CIDR], "routes": [{"to", "via"}]} that cloud-init
    configures from networkData v1 or v2. An address without prefix gets /24, as cloud-init's
    `_normalize_net_keys` (cloudinit/net/network_state.py) gives it; gateway4 / a v1 subnet's
    gateway is the default route."""
    try:
        document = yaml.safe_load(network_data or "") or {}
    except yaml.YAMLError:
        return {}
    interfaces = _interfaces(vmi)
    by_mac = {(i.get("macAddress") or "").lower(): i["name"] for i in interfaces}
    result = {}
    if "ethernets" in document.get("network", document):
        document = document.get("network", document)
        for key, config in (document.get("ethernets") or {}).items():
            config = config or {}
            target = _target_interface(key, config.get("match") or {}, interfaces, by_mac)
            routes = [{"to": _route_destination(r.get("to")), "via": r["via"]}
                      for r in config.get("routes") or [] if r.get("via")]
            if config.get("gateway4"):
                routes.insert(0, {"to": "default", "via": config["gateway4"]})
            if target:
                result[target] = {"addresses": [_with_prefix(a) for a in config.get("addresses") or []],
                                  "routes": routes}
    else:
        for entry in (document.get("network", document).get("config") or []):
            if entry.get("type") != "physical":
                continue
            target = _target_interface(entry.get("name", ""), {"macaddress": entry.get("mac_address")},
                                       interfaces, by_mac)
            subnets = [s for s in entry.get("subnets") or [] if s.get("address")]
            if target:
                result[target] = {
                    "addresses": [_with_prefix(s["address"], s.get("netmask") or s.get("prefix")) for s in subnets],
                    "routes": [{"to": "default", "via": s["gateway"]} for s in subnets if s.get("gateway")]}
    return result


def _with_prefix(address, netmask=None):
    if "/" in str(address):
        return str(ipaddress.ip_interface(address))
    return str(ipaddress.ip_interface(f"{address}/{netmask or 24}"))


def _route_destination(to):
    return "default" if to in (None, "default", "0.0.0.0/0") else str(ipaddress.ip_network(to, strict=False))


def _target_interface(key, match, interfaces, by_mac):
    mac = (match.get("macaddress") or "").lower()
    if mac and mac in by_mac:
        return by_mac[mac]
    if key.startswith("eth") and key[3:].isdigit() and int(key[3:]) < len(interfaces):
        return interfaces[int(key[3:])]["name"]
    return None


def _strip(address):
    return str(ipaddress.ip_interface(address).ip)


def vmi_status(vmi, pod, addresses, now, version=DEFAULT_VERSION):
    """VMI phase from its launcher pod; Running pods give a Ready VMI with guest interfaces."""
    previous = vmi.get("status") or {}
    if pod is None:
        if previous.get("phase") in ("Running", "Scheduled"):
            return {"phase": "Failed", "reason": "PodNotFound", "conditions": merge_conditions(
                previous.get("conditions"), [condition("Ready", "False", "PodTerminating",
                                                       "virt-launcher pod is gone")], now, TIME_FIELDS)}
        return {"phase": "Pending"}
    pod_status = pod.get("status") or {}
    node = pod["spec"].get("nodeName")
    if pod_status.get("phase") != "Running":
        phase = "Scheduled" if node else "Scheduling"
        return {"phase": phase, "conditions": merge_conditions(previous.get("conditions"), [
            condition("Ready", "False", "PodNotReady" if node else "GuestNotRunning", "")], now, TIME_FIELDS)}
    networks = {n["name"]: n for n in _networks(vmi)}
    interfaces = []
    for index, iface in enumerate(_interfaces(vmi)):
        network = networks.get(iface["name"], {})
        ips = list(addresses.get(iface["name"], []))
        if "pod" in network and not ips:
            ips = [pod_status.get("podIP")] if pod_status.get("podIP") else []
        entry = {"name": iface["name"], "interfaceName": f"eth{index}",
                 "infoSource": "domain, guest-agent" + (", multus-status" if "multus" in network else ""),
                 "queueCount": 1}
        if iface.get("macAddress"):
            entry["mac"] = iface["macAddress"]
        if ips:
            entry.update(ipAddress=ips[0], ipAddresses=ips)
        interfaces.append(entry)
    conds = [condition("Ready", "True", "", ""),
             condition("LiveMigratable", "False", "DisksNotLiveMigratable",
                       "cannot migrate VMI: simulated storage is not shared (ReadWriteMany)"),
             condition("AgentConnected", "True", "", "")]
    return {"phase": "Running", "nodeName": node, "interfaces": interfaces,
            "activePods": {pod["metadata"]["uid"]: node},
            "guestOSInfo": {"id": "centos", "name": "CentOS Stream", "version": "9"},
            "launcherContainerImageVersion": launcher_image(version), "migrationMethod": "BlockMigration",
            "qosClass": "Burstable",
            "conditions": merge_conditions(previous.get("conditions"), conds, now, TIME_FIELDS)}


def vm_status(vm, vmi, volumes_ready, now):
    """printableStatus, ready, created and the Ready condition as virt-controller reports them."""
    previous = vm.get("status") or {}
    vmi_phase = ((vmi or {}).get("status") or {}).get("phase")
    if vmi is not None and vmi["metadata"].get("deletionTimestamp"):
        printable = "Stopping"
    elif vmi is not None and vmi_phase == "Running":
        printable = "Running"
    elif vmi is not None:
        printable = "Starting"
    elif not volumes_ready and wants_running(vm, None):
        printable = "Provisioning"
    else:
        printable = "Stopped"
    ready = printable == "Running" and any(
        c.get("type") == "Ready" and c.get("status") == "True" for c in (vmi.get("status") or {}).get("conditions") or [])
    if ready:
        ready_condition = condition("Ready", "True", "", "")
    elif vmi is None:
        ready_condition = condition("Ready", "False", "VMINotExists", "VMI does not exist")
    else:
        ready_condition = condition("Ready", "False", "PodNotReady" if vmi_phase else "GuestNotRunning", "")
    generation = vm["metadata"].get("generation", 1)
    return {"printableStatus": printable, "ready": ready, "created": vmi is not None,
            "observedGeneration": generation,
            "desiredGeneration": generation,
            "conditions": merge_conditions(previous.get("conditions"), [ready_condition], now, TIME_FIELDS)}


def hyperconverged_status(hco, now, version=DEFAULT_VERSION):
    previous = (hco.get("status") or {}).get("conditions")
    conds = [condition("ReconcileComplete", "True", "ReconcileCompleted", "Reconcile completed successfully"),
             condition("Available", "True", "ReconcileCompleted", "Reconcile completed successfully"),
             condition("Progressing", "False", "ReconcileCompleted", "Reconcile completed successfully"),
             condition("Degraded", "False", "ReconcileCompleted", "Reconcile completed successfully"),
             condition("Upgradeable", "True", "ReconcileCompleted", "Reconcile completed successfully")]
    generation = hco["metadata"].get("generation", 1)
    for cond in conds:
        cond["observedGeneration"] = generation
    return {"conditions": merge_conditions(previous, conds, now, ("lastTransitionTime",)),
            "observedGeneration": generation,
            "versions": [{"name": "operator", "version": version}]}


def guest_nics(vmi, network_data):
    """Launcher-pod interface (KubeVirt's `pod<hash>`) -> the guest NIC behind it with a bridge
    binding: `eth<index>` in the guest, with the addresses and routes cloud-init gives it."""
    config = guest_network_config(vmi, network_data)
    networks = {n["name"]: n for n in _networks(vmi)}
    nics = {}
    for index, iface in enumerate(_interfaces(vmi)):
        multus = networks.get(iface["name"], {}).get("multus")
        if multus and not multus.get("default"):
            nics[pod_interface_name(iface["name"])] = {
                "ifname": f"eth{index}", **config.get(iface["name"], {"addresses": [], "routes": []})}
    return nics
