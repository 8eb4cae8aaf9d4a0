"""Upstream's naming formulas (tests/lab/ovn_names.py) give the names in the seed's real
`ovn-nbctl` output (OpenShift 4.15): its five policy port groups, its localnet switch and port,
and its pods' logical switch ports. Pure; no lab needed."""
import ovnk_seed as seed
from ovn_names import SEED_ERA, localnet_port_name, logical_port_name, policy_port_group_name, switch_name


def test_policy_port_group_names_are_the_seeds():
    groups = seed.seed_port_groups()
    assert len(groups) == 5
    for name, group in groups.items():
        readable = group["record"]["external_ids"]["name"]
        policy = readable.removeprefix(f"{seed.NAMESPACE}_")
        assert policy_port_group_name("localnet-cnv", seed.NAMESPACE, policy, SEED_ERA) == (name, readable)


def test_switch_and_port_names_are_the_seeds():
    ports = seed.seed_switch_ports()
    assert switch_name("localnet-cnv") == "localnet.cnv_ovn_localnet_switch"
    assert ports[localnet_port_name("localnet-cnv")]["type"] == "localnet"
    pods = ["tinypod", "tinypod-01", "tinypod-02"] + [launcher for launcher, _, _ in seed.LAUNCHERS]
    assert sorted(logical_port_name(seed.NAMESPACE, seed.NAD_NAME, seed.NAMESPACE, p) for p in pods) == \
        sorted(p for p in ports if p != localnet_port_name("localnet-cnv"))


def test_418_policy_port_group_name_is_the_one_measured_on_6c366bb49():
    """The name 6c366bb49 gave the seed's allow-ipblock on the lab (issue 24), and its
    external_ids:k8s.ovn.org/name."""
    assert policy_port_group_name("localnet-cnv", seed.NAMESPACE, "allow-ipblock", "4.18") == \
        ("a13901755108022752288", f"{seed.NAMESPACE}:allow-ipblock")
