"""The OpenShift version read from a ClusterVersion object."""
import pytest

from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.cluster_version import openshift_version, release


def cluster_version(history, desired="4.99.0"):
    return {"kind": "ClusterVersion", "status": {"desired": {"version": desired}, "history": history}}


@pytest.mark.parametrize("value, expected", [
    (cluster_version([{"state": "Completed", "version": "4.18.3"}]), "4.18.3"),
    # newest first: an update in progress counts as the release it started from
    (cluster_version([{"state": "Partial", "version": "4.19.0"}, {"state": "Completed", "version": "4.18.3"},
                      {"state": "Completed", "version": "4.17.1"}], desired="4.19.0"), "4.18.3"),
    (cluster_version([{"state": "Partial", "version": "4.16.0"}], desired="4.16.0"), None),  # still installing
    (cluster_version([], desired="4.16.2"), "4.16.2"),
    ({"status": {}}, None),
    ({}, None),
    (None, None),
    ("  4.15.21 ", "4.15.21"),
    ("", None),
])
def test_openshift_version(value, expected):
    assert openshift_version(value) == expected


@pytest.mark.parametrize("text, expected", [
    ("4.18.3", (4, 18)), ("4.19.0-rc.2", (4, 19)), ("v4.15", (4, 15)), ("4.20", (4, 20)),
    ("4", None), ("four.18", None), ("", None), (None, None),
])
def test_release(text, expected):
    assert release(text) == expected
