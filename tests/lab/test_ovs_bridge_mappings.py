"""The nmstate handler simulator's bridge mappings in a node's Open_vSwitch database: the pure
merge (nmstate.merged_bridge_mappings, nmstate.recorded_bridge_mappings) and the ovs-vsctl side
effect (ovs.write_bridge_mappings) against a real ovsdb-server with Open vSwitch's schema in a
temporary node directory; on the lab, a policy applied through the API server reaches worker-0's
Open_vSwitch table and changes only the mappings it names."""
import os
import shutil
import uuid

import pytest

import ovnk_seed  # noqa: F401  (puts lab/ on sys.path)
from lab_helpers import start_ovsdb, stop_daemon, wait_for
import dataplane
from simulator import nmstate, nodes, ovs
from test_ovnk_controller import STATE_DIR

VSWITCH_SCHEMA = "/usr/share/openvswitch/vswitch.ovsschema"
SEED_MAPPING = {"ovn": {"bridge-mappings": [{"localnet": "localnet-cnv", "bridge": "br-ex", "state": "present"}]}}
ABSENT = {"ovn": {"bridge-mappings": [{"localnet": "localnet-cnv", "state": "absent"}]}}


def initial_state():
    return nodes.initial_network_state(nodes.spec_for("worker-0"))


def test_mapping_value_is_the_seeds():
    assert nmstate.merged_bridge_mappings(SEED_MAPPING, "physnet:br-ex") == "localnet-cnv:br-ex,physnet:br-ex"
    assert nmstate.merged_bridge_mappings(ABSENT, "localnet-cnv:br-ex,physnet:br-ex") == "physnet:br-ex"
    assert nmstate.merged_bridge_mappings(ABSENT, "localnet-cnv:br-ex") == ""
    assert nmstate.merged_bridge_mappings({"interfaces": []}, "physnet:br-ex") is None


def test_only_the_named_localnets_change_and_the_others_stay():
    """nmstate's partial editing (rust/src/lib/ovn.rs): a pair the policy does not name is kept."""
    live = "physnet:br-ex,handmade:br-ex"
    assert nmstate.merged_bridge_mappings(SEED_MAPPING, live) == "handmade:br-ex,localnet-cnv:br-ex,physnet:br-ex"
    moved = {"ovn": {"bridge-mappings": [{"localnet": "handmade", "bridge": "br-ln"}]}}  # state defaults to present
    assert nmstate.merged_bridge_mappings(moved, live) == "handmade:br-ln,physnet:br-ex"
    assert nmstate.merged_bridge_mappings(ABSENT, live + ",localnet-cnv:br-ex") == "handmade:br-ex,physnet:br-ex"
    # Nothing to change (the same pairs in another order, or an absent one that is not there): nothing written.
    assert nmstate.merged_bridge_mappings(SEED_MAPPING, "physnet:br-ex,localnet-cnv:br-ex") is None
    assert nmstate.merged_bridge_mappings(ABSENT, live) is None
    assert nmstate.merged_bridge_mappings(SEED_MAPPING, "") == "localnet-cnv:br-ex"


def test_a_resync_puts_back_what_the_nodes_state_records_of_the_policys_localnets():
    applied = nmstate.apply(SEED_MAPPING, initial_state())
    assert nmstate.recorded_bridge_mappings(SEED_MAPPING, applied) == SEED_MAPPING
    # A later policy removed the localnet: the first one's resync does not add it back.
    removed = nmstate.apply(ABSENT, applied)
    assert nmstate.recorded_bridge_mappings(SEED_MAPPING, removed) == ABSENT
    assert nmstate.merged_bridge_mappings(nmstate.recorded_bridge_mappings(SEED_MAPPING, removed),
                                          "physnet:br-ex,handmade:br-ex") is None
    assert nmstate.recorded_bridge_mappings({"interfaces": []}, applied) == {}


def test_without_a_data_plane_nothing_is_written(tmp_path):
    def merge(live):
        return nmstate.merged_bridge_mappings(SEED_MAPPING, live)
    assert ovs.write_bridge_mappings(None, "worker-0", merge) is None
    assert ovs.write_bridge_mappings(tmp_path, "worker-0", merge) is None


@pytest.mark.skipif(not (shutil.which("ovsdb-server") and shutil.which("ovs-vsctl") and os.path.exists(VSWITCH_SCHEMA)),
                    reason="needs ovsdb-server and ovs-vsctl (Debian openvswitch-switch)")
def test_mappings_are_written_into_the_nodes_open_vswitch_table(tmp_path):
    directory = dataplane.node_dir(tmp_path, "worker-0")
    directory.mkdir(parents=True)
    pid = start_ovsdb(directory, VSWITCH_SCHEMA, "conf.db", "db.sock")
    try:
        run = ovs.vsctl_runner(directory)
        run(["init", "--", "set", "Open_vSwitch", ".", 'external_ids:ovn-bridge-mappings="physnet:br-ex"',
             "external_ids:system-id=worker-0"])
        def merge(desired):
            return lambda live: nmstate.merged_bridge_mappings(desired, live)
        assert ovs.write_bridge_mappings(tmp_path, "worker-0", merge(SEED_MAPPING)) == "localnet-cnv:br-ex,physnet:br-ex"
        get = ["get", "Open_vSwitch", ".", "external-ids:ovn-bridge-mappings"]
        assert run(get).strip() == '"localnet-cnv:br-ex,physnet:br-ex"'  # the seed's ovs-vsctl output
        assert ovs.write_bridge_mappings(tmp_path, "worker-0", merge(SEED_MAPPING)) is None
        assert ovs.write_bridge_mappings(tmp_path, "worker-0", merge(ABSENT)) == "physnet:br-ex"
        assert run(get).strip() == '"physnet:br-ex"'
        physnet_absent = {"ovn": {"bridge-mappings": [{"localnet": "physnet", "state": "absent"}]}}
        assert ovs.write_bridge_mappings(tmp_path, "worker-0", merge(physnet_absent)) == ""
        assert run(["--if-exists", "get", "Open_vSwitch", ".", "external-ids:ovn-bridge-mappings"]).strip() == ""
        assert run(["get", "Open_vSwitch", ".", "external-ids:system-id"]).strip() == "worker-0"
    finally:
        stop_daemon(pid)


