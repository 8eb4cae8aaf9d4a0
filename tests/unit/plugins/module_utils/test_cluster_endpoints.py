import base64
import json

import pytest

from ansible_collections.ocpvirt.multinet.plugins.module_utils.simulate import attachments as att
from ansible_collections.ocpvirt.multinet.plugins.module_utils.simulate import cluster_endpoints as ce
from ansible_collections.ocpvirt.multinet.plugins.module_utils.simulate import guest_network_data as gnd
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.vocabulary import (
    NETWORK_STATUS_ANNOTATION,
    NETWORKS_ANNOTATION,
    VM_NAME_LABEL,
)
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.errors import MultinetError
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.intent import parse_intent

NET = ("llm-demo", "llm-demo-localnet-network")
NET_NAME = "llm-demo/llm-demo-localnet-network"


def pod(name, networks=None, status=None, labels=None, phase="Running", namespace="llm-demo", owner=None):
    annotations = {}
    if networks is not None:
        annotations[NETWORKS_ANNOTATION] = networks if isinstance(networks, str) else json.dumps(networks)
    if status is not None:
        annotations[NETWORK_STATUS_ANNOTATION] = json.dumps(status)
    meta = {"name": name, "namespace": namespace, "labels": labels or {"app": name}, "annotations": annotations}
    if owner:
        meta["ownerReferences"] = [{"kind": "VirtualMachineInstance", "name": owner}]
    return {"metadata": meta, "status": {"phase": phase}}


def seed_pod(name, ip):
    """The seed's tinypods: static address in the networks annotation, nothing in network-status."""
    return pod(name, [{"name": "llm-demo-localnet-network", "_mac": "02:03:04:05:06:07", "ips": [ip + "/24"]}])


SEED_NETWORK_DATA = "ethernets:\n  eth0:\n    addresses:\n      - 192.168.77.71\n    gateway4: 192.168.77.1\nversion: 2\n"


def vm(name, network_data=None, mac="02:00:a3:00:00:01", volume=None, labels=None, extra_nics=(),
       network_name="llm-demo-localnet-network"):
    """A VM shaped like the seed's gold-rabbit: one bridge NIC on the NAD, cloud-init networkData."""
    interfaces = [{"name": n, "masquerade": {}} for n in extra_nics]
    interfaces.append({"name": "nic-yellow-duck-37", "bridge": {}, "macAddress": mac})
    networks = [{"name": n, "pod": {}} for n in extra_nics]
    networks.append({"name": "nic-yellow-duck-37", "multus": {"networkName": network_name}})
    if volume is None:
        volume = {"cloudInitNoCloud": {"networkData": network_data or SEED_NETWORK_DATA, "userData": "#cloud-config\npassword: redhat\n"}}
    spec = {"domain": {"devices": {"interfaces": interfaces}}, "networks": networks,
            "volumes": [{"name": "rootdisk", "dataVolume": {"name": name}}, dict(volume, name="cloudinitdisk")]}
    template_meta = {"labels": labels or {"kubevirt.io/domain": name}}
    return {"metadata": {"name": name, "namespace": "llm-demo"},
            "spec": {"template": {"metadata": template_meta, "spec": spec}}}


def launcher(vm_name, status=None):
    return pod("virt-launcher-{0}-nml27".format(vm_name),
               [{"name": "llm-demo-localnet-network", "namespace": "llm-demo", "mac": "02:00:a3:00:00:01"}],
               status=status,
               labels={"kubevirt.io": "virt-launcher", VM_NAME_LABEL: vm_name, "kubevirt.io/domain": vm_name},
               owner=vm_name)


def by_name(result):
    return {e["name"]: e for e in result["endpoints"]}


# --- pods ------------------------------------------------------------------------------------

