"""module_utils/policy/network_switch.py: the JSON patch can set spec.useMultiNetworkPolicy and our record, nothing else."""
import copy
from pathlib import Path

import pytest
import yaml

from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.errors import MultinetError
from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.network_switch import (
    DROP, RECORD_ANNOTATION, SWITCH_FIELD, switch_patch)

ROOT = Path(__file__).resolve().parents[4]

# Every field of OpenShift 4.15's NetworkSpec set (values of no lab or seed).
NETWORK = {
    "apiVersion": "operator.openshift.io/v1", "kind": "Network",
    "metadata": {"name": "cluster", "resourceVersion": "4711", "labels": {"team": "net-ops"},
                 "annotations": {"release.openshift.io/create-only": "true"}},
    "spec": {
        "managementState": "Managed", "logLevel": "Normal", "operatorLogLevel": "Normal",
        "clusterNetwork": [{"cidr": "10.240.0.0/14", "hostPrefix": 22}], "serviceNetwork": ["172.31.0.0/16"],
        "defaultNetwork": {"type": "OVNKubernetes", "ovnKubernetesConfig": {"mtu": 1360, "genevePort": 6081}},
        "additionalNetworks": [{"name": "legacy-macvlan", "namespace": "blue-team", "type": "Raw"}],
        "disableMultiNetwork": False, "deployKubeProxy": False, "disableNetworkDiagnostics": False,
        "kubeProxyConfig": {"bindAddress": "0.0.0.0"}, "exportNetworkFlows": {"ipfix": {"collectors": ["198.51.100.9:2055"]}},
        "migration": {"mtu": {"network": {"from": 1400, "to": 1360}}}, "observedConfig": None,
        "unsupportedConfigOverrides": None,
    },
    "status": {"readyReplicas": 3},
}


def _walk(doc, path):
    parts = [part.replace("~1", "/").replace("~0", "~") for part in path.split("/")[1:]]
    for part in parts[:-1]:
        doc = doc[part]
    return doc, parts[-1]


def apply(doc, ops):
    """RFC 6902 add/remove/test on object members, with kube-apiserver's reading of a `test` of
    null on a missing member as a pass (evanphx/json-patch); raises AssertionError on a failed test."""
    doc = copy.deepcopy(doc)
    for op in ops:
        parent, key = _walk(doc, op["path"])
        if op["op"] == "test":
            assert parent.get(key) == op["value"], "test of {0} failed".format(op["path"])
        elif op["op"] == "add":
            parent[key] = copy.deepcopy(op["value"])
        elif op["op"] == "remove":
            del parent[key]
        else:
            raise AssertionError("unexpected op " + op["op"])
    return doc


def without_ours(doc):
    doc = copy.deepcopy(doc)
    doc["spec"].pop(SWITCH_FIELD, None)
    (doc["metadata"].get("annotations") or {}).pop(RECORD_ANNOTATION, None)
    if doc["metadata"].get("annotations") == {}:
        del doc["metadata"]["annotations"]
    return doc


@pytest.mark.parametrize("enabled", [True, False, None])
@pytest.mark.parametrize("record", ["true", "false", "unset", DROP, None])
@pytest.mark.parametrize("before", [None, True, False])
@pytest.mark.parametrize("annotations", [True, False])
def test_the_patch_changes_nothing_but_the_switch_and_the_record(enabled, record, before, annotations):
    network = copy.deepcopy(NETWORK)
    if before is not None:
        network["spec"][SWITCH_FIELD] = before
    if not annotations:
        del network["metadata"]["annotations"]
    ops = switch_patch(network, enabled, record)
    patched = apply(network, ops)
    assert without_ours(patched) == without_ours(network)
    assert patched["spec"].get(SWITCH_FIELD) is enabled
    if record is DROP:
        assert RECORD_ANNOTATION not in patched["metadata"].get("annotations", {})
    elif record is not None:
        assert patched["metadata"]["annotations"][RECORD_ANNOTATION] == record
    # Every operation but the switch's and the record's is a test.
    assert {op["path"] for op in ops if op["op"] != "test"} <= {
        "/spec/" + SWITCH_FIELD, "/metadata/annotations", "/metadata/annotations/multinet.ocpvirt.io~1previous-use-multi-network-policy"}


@pytest.mark.parametrize("field,value", [("disableMultiNetwork", True), ("logLevel", "TraceAll"),
                                         ("clusterNetwork", [{"cidr": "10.0.0.0/8", "hostPrefix": 23}])])
def test_a_change_of_any_other_field_since_the_read_makes_the_patch_fail(field, value):
    ops = switch_patch(NETWORK, True, "unset")
    changed = copy.deepcopy(NETWORK)
    changed["spec"][field] = value
    with pytest.raises(AssertionError, match="test of /spec failed"):
        apply(changed, ops)


def test_an_annotation_added_since_the_read_makes_the_patch_fail_instead_of_being_replaced():
    network = copy.deepcopy(NETWORK)
    del network["metadata"]["annotations"]
    ops = switch_patch(network, True, "unset")
    assert ops[1] == {"op": "test", "path": "/metadata/annotations", "value": None}
    network["metadata"]["annotations"] = {"someone/else": "x"}
    with pytest.raises(AssertionError, match="test of /metadata/annotations failed"):
        apply(network, ops)


def test_nothing_to_change_is_no_operation():
    network = copy.deepcopy(NETWORK)
    network["spec"][SWITCH_FIELD] = True
    network["metadata"]["annotations"][RECORD_ANNOTATION] = "false"
    assert switch_patch(network, True, "false") == [] == switch_patch(network, True)


@pytest.mark.parametrize("enabled,record,field", [("yes", None, "spec.useMultiNetworkPolicy"),
                                                  (True, "maybe", RECORD_ANNOTATION)])
def test_bad_values_are_refused_naming_them(enabled, record, field):
    with pytest.raises(MultinetError, match=field):
        switch_patch(NETWORK, enabled, record)


def test_the_role_reads_the_annotation_the_patch_writes():
    role_vars = yaml.safe_load((ROOT / "roles/multinetwork_policy_switch/vars/main.yml").read_text())
    assert role_vars["__multinetwork_policy_switch_annotation"] == RECORD_ANNOTATION
