"""ovn_converged's waiting (k8s/convergence_run.py), with a stand-in for the OVN reader: it reads the zones until none is
pending, then runs `ovn-nbctl --wait=hv sync` per node; a timeout names what is pending."""
import itertools

import pytest

from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.errors import MultinetError
from ansible_collections.ocpvirt.multinet.plugins.module_utils.k8s import convergence_run as oc

PARAMS = {"ovn_namespace": "ovn-ns", "container": "ovn-controller", "ovnkube_node_selector": "app=ovnkube-node",
          "timeout": 1, "interval": 0.01}
PODS = {"node-a": "ovnkube-node-a", "node-b": "ovnkube-node-b"}


class FakeReader:
    """read_nodes gives the next of `zones` (repeating the last); exec answers from `answers`."""

    def __init__(self, zones, answers=None):
        self.zones = itertools.chain(zones, itertools.repeat(zones[-1]))
        self.answers = answers or {}
        self.commands = []

    def read_nodes(self, params, read, failure):
        return next(self.zones), dict(PODS), {}

    def exec(self, namespace, pod, container, argv):
        self.commands.append((pod, tuple(argv)))
        answer = self.answers.get((pod, argv[1] if argv[1] != "get" else "get"), "")
        if isinstance(answer, Exception):
            raise answer
        return answer


@pytest.fixture(name="pending_by_zone")
def fixture_pending_by_zone(monkeypatch):
    """zone_pending answers what each NB stand-in (a list of sentences) says is pending."""
    monkeypatch.setattr(oc.convergence, "zone_pending", lambda network, node, nb, policies, pods: list(nb))


def test_reads_until_no_zone_is_pending_then_waits_for_each_chassis(pending_by_zone):
    reader = FakeReader([{"node-a": ["policy x: zone node-a: no port group yet"], "node-b": []},
                         {"node-a": [], "node-b": []}])
    nodes, pods, errors = oc.wait_for_nb(reader, PARAMS, {}, [], [], deadline=float("inf"), started=0)
    assert set(nodes) == {"node-a", "node-b"} and errors == {}
    oc.wait_for_chassis(reader, PARAMS, nodes, pods, deadline=oc.time.monotonic() + 30, started=0)
    assert [command[1][-2:] for command in reader.commands] == [("--wait=hv", "sync")] * 2
    assert all(command[1][1].startswith("--timeout=") and int(command[1][1].split("=")[1]) <= 30
               for command in reader.commands)  # the time left, not a fixed wait
    assert all("hv" in times for times in nodes.values())


def test_a_zone_still_pending_at_the_timeout_is_named(pending_by_zone):
    reader = FakeReader([{"node-a": [], "node-b": ["policy ns/p: zone node-b: port group a1 lacks port-1"]}])
    with pytest.raises(MultinetError, match=r"within the timeout of 1 s; still pending: policy ns/p: zone node-b: "
                                            r"port group a1 lacks port-1$"):
        oc.wait_for_nb(reader, PARAMS, {}, [], [], deadline=0, started=0)


def test_a_chassis_behind_is_named_with_its_stage():
    reader = FakeReader([{}], answers={("ovnkube-node-b", "--timeout=1"): MultinetError("exited 142: timeout"),
                                       ("ovnkube-node-b", "get"): "7 7 6\n"})
    nodes = {"node-a": {"nb": 0.1}, "node-b": {"nb": 0.1}}
    with pytest.raises(MultinetError) as raised:
        oc.wait_for_chassis(reader, PARAMS, nodes, PODS, deadline=0, started=0)
    assert str(raised.value) == ("OVN has not caught up with the policies within the timeout of 1 s; still pending: "
                                 "zone node-b: ovn-controller (hv_cfg 6 < nb_cfg 7: a chassis has not installed the "
                                 "OpenFlow rules yet)")
    assert "hv" in nodes["node-a"]


class ClusterReader(FakeReader):
    """FakeReader with one localnet NAD `radar/uplink`, a policy for it and the network switch
    `switch_on`; read_nodes runs `read` on each node and fails as the real Reader does when no
    node can be read (`broken`: {node: why})."""

    def __init__(self, switch_on, broken=None):
        super().__init__([{}])
        self.switch_on, self.broken = switch_on, broken or {}

    def list(self, kind, namespace=None):
        if kind == oc.NAD:
            return [{"metadata": {"namespace": "radar", "name": "uplink"},
                     "spec": {"config": '{"name": "uplink-net", "topology": "localnet"}'}}]
        if kind == oc.POLICY:
            return [{"metadata": {"namespace": "radar", "name": "only-echo",
                                  "annotations": {"k8s.v1.cni.cncf.io/policy-for": "uplink"}}}]
        return []

    def get(self, kind, name):
        return {"spec": {"useMultiNetworkPolicy": self.switch_on}}

    def read_nodes(self, params, read, failure):
        values, errors = {}, {}
        for node, pod in PODS.items():
            if node in self.broken:
                errors[node] = self.broken[node]
            else:
                values[node] = read(lambda argv, pod=pod: self.exec(params["ovn_namespace"], pod, "c", argv))
        if not values:
            raise MultinetError(failure(errors), "container", params["container"])
        return values, dict(PODS), errors


def test_with_the_switch_off_no_policy_is_waited_for_but_every_chassis_is():
    reader = ClusterReader(switch_on=False, broken={"node-b": "exited 1: no database"})
    result = oc.wait_converged(reader, dict(PARAMS, network="radar/uplink"))
    assert result["skipped_policies"].startswith("useMultiNetworkPolicy is off")
    assert result["policies"] == ["radar/only-echo"] and result["unreadable"] == {"node-b": "exited 1: no database"}
    assert set(result["nodes"]) == {"node-a"} and "hv" in result["nodes"]["node-a"]
    assert ("ovnkube-node-a", tuple(oc.CFG_COMMAND)) in reader.commands  # read, not waited for by NB
    assert not any(command[1] == tuple(oc.ovsdb.NB_COMMAND) for command in reader.commands)


def test_no_readable_zone_fails_naming_each_node_and_why():
    reader = ClusterReader(switch_on=True, broken={"node-a": "cannot exec: 403", "node-b": "exited 1: gone"})
    with pytest.raises(MultinetError) as raised:
        oc.wait_converged(reader, dict(PARAMS, network="radar/uplink"))
    assert str(raised.value) == "container: no ovnkube-node pod could be read: node-a: cannot exec: 403; " \
                                "node-b: exited 1: gone (got 'ovn-controller')"
