"""ovn_trace and ovn_policy_info share their OVN access: the options of the doc fragment
ocpvirt.multinet.ovn_access (with ovn_reader.ovn_access_argspec) and Reader.read_nodes, which
reads every node's zone from its ovnkube-node pod.

The options are checked as `ansible-doc` renders them. The zones are read from the Northbound and
Open_vSwitch listings of tests/unit/fixtures/ovn/ (what the lab's real ovnkube wrote, dumped by
tests/lab/make_ovn_fixtures.py), answered by a stand-in for the cluster's list and exec calls; the
exec itself is run against the lab by tests/lab/test_ovn_policy_info.py and test_ovn_trace.py.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.errors import MultinetError
from ansible_collections.ocpvirt.multinet.plugins.module_utils.ovn import ovsdb
from ansible_collections.ocpvirt.multinet.plugins.module_utils.k8s.ovn_reader import Reader
from ansible_collections.ocpvirt.multinet.plugins.modules import ovn_policy_info, ovn_trace

REPO = Path(__file__).resolve().parents[4]
FIXTURES = REPO / "tests" / "unit" / "fixtures" / "ovn"
MODULES = {"ovn_trace": ovn_trace, "ovn_policy_info": ovn_policy_info}
SHARED = {"network", "container", "ovn_namespace", "ovnkube_node_selector"}


@pytest.fixture(scope="module")
def module_docs():
    """Both modules' docs as ansible-doc renders them, doc fragments merged (one call: seconds)."""
    env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(REPO / ".venv" / "collections"), "NO_COLOR": "1"}
    output = subprocess.run([str(Path(sys.executable).with_name("ansible-doc")), "--json",
                             *("ocpvirt.multinet." + name for name in MODULES)],
                            check=True, capture_output=True, text=True, env=env).stdout
    return {name: json.loads(output)["ocpvirt.multinet." + name]["doc"] for name in MODULES}


@pytest.mark.parametrize("name", sorted(MODULES))
def test_every_option_is_rendered_with_the_argspec_type_default_and_a_description(name, module_docs):
    spec, options = MODULES[name].argspec(), module_docs[name]["options"]
    assert set(spec) == set(options)
    assert SHARED <= set(spec)
    for option, arg in spec.items():
        rendered = options[option]
        assert rendered.get("description"), option
        assert (arg.get("type", "str"), arg.get("default"), bool(arg.get("required")), arg.get("elements")) == (
            rendered.get("type", "str"), rendered.get("default"), bool(rendered.get("required")),
            rendered.get("elements")), option


def test_each_module_names_the_commands_it_runs_in_the_container(module_docs):
    described = {name: " ".join(module_docs[name]["options"]["container"]["description"]) for name in MODULES}
    assert "C(ovn-trace)" in described["ovn_trace"] and "C(ovs-vsctl)" not in described["ovn_trace"]
    assert "C(ovs-vsctl)" in described["ovn_policy_info"] and "C(ovn-trace)" not in described["ovn_policy_info"]


def nb_output(node):
    """What NB_COMMAND prints: one JSON listing per line, in NB_TABLES' order."""
    return "\n".join(json.dumps(json.loads((FIXTURES / node / (table + ".json")).read_text()))
                     for table in ovsdb.NB_TABLES) + "\n"


def pod(name, node, phase="Running"):
    return {"metadata": {"name": name}, "spec": {"nodeName": node}, "status": {"phase": phase}}


class ClusterStandIn(Reader):
    """Reader whose list and exec answer from `pods` and {(pod, command): stdout or MultinetError}."""

    def __init__(self, pods, outputs):  # pylint: disable=super-init-not-called
        self.pods, self.outputs, self.warnings, self.execs = pods, outputs, [], []

    def list(self, kind, namespace=None, label_selectors=None, optional=False):
        assert kind == ("Pod", "v1") and label_selectors == [PARAMS["ovnkube_node_selector"]]
        return self.pods

    def exec(self, namespace, pod, container, argv):
        self.execs.append((namespace, pod, container, argv[0]))
        answer = self.outputs[(pod, argv[0])]
        if isinstance(answer, MultinetError):
            raise answer
        return answer


PARAMS = {"network": "llm-demo/llm-demo-localnet-network", "container": "ovn-controller",
          "ovn_namespace": "openshift-ovn-kubernetes", "ovnkube_node_selector": "app=ovnkube-node"}
PODS = [pod("ovnkube-node-b", "worker-1"), pod("ovnkube-node-old", "worker-2", phase="Succeeded"),
        pod("ovnkube-node-a", "worker-0")]