def test_seed_pods_get_their_static_addresses_from_the_networks_annotation():
    result = ce.collect_endpoints(NET_NAME, pods=[seed_pod("tinypod", "192.168.77.91"), seed_pod("tinypod-01", "192.168.77.92")])
    eps = by_name(result)
    assert eps["tinypod"]["ip"] == "192.168.77.91"
    assert eps["tinypod"]["cidr"] == "192.168.77.91/24"
    assert eps["tinypod"]["source"] == "networks-annotation"
    assert eps["tinypod"]["labels"] == {"app": "tinypod"}
    assert eps["tinypod"]["kind"] == "pod" and eps["tinypod"]["pod"] == "tinypod"
    assert result["unresolved"] == []


def test_network_status_wins_over_the_request_and_names_the_interface():
    p = pod("p", [{"name": "llm-demo-localnet-network", "ips": ["192.168.77.50/24"]}],
            status=[{"name": "ovn-kubernetes", "interface": "eth0", "ips": ["10.132.0.5"], "default": True},
                    {"name": NET_NAME, "interface": "net1", "ips": ["192.168.77.51"]}])
    attachment = att.pod_attachment(p, NET)
    assert attachment["ips"] == ["192.168.77.51"]
    assert attachment["interface"] == "net1"
    assert attachment["source"] == "network-status"


def test_network_status_alone_is_enough_for_an_ipam_network():
    p = pod("p", "llm-demo-localnet-network@net1", status=[{"name": NET_NAME, "interface": "net1", "ips": ["10.200.0.7"]}])
    assert ce.collect_endpoints(NET_NAME, pods=[p])["endpoints"][0]["ip"] == "10.200.0.7"


def test_short_form_annotation_attaches_without_addresses_and_is_reported_unresolved():
    p = pod("p", "other-net, llm-demo/llm-demo-localnet-network@net1")
    result = ce.collect_endpoints(NET_NAME, pods=[p])
    assert result["endpoints"] == []
    [missing] = result["unresolved"]
    assert missing["name"] == "p" and missing["interface"] == "net1"
    assert "no address on llm-demo/llm-demo-localnet-network" in missing["reason"]


def test_pods_on_other_networks_or_namespaces_are_not_endpoints():
    other_net = pod("a", [{"name": "other", "ips": ["192.168.77.5/24"]}])
    other_ns = pod("b", [{"name": "llm-demo-localnet-network", "ips": ["192.168.77.6/24"]}], namespace="elsewhere")
    explicit_ns = pod("c", [{"name": "llm-demo-localnet-network", "namespace": "llm-demo", "ips": ["192.168.77.7/24"]}],
                      namespace="elsewhere")
    result = ce.collect_endpoints(NET_NAME, pods=[other_net, other_ns, explicit_ns])
    assert [e["object"] for e in result["endpoints"]] == ["c"]
    assert result["unresolved"] == []


def test_terminated_pods_are_skipped():
    done = seed_pod("done", "192.168.77.95")
    done["status"]["phase"] = "Succeeded"
    assert ce.collect_endpoints(NET_NAME, pods=[done])["endpoints"] == []


def test_pending_pod_is_an_endpoint_that_is_not_running():
    p = seed_pod("p", "192.168.77.95")
    p["status"]["phase"] = "Pending"
    assert ce.collect_endpoints(NET_NAME, pods=[p])["endpoints"][0]["running"] is False


# --- virtual machines ------------------------------------------------------------------------

def test_seed_vm_address_comes_from_cloud_init_eth0_and_its_launcher_is_not_counted_twice():
    result = ce.collect_endpoints(NET_NAME, pods=[launcher("gold")], vms=[vm("gold")])
    [endpoint] = result["endpoints"]
    assert endpoint["name"] == "gold" and endpoint["kind"] == "vm"
    assert endpoint["ip"] == "192.168.77.71"
    assert endpoint["source"] == "cloud-init"
    assert endpoint["labels"][VM_NAME_LABEL] == "gold"
    assert endpoint["pod"] == "virt-launcher-gold-nml27"
    assert endpoint["running"] is True


