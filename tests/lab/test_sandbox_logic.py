"""Pure logic of the kubelet stand-in's sandboxes (lab/simulator/kubelet.py, kubevirt.py): which
namespaces the data plane gets for pods and VM guests. No lab needed."""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "lab"))

from simulator import kubelet, kubevirt  # noqa: E402

LOCALNET_CONFIG = json.dumps({"cniVersion": "0.3.1", "name": "localnet-cnv", "type": "ovn-k8s-cni-overlay",
                              "topology": "localnet", "netAttachDefName": "llm-demo/llm-demo-localnet-network"})
NAD = {"metadata": {"namespace": "llm-demo", "name": "llm-demo-localnet-network"}, "spec": {"config": LOCALNET_CONFIG}}
LAYER2_NAD = {"metadata": {"namespace": "llm-demo", "name": "l2"},
              "spec": {"config": json.dumps({"type": "ovn-k8s-cni-overlay", "topology": "layer2"})}}
SEED_NETWORK_DATA = "ethernets:\n  eth0:\n    addresses:\n      - 192.168.77.71\n    gateway4: 192.168.77.1\nversion: 2\n"


def pod(name, networks, status_entries, labels=None, phase="Running", node="worker-0"):
    return {"metadata": {"namespace": "llm-demo", "name": name, "uid": f"{name}-uid", "labels": labels or {},
                         "annotations": {kubelet.NETWORKS_ANNOTATION: json.dumps(networks),
                                         kubelet.NETWORK_STATUS_ANNOTATION: json.dumps(status_entries)}},
            "spec": {"nodeName": node}, "status": {"phase": phase}}


DEFAULT_ENTRY = {"name": "ovn-kubernetes", "interface": "eth0", "ips": ["10.128.2.10"], "mac": "0a:58:0a:80:02:0a",
                 "default": True}
TINYPOD = pod("tinypod", [{"name": "llm-demo-localnet-network", "ips": ["192.168.77.91/24"]}],
              [DEFAULT_ENTRY, {"name": "llm-demo/llm-demo-localnet-network", "interface": "net1",
                               "mac": "0a:58:11:22:33:44", "ips": ["192.168.77.91"]}])


def vmi():
    return {"metadata": {"namespace": "llm-demo", "name": "vm-71"},
            "spec": {"domain": {"devices": {"interfaces": [
                {"name": "nic-yellow-duck-37", "bridge": {}, "macAddress": "02:00:a3:00:00:01"}]}},
                "networks": [{"name": "nic-yellow-duck-37",
                              "multus": {"networkName": "llm-demo/llm-demo-localnet-network"}}]}}


def test_iface_id_is_the_seeds_logical_port_name():
    assert kubelet.iface_id("llm-demo", "tinypod", "llm-demo/llm-demo-localnet-network") == \
        "llm.demo.llm.demo.localnet.network_llm-demo_tinypod"
    # another namespace's NAD, dashes in the pod's name kept (composePortName does not replace them)
    assert kubelet.iface_id("orchard-a", "pear-2", "shared-nets/lan-b") == "shared.nets.lan.b_orchard-a_pear-2"


def test_only_localnet_nads_count():
    assert kubelet.localnet_networks([NAD, LAYER2_NAD, {"metadata": {"namespace": "x", "name": "bad"},
                                                        "spec": {"config": "{not json"}}]) == \
        {"llm-demo/llm-demo-localnet-network"}


def test_a_pod_gets_its_network_status_mac_and_the_requested_prefix():
    assert kubelet.sandboxes([TINYPOD], {"llm-demo/llm-demo-localnet-network"}, {}) == {
        ("pods", "llm-demo", "tinypod"): {"node": "worker-0", "interfaces": [{
            "ifname": "net1", "mac": "0a:58:11:22:33:44", "addresses": ["192.168.77.91/24"], "routes": [],
            "iface_id": "llm.demo.llm.demo.localnet.network_llm-demo_tinypod", "iface_id_ver": "tinypod-uid"}]}}


def test_pending_deleting_and_non_localnet_pods_get_nothing():
    pending = {**TINYPOD, "status": {"phase": "Pending"}}
    deleting = {**TINYPOD, "metadata": {**TINYPOD["metadata"], "deletionTimestamp": "2024-01-01T00:00:00Z"}}
    assert kubelet.sandboxes([pending, deleting], {"llm-demo/llm-demo-localnet-network"}, {}) == {}
    assert kubelet.sandboxes([TINYPOD], set(), {}) == {}


def test_seed_network_data_gives_a_24_and_the_default_route():
    assert kubevirt.guest_network_config(vmi(), SEED_NETWORK_DATA) == {
        "nic-yellow-duck-37": {"addresses": ["192.168.77.71/24"],
                               "routes": [{"to": "default", "via": "192.168.77.1"}]}}
    v1 = ("version: 1\nconfig:\n- type: physical\n  name: eth0\n  mac_address: '02:00:a3:00:00:01'\n"
          "  subnets:\n  - type: static\n    address: 192.168.77.72\n    netmask: 255.255.255.128\n"
          "    gateway: 192.168.77.1\n")
    assert kubevirt.guest_network_config(vmi(), v1) == {
        "nic-yellow-duck-37": {"addresses": ["192.168.77.72/25"], "routes": [{"to": "default", "via": "192.168.77.1"}]}}
    v2_routes = "version: 2\nethernets:\n  eth0:\n    addresses: [192.168.77.73/24]\n    routes:\n" \
                "    - {to: 0.0.0.0/0, via: 192.168.77.1}\n    - {to: 203.0.113.0/24, via: 192.168.77.1}\n"
    assert kubevirt.guest_network_config(vmi(), v2_routes)["nic-yellow-duck-37"]["routes"] == [
        {"to": "default", "via": "192.168.77.1"}, {"to": "203.0.113.0/24", "via": "192.168.77.1"}]


def test_a_launcher_pod_plugs_the_vm_guest_with_the_vm_mac_and_cloud_init_addresses():
    nics = kubevirt.guest_nics(vmi(), SEED_NETWORK_DATA)
    assert nics == {"podffec3d98bf3": {"ifname": "eth0", "addresses": ["192.168.77.71/24"],
                                       "routes": [{"to": "default", "via": "192.168.77.1"}]}}
    launcher = pod("virt-launcher-vm-71-abcde",
                   [{"name": "llm-demo-localnet-network", "namespace": "llm-demo", "mac": "02:00:a3:00:00:01",
                     "interface": "podffec3d98bf3"}],
                   [DEFAULT_ENTRY, {"name": "llm-demo/llm-demo-localnet-network", "interface": "podffec3d98bf3",
                                    "mac": "02:00:a3:00:00:01"}],
                   labels={"kubevirt.io": "virt-launcher", "vm.kubevirt.io/name": "vm-71"}, node="worker-1")
    assert kubelet.sandboxes([launcher], {"llm-demo/llm-demo-localnet-network"}, {("llm-demo", "vm-71"): nics}) == {
        ("guests", "llm-demo", "vm-71"): {"node": "worker-1", "interfaces": [{
            "ifname": "eth0", "mac": "02:00:a3:00:00:01", "addresses": ["192.168.77.71/24"],
            "routes": [{"to": "default", "via": "192.168.77.1"}],
            "iface_id": "llm.demo.llm.demo.localnet.network_llm-demo_virt-launcher-vm-71-abcde",
            "iface_id_ver": "virt-launcher-vm-71-abcde-uid"}]}}
    # Without its VMI's networkData yet, the guest waits.
    assert kubelet.sandboxes([launcher], {"llm-demo/llm-demo-localnet-network"}, {}) == {}
