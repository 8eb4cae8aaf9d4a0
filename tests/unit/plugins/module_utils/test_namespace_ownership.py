"""Which namespaces are ours, and which objects in them are someone else's."""
import pytest

from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.namespace_ownership import (
    CREATED_ANNOTATION,
    created_by_us,
    deletion_verdict,
    foreign_objects,
    inventory_record,
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


RECORD = {"owned": ["NetworkAttachmentDefinition/net", "VirtualMachine/vm"], "intents": ["web"]}


@pytest.mark.parametrize("item", [
    obj("NetworkAttachmentDefinition", "net", labels=OURS),
    obj("MultiNetworkPolicy", "web-default-deny", labels={**OURS, "multinet.ocpvirt.io/intent": "web"}),
    # The intent's Lease, left by a run that died holding it.
    obj("Lease", "multinet-intent-web", labels={**OURS, "multinet.ocpvirt.io/intent": "web"}),
    # Owned by our VM, deleted just before (gone from the listing, named by the record).
    obj("DataVolume", "vm-rootdisk", ownerReferences=[{"kind": "VirtualMachine", "name": "vm", "uid": "u-vm"}]),
    obj("ConfigMap", "team-settings", deletionTimestamp="2026-11-30T00:00:00Z"),
    obj("ServiceAccount", "default"),
    obj("ConfigMap", "kube-root-ca.crt"),
    obj("RoleBinding", "system:image-pullers"),
    obj("Secret", "builder-dockercfg-x1", annotations={"kubernetes.io/service-account.name": "builder"}),
], ids=lambda item: item["kind"] + "/" + item["metadata"]["name"])
def test_ours_and_the_clusters_own_do_not_keep_a_namespace(item):
    assert why_not_foreign(item, **RECORD) is not None


@pytest.mark.parametrize("item", [
    obj("ConfigMap", "team-settings"),
    obj("Secret", "db-password"),
    obj("Secret", "team-sa-token", annotations={"kubernetes.io/service-account.name": "team-sa"}),
    obj("ServiceAccount", "team-sa"),
    obj("MultiNetworkPolicy", "team-policy", labels={"app.kubernetes.io/managed-by": "argocd"}),
    obj("MultiNetworkPolicy", "other-allow", labels={**OURS, "multinet.ocpvirt.io/intent": "other-team"}),
    obj("Role", "automation", labels=OURS),
    obj("ConfigMap", "node-cache", ownerReferences=[{"kind": "Node", "name": "worker-2", "uid": "u-node"}]),
], ids=lambda item: item["kind"] + "/" + item["metadata"]["name"])
def test_anything_else_is_someone_elses(item):
    assert why_not_foreign(item, **RECORD) is None


@pytest.mark.parametrize("item, shown", [
    # Our label is shared: another intent's policy and rbac.yml's objects carry it too.
    (obj("MultiNetworkPolicy", "other-allow-db", labels={**OURS, "multinet.ocpvirt.io/intent": "other-team"}),
     "MultiNetworkPolicy/other-allow-db (of intent other-team)"),
    (obj("MultiNetworkPolicy", "unlabelled", labels=OURS), "MultiNetworkPolicy/unlabelled (of intent none)"),
    # Another intent's run may still hold its Lease.
    (obj("Lease", "multinet-intent-other-team", labels={**OURS, "multinet.ocpvirt.io/intent": "other-team"}),
     "Lease/multinet-intent-other-team (of intent other-team)"),
    (obj("Role", "automation", labels=OURS), "Role/automation (our label, but not made by site.yml for this inventory)"),
    (obj("RoleBinding", "automation", labels=OURS),
     "RoleBinding/automation (our label, but not made by site.yml for this inventory)"),
    (obj("ServiceAccount", "automation", labels=OURS),
     "ServiceAccount/automation (our label, but not made by site.yml for this inventory)"),
    # A name in the record without our label is someone else's object of the same name.
    (obj("NetworkAttachmentDefinition", "net"), "NetworkAttachmentDefinition/net"),
    # Owned by anything but ours: a Node (cluster-scoped, never in the listing), a team's object.
    (obj("ConfigMap", "node-cache", ownerReferences=[{"kind": "Node", "name": "worker-2", "uid": "u-node"}]),
     "ConfigMap/node-cache (owned by Node/worker-2)"),
    (obj("Pod", "job-x", ownerReferences=[{"kind": "Job", "name": "backup", "uid": "u-job"}]),
     "Pod/job-x (owned by Job/backup)"),
], ids=lambda value: value if isinstance(value, str) else value["kind"])
def test_what_looks_ours_but_is_not_is_someone_elses_and_says_why(item, shown):
    assert foreign_objects([item], **RECORD) == [shown]


def test_an_owner_still_listed_is_judged_as_any_object():
    vmi = obj("VirtualMachineInstance", "vm", uid="u-vmi",
              ownerReferences=[{"kind": "VirtualMachine", "name": "vm", "uid": "u-vm"}])
    launcher = obj("Pod", "virt-launcher-vm-x", uid="u-pod",
                   ownerReferences=[{"kind": "VirtualMachineInstance", "name": "vm", "uid": "u-vmi"}])
    assert foreign_objects([vmi, launcher], **RECORD) == []
    # The same chain under a VM that is not in the record belongs to someone else, both links.
    assert foreign_objects([vmi, launcher], owned=[], intents=[]) == [
        "Pod/virt-launcher-vm-x (owned by VirtualMachineInstance/vm)",
        "VirtualMachineInstance/vm (owned by VirtualMachine/vm)"]
    # One foreign owner among ours is enough.
    owners = [{"kind": "VirtualMachine", "name": "vm", "uid": "u-vm"}, {"kind": "Node", "name": "w", "uid": "u-n"}]
    shared = obj("Secret", "s", uid="u-s", ownerReferences=owners)
    assert foreign_objects([shared], **RECORD) == ["Secret/s (owned by Node/w)"]


def test_an_ownership_cycle_is_foreign():
    a = obj("ConfigMap", "a", uid="1", ownerReferences=[{"kind": "ConfigMap", "name": "b", "uid": "2"}])
    b = obj("ConfigMap", "b", uid="2", ownerReferences=[{"kind": "ConfigMap", "name": "a", "uid": "1"}])
    assert [name.split(" ")[0] for name in foreign_objects([a, b])] == ["ConfigMap/a", "ConfigMap/b"]


def test_the_inventory_record_names_what_site_creates_per_namespace():
    record = inventory_record(
        networks=[{"name": "corp-lan", "namespace": "payments"}, {"name": "corp-lan", "namespace": "shared-net"}],
        intents=[{"namespace": "payments", "network": "payments/corp-lan"},
                 {"namespace": "payments", "network": "corp-lan", "name": "pay-db-access"},
                 {"namespace": "shared-net", "network": "shared-net/corp-lan", "name": "edge"}],
        workloads_namespace="payments", vms=[{"name": "pay-web-1"}], pods=[{"name": "probe"}])
    assert record == {
        "payments": {"owned": ["NetworkAttachmentDefinition/corp-lan", "Pod/probe", "Secret/pay-web-1-cloud-init",
                               "VirtualMachine/pay-web-1"],
                     "intents": ["corp-lan", "pay-db-access"]},
        "shared-net": {"owned": ["NetworkAttachmentDefinition/corp-lan"], "intents": ["edge"]}}
    assert inventory_record() == {}
    # Entries without names are their roles' errors, not the record's.
    assert inventory_record(networks=[{"namespace": "x"}], vms=[{}], workloads_namespace="x") == {}


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
        # Another version of a group serves another resource (the policies), and one served twice is listed once.
        "k8s.cni.cncf.io/v1beta1": {"resources": [
            {"name": "multi-networkpolicies", "namespaced": True, "kind": "MultiNetworkPolicy", "verbs": ["list"]},
            {"name": "network-attachment-definitions", "namespaced": True, "kind": "NetworkAttachmentDefinition",
             "verbs": ["list"]}]},
    }
    assert listable_resources(discovery) == [("k8s.cni.cncf.io", "v1", "network-attachment-definitions"),
                                             ("k8s.cni.cncf.io", "v1beta1", "multi-networkpolicies"),
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