def test_stopped_vm_gets_the_labels_kubevirt_will_give_its_launcher():
    [endpoint] = ce.collect_endpoints(NET_NAME, vms=[vm("gold", labels={"tier": "db"})])["endpoints"]
    assert endpoint["labels"] == {"tier": "db", VM_NAME_LABEL: "gold", "kubevirt.io": "virt-launcher"}
    assert endpoint["running"] is False and endpoint["pod"] is None


def test_networkdata_is_matched_by_mac_not_by_position():
    data = ("version: 2\nethernets:\n  first:\n    match: {macaddress: '02:00:00:00:00:09'}\n    addresses: [10.0.0.9/24]\n"
            "  second:\n    match: {macaddress: '02:00:A3:00:00:01'}\n    addresses: [192.168.77.73/24]\n")
    [endpoint] = ce.collect_endpoints(NET_NAME, vms=[vm("v", data, extra_nics=["default"])])["endpoints"]
    assert endpoint["ip"] == "192.168.77.73"
    assert endpoint["cidr"] == "192.168.77.73/24"


def test_networkdata_falls_back_to_eth_index_for_a_second_nic():
    data = "version: 2\nethernets:\n  eth0: {dhcp4: true}\n  eth1:\n    addresses: [192.168.77.74/24]\n"
    [endpoint] = ce.collect_endpoints(NET_NAME, vms=[vm("v", data, extra_nics=["default"])])["endpoints"]
    assert endpoint["ip"] == "192.168.77.74"


def test_ambiguous_networkdata_is_unresolved_rather_than_guessed():
    data = "version: 2\nethernets:\n  enp2s0:\n    addresses: [192.168.77.75/24]\n"
    result = ce.collect_endpoints(NET_NAME, vms=[vm("v", data, extra_nics=["default"])])
    assert result["endpoints"] == []
    assert "nic-yellow-duck-37" in result["unresolved"][0]["reason"]


def test_networkdata_version_1_with_netmask():
    data = ("version: 1\nconfig:\n  - type: physical\n    name: eth0\n    mac_address: '02:00:a3:00:00:01'\n"
            "    subnets:\n      - {type: static, address: 192.168.77.76, netmask: 255.255.255.0}\n")
    [endpoint] = ce.collect_endpoints(NET_NAME, vms=[vm("v", data)])["endpoints"]
    assert (endpoint["ip"], endpoint["cidr"]) == ("192.168.77.76", "192.168.77.76/24")


def test_config_drive_openstack_network_data():
    data = json.dumps({"links": [{"id": "l0", "ethernet_mac_address": "02:00:a3:00:00:01", "name": "eth0"}],
                       "networks": [{"link": "l0", "type": "ipv4", "ip_address": "192.168.77.77", "netmask": "255.255.255.0"}]})
    [endpoint] = ce.collect_endpoints(NET_NAME, vms=[vm("v", volume={"cloudInitConfigDrive": {"networkData": data}})])["endpoints"]
    assert endpoint["ip"] == "192.168.77.77"


def test_base64_network_data():
    encoded = base64.b64encode(SEED_NETWORK_DATA.encode()).decode()
    [endpoint] = ce.collect_endpoints(NET_NAME, vms=[vm("v", volume={"cloudInitNoCloud": {"networkDataBase64": encoded}})])["endpoints"]
    assert endpoint["ip"] == "192.168.77.71"


def test_network_data_in_a_secret_is_used_and_never_returned():
    volume = {"cloudInitNoCloud": {"networkDataSecretRef": {"name": "nd"}, "userDataSecretRef": {"name": "ud"}}}
    machine = vm("v", volume=volume)
    assert gnd.secret_refs(machine["spec"]["template"]["spec"]) == ["nd"]
    secret = {"data": {"networkdata": base64.b64encode(SEED_NETWORK_DATA.encode()).decode(), "userdata": "c2VjcmV0"}}
    text = gnd.network_data_from_secret(secret)
    result = ce.collect_endpoints(NET_NAME, vms=[machine], secret_network_data={"llm-demo/nd": text})
    [endpoint] = result["endpoints"]
    assert endpoint["ip"] == "192.168.77.71" and endpoint["source"] == "cloud-init-secret"
    assert "gateway4" not in json.dumps(result) and "c2VjcmV0" not in json.dumps(result)


