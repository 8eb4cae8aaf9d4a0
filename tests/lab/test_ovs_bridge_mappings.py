"""The nmstate handler simulator's bridge mappings in a node's Open_vSwitch database: the pure
value (nmstate.bridge_mappings) and the ovs-vsctl side effect (ovs.write_bridge_mappings) against
a real ovsdb-server with Open vSwitch's schema in a temporary node directory; on the lab, a
policy applied through the API server reaches worker-0's Open_vSwitch table."""
import os
import shutil
import uuid

import pytest
from kubernetes.client.rest import ApiException

import ovnk_seed  # noqa: F401  (puts lab/ on sys.path)
from lab_helpers import wait_for
import dataplane
from simulator import nmstate, nodes, ovs
from test_ovnk_controller import STATE_DIR
from test_ovnk_sync import start_ovsdb, stop_daemon

VSWITCH_SCHEMA = "/usr/share/openvswitch/vswitch.ovsschema"
SEED_MAPPING = {"ovn": {"bridge-mappings": [{"localnet": "localnet-cnv", "bridge": "br-ex", "state": "present"}]}}
ABSENT = {"ovn": {"bridge-mappings": [{"localnet": "localnet-cnv", "state": "absent"}]}}


def initial_state():
    return nodes.initial_network_state(nodes.spec_for("worker-0"))


def test_mapping_value_is_the_seeds():
    applied = nmstate.apply(SEED_MAPPING, initial_state())
    assert nmstate.bridge_mappings(SEED_MAPPING, applied) == "localnet-cnv:br-ex,physnet:br-ex"
    removed = nmstate.apply(ABSENT, applied)
    assert nmstate.bridge_mappings(ABSENT, removed) == "physnet:br-ex"
    assert nmstate.bridge_mappings({"interfaces": []}, applied) is None


def test_without_a_data_plane_nothing_is_written(tmp_path):
    assert ovs.write_bridge_mappings(None, "worker-0", "localnet-cnv:br-ex") is False
    assert ovs.write_bridge_mappings(tmp_path, "worker-0", "localnet-cnv:br-ex") is False


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
        applied = nmstate.apply(SEED_MAPPING, initial_state())
        assert ovs.write_bridge_mappings(tmp_path, "worker-0", nmstate.bridge_mappings(SEED_MAPPING, applied))
        get = ["get", "Open_vSwitch", ".", "external-ids:ovn-bridge-mappings"]
        assert run(get).strip() == '"localnet-cnv:br-ex,physnet:br-ex"'  # the seed's ovs-vsctl output
        assert not ovs.write_bridge_mappings(tmp_path, "worker-0", "localnet-cnv:br-ex,physnet:br-ex")
        removed = nmstate.apply(ABSENT, applied)
        assert ovs.write_bridge_mappings(tmp_path, "worker-0", nmstate.bridge_mappings(ABSENT, removed))
        assert run(get).strip() == '"physnet:br-ex"'
        assert ovs.write_bridge_mappings(tmp_path, "worker-0", "")
        assert run(["--if-exists", "get", "Open_vSwitch", ".", "external-ids:ovn-bridge-mappings"]).strip() == ""
        assert run(["get", "Open_vSwitch", ".", "external-ids:system-id"]).strip() == "worker-0"
    finally:
        stop_daemon(pid)


# --- on the lab: the nmstate handler simulator writes the mapping of a data-plane node -----------

def nncp_mapping(custom, name, localnet, state):
    custom.create_cluster_custom_object("nmstate.io", "v1", "nodenetworkconfigurationpolicies", {
        "apiVersion": "nmstate.io/v1", "kind": "NodeNetworkConfigurationPolicy", "metadata": {"name": name},
        "spec": {"nodeSelector": {"node-role.kubernetes.io/worker": ""}, "desiredState": {
            "ovn": {"bridge-mappings": [{"localnet": localnet, "bridge": "br-ex", "state": state}]}}}})


@pytest.fixture
def worker_ovs(lab_kubeconfig):
    """worker-0's Open_vSwitch db, as the lab's data plane runs it."""
    directory = dataplane.node_dir(STATE_DIR, "worker-0")
    assert (directory / "db.sock").exists(), "the lab's data plane runs worker-0's Open_vSwitch db"
    return ovs.vsctl_runner(directory)


def mappings(vsctl):
    """The node's ovn-bridge-mappings as a list of `localnet:bridge`."""
    return vsctl(["--if-exists", "get", "Open_vSwitch", ".", "external-ids:ovn-bridge-mappings"]
                 ).strip().strip('"').split(",")


@pytest.mark.skipif(not (shutil.which("ovsdb-server") and shutil.which("ovs-vsctl") and os.path.exists(VSWITCH_SCHEMA)),
                    reason="needs ovsdb-server and ovs-vsctl (Debian openvswitch-switch)")
def test_applied_policy_sets_and_absent_policy_removes_the_nodes_mapping(custom, nmstate_installed, worker_ovs):
    localnet = f"labtest-{uuid.uuid4().hex[:6]}"

    nncp_mapping(custom, f"{localnet}-present", localnet, "present")
    try:
        wait_for("the mapping in worker-0's Open_vSwitch", lambda: f"{localnet}:br-ex" in mappings(worker_ovs))
        state = custom.get_cluster_custom_object("nmstate.io", "v1beta1", "nodenetworkstates", "worker-0")
        assert mappings(worker_ovs) == [f"{m['localnet']}:{m['bridge']}"
                              for m in state["status"]["currentState"]["ovn"]["bridge-mappings"]]
        assert "physnet:br-ex" in mappings(worker_ovs)
        nncp_mapping(custom, f"{localnet}-absent", localnet, "absent")
        wait_for("the mapping removed", lambda: f"{localnet}:br-ex" not in mappings(worker_ovs))
        assert "physnet:br-ex" in mappings(worker_ovs)
    finally:
        for name in (f"{localnet}-present", f"{localnet}-absent"):
            try:
                custom.delete_cluster_custom_object("nmstate.io", "v1", "nodenetworkconfigurationpolicies", name)
            except ApiException as error:
                if error.status != 404:
                    raise


def test_a_data_plane_made_anew_gets_the_applied_mapping_back(custom, nmstate_installed, worker_ovs):
    """`labctl down` and `up` make the nodes' Open_vSwitch databases anew (a real node's outlives
    a reboot): the handler puts back what the node's state says an applied policy configured."""
    localnet = f"labtest-{uuid.uuid4().hex[:6]}"

    nncp_mapping(custom, f"{localnet}-present", localnet, "present")
    try:
        wait_for("the mapping in worker-0's Open_vSwitch", lambda: f"{localnet}:br-ex" in mappings(worker_ovs))
        worker_ovs(["set", "Open_vSwitch", ".", 'external_ids:ovn-bridge-mappings="physnet:br-ex"'])
        wait_for("the mapping put back within a resync", lambda: f"{localnet}:br-ex" in mappings(worker_ovs), timeout=90)
    finally:
        custom.delete_cluster_custom_object("nmstate.io", "v1", "nodenetworkconfigurationpolicies",
                                            f"{localnet}-present")
