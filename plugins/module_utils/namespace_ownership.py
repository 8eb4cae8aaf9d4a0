# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which namespaces ocpvirt.multinet created, and whether one holds anything of others.

Pure: no Ansible or client import. A namespace is ours only when our create made it: the
create carries CREATED_ANNOTATION, and a namespace that already existed is never written, so it
never gains the annotation. Teardown deletes such a namespace only when every object left in it
is ours or the cluster's own (see ``why_not_foreign``); otherwise it deletes only our objects and
names what it left.
"""
from ansible_collections.ocpvirt.multinet.plugins.module_utils.compiler import MANAGED_BY_LABEL, MANAGED_BY_VALUE

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

    ``discovery`` maps a group version ('v1', 'apps/v1') to its APIResourceList; only the
    preferred version of each group should be given, so a kind is listed once.
    """
    found = []
    for group_version, resource_list in sorted(discovery.items()):
        group, version = group_version.rpartition("/")[::2]
        for resource in resource_list.get("resources") or []:
            plural = resource["name"]
            if ("/" in plural or not resource.get("namespaced") or "list" not in (resource.get("verbs") or [])
                    or (group, plural) in IGNORED_RESOURCES):
                continue
            found.append((group, version, plural))
    return found


def why_not_foreign(obj):
    """Why an object does not keep its namespace alive (None when it is someone else's)."""
    meta = obj.get("metadata") or {}
    kind, name = obj.get("kind"), meta.get("name")
    if (meta.get("labels") or {}).get(MANAGED_BY_LABEL) == MANAGED_BY_VALUE:
        return "ours"
    if meta.get("deletionTimestamp"):
        return "being deleted"
    if meta.get("ownerReferences"):
        return "owned by another object, judged on its own"
    if name in CLUSTER_DEFAULTS.get(kind, ()):
        return "the cluster's default"
    if kind == "Secret" and (meta.get("annotations") or {}).get(
            SERVICE_ACCOUNT_NAME_ANNOTATION) in CLUSTER_DEFAULTS["ServiceAccount"]:
        return "a default ServiceAccount's secret"
    return None


def foreign_objects(objects):
    """'Kind/name' of every object that is neither ours nor the cluster's own, sorted."""
    return sorted("{0}/{1}".format(obj.get("kind"), obj["metadata"]["name"])
                  for obj in objects if why_not_foreign(obj) is None)


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