def test_secret_of_another_namespace_is_not_used():
    volume = {"cloudInitNoCloud": {"networkDataSecretRef": {"name": "nd"}}}
    result = ce.collect_endpoints(NET_NAME, vms=[vm("v", volume=volume)], secret_network_data={"other/nd": SEED_NETWORK_DATA})
    assert result["endpoints"] == [] and len(result["unresolved"]) == 1


def test_network_data_from_secret_without_the_key_is_none():
    assert gnd.network_data_from_secret({"data": {"userdata": "eA=="}}) is None


def test_guest_agent_report_wins_over_cloud_init():
    vmi = {"metadata": {"name": "gold", "namespace": "llm-demo", "labels": {VM_NAME_LABEL: "gold"}},
           "spec": vm("gold")["spec"]["template"]["spec"],
           "status": {"interfaces": [{"name": "nic-yellow-duck-37", "ipAddress": "192.168.77.99",
                                      "ipAddresses": ["192.168.77.99", "fe80::1"]}]}}
    [endpoint] = ce.collect_endpoints(NET_NAME, vms=[vm("gold")], vmis=[vmi], pods=[launcher("gold")])["endpoints"]
    assert endpoint["ip"] == "192.168.77.99" and endpoint["source"] == "vmi-status"
    assert endpoint["ips"] == ["192.168.77.99", "fe80::1"]


def test_launcher_pod_network_status_is_used_when_the_vm_has_no_cloud_init():
    machine = vm("v", volume={"containerDisk": {"image": "x"}})
    status = [{"name": NET_NAME, "interface": "podffec3d98bf3", "ips": ["10.200.0.9"]}]
    [endpoint] = ce.collect_endpoints(NET_NAME, vms=[machine], pods=[launcher("v", status)])["endpoints"]
    assert (endpoint["ip"], endpoint["source"]) == ("10.200.0.9", "launcher-pod")


def test_standalone_vmi_is_an_endpoint_of_kind_vmi():
    vmi = {"metadata": {"name": "solo", "namespace": "llm-demo", "labels": {"app": "solo"}},
           "spec": vm("solo")["spec"]["template"]["spec"]}
    [endpoint] = ce.collect_endpoints(NET_NAME, vmis=[vmi], pods=[launcher("solo")])["endpoints"]
    assert endpoint["kind"] == "vmi" and endpoint["ip"] == "192.168.77.71"


def test_vm_on_another_network_is_ignored():
    assert ce.collect_endpoints(NET_NAME, vms=[vm("v", network_name="other")]) == {"endpoints": [], "unresolved": []}


def test_vm_network_name_may_be_namespace_qualified():
    [endpoint] = ce.collect_endpoints(NET_NAME, vms=[vm("v", network_name=NET_NAME)])["endpoints"]
    assert endpoint["object"] == "v"


# --- naming and outside hosts ----------------------------------------------------------------

def test_outside_hosts_come_last_without_namespace():
    result = ce.collect_endpoints(NET_NAME, pods=[seed_pod("tinypod", "192.168.77.91")],
                                  extra=[{"name": "gateway", "ip": "192.168.77.1"}])
    assert [e["name"] for e in result["endpoints"]] == ["tinypod", "gateway"]
    assert ce.simulation_endpoints(result["endpoints"])[1] == {"name": "gateway", "ip": "192.168.77.1"}


@pytest.mark.parametrize("host, field", [
    ({"ip": "1.2.3.4"}, "endpoints[0]"),
    ({"name": "x", "ip": "nope"}, "endpoints[0].ip"),
    ({"name": "x", "ip": "10.0.0.0/8"}, "endpoints[0].ip"),
])
def test_bad_outside_hosts_name_the_field(host, field):
    with pytest.raises(MultinetError, match="^" + field.replace("[", r"\[").replace("]", r"\]") + ":"):
        ce.outside_endpoints([host])