# --- on the lab: the nmstate handler simulator writes the mapping of a data-plane node -----------

def mapping(localnet, state):
    """An NNCP's desiredState mapping `localnet` to br-ex (`state` present) or removing it (absent)."""
    return {"ovn": {"bridge-mappings": [{"localnet": localnet, "bridge": "br-ex", "state": state}]}}


@pytest.fixture
def worker_ovs(lab_kubeconfig):
    """worker-0's Open_vSwitch db, as the lab's data plane runs it."""
    directory = dataplane.node_dir(STATE_DIR, "worker-0")
    assert (directory / "db.sock").exists(), "the lab's data plane runs worker-0's Open_vSwitch db"
    return ovs.vsctl_runner(directory)


def mappings(vsctl):
    """The node's ovn-bridge-mappings as a list of `localnet:bridge`."""
    value = vsctl(["--if-exists", "get", "Open_vSwitch", ".", "external-ids:ovn-bridge-mappings"]).strip().strip('"')
    return value.split(",") if value else []


def set_mappings(vsctl, pairs):
    """Set the node's ovn-bridge-mappings by hand, as an admin's ovs-vsctl would."""
    vsctl(["set", "Open_vSwitch", ".", f'external_ids:ovn-bridge-mappings="{",".join(pairs)}"'])


@pytest.mark.skipif(not (shutil.which("ovsdb-server") and shutil.which("ovs-vsctl") and os.path.exists(VSWITCH_SCHEMA)),
                    reason="needs ovsdb-server and ovs-vsctl (Debian openvswitch-switch)")
def test_applied_policy_sets_and_absent_policy_removes_the_nodes_mapping(custom, nncp, worker_ovs):
    localnet = f"labtest-{uuid.uuid4().hex[:6]}"

    nncp(mapping(localnet, "present"))
    wait_for("the mapping in worker-0's Open_vSwitch", lambda: f"{localnet}:br-ex" in mappings(worker_ovs))
    state = custom.get_cluster_custom_object("nmstate.io", "v1beta1", "nodenetworkstates", "worker-0")
    assert f"{localnet}:br-ex" in [f"{m['localnet']}:{m['bridge']}"
                                  for m in state["status"]["currentState"]["ovn"]["bridge-mappings"]]
    assert "physnet:br-ex" in mappings(worker_ovs)
    nncp(mapping(localnet, "absent"))
    wait_for("the mapping removed", lambda: f"{localnet}:br-ex" not in mappings(worker_ovs))
    assert "physnet:br-ex" in mappings(worker_ovs)


def test_a_data_plane_made_anew_gets_the_applied_mapping_back(nncp, worker_ovs):
    """`labctl down` and `up` make the nodes' Open_vSwitch databases anew (a real node's outlives
    a reboot): the handler puts back what the node's state says an applied policy configured."""
    localnet = f"labtest-{uuid.uuid4().hex[:6]}"

    nncp(mapping(localnet, "present"))
    wait_for("the mapping in worker-0's Open_vSwitch", lambda: f"{localnet}:br-ex" in mappings(worker_ovs))
    set_mappings(worker_ovs, ["physnet:br-ex"])
    wait_for("the mapping put back within a resync", lambda: f"{localnet}:br-ex" in mappings(worker_ovs), timeout=90)


def test_a_mapping_made_by_hand_survives_apply_and_resync_and_absent_removes_only_the_policys(nncp, worker_ovs):
    """nmstate changes only the localnets a policy names (rust/src/lib/ovn.rs): a node's other
    mappings (here one set by hand, and the default physnet:br-ex) stay through the apply, a resync
    and the policy's `state: absent`."""
    localnet, handmade = f"labtest-{uuid.uuid4().hex[:6]}", f"handmade-{uuid.uuid4().hex[:6]}"
    others = {f"{handmade}:br-ex", "physnet:br-ex"}
    set_mappings(worker_ovs, mappings(worker_ovs) + [f"{handmade}:br-ex"])
    try:
        nncp(mapping(localnet, "present"))
        wait_for("the policy's mapping in worker-0's Open_vSwitch", lambda: f"{localnet}:br-ex" in mappings(worker_ovs))
        assert others <= set(mappings(worker_ovs))
        # A resync (seen by the policy's mapping coming back after it is struck out) keeps the hand-made one.
        set_mappings(worker_ovs, [m for m in mappings(worker_ovs) if m != f"{localnet}:br-ex"])
        wait_for("the policy's mapping put back within a resync",
                 lambda: f"{localnet}:br-ex" in mappings(worker_ovs), timeout=90)
        assert others <= set(mappings(worker_ovs))
        nncp(mapping(localnet, "absent"))
        wait_for("the policy's mapping removed", lambda: f"{localnet}:br-ex" not in mappings(worker_ovs))
        assert others <= set(mappings(worker_ovs))
    finally:
        set_mappings(worker_ovs, [m for m in mappings(worker_ovs) if m != f"{handmade}:br-ex"])
