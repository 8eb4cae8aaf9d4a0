"""The lab's CNI stand-in, its pure parts: the commands that plug a namespace into a node's br-int
(lab/dataplane/topology.py) and the work queue and per-key locks that let several threads plug
at once without two of them on one node or one sandbox (lab/simulator/runtime.py)."""
import sys
import threading
from pathlib import Path

REPO_DIR = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_DIR / "lab"))

from dataplane import shell, topology  # noqa: E402  pylint: disable=wrong-import-position
from simulator.runtime import KeyLocks, WorkQueue  # noqa: E402  pylint: disable=wrong-import-position

NETNS, PORT = "ocpvl-0a1b2c-pod-orchard.pear-3", "pl5e0c9d1f2a3b4c"


def test_the_veth_is_made_between_the_two_namespaces_and_its_br_int_end_set_up():
    node = topology.plug_batches(NETNS, PORT, "net1", mac=None, addresses=[], routes=[])[0]

    assert node == [["link", "add", PORT, "type", "veth", "peer", "name", "net1", "netns", NETNS],
                    ["link", "set", PORT, "up"]]


def test_the_plugged_end_gets_mac_and_addresses_before_it_is_up_and_routes_after():
    routes = [{"to": "default", "via": "172.19.40.1"}, {"to": "198.51.100.0/24", "via": "172.19.40.254"}]
    plugged = topology.plug_batches(NETNS, PORT, "eth2", mac="0a:58:ac:13:28:07",
                                    addresses=["172.19.40.7/24", "fd00:40::7/64"], routes=routes)[1]

    assert plugged == [["link", "set", "lo", "up"],
                       ["link", "set", "eth2", "address", "0a:58:ac:13:28:07"],
                       ["address", "replace", "172.19.40.7/24", "dev", "eth2"],
                       ["address", "replace", "fd00:40::7/64", "dev", "eth2"],
                       ["link", "set", "eth2", "up"],
                       ["route", "replace", "default", "via", "172.19.40.1"],
                       ["route", "replace", "198.51.100.0/24", "via", "172.19.40.254"]]


def test_without_mac_the_interface_keeps_the_one_the_kernel_gave():
    plugged = topology.plug_batches(NETNS, PORT, "net1", mac=None, addresses=["10.77.3.4/16"], routes=[])[1]

    assert not any("address" in command and "link" in command for command in plugged)


def test_iface_id_and_its_version_are_set_in_the_port_s_own_transaction_without_waiting_for_vswitchd():
    command = topology.plug_port_command(PORT, "orchard.pear.net_pear-3", "5f1c2d3e-uid")

    assert command == ["--no-wait", "--may-exist", "add-port", "br-int", PORT, "--", "set", "Interface", PORT,
                       "external_ids:iface-id=orchard.pear.net_pear-3", "external_ids:iface-id-ver=5f1c2d3e-uid"]
    assert topology.plug_port_command(PORT, "orchard.pear.net_pear-3")[-1] == \
        "external_ids:iface-id=orchard.pear.net_pear-3"


def test_every_port_of_a_namespace_leaves_br_int_in_one_transaction():
    assert topology.del_ports_arguments(["plb", "pla"]) == [
        "--if-exists", "del-port", "br-int", "pla", "--", "--if-exists", "del-port", "br-int", "plb"]
    assert topology.del_ports_arguments(["pla"]) == ["--if-exists", "del-port", "br-int", "pla"]


def test_a_replaced_file_is_read_whole_and_leaves_no_partial_file(tmp_path):
    record = tmp_path / "ocpvl-0a1b2c-pod-orchard.pear-3.json"
    record.write_text('{"node": "worker-0", "ports": []}')

    shell.replace_file(record, '{"node": "worker-1", "ports": ["pla"]}')

    assert record.read_text() == '{"node": "worker-1", "ports": ["pla"]}'
    assert [p.name for p in tmp_path.iterdir()] == [record.name]


def test_a_key_being_reconciled_is_not_handed_to_a_second_worker_until_done():
    queue = WorkQueue()
    queue.add(("", "worker-0"))
    first = queue.get()
    queue.add(("", "worker-0"))  # an event while the first worker still plugs
    queue.add(("", "worker-1"))

    assert queue.get() == ("", "worker-1")  # the other node runs at once
    queue.done(first)
    assert queue.get() == ("", "worker-0")  # the queued event is not lost


def test_a_waiting_worker_gets_the_key_once_its_first_worker_is_done():
    queue, got = WorkQueue(), []
    queue.add(("", "worker-0"))
    first = queue.get()
    queue.add(("", "worker-0"))
    waiter = threading.Thread(target=get_into, args=(queue, got), daemon=True)
    waiter.start()
    waiter.join(0.3)
    assert waiter.is_alive() and not got

    queue.done(first)
    waiter.join(5)
    assert got == [("", "worker-0")]


def get_into(queue, got):
    got.append(queue.get())


def hold_and_flag(locks, key, entered):
    with locks.held(key):
        entered.set()


def test_work_on_one_sandbox_waits_for_earlier_work_on_it_and_no_other():
    locks = KeyLocks()
    key, other = ("pods", "orchard", "pear-3"), ("pods", "orchard", "pear-4")
    same, different = threading.Event(), threading.Event()
    with locks.held(key):
        threading.Thread(target=hold_and_flag, args=(locks, key, same), daemon=True).start()
        threading.Thread(target=hold_and_flag, args=(locks, other, different), daemon=True).start()
        assert different.wait(5)
        assert not same.wait(0.3)
    assert same.wait(5)