def test_names_are_qualified_with_namespace_when_several_namespaces_are_read():
    a = pod("a", [{"name": "llm-demo-localnet-network", "namespace": "llm-demo", "ips": ["192.168.77.5/24"]}], namespace="one")
    b = pod("a", [{"name": "llm-demo-localnet-network", "namespace": "llm-demo", "ips": ["192.168.77.6/24"]}], namespace="two")
    assert [e["name"] for e in ce.collect_endpoints(NET_NAME, pods=[b, a])["endpoints"]] == ["one/a", "two/a"]


def test_pod_and_vm_of_the_same_name_are_told_apart_by_kind():
    names = [e["name"] for e in ce.collect_endpoints(NET_NAME, pods=[seed_pod("gold", "192.168.77.91")], vms=[vm("gold")])["endpoints"]]
    assert sorted(names) == ["pod:gold", "vm:gold"]


def test_outside_host_clashing_with_a_pod_is_an_error():
    with pytest.raises(MultinetError, match="endpoint names must be unique"):
        ce.collect_endpoints(NET_NAME, pods=[seed_pod("gw", "192.168.77.91")], extra=[{"name": "gw", "ip": "192.168.77.1"}])


# --- intent alignment ------------------------------------------------------------------------

INTENT = parse_intent({
    "namespace": "llm-demo", "network": "llm-demo-localnet-network",
    "workloads": {"tinypod": {"selector": {"app": "tinypod"}, "ips": ["192.168.77.91"]},
                  "gold-rabbit": {"vm": "gold", "ips": ["192.168.77.71"]},
                  "ghost": {"selector": {"app": "ghost"}, "ips": ["192.168.77.99"]}},
    "endpoints": {"gateway": "192.168.77.1", "internet": {"cidr": "0.0.0.0/0", "except": ["0.0.0.0/8", "192.168.77.0/24"]}},
})


def test_live_endpoints_take_the_intent_workload_names_and_missing_ones_are_added():
    live = ce.collect_endpoints(NET_NAME, pods=[seed_pod("tinypod", "192.168.77.91"), seed_pod("stray", "192.168.77.93"),
                                                launcher("gold")], vms=[vm("gold")])["endpoints"]
    aligned = ce.align_with_intent(live, INTENT)
    eps = {e["name"]: e for e in aligned["endpoints"]}
    assert set(eps) == {"stray", "ghost", "gold-rabbit", "tinypod", "gateway", "internet"}
    assert eps["gold-rabbit"]["object"] == "gold" and eps["gold-rabbit"]["workload"] == "gold-rabbit"
    assert eps["ghost"]["present"] is False and eps["ghost"]["ip"] == "192.168.77.99"
    assert eps["internet"]["ip"] == "1.0.0.0"
    assert eps["gateway"]["ip"] == "192.168.77.1"
    assert any("ghost" in w for w in aligned["warnings"])
    assert [e["name"] for e in live] == ["gold", "stray", "tinypod"]  # the input is not modified


def test_workload_matched_by_labels_with_another_address_is_warned_about():
    live = ce.collect_endpoints(NET_NAME, pods=[seed_pod("tinypod", "192.168.77.55")])["endpoints"]
    aligned = ce.align_with_intent(live, parse_intent({"namespace": "llm-demo", "network": "llm-demo-localnet-network",
                                                       "workloads": {"tp": {"selector": {"app": "tinypod"}, "ips": ["192.168.77.91"]}}}))
    assert [e["name"] for e in aligned["endpoints"]] == ["tp"]
    assert aligned["warnings"] == ["workload tp: pod tinypod has 192.168.77.55, the intent says 192.168.77.91"]