def outputs(*failing):
    """Both nodes' real listings; the exec of each (pod, command) in `failing` fails."""
    answers = {}
    for name, node in (("ovnkube-node-a", "worker-0"), ("ovnkube-node-b", "worker-1")):
        answers[(name, "ovn-nbctl")] = nb_output(node)
        answers[(name, "ovs-vsctl")] = (FIXTURES / node / "Open_vSwitch.json").read_text()
    for name, command in failing:
        where = "openshift-ovn-kubernetes/{0} container ovn-controller".format(name)
        answers[(name, command)] = MultinetError("exited 1: no database", where, command)
    return answers


def test_policy_info_reads_every_running_pod_in_their_order_with_both_commands():
    reader = ClusterStandIn(PODS, outputs())
    zones, pods, findings = ovn_policy_info.read_zones(reader, PARAMS)
    assert list(zones) == ["worker-1", "worker-0"] and findings == []
    assert pods == {"worker-1": "ovnkube-node-b", "worker-0": "ovnkube-node-a"}
    assert reader.execs == [("openshift-ovn-kubernetes", name, "ovn-controller", command)
                            for name in ("ovnkube-node-b", "ovnkube-node-a") for command in ("ovn-nbctl", "ovs-vsctl")]
    assert zones["worker-0"]["bridge_mappings"] == {"localnet-cnv": "br-ex", "physnet": "br-ex"}
    assert set(zones["worker-1"]["nb"]) == set(ovsdb.NB_TABLES)


def test_trace_reads_the_networks_zone_of_each_node():
    zones, pods, errors = ovn_trace.read_zones(ClusterStandIn(PODS, outputs()), PARAMS, "localnet-cnv")
    assert sorted(zones) == ["worker-0", "worker-1"] and errors == {}
    assert pods == {"worker-1": "ovnkube-node-b", "worker-0": "ovnkube-node-a"}
    assert all(zone["switch"] and zone["acls"] for zone in zones.values())


def test_a_node_that_cannot_be_read_is_left_out_and_named():
    failing = outputs(("ovnkube-node-a", "ovs-vsctl"))
    zones, _pods, findings = ovn_policy_info.read_zones(ClusterStandIn(PODS, failing), PARAMS)
    assert list(zones) == ["worker-1"]
    assert findings == ["node worker-0: its OVN databases could not be read: openshift-ovn-kubernetes/ovnkube-node-a"
                        " container ovn-controller: exited 1: no database (got 'ovs-vsctl')"]
    zones, _pods, errors = ovn_trace.read_zones(ClusterStandIn(PODS, failing), PARAMS, "localnet-cnv")
    assert sorted(zones) == ["worker-0", "worker-1"] and errors == {}, "ovn_trace runs no ovs-vsctl"


def test_output_that_does_not_parse_leaves_the_node_out_too():
    garbled = {**outputs(), ("ovnkube-node-b", "ovn-nbctl"): "not json\n"}
    zones, _pods, errors = ovn_trace.read_zones(ClusterStandIn(PODS, garbled), PARAMS, "localnet-cnv")
    assert list(zones) == ["worker-0"] and list(errors) == ["worker-1"]
    assert "must print {0} JSON listings".format(len(ovsdb.NB_TABLES)) in errors["worker-1"]


def test_no_node_read_fails_with_each_modules_message_naming_the_container():
    failing = outputs(("ovnkube-node-a", "ovn-nbctl"), ("ovnkube-node-b", "ovn-nbctl"))
    why = "openshift-ovn-kubernetes/ovnkube-node-{0} container ovn-controller: exited 1: no database (got 'ovn-nbctl')"
    with pytest.raises(MultinetError) as trace_error:
        ovn_trace.read_zones(ClusterStandIn(PODS, failing), PARAMS, "localnet-cnv")
    assert str(trace_error.value) == "container: no ovnkube-node pod could be read: worker-0: {0}; worker-1: {1}" \
        " (got 'ovn-controller')".format(why.format("a"), why.format("b"))
    with pytest.raises(MultinetError) as info_error:
        ovn_policy_info.read_zones(ClusterStandIn(PODS, failing), PARAMS)
    assert str(info_error.value) == "container: node worker-1: its OVN databases could not be read: {1}; " \
        "node worker-0: its OVN databases could not be read: {0} (got 'ovn-controller')".format(
            why.format("a"), why.format("b"))


def test_no_running_pod_fails_naming_the_selector():
    with pytest.raises(MultinetError, match=r"ovn_namespace: no running pod matches app=ovnkube-node"):
        ovn_trace.read_zones(ClusterStandIn([pod("ovnkube-node-old", "worker-2", phase="Pending")], outputs()),
                             PARAMS, "localnet-cnv")
