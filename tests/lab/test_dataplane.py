"""The lab's data plane (lab/dataplane/): real OVS/OVN per node, the LAN, real packets.

The first tests need nothing running (pure layout). The others run against the lab `labctl up`
starts, except the teardown test, which starts a second data plane in a temporary state
directory next to it (so it also proves two labs do not collide) and takes that one down.
"""
import contextlib
import ipaddress
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

REPO_DIR = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_DIR / "lab"))

import dataplane  # noqa: E402
from controlplane import binaries, profiles  # noqa: E402
from controlplane.state import STATE_DIR  # noqa: E402
from lab_helpers import create_localnet_nad, wait_for  # noqa: E402
from dataplane import shell, topology  # noqa: E402

LABCTL = REPO_DIR / "lab" / "labctl.py"
CONFIG = topology.load_config()
NODES = dataplane.data_plane_nodes()
# Test pods' addresses: on the LAN, above what the seed and the lab's hosts use.
TEST_ADDRESSES = ["192.168.77.241", "192.168.77.242"]
LOOPBACK = ipaddress.ip_network("127.0.0.0/8")


# --- pure layout ------------------------------------------------------------------------------

def test_two_state_dirs_get_disjoint_namespace_names(tmp_path):
    first, second = tmp_path / "a" / ".lab", tmp_path / "b" / ".lab"
    names = [{dataplane.node_netns(d, n) for n in NODES} | {dataplane.host_netns(d, h) for h in CONFIG["hosts"]}
             | {topology.lan_netns(d)} for d in (first, second)]
    assert not names[0] & names[1]
    assert all(name.startswith(topology.netns_prefix(first)) for name in names[0])


def test_interface_names_fit_ifnamsiz():
    names = [topology.lan_port(n) for n in [*NODES, *CONFIG["hosts"], "a-very-long-host-name-indeed"]]
    names += [topology.plug_port(f"ocpvl-123456-pod-{i}-with-a-long-name", f"net{j}") for i in range(3) for j in (1, 2)]
    assert all(len(n) <= 15 for n in names), names
    assert len(set(names)) == len(names)


def test_node_env_selects_the_node_directory(tmp_path):
    env = dataplane.node_env(tmp_path, "worker-1")
    assert env["OVS_RUNDIR"] == env["OVN_RUNDIR"] == str(tmp_path / "ovn" / "worker-1")
    assert dataplane.node_dir(tmp_path, "worker-1") == tmp_path / "ovn" / "worker-1"


def test_daemons_use_the_default_socket_names(tmp_path):
    argv = {d.name: topology.daemon_argv(d, tmp_path) for d in topology.daemons()}
    assert f"--remote=punix:{tmp_path}/db.sock" in argv["ovsdb-server"]
    assert f"--remote=punix:{tmp_path}/ovnnb_db.sock" in argv["ovnnb_db"]
    assert f"--remote=punix:{tmp_path}/ovnsb_db.sock" in argv["ovnsb_db"]
    assert f"--ovnsb-db=unix:{tmp_path}/ovnsb_db.sock" in argv["ovn-northd"]
    assert all("--detach" in a and any(x.startswith(f"--pidfile={tmp_path}/") for x in a) for a in argv.values())


def test_bridge_mappings_only_written_into_a_fresh_database(tmp_path):
    fresh = topology.ovs_init_commands(CONFIG, "worker-0", tmp_path, fresh=True)
    again = topology.ovs_init_commands(CONFIG, "worker-0", tmp_path, fresh=False)
    assert "external_ids:ovn-bridge-mappings=physnet:br-ex" in fresh
    assert not any("bridge-mappings" in a for a in again)
    assert "external_ids:system-id=worker-0" in again


def test_a_one_sided_link_is_refused_naming_the_field():
    config = json.loads(json.dumps(CONFIG))
    config["hosts"]["internet"]["interfaces"]["eth0"]["peer"] = "gateway/eth7"
    with pytest.raises(topology.ConfigError,
                       match=r"hosts\.gateway\.interfaces\.eth1\.peer: 'internet/eth0' does not name gateway/eth1 back"):
        topology.validate_config(config)


