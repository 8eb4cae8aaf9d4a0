"""--diff without the API server's bookkeeping."""
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.server_fields import (
    diff_without_server_fields, without_server_fields)

STORED = {"apiVersion": "operator.openshift.io/v1", "kind": "Network",
          "metadata": {"name": "cluster", "uid": "u-1", "generation": 3, "resourceVersion": "77",
                       "creationTimestamp": "2026-12-06T10:00:00Z", "annotations": {"team": "relay"},
                       "managedFields": [{"manager": "ocpvirt.multinet"}]},
          "spec": {"useMultiNetworkPolicy": True}, "status": {"readyReplicas": 3}}


def test_only_the_bookkeeping_and_status_go():
    assert without_server_fields(STORED) == {
        "apiVersion": "operator.openshift.io/v1", "kind": "Network",
        "metadata": {"name": "cluster", "annotations": {"team": "relay"}}, "spec": {"useMultiNetworkPolicy": True}}
    assert STORED["metadata"]["uid"] == "u-1"  # the original is left as it was


def test_a_diff_of_bookkeeping_alone_is_empty():
    """The JSON patch's diff holds only what differs: the server's fields and the one we set."""
    diff = {"before": {"metadata": {"generation": 2, "managedFields": [{"manager": "a"}]}, "spec": {}},
            "after": {"metadata": {"generation": 3, "managedFields": [{"manager": "a"}, {"manager": "b"}]},
                      "spec": {"useMultiNetworkPolicy": True}}}
    assert diff_without_server_fields(diff) == {"before": {"spec": {}}, "after": {"spec": {"useMultiNetworkPolicy": True}}}
    assert diff_without_server_fields([diff, {"prepared": "text"}])[1] == {"prepared": "text"}
