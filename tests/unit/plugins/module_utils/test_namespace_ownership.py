"""Which namespaces are ours, and which objects in them are someone else's."""
import pytest

from ansible_collections.ocpvirt.multinet.plugins.module_utils.namespace_ownership import (
    CREATED_ANNOTATION,
    created_by_us,
    deletion_verdict,
    foreign_objects,
    listable_resources,
    missing_labels,
    namespace_manifest,
    why_not_foreign,
)

OURS = {"app.kubernetes.io/managed-by": "ocpvirt.multinet"}


def obj(kind, name, **meta):
    return {"kind": kind, "metadata": dict(name=name, **meta)}


def test_our_create_carries_the_annotation_and_the_labels_asked():
    manifest = namespace_manifest("team", {"openshift.io/cluster-monitoring": "true"})
    assert manifest["metadata"]["labels"] == {**OURS, "openshift.io/cluster-monitoring": "true"}
    assert created_by_us(manifest)


@pytest.mark.parametrize("annotations", [None, {}, {CREATED_ANNOTATION: "someone-else"}])
def test_a_namespace_without_our_annotation_is_not_ours(annotations):
    # Our label alone (SSA of older versions put it on namespaces that existed) proves nothing.
    assert not created_by_us(obj("Namespace", "team", labels=OURS, annotations=annotations))


def test_missing_labels_are_only_those_absent_or_different():
    namespace = obj("Namespace", "team", labels={"a": "1", "b": "2"})
    assert missing_labels(namespace, {"a": "1", "b": "3", "c": "4"}) == {"b": "3", "c": "4"}
    assert missing_labels(namespace, {}) == {}


@pytest.mark.parametrize("item", [
    obj("NetworkAttachmentDefinition", "net", labels=OURS),
    obj("Pod", "virt-launcher-vm-abcde", ownerReferences=[{"kind": "VirtualMachineInstance", "name": "vm"}]),
    obj("ConfigMap", "team-settings", deletionTimestamp="2026-11-30T00:00:00Z"),
    obj("ServiceAccount", "default"),
    obj("ConfigMap", "kube-root-ca.crt"),
    obj("RoleBinding", "system:image-pullers"),
    obj("Secret", "builder-dockercfg-x1", annotations={"kubernetes.io/service-account.name": "builder"}),
], ids=lambda item: item["kind"] + "/" + item["metadata"]["name"])
def test_ours_and_the_clusters_own_do_not_keep_a_namespace(item):
    assert why_not_foreign(item) is not None


@pytest.mark.parametrize("item", [
    obj("ConfigMap", "team-settings"),
    obj("Secret", "db-password"),
    obj("Secret", "team-sa-token", annotations={"kubernetes.io/service-account.name": "team-sa"}),
    obj("ServiceAccount", "team-sa"),
    obj("MultiNetworkPolicy", "team-policy", labels={"app.kubernetes.io/managed-by": "argocd"}),
], ids=lambda item: item["kind"] + "/" + item["metadata"]["name"])
def test_anything_else_is_someone_elses(item):
    assert why_not_foreign(item) is None


def test_foreign_objects_are_named_sorted():
    items = [obj("Secret", "db-password"), obj("ServiceAccount", "default"), obj("ConfigMap", "a")]
    assert foreign_objects(items) == ["ConfigMap/a", "Secret/db-password"]


def test_listable_resources_skip_subresources_cluster_scope_events_and_unlistable():
    discovery = {
        "v1": {"resources": [
            {"name": "pods", "namespaced": True, "kind": "Pod", "verbs": ["get", "list"]},
            {"name": "pods/exec", "namespaced": True, "kind": "PodExecOptions", "verbs": ["create"]},
            {"name": "namespaces", "namespaced": False, "kind": "Namespace", "verbs": ["list"]},
            {"name": "events", "namespaced": True, "kind": "Event", "verbs": ["list"]},
            {"name": "bindings", "namespaced": True, "kind": "Binding", "verbs": ["create"]}]},
        "k8s.cni.cncf.io/v1": {"resources": [
            {"name": "network-attachment-definitions", "namespaced": True, "kind": "NetworkAttachmentDefinition",
             "verbs": ["list", "get"]}]},
        "events.k8s.io/v1": {"resources": [{"name": "events", "namespaced": True, "kind": "Event", "verbs": ["list"]}]},
    }
    assert listable_resources(discovery) == [("k8s.cni.cncf.io", "v1", "network-attachment-definitions"),
                                             ("", "v1", "pods")]


def test_verdict_deletes_only_ours_with_nothing_of_others():
    ours = namespace_manifest("team")
    assert deletion_verdict("team", ours, [], []) == (
        True, "namespace team was created by ocpvirt.multinet and holds nothing of others")
    delete, reason = deletion_verdict("team", ours, ["Secret/db-password"], [])
    assert not delete and reason.endswith("kept with Secret/db-password")
    delete, reason = deletion_verdict("team", ours, [], ["list secrets in team: Forbidden (403): no"])
    assert not delete and "could not be listed" in reason and "Forbidden (403)" in reason
    delete, reason = deletion_verdict("team", obj("Namespace", "team"), [], [])
    assert not delete and "was not created by ocpvirt.multinet" in reason
    assert deletion_verdict("team", None, [], [])[0] is False