def test_a_missing_program_names_its_debian_package(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(shell.shutil, "which", lambda program, path=None: None)
    with pytest.raises(dataplane.DataPlaneError, match=r"^ovn-northd not found: apt-get install ovn-central$"):
        shell.require("ovn-northd")


# --- against the running lab ------------------------------------------------------------------

@pytest.fixture(scope="module")
def state_dir(lab_kubeconfig):
    return STATE_DIR


def netns_run(netns, *argv, timeout=10):
    return subprocess.run(["ip", "netns", "exec", netns, *argv], capture_output=True, text=True, timeout=timeout)


def pings(netns, address):
    return netns_run(netns, "ping", "-c1", "-W1", address).returncode == 0


def eventually_pings(netns, address, tries=10):
    """ovn-controller programs a newly bound port within moments; allow it a few seconds."""
    for _ in range(tries):
        if pings(netns, address):
            return True
        time.sleep(0.5)
    return False


def nbctl(state_dir, node, *args):
    subprocess.run(["ovn-nbctl", *args], env={**os.environ, **dataplane.node_env(state_dir, node)},
                   check=True, capture_output=True, text=True)


def add_localnet_switch(state_dir, node, switch, *ports):
    """A localnet switch on `physnet` in the node's NB, with logical ports (name, addresses), as
    OVN-Kubernetes creates it in each zone (the lab's ovnkube's job; written here by hand)."""
    localnet = switch.replace("_switch", "_port")
    args = ["--may-exist", "ls-add", switch,
            "--", "--may-exist", "lsp-add", switch, localnet, "--", "lsp-set-type", localnet, "localnet",
            "--", "lsp-set-addresses", localnet, "unknown", "--", "lsp-set-options", localnet, "network_name=physnet"]
    for port, addresses in ports:
        args += ["--", "lsp-add", switch, port, "--", "lsp-set-addresses", port, addresses]
    nbctl(state_dir, node, *args)


@contextlib.contextmanager
def localnet_pods(state_dir):
    """One namespace per data-plane node on a localnet switch `physnet` (each node is its own OVN
    zone, so the switch exists in every node's NB, as OVN-Kubernetes creates it per zone); yields
    [(node, netns, logical port)]."""
    tag = uuid.uuid4().hex[:6]
    switch, pods = f"labtest.{tag}_ovn_localnet_switch", []
    try:
        for index, node in enumerate(NODES[:2]):
            port, mac = f"labtest.{tag}_pod{index}", f"0a:58:c0:a8:4d:{0xf1 + index:02x}"
            add_localnet_switch(state_dir, node, switch, (port, f"{mac} {TEST_ADDRESSES[index]}"))
            netns = f"{topology.netns_prefix(state_dir)}test-{tag}-{index}"
            dataplane.plug(state_dir, node, netns, ifname="net1", mac=mac, addresses=[f"{TEST_ADDRESSES[index]}/24"],
                           routes=[{"to": "default", "via": "192.168.77.1"}], iface_id=port)
            pods.append((node, netns, port))
        yield pods
    finally:
        for node, netns, _port in pods:
            dataplane.unplug(state_dir, node, netns)
        for node in NODES[:2]:
            nbctl(state_dir, node, "--if-exists", "ls-del", switch)


@pytest.fixture
def pods_on_localnet(state_dir):
    with localnet_pods(state_dir) as pods:
        yield [netns for _node, netns, _port in pods]


def test_pods_on_two_nodes_ping_each_other_the_gateway_and_the_internet(pods_on_localnet, state_dir):
    pod0, pod1 = pods_on_localnet
    assert eventually_pings(pod0, TEST_ADDRESSES[1]), "pod on worker-0 -> pod on worker-1"
    assert pings(pod1, TEST_ADDRESSES[0]), "pod on worker-1 -> pod on worker-0"
    assert pings(pod0, "192.168.77.1") and pings(pod1, "192.168.77.1"), "pods -> gateway"
    assert pings(pod1, "192.168.77.10"), "pod -> outside-vm"
    assert pings(pod0, "203.0.113.10"), "pod -> internet through the gateway"
    assert pings(dataplane.host_netns(state_dir, "outside-vm"), TEST_ADDRESSES[1]), "outside-vm -> pod"


def test_a_port_missing_from_the_switch_gets_no_packets(pods_on_localnet, state_dir):
    pod0, pod1 = pods_on_localnet
    assert eventually_pings(pod0, TEST_ADDRESSES[1])
    netns = f"{pod1}-x"
    dataplane.plug(state_dir, NODES[1], netns, ifname="net1", mac="0a:58:c0:a8:4d:fa",
                   addresses=["192.168.77.250/24"], routes=[], iface_id="labtest.no-such-port")
    try:
        assert not pings(netns, TEST_ADDRESSES[0]) and not pings(netns, "192.168.77.1")
    finally:
        dataplane.unplug(state_dir, NODES[1], netns)


def vsctl(state_dir, node, *args):
    return subprocess.run(["ovs-vsctl", *args], env={**os.environ, **dataplane.node_env(state_dir, node)},
                          check=True, capture_output=True, text=True).stdout.strip()


def test_a_wrong_bridge_mapping_loses_packets_until_put_back(state_dir):
    """The seed's fault: a node whose bridge mappings lack the network when the network arrives.
    OVN 23.03's ovn-controller then makes no patch port from br-int to br-ex for it, so the node's
    pod reaches nothing off the node; putting the mapping back makes the port and the packets
    flow. (A mapping removed after the patch port exists is another story: ovn-controller 23.03
    keeps that port, with its flows, in this lab, so packets keep flowing.)"""
    node = NODES[1]
    original = vsctl(state_dir, node, "get", "Open_vSwitch", ".", "external_ids:ovn-bridge-mappings")
    vsctl(state_dir, node, "set", "Open_vSwitch", ".", 'external_ids:ovn-bridge-mappings="labtest-other:br-ex"')
    try:
        with localnet_pods(state_dir) as [(_node0, pod0, _port0), (_node1, pod1, port1)]:
            assert eventually_pings(pod0, "192.168.77.1"), "worker-0 maps the network: its pod reaches the gateway"
            # ovn-controller has bound the unmapped node's pod and installed its flows ...
            wait_for(f"ovn-installed on {port1}", lambda: "ovn-installed=true" in vsctl(
                state_dir, node, "--bare", "--columns=external_ids", "find", "Interface", f"external_ids:iface-id={port1}"))
            # ... but made no patch port to br-ex for a network the node does not map. (Only this
            # network's port counts: an earlier test's switch, just deleted, may still have its own.)
            patch_port = "patch-{0}_ovn_localnet_port-to-br-int".format(port1.rpartition("_pod")[0])
            assert patch_port not in vsctl(state_dir, node, "list-ports", "br-ex").split()
            assert not pings(pod1, "192.168.77.1") and not pings(pod0, TEST_ADDRESSES[1])
            vsctl(state_dir, node, "set", "Open_vSwitch", ".", f"external_ids:ovn-bridge-mappings={original}")
            assert eventually_pings(pod1, "192.168.77.1") and eventually_pings(pod0, TEST_ADDRESSES[1])
            assert patch_port in vsctl(state_dir, node, "list-ports", "br-ex").split()
    finally:
        vsctl(state_dir, node, "set", "Open_vSwitch", ".", f"external_ids:ovn-bridge-mappings={original}")


def test_the_gateway_reaches_the_internet_host_and_forwards_only_there(state_dir):
    gateway = dataplane.host_netns(state_dir, "gateway")
    assert pings(gateway, "203.0.113.10")
    target = json.loads((state_dir / "exec-targets" / "hosts" / "gateway.json").read_text())
    assert target == {"netns": gateway, "env": {}}
    assert pings(dataplane.host_netns(state_dir, "internet"), "192.168.77.10"), "internet -> outside-vm via gateway"
    forwarding = {netns: netns_run(netns, "sysctl", "-n", "net.ipv4.ip_forward").stdout.strip()
                  for netns in dataplane.lifecycle.lab_namespaces(state_dir)}
    assert forwarding.pop(gateway) == "1"
    assert set(forwarding.values()) == {"0"}, forwarding


def ip_json(netns, *args):
    return json.loads(subprocess.run(["ip", "-n", netns, "-j", *args], check=True, capture_output=True,
                                     text=True).stdout or "[]")


def test_no_lab_namespace_routes_or_links_outside_the_lab(state_dir):
    subnets = topology.lab_subnets(CONFIG)
    inside = lambda address: any(ipaddress.ip_address(address) in s for s in subnets)  # noqa: E731
    namespaces = dataplane.lifecycle.lab_namespaces(state_dir)
    assert len(namespaces) >= len(NODES) + len(CONFIG["hosts"]) + 1
    for netns in namespaces:
        try:
            check_stays_inside(netns, namespaces, inside, subnets)
        except subprocess.CalledProcessError:
            # A pod's namespace the simulator was unplugging (its test deleted the pod) is gone.
            if netns in shell.netns_list():
                raise


def check_stays_inside(netns, namespaces, inside, subnets):
    """Every route of `netns` leads into the lab's subnets, and every veth peer is a lab namespace."""
    for route in ip_json(netns, "-4", "route", "show", "table", "all"):
        if route["dst"] == "default":
            assert inside(route["gateway"]), (netns, route)
        else:
            destination = ipaddress.ip_network(route["dst"], strict=False)
            assert any(destination.subnet_of(s) for s in [*subnets, LOOPBACK]), (netns, route)
    assert not [r for r in ip_json(netns, "-6", "route", "show") if r["dst"] == "default"], netns
    peers = {entry["nsid"]: entry.get("name") for entry in ip_json(netns, "netns", "list-id")}
    for link in ip_json(netns, "link", "show"):
        if "link_netnsid" in link:
            assert peers.get(link["link_netnsid"]) in namespaces, (netns, link["ifname"], peers)


def labctl(*args, check=True):
    return subprocess.run([sys.executable, str(LABCTL), *args], capture_output=True, text=True, check=check)


def test_a_killed_ovn_controller_is_named_by_status_and_restarted_by_up(state_dir):
    node = NODES[-1]
    pidfile = dataplane.node_dir(state_dir, node) / "ovn-controller.pid"
    pid = shell.pid_from_file(pidfile, "ovn-controller")
    assert pid and labctl("status").returncode == 0
    os.kill(pid, 9)
    deadline = time.monotonic() + 10
    while shell.pid_from_file(pidfile, "ovn-controller") and time.monotonic() < deadline:
        time.sleep(0.1)
    result = labctl("status", check=False)
    assert result.returncode == 1
    assert f"{node} ovn-controller" in result.stdout and f"{node} ovn-controller: not running" in result.stderr
    labctl("up")
    restarted = shell.pid_from_file(pidfile, "ovn-controller")
    assert restarted and restarted != pid
    assert labctl("status").returncode == 0


def test_labctl_names_a_missing_program_in_one_line(state_dir, tmp_path):
    result = subprocess.run([sys.executable, str(LABCTL), "status"], capture_output=True, text=True,
                            env={**os.environ, "PATH": str(tmp_path)})
    assert result.returncode == 1
    assert result.stderr.strip() == "labctl: ovn-controller not found: apt-get install ovn-host"


def root_links():
    return {link["ifname"] for link in json.loads(subprocess.run(["ip", "-j", "link", "show"], check=True,
                                                                 capture_output=True, text=True).stdout)}


@pytest.mark.parametrize("ovn", [profiles.DEBIAN, profiles.BUILT])
def test_down_leaves_no_namespace_link_process_or_socket(tmp_path, monkeypatch, ovn):
    """Debian's OVS/OVN (the 4.15 profile's) and the OVN 24.09 build the 4.18 profile's nodes run."""
    programs = Path(shutil.which("ovsdb-server")).parent.parent
    if ovn == profiles.BUILT:  # as labctl runs it: the build first on PATH (built once, cached)
        programs = binaries.build_ovn()
        monkeypatch.setenv("PATH", profiles.path_with_ovn(programs, os.environ.get("PATH", "")))
    second_lab = tmp_path / ".lab"
    links_before = root_links()
    dataplane.up(second_lab, print)
    try:
        namespaces = dataplane.lifecycle.lab_namespaces(second_lab)
        assert len(namespaces) == len(NODES) + len(CONFIG["hosts"]) + 1
        plugged = f"{topology.netns_prefix(second_lab)}probe"
        dataplane.plug(second_lab, NODES[0], plugged, ifname="net1", mac="0a:58:00:00:00:01",
                       addresses=["192.168.77.251/24"], routes=[], iface_id="probe")
        assert pings(dataplane.host_netns(second_lab, "gateway"), "203.0.113.10")
        pids = [p for n in NODES for p in shell.processes_using(dataplane.node_dir(second_lab, n))]
        assert len(pids) == len(NODES) * len(topology.daemons())
        assert all(Path(f"/proc/{p}/exe").resolve().is_relative_to(programs) for p in pids)
        assert root_links() <= links_before, "the lab added a link to the root namespace"
    finally:
        dataplane.down(second_lab, print)
    assert not [n for n in shell.netns_list() if n.startswith(topology.netns_prefix(second_lab))]
    assert not [p for p in pids if Path(f"/proc/{p}").exists() and not shell.zombie(p)]
    leftovers = [p.name for n in NODES for p in dataplane.node_dir(second_lab, n).iterdir() if p.suffix != ".log"]
    assert not leftovers
    assert not (second_lab / "exec-targets").exists()
    assert root_links() <= links_before


# --- the kubelet stand-in's sandboxes: pods and VM guests as namespaces ---------------------------

def exec_target(state_dir, kind, namespace, name):
    path = state_dir / "exec-targets" / kind / namespace / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def only_netns_address(netns, ifname):
    [link] = ip_json(netns, "address", "show", "dev", ifname)
    return link["address"], [f"{a['local']}/{a['prefixlen']}" for a in link["addr_info"] if a["family"] == "inet"]


@contextlib.contextmanager
def localnet_cnv_mapped(state_dir, node):
    """The NAD's localnet name mapped to br-ex on the node (an NNCP's job), restored afterwards."""
    original = vsctl(state_dir, node, "get", "Open_vSwitch", ".", "external_ids:ovn-bridge-mappings").strip('"')
    if "localnet-cnv:" not in original:
        vsctl(state_dir, node, "set", "Open_vSwitch", ".",
              f'external_ids:ovn-bridge-mappings="localnet-cnv:br-ex,{original}"')
    try:
        yield
    finally:
        vsctl(state_dir, node, "set", "Open_vSwitch", ".", f'external_ids:ovn-bridge-mappings="{original}"')


def test_a_pod_on_a_localnet_nad_gets_a_plugged_namespace_until_deleted(state_dir, custom, core, lab_namespace):
    create_localnet_nad(custom, lab_namespace, "localnet-network")
    core.create_namespaced_pod(lab_namespace, {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "tinypod", "annotations": {"k8s.v1.cni.cncf.io/networks": json.dumps(
            [{"name": "localnet-network", "ips": ["192.168.77.243/24"]}])}},
        "spec": {"containers": [{"name": "c", "image": "registry.example/tiny"}]}})
    target = wait_for("the pod's exec target", lambda: exec_target(state_dir, "pods", lab_namespace, "tinypod"))
    pod = core.read_namespaced_pod("tinypod", lab_namespace)
    [entry] = [e for e in json.loads(pod.metadata.annotations["k8s.v1.cni.cncf.io/network-status"])
               if not e.get("default")]
    assert only_netns_address(target["netns"], entry["interface"]) == (entry["mac"], ["192.168.77.243/24"])
    with localnet_cnv_mapped(state_dir, pod.spec.node_name):
        # the logical port is the lab's real ovnkube's
        assert eventually_pings(target["netns"], "192.168.77.1"), "pod -> gateway once its logical port exists"
        core.delete_namespaced_pod("tinypod", lab_namespace)
        wait_for("the pod's namespace to go", lambda: not shell.netns_exists(target["netns"])
                 and exec_target(state_dir, "pods", lab_namespace, "tinypod") is None)