def test_a_workload_selecting_several_pods_names_each_of_them():
    pods = [pod(name, [{"name": "llm-demo-localnet-network", "ips": [ip]}], labels={"app": "web"})
            for name, ip in (("web-1", "192.168.77.11/24"), ("web-2", "192.168.77.12/24"))]
    live = ce.collect_endpoints(NET_NAME, pods=pods)["endpoints"]
    aligned = ce.align_with_intent(live, parse_intent({"namespace": "llm-demo", "network": "llm-demo-localnet-network",
                                                       "ipam": True, "workloads": {"web": {"selector": {"app": "web"}}}}))
    assert [e["name"] for e in aligned["endpoints"]] == ["web[web-1]", "web[web-2]"]


def test_extra_hosts_override_the_intent_representative_address():
    aligned = ce.align_with_intent([], INTENT, extra=[{"name": "internet", "ip": "8.8.8.8"}])
    assert {e["name"]: e["ip"] for e in aligned["endpoints"]}["internet"] == "8.8.8.8"


@pytest.mark.parametrize("cidr, excepts, expected", [
    ("192.168.77.1", [], "192.168.77.1"),
    ("192.168.77.1/32", [], "192.168.77.1"),
    ("10.0.0.0/8", [], "10.0.0.1"),
    ("10.0.0.0/8", ["10.0.0.0/16", "10.1.0.0/16"], "10.2.0.0"),
    ("0.0.0.0/0", ["192.168.77.0/24"], "0.0.0.1"),
    ("2001:db8::/64", [], "2001:db8::1"),
])
def test_representative_ip_is_inside_the_cidr_and_outside_its_excepts(cidr, excepts, expected):
    assert ce.representative_ip(cidr, excepts) == expected


@pytest.mark.parametrize("cidr, excepts", [("10.0.0.0/24", ["10.0.0.0/24"]), ("255.255.255.0/24", ["255.255.255.0/25", "255.255.255.128/25"]), ("bogus", [])])
def test_representative_ip_errors_name_the_cidr(cidr, excepts):
    with pytest.raises(MultinetError, match="^endpoints.x: "):
        ce.representative_ip(cidr, excepts, field="endpoints.x")


@pytest.mark.parametrize("config, expected", [
    ({"type": "ovn-k8s-cni-overlay", "topology": "localnet", "name": "localnet-cnv"}, False),
    ({"type": "ovn-k8s-cni-overlay", "topology": "localnet", "subnets": "192.168.77.0/24"}, True),
    ({"type": "macvlan", "ipam": {"type": "whereabouts"}}, True),
    ("not json", None),
])
def test_nad_has_ipam_reads_the_cni_config(config, expected):
    text = config if isinstance(config, str) else json.dumps(config)
    assert att.nad_has_ipam({"spec": {"config": text}}) is expected


def test_pods_on_any_nad_of_one_network_are_endpoints():
    """NADs of one OVN network can live in several namespaces; pods on any of them share it."""
    here = seed_pod("tinypod", "192.168.77.91")
    there = pod("other-pod", [{"name": "net-b", "ips": ["192.168.77.95/24"]}], namespace="other")
    nads = [NET_NAME, "other/net-b"]
    names = sorted(e["name"] for e in ce.collect_endpoints(nads, pods=[here, there])["endpoints"])
    assert names == ["llm-demo/tinypod", "other/other-pod"]
    assert [e["name"] for e in ce.collect_endpoints(NET_NAME, pods=[here, there])["endpoints"]] == ["tinypod"]


def test_nad_network_name_is_the_name_in_its_config():
    nad = {"spec": {"config": json.dumps({"name": "localnet-cnv", "topology": "localnet"})}}
    assert att.nad_network_name(nad) == "localnet-cnv"
    assert att.nad_network_name({"spec": {"config": "not json"}}) is None
    assert att.nad_network_name(None) is None


@pytest.mark.parametrize("network", [NET_NAME, NET, [NET_NAME], frozenset([NET_NAME]), frozenset([NET])])
def test_a_network_is_given_as_one_or_several_nads_in_any_form(network):
    assert att.network_nads(network) == frozenset([NET])
