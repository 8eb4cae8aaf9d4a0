"""ovnk_sync against a real Northbound database: an ovsdb-server with OVN's NB schema on a unix
socket in a temporary directory (no network namespace, no lab needed).

The seed's CNV stage is synced and `ovn-nbctl --type=port-group acl-list <pg>` must print the
seed's lines exactly; a second sync writes nothing; removing a policy removes its port group
and ACLs; objects the emulation does not own are left alone.
"""
import os
import shutil
import signal
import subprocess
import time

import pytest

import ovnk_seed as seed
from simulator import ovnk, ovnk_sync

NB_SCHEMA = "/usr/share/ovn/ovn-nb.ovsschema"

pytestmark = pytest.mark.skipif(not (shutil.which("ovsdb-server") and shutil.which("ovn-nbctl")
                                     and os.path.exists(NB_SCHEMA)),
                                reason="needs ovsdb-server and ovn-nbctl (Debian ovn-central)")


def start_ovsdb(directory, schema, db_name, socket_name):
    """An ovsdb-server serving a fresh database from `schema` on `directory/socket_name`."""
    db = directory / db_name
    subprocess.run(["ovsdb-tool", "create", str(db), schema], check=True)
    pidfile = directory / f"{db_name}.pid"
    subprocess.run(["ovsdb-server", "--detach", "--no-chdir", f"--pidfile={pidfile}",
                    f"--log-file={directory / (db_name + '.log')}", f"--unixctl={directory / (db_name + '.ctl')}",
                    f"--remote=punix:{directory / socket_name}", str(db)], check=True)
    for _ in range(50):
        if (directory / socket_name).exists():
            break
        time.sleep(0.1)
    return int(pidfile.read_text())


def stop_daemon(pid):
    os.kill(pid, signal.SIGTERM)


@pytest.fixture
def node_dir(tmp_path):
    pid = start_ovsdb(tmp_path, NB_SCHEMA, "ovnnb_db.db", "ovnnb_db.sock")
    yield tmp_path
    stop_daemon(pid)


class Recorder:
    """ovn-nbctl runner that keeps every command line it ran."""

    def __init__(self, node_dir):
        self.run_nbctl = ovnk_sync.nbctl_runner(node_dir)
        self.calls = []

    def __call__(self, args):
        self.calls.append(args)
        return self.run_nbctl(args)

    def writes(self):
        return [c for c in self.calls if c[:2] != ["--format=json", "list"]]


def nbctl(node_dir, *args):
    return ovnk_sync.nbctl_runner(node_dir)(list(args))


def sync(node_dir, snapshot, node=seed.NODE):
    recorder = Recorder(node_dir)
    ovnk_sync.sync(recorder, ovnk.desired_nb(snapshot, node))
    return recorder


def test_acl_list_of_every_seed_port_group_matches_line_for_line(node_dir):
    sync(node_dir, seed.snapshot())
    for name, expected in seed.seed_port_groups().items():
        printed = nbctl(node_dir, "--type=port-group", "acl-list", name).splitlines()
        assert printed == expected["acl_list"], name


def test_switch_ports_and_port_group_records_match_the_seed(node_dir):
    sync(node_dir, seed.snapshot())
    shown = nbctl(node_dir, "show", "localnet.cnv_ovn_localnet_switch")
    for port, details in seed.seed_switch_ports().items():
        assert f"port {port}\n" in shown
        assert f"addresses: {details['addresses']}" in shown
    for name, expected in seed.seed_port_groups().items():
        record = seed.records(nbctl(node_dir, "find", "Port_Group", f"name={name}").splitlines())[0]
        assert record["external_ids"] == expected["record"]["external_ids"]
        assert len(record["acls"]) == len(expected["record"]["acls"])
        assert len(record["ports"]) == len(expected["record"]["ports"])


def test_second_sync_writes_nothing(node_dir):
    first = sync(node_dir, seed.snapshot())
    assert len(first.writes()) == 1  # one transaction
    second = sync(node_dir, seed.snapshot())
    assert second.writes() == []


def test_removing_a_policy_removes_its_port_group_and_acls(node_dir):
    sync(node_dir, seed.snapshot())
    pg = "a2829001848871617131"
    assert "a2829001848871617131" in nbctl(node_dir, "--bare", "--columns=name", "list", "Port_Group")
    snapshot = seed.snapshot()
    snapshot = snapshot._replace(policies=[p for p in snapshot.policies
                                           if p["metadata"]["name"] != "allow-ipblock-cnv-01"])
    sync(node_dir, snapshot)
    assert pg not in nbctl(node_dir, "--bare", "--columns=name", "list", "Port_Group")
    assert "allow-ipblock-cnv-01" not in nbctl(node_dir, "list", "ACL")
    assert "allow-ipblock-cnv-02" in nbctl(node_dir, "list", "ACL")
    assert sync(node_dir, snapshot).writes() == []


def test_changed_rule_updates_acls_and_disabling_policies_removes_them(node_dir):
    sync(node_dir, seed.snapshot())
    snapshot = seed.snapshot()
    for policy in snapshot.policies:
        if policy["metadata"]["name"] == "allow-ipblock":
            policy["spec"]["ingress"][0]["from"][0]["ipBlock"]["cidr"] = "192.168.77.93/32"
    sync(node_dir, snapshot)
    assert nbctl(node_dir, "--type=port-group", "acl-list", "a1333591772177041409").splitlines() == \
        ["  to-lport  1001 (ip4.src == 192.168.77.93/32 && outport == @a1333591772177041409) allow-related"]
    sync(node_dir, snapshot._replace(multi_network_policy=False))
    assert nbctl(node_dir, "list", "Port_Group").strip() == ""
    assert nbctl(node_dir, "list", "ACL").strip() == ""
    assert "localnet.cnv_ovn_localnet_switch" in nbctl(node_dir, "ls-list")


def test_pods_leaving_the_node_lose_their_ports_and_foreign_objects_stay(node_dir):
    nbctl(node_dir, "ls-add", "join", "--", "lsp-add", "join", "jtor-GR", "--", "pg-add", "clusterPortGroup")
    sync(node_dir, seed.snapshot())
    sync(node_dir, seed.snapshot(node="worker-1"))
    ports = nbctl(node_dir, "--bare", "--columns=name", "list", "Logical_Switch_Port").split()
    assert sorted(ports) == ["jtor-GR", "localnet.cnv_ovn_localnet_port"]
    assert nbctl(node_dir, "--bare", "--columns=ports", "find", "Port_Group", "name=a2829001848871617131").strip() == ""
    assert "clusterPortGroup" in nbctl(node_dir, "--bare", "--columns=name", "list", "Port_Group")
    assert "join" in nbctl(node_dir, "ls-list")


def test_vlan_and_subnet_are_written_and_stable(node_dir):
    snapshot = seed.snapshot()
    nad = snapshot.nads[0]
    nad["spec"]["config"] = nad["spec"]["config"].replace('"_vlanID"', '"vlanID"').replace('"_subnets"', '"subnets"')
    sync(node_dir, snapshot)
    assert nbctl(node_dir, "get", "Logical_Switch_Port", "localnet.cnv_ovn_localnet_port", "tag_request").strip() == "33"
    assert nbctl(node_dir, "get", "Logical_Switch", "localnet.cnv_ovn_localnet_switch",
                 "other_config:subnet").strip() == '"192.168.99.0/24"'
    assert sync(node_dir, snapshot).writes() == []
