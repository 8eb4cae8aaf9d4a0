# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which namespaces ocpvirt.multinet created, and whether one holds anything of others.

Pure: no Ansible or client import. A namespace is ours only when our create made it: the
create carries CREATED_ANNOTATION, and a namespace that already existed is never written, so it
never gains the annotation. Teardown deletes such a namespace only when every object left in it
is ours or the cluster's own (see ``Judge``); otherwise it deletes only our objects and names
what it left. An object is ours by our label *and* our record (what the inventory has site.yml
create there, the intents by name), never by the shared label alone.
"""
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.vocabulary import INTENT_LABEL, MANAGED_BY_LABEL, MANAGED_BY_VALUE
from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.compiler import intent_name

CREATED_ANNOTATION = "multinet.ocpvirt.io/created-namespace"

# Objects the cluster puts in every namespace: kube-controller-manager's root CA ConfigMap
# (pkg/controller/certificates/rootcacertpublisher) and "default" ServiceAccount
# (pkg/controller/serviceaccount), and OpenShift's per-project service CA ConfigMap, builder
# and deployer ServiceAccounts and their image RoleBindings (openshift-controller-manager).
CLUSTER_DEFAULTS = {
    "ConfigMap": ("kube-root-ca.crt", "openshift-service-ca.crt"),
    "ServiceAccount": ("default", "builder", "deployer", "pipeline"),
    "RoleBinding": ("system:image-pullers", "system:image-builders", "system:deployers"),
}
# Secrets the token and image-pull controllers make for those ServiceAccounts carry this
# annotation (objects are read as metadata only, so a Secret's type is not seen).
SERVICE_ACCOUNT_NAME_ANNOTATION = "kubernetes.io/service-account.name"
# Records of what happened, not content: never a reason to keep a namespace.
IGNORED_RESOURCES = {("", "events"), ("events.k8s.io", "events")}
POLICY_KIND = "MultiNetworkPolicy"
# An intent's Lease (k8s/intent_lease.py), left behind when a run died holding it: the intent's,
# as its policies are.
INTENT_KINDS = (POLICY_KIND, "Lease")


def namespace_manifest(name, labels=None):
    """The Namespace our create sends: our label, the given labels and the created annotation."""
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {
        "name": name,
        "labels": dict(labels or {}, **{MANAGED_BY_LABEL: MANAGED_BY_VALUE}),
        "annotations": {CREATED_ANNOTATION: MANAGED_BY_VALUE}}}


def created_by_us(namespace):
    return (namespace.get("metadata", {}).get("annotations") or {}).get(CREATED_ANNOTATION) == MANAGED_BY_VALUE


def missing_labels(namespace, labels):
    """The given labels a namespace does not carry (with these values) yet."""
    have = namespace.get("metadata", {}).get("labels") or {}
    return {key: value for key, value in (labels or {}).items() if have.get(key) != value}


def listable_resources(discovery):
    """[(group, version, plural)] of every namespaced resource that can be listed.

    ``discovery`` maps a group version ('v1', 'apps/v1') to its APIResourceList, every version
    of each group: a group's versions may serve different resources (k8s.cni.cncf.io/v1 the NADs,
    v1beta1 the MultiNetworkPolicies), so its preferred version alone would miss some. A resource
    served in several versions is listed once (the objects are the same).
    """
    found, seen = [], set(IGNORED_RESOURCES)
    for group_version, resource_list in sorted(discovery.items()):
        group, version = group_version.rpartition("/")[::2]
        for resource in resource_list.get("resources") or []:
            plural = resource["name"]
            if ("/" in plural or not resource.get("namespaced") or "list" not in (resource.get("verbs") or [])
                    or (group, plural) in seen):
                continue
            seen.add((group, plural))
            found.append((group, version, plural))
    return found


def object_name(obj):
    """'Kind/name' of an object (as listed, or an ownerReference)."""
    meta = obj.get("metadata") or obj
    return "{0}/{1}".format(obj.get("kind"), meta.get("name"))


def is_ours(obj, owned, intents):
    """Made by this automation for this inventory: our label and our record, never the label alone.

    ``owned`` is the 'Kind/name' of every object the inventory has us create in the namespace,
    ``intents`` the names of its intents there: a policy (or an intent's Lease) is ours only when
    its intent label names one of them (another intent's policies carry the same managed-by label). A Role, RoleBinding
    or ServiceAccount that playbooks/rbac.yml made carries our label too, and is in no record.
    """
    labels = (obj.get("metadata") or {}).get("labels") or {}
    if labels.get(MANAGED_BY_LABEL) != MANAGED_BY_VALUE:
        return False
    if obj.get("kind") in INTENT_KINDS:
        return labels.get(INTENT_LABEL) in intents
    return object_name(obj) in owned


class Judge:
    """Tells each object of one namespace's listing ours, the cluster's, or someone else's."""

    def __init__(self, objects, owned=(), intents=()):
        self.owned, self.intents = set(owned), set(intents)
        self.by_uid = {obj["metadata"]["uid"]: obj for obj in objects if (obj.get("metadata") or {}).get("uid")}
        self._judging = set()

    def why_not_foreign(self, obj):
        """Why an object does not keep its namespace alive (None when it is someone else's)."""
        meta = obj.get("metadata") or {}
        kind, name = obj.get("kind"), meta.get("name")
        if is_ours(obj, self.owned, self.intents):
            return "ours"
        if meta.get("deletionTimestamp"):
            return "being deleted"
        if meta.get("ownerReferences"):
            return "owned by ours" if not self.foreign_owners(obj) else None
        if name in CLUSTER_DEFAULTS.get(kind, ()):
            return "the cluster's default"
        if kind == "Secret" and (meta.get("annotations") or {}).get(
                SERVICE_ACCOUNT_NAME_ANNOTATION) in CLUSTER_DEFAULTS["ServiceAccount"]:
            return "a default ServiceAccount's secret"
        return None

    def foreign_owners(self, obj):
        """'Kind/name' of the owners of ``obj`` that are not ours.

        An owner still in the namespace is judged as any object is; one that is gone counts as
        ours only when our record names it (our VM, deleted just before, still owning its VMI);
        a cluster-scoped owner (a Node) is never in the listing, so it is someone else's.
        """
        uid = obj["metadata"].get("uid")
        if uid in self._judging:  # an ownership cycle proves nothing
            return [object_name(ref) for ref in obj["metadata"]["ownerReferences"]]
        self._judging.add(uid)
        try:
            return [object_name(ref) for ref in obj["metadata"]["ownerReferences"]
                    if not self._owner_is_ours(ref)]
        finally:
            self._judging.discard(uid)

    def _owner_is_ours(self, ref):
        owner = self.by_uid.get(ref.get("uid"))
        if owner is None:
            return object_name(ref) in self.owned
        return self.why_not_foreign(owner) is not None

    def describe(self, obj):
        """'Kind/name', with what makes an object that looks ours someone else's."""
        meta = obj.get("metadata") or {}
        labels = meta.get("labels") or {}
        if meta.get("ownerReferences"):
            return "{0} (owned by {1})".format(object_name(obj), ", ".join(self.foreign_owners(obj)))
        if labels.get(MANAGED_BY_LABEL) == MANAGED_BY_VALUE and obj.get("kind") in INTENT_KINDS:
            return "{0} (of intent {1})".format(object_name(obj), labels.get(INTENT_LABEL) or "none")
        if labels.get(MANAGED_BY_LABEL) == MANAGED_BY_VALUE:
            return "{0} (our label, but not made by site.yml for this inventory)".format(object_name(obj))
        return object_name(obj)


def why_not_foreign(obj, owned=(), intents=()):
    """Why one object does not keep its namespace alive, judged alone (None: someone else's)."""
    return Judge([obj], owned, intents).why_not_foreign(obj)


def foreign_objects(objects, owned=(), intents=()):
    """'Kind/name' of every object that is neither ours nor the cluster's own, sorted, each with
    what makes it foreign when it looks ours (our label, an owner)."""
    judge = Judge(objects, owned, intents)
    return sorted(judge.describe(obj) for obj in objects if judge.why_not_foreign(obj) is None)


def inventory_record(networks=(), intents=(), workloads_namespace=None, vms=(), pods=()):
    """{namespace: {'owned': ['Kind/name'], 'intents': [name]}}: what site.yml creates in each
    namespace for this inventory (the NADs, the intents' policies, the VMs, their cloud-init
    Secrets and the test pods), which teardown passes to owned_namespace as our record."""
    record = {}

    def add(namespace, key, value):
        # An entry without its names is its own role's error, reported there.
        if isinstance(namespace, str) and isinstance(value, str):
            record.setdefault(namespace, {"owned": set(), "intents": set()})[key].add(value)

    def names(entries):
        return [entry.get("name") for entry in entries or () if isinstance(entry, dict) and entry.get("name")]
    for nad in networks or ():
        if isinstance(nad, dict) and nad.get("name"):
            add(nad.get("namespace"), "owned", "NetworkAttachmentDefinition/" + nad["name"])
    for intent in intents or ():
        if isinstance(intent, dict):
            add(intent.get("namespace"), "intents", intent_name(intent))
    for name in names(vms):
        add(workloads_namespace, "owned", "VirtualMachine/" + name)
        add(workloads_namespace, "owned", "Secret/{0}-cloud-init".format(name))
    for name in names(pods):
        add(workloads_namespace, "owned", "Pod/" + name)
    return {namespace: {key: sorted(values) for key, values in found.items()} for namespace, found in record.items()}


def deletion_verdict(name, namespace, foreign, unreadable):
    """(delete, reason) for a namespace given what is left in it.

    ``namespace`` is the object (None when it does not exist), ``foreign`` the names
    ``foreign_objects`` returned, ``unreadable`` the resources that could not be listed: what
    cannot be seen might be someone's, so it keeps the namespace too.
    """
    if namespace is None:
        return False, "namespace {0} does not exist".format(name)
    if not created_by_us(namespace):
        return False, ("namespace {0} was not created by ocpvirt.multinet (no {1} annotation): "
                       "kept, only our objects in it were deleted".format(name, CREATED_ANNOTATION))
    if foreign:
        return False, ("namespace {0} was created by ocpvirt.multinet but holds objects of others: "
                       "kept with {1}".format(name, ", ".join(foreign)))
    if unreadable:
        return False, ("namespace {0} was created by ocpvirt.multinet but these could not be listed, so "
                       "it may hold objects of others: kept ({1})".format(name, "; ".join(unreadable)))
    return True, "namespace {0} was created by ocpvirt.multinet and holds nothing of others".format(name)