def test_a_vm_guest_is_a_namespace_with_the_vm_mac_and_cloud_init_network(
        state_dir, custom, core, lab_namespace, virtualization_installed):
    create_localnet_nad(custom, lab_namespace, "localnet-network")
    network_data = "ethernets:\n  eth0:\n    addresses:\n      - 192.168.77.244\n    gateway4: 192.168.77.1\nversion: 2\n"
    custom.create_namespaced_custom_object("kubevirt.io", "v1", lab_namespace, "virtualmachines", {
        "apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine", "metadata": {"name": "vm-244"},
        "spec": {"runStrategy": "Always", "template": {"spec": {
            "domain": {"devices": {"interfaces": [{"name": "nic0", "bridge": {}, "macAddress": "02:00:a3:00:02:44"}]}},
            "networks": [{"name": "nic0", "multus": {"networkName": "localnet-network"}}],
            "volumes": [{"name": "cloudinitdisk", "cloudInitNoCloud": {"networkData": network_data}}]}}}})
    target = wait_for("the guest's exec target", lambda: exec_target(state_dir, "guests", lab_namespace, "vm-244"))
    assert only_netns_address(target["netns"], "eth0") == ("02:00:a3:00:02:44", ["192.168.77.244/24"])
    assert [r["gateway"] for r in ip_json(target["netns"], "route", "show", "default")] == ["192.168.77.1"]
    [launcher] = core.list_namespaced_pod(lab_namespace, label_selector="vm.kubevirt.io/name=vm-244").items
    with localnet_cnv_mapped(state_dir, launcher.spec.node_name):
        assert eventually_pings(target["netns"], "192.168.77.1"), "guest -> gateway"
        assert pings(target["netns"], "203.0.113.10"), "guest -> internet through the gateway"
        custom.patch_namespaced_custom_object("kubevirt.io", "v1", lab_namespace, "virtualmachines", "vm-244",
                                              {"spec": {"runStrategy": "Halted"}})
        wait_for("the guest's namespace to go", lambda: not shell.netns_exists(target["netns"])
                 and exec_target(state_dir, "guests", lab_namespace, "vm-244") is None)
