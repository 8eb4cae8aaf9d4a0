# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The automation identity's rights, least privilege, from what one inventory manages.

Pure: a scope (plain data the playbook reads from the inventory) in, RBAC manifests out.
Each rule serves named tasks (see the comments); the verbs are the ones those tasks send:
kubernetes.core ``k8s`` GETs then PATCHes (server-side apply, and ``state: patched``) or
DELETEs; ``k8s_info`` with a name GETs, without one LISTs; waits poll with the same GET/LIST;
dry runs send the same PATCH with ``dryRun=All``. A server-side apply that creates the object
is authorized as ``create`` on that name (kube-apiserver ``handlers/patch.go``), so ``create``
and ``patch`` can both be limited to ``resourceNames``; a LIST cannot be, and neither can a
POST: it has no name when it is authorized ("resourceNames ... cannot restrict create",
Kubernetes RBAC documentation), so a ``create`` limited by name never allows one.

Namespaced objects get a Role in each namespace that holds them (the namespaces must exist
before a RoleBinding can, so the admin's ``playbooks/rbac.yml`` creates them); cluster-scoped
objects get one ClusterRole. The automation therefore finds its namespaces and creates none:
``owned_namespace`` creates a namespace with a POST only when it is missing. Two grants are
separate ClusterRoles the admin binds only when needed: deleting the managed namespaces (by
name) when teardown may delete them, and creating namespaces, which RBAC can grant only for
every name, when the automation should create them itself.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.errors import MultinetError
from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.namespace_ownership import CREATED_ANNOTATION
from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.network_switch import RECORD_ANNOTATION, SWITCH_FIELD
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.vocabulary import (
    MANAGED_BY_LABEL, MANAGED_BY_VALUE, dns1123_label_problem, dns1123_subdomain_problem, parse_nad_ref)

RBAC_API = "rbac.authorization.k8s.io/v1"
ADMISSION_API = "admissionregistration.k8s.io/v1"
LABELS = {MANAGED_BY_LABEL: MANAGED_BY_VALUE}
DELETE_NAMESPACES_SUFFIX = "-delete-namespaces"
CREATE_NAMESPACES_SUFFIX = "-create-namespaces"
OVN_INSPECTION_SUFFIX = "-ovn-inspection"
NETWORK_POLICY_SUFFIX = "-network-switch-only"
NAMESPACE_POLICY_SUFFIX = "-namespace-labels-only"


def rule(group, resources, verbs, names=None):
    """One PolicyRule; resourceNames only when given (sorted, so output is stable)."""
    result = {"apiGroups": [group], "resources": list(resources), "verbs": list(verbs)}
    if names:
        result["resourceNames"] = sorted(set(names))
    return result


def named(group, resources, verbs, names):
    """Verbs limited to names, or no rule at all when there is no name (nothing to touch)."""
    return [rule(group, resources, verbs, names)] if names else []


def workload_rules(spec):
    """Rules in a namespace holding NADs, policies, VMs, test pods and their Secrets."""
    return (
        # network_attachment: apply/delete the NADs; multinetwork_policy lists them (require_network);
        # connectivity_info (verify) reads the NADs the policies name.
        [rule("k8s.cni.cncf.io", ["network-attachment-definitions"], ["get", "list", "create", "patch", "delete"]),
         # policies (multinetwork_policy): list the managed ones, server-side apply, prune; verify lists.
         rule("k8s.cni.cncf.io", ["multi-networkpolicies"], ["list", "create", "patch", "delete"]),
         # policies (multinetwork_policy): one writer per intent, the Lease multinet-intent-<intent>.
         rule("coordination.k8s.io", ["leases"], ["get", "create", "update", "delete"]),
         # verify: VMs, their instances and pods of the namespace; workloads waits for VMIs and pods.
         rule("kubevirt.io", ["virtualmachines", "virtualmachineinstances"], ["get", "list"]),
         rule("", ["pods"], ["get", "list"])]
        # workloads: server-side apply and delete of the inventory's VMs and test pods, by name.
        + named("kubevirt.io", ["virtualmachines"], ["create", "patch", "delete"], spec.get("vms"))
        + named("", ["pods"], ["create", "patch", "delete"], spec.get("pods"))
        # workloads: the VMs' cloud-init Secrets; verify reads them for the networkData (no list).
        + named("", ["secrets"], ["get", "create", "patch", "delete"], spec.get("secrets"))
        # verify: probes run in the inventory's test pods only (websocket exec is a GET, kubectl's a POST).
        + named("", ["pods/exec"], ["get", "create"], spec.get("pods"))
        # teardown's record of what existed before us (a ConfigMap of ours).
        + [rule("", ["configmaps"], ["get", "create", "patch", "delete"])]
    )


def operator_rules(operator):
    """Rules in an operator's namespace: its instance (nmstate/virtualization) and, when installed by us, OLM's objects."""
    instances = [rule(instance["group"], [instance["resource"]], ["get", "create", "patch", "delete"], [instance["name"]])
                 for instance in operator.get("instances", [])]
    if not operator.get("olm"):
        return instances
    return (
        # olm_operator apply.yml looks for an OperatorGroup already there; present/absent write ours by name.
        [rule("operators.coreos.com", ["operatorgroups"], ["list"])]
        + named("operators.coreos.com", ["operatorgroups"], ["get", "create", "patch", "delete"],
                [operator["operator_group"]])
        + named("operators.coreos.com", ["subscriptions"], ["get", "create", "patch", "delete"],
                [operator["subscription"]])
        # approve.yml reads and approves the InstallPlan; wait.yml and absent.yml read and delete
        # the CSV; their names come from OLM, so they cannot be listed here.
        + [rule("operators.coreos.com", ["installplans"], ["get", "patch"]),
           rule("operators.coreos.com", ["clusterserviceversions"], ["get", "delete"])]
        + instances
    )


def cluster_rules(scope):
    """The ClusterRole's rules: cluster-scoped objects only, by name where the name is known."""
    mapping = scope.get("bridge_mapping")
    rules = [
        # owned_namespace (network_attachment, olm_operator) reads the namespaces rbac.yml made and
        # adds missing labels; the network_attachment and virtualization dry runs PATCH them. No
        # create: a POST is not authorized by name (see create_namespaces in automation_rbac).
        rule("", ["namespaces"], ["get", "patch"], managed_namespaces(scope)),
        # olm_operator wait.yml: the CSV's CRDs (named by the CSV); the roles check their APIs.
        rule("apiextensions.k8s.io", ["customresourcedefinitions"], ["get"]),
        # multinetwork_policy_switch: read and merge-patch spec.useMultiNetworkPolicy of `cluster` only.
        rule("operator.openshift.io", ["networks"], ["get", "patch"], ["cluster"]),
        # nmstate: the cluster's one NMState instance (site.yml always runs the role).
        rule("nmstate.io", ["nmstates"], ["get", "create", "patch", "delete"], ["nmstate"]),
    ]
    # network_attachment reads every NNCP for the localnet names they declare.
    rules.append(rule("nmstate.io", ["nodenetworkconfigurationpolicies"], ["list"]))
    if scope.get("cluster_version"):
        # network_attachment: the OpenShift version, for a NAD whose network_name needs 4.18+.
        rules.append(rule("config.openshift.io", ["clusterversions"], ["get"], ["version"]))
    if mapping:
        rules += [
            rule("nmstate.io", ["nodenetworkconfigurationpolicies"], ["get", "create", "patch", "delete"], [mapping]),
            # bridge_mapping wait.yml: the selected nodes and their enactments (label selectors).
            rule("", ["nodes"], ["list"]),
            rule("nmstate.io", ["nodenetworkconfigurationenactments"], ["list"]),
        ]
    return rules


def namespace_roles(scope):
    """{namespace: rules} for every namespace the inventory touches."""
    roles = {}
    for namespace, spec in sorted(scope.get("workload_namespaces", {}).items()):
        roles.setdefault(namespace, []).extend(workload_rules(spec or {}))
    for operator in scope.get("operators", []):
        roles.setdefault(operator["namespace"], []).extend(operator_rules(operator))
    catalogs = {}
    for namespace, package in scope.get("catalogs", []):
        catalogs.setdefault(namespace, []).append(package)
    for namespace, packages in sorted(catalogs.items()):
        # olm_operator catalog.yml: the package must be offered before subscribing.
        roles.setdefault(namespace, []).append(
            rule("packages.operators.coreos.com", ["packagemanifests"], ["get"], packages))
    source = scope.get("datasource")
    if source:
        # workloads preflight.yml reads the boot source; cloning from it needs CDI's
        # datavolumes/source create in its namespace (CDI's clone authorization).
        roles.setdefault(source["namespace"], []).extend([
            rule("cdi.kubevirt.io", ["datasources"], ["get"], [source["name"]]),
            rule("cdi.kubevirt.io", ["datavolumes/source"], ["create"])])
    return roles


def managed_namespaces(scope):
    """Namespaces the playbooks create or fill: the workloads' and those of the operators we install
    or whose instance lives in a namespace (the virtualization role dry-runs that namespace)."""
    return sorted(set(scope.get("workload_namespaces", {}))
                  | {o["namespace"] for o in scope.get("operators", []) if o.get("olm") or o.get("instances")})


def deletable_namespaces(scope):
    """Namespaces teardown may delete (when the user asks): the workloads' and those of the operators we install."""
    return sorted(set(scope.get("workload_namespaces", {}))
                  | {o["namespace"] for o in scope.get("operators", []) if o.get("olm")})


def _meta(name, namespace=None):
    meta = {"name": name, "labels": dict(LABELS)}
    if namespace:
        meta["namespace"] = namespace
    return meta


def _binding(kind, name, role_kind, account, namespace=None):
    return {"apiVersion": RBAC_API, "kind": kind, "metadata": _meta(name, namespace),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": name},
            "subjects": [{"kind": "ServiceAccount", "name": account["name"], "namespace": account["namespace"]}]}


def _cel(text):
    """A CEL string literal (the names it quotes are DNS-1123 names and label keys: no quote in them)."""
    return "'" + text + "'"


def _map_of(obj, field):
    """CEL for a metadata map that may be absent, as a map."""
    return "has({0}.metadata.{1}) ? {0}.metadata.{1} : {{}}".format(obj, field)


def _unchanged_but(old, new, keys):
    """CEL: the maps `old` and `new` differ in no key but `keys` (added, changed or removed)."""
    spared = "".join("k == {0} || ".format(_cel(key)) for key in keys)
    return ("{new}.all(k, {spared}(k in {old} && {old}[k] == {new}[k])) && {old}.all(k, {spared}k in {new})"
            .format(old=old, new=new, spared=spared))


def _admission_policy(name, account, resource, validations, variables):
    """A ValidatingAdmissionPolicy on UPDATEs of `resource` ((group, plural)) by the identity, and its binding."""
    user = "system:serviceaccount:{0}:{1}".format(account["namespace"], account["name"])
    group, plural = resource
    policy = {
        "apiVersion": ADMISSION_API, "kind": "ValidatingAdmissionPolicy", "metadata": _meta(name),
        "spec": {
            # A policy that cannot be evaluated refuses: the identity is never let through by an error.
            "failurePolicy": "Fail",
            "matchConstraints": {"resourceRules": [{"apiGroups": [group], "apiVersions": ["*"],
                                                    "operations": ["UPDATE"], "resources": [plural]}]},
            "matchConditions": [{"name": "automation-identity",
                                 "expression": "request.userInfo.username == " + _cel(user)}],
            "variables": [{"name": key, "expression": expression} for key, expression in variables],
            "validations": [{"expression": expression, "message": message, "reason": "Forbidden"}
                            for expression, message in validations]}}
    binding = {"apiVersion": ADMISSION_API, "kind": "ValidatingAdmissionPolicyBinding", "metadata": _meta(name),
               "spec": {"policyName": name, "validationActions": ["Deny"]}}
    return [policy, binding]


def admission_policies(scope):
    """What RBAC cannot say: which fields the identity may change (ValidatingAdmissionPolicy, served
    as admissionregistration.k8s.io/v1 from Kubernetes 1.30, OpenShift 4.17).

    network.operator.openshift.io: only spec.useMultiNetworkPolicy and the record annotation of
    multinetwork_policy_switch (spec read as a map, so a field added to the CRD later is covered).
    Namespaces: only our managed-by label; no other label (pod-security ``enforce`` among them) and
    no annotation (so never the created-namespace record on a namespace it did not create, which
    only its own create, a POST, may carry).
    """
    name, account = scope["name"], scope["account"]
    metadata_maps = [("oldLabels", _map_of("oldObject", "labels")), ("newLabels", _map_of("object", "labels")),
                     ("oldAnnotations", _map_of("oldObject", "annotations")),
                     ("newAnnotations", _map_of("object", "annotations"))]
    owned_labels = "{" + _cel(MANAGED_BY_LABEL) + ": " + _cel(MANAGED_BY_VALUE) + "}"
    return (
        _admission_policy(name + NETWORK_POLICY_SUFFIX, account, ("operator.openshift.io", "networks"), [
            (_unchanged_but("variables.oldSpec", "variables.newSpec", [SWITCH_FIELD]),
             "the automation identity may change only spec.{0} of the Network".format(SWITCH_FIELD)),
            (_unchanged_but("variables.oldAnnotations", "variables.newAnnotations", [RECORD_ANNOTATION]),
             "the automation identity may change only the annotation {0} of the Network".format(RECORD_ANNOTATION)),
            ("variables.newLabels == variables.oldLabels", "the automation identity may not change the Network's labels"),
        ], [("oldSpec", "has(oldObject.spec) ? dyn(oldObject.spec) : {}"),
            ("newSpec", "has(object.spec) ? dyn(object.spec) : {}")] + metadata_maps)
        + _admission_policy(name + NAMESPACE_POLICY_SUFFIX, account, ("", "namespaces"), [
            ("variables.newLabels.all(k, (k in variables.oldLabels && variables.oldLabels[k] == variables.newLabels[k])"
             " || (k in variables.owned && variables.owned[k] == variables.newLabels[k]))"
             " && variables.oldLabels.all(k, k in variables.newLabels || k in variables.owned)",
             "the automation identity may set only the label {0}={1} of a namespace".format(
                 MANAGED_BY_LABEL, MANAGED_BY_VALUE)),
            ("variables.newAnnotations == variables.oldAnnotations",
             "the automation identity may not change a namespace's annotations ({0} among them)".format(
                 CREATED_ANNOTATION)),
        ], [("owned", owned_labels)] + metadata_maps)
    )


def automation_rbac(scope):
    """The manifests: {'cluster', 'namespaces', 'namespaced', 'delete_namespaces', 'create_namespaces',
    'ovn_inspection', 'admission'}.

    'namespaces' are those of the Roles: a RoleBinding needs its namespace, so the admin creates
    them before the first run (they are then the admin's, not the automation's).

    scope: {name, account: {name, namespace}, workload_namespaces: {ns: {vms, pods, secrets}},
    operators: [{olm, namespace, subscription, operator_group, instances: [{group, resource, name}]}],
    catalogs: [(namespace, package)], datasource: {namespace, name} or None,
    bridge_mapping: name or None, ovn_namespace: where the ovnkube-node pods run}.
    """
    name, account = scope["name"], scope["account"]
    namespaced, namespaces = [], []
    for namespace, rules in sorted(namespace_roles(scope).items()):
        if not rules:
            continue
        namespaces.append({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
        namespaced.append({"apiVersion": RBAC_API, "kind": "Role", "metadata": _meta(name, namespace), "rules": rules})
        namespaced.append(_binding("RoleBinding", name, "Role", account, namespace))
    deleter, creator, inspector = (name + DELETE_NAMESPACES_SUFFIX, name + CREATE_NAMESPACES_SUFFIX,
                                   name + OVN_INSPECTION_SUFFIX)
    ovn_namespace = scope.get("ovn_namespace") or "openshift-ovn-kubernetes"
    return {
        "cluster": [{"apiVersion": RBAC_API, "kind": "ClusterRole", "metadata": _meta(name), "rules": cluster_rules(scope)},
                    _binding("ClusterRoleBinding", name, "ClusterRole", account)],
        "namespaces": namespaces,
        "namespaced": namespaced,
        # Optional: teardown deleting the namespaces (multinet_teardown_namespaces), only these names.
        "delete_namespaces": [
            {"apiVersion": RBAC_API, "kind": "ClusterRole", "metadata": _meta(deleter),
             "rules": named("", ["namespaces"], ["delete"], deletable_namespaces(scope))},
            _binding("ClusterRoleBinding", deleter, "ClusterRole", account)],
        # Optional: the automation creating the namespaces it misses (owned_namespace's POST)
        # instead of the admin's rbac.yml. A create cannot be limited by name, so this allows
        # creating any namespace.
        "create_namespaces": [
            {"apiVersion": RBAC_API, "kind": "ClusterRole", "metadata": _meta(creator),
             "rules": [rule("", ["namespaces"], ["create"])]},
            _binding("ClusterRoleBinding", creator, "ClusterRole", account)],
        # The fields the identity may change where RBAC cannot limit them (admission_policies).
        "admission": admission_policies(scope),
        # Optional: ovn_policy_info, which reads every NAD and policy and the NB database of each
        # ovnkube-node pod through exec (and the ovnkube-controller log to quote a refusal). Exec
        # into ovnkube-node is root on every node (the pod is privileged and in the host's network
        # namespace): bind it only where that is acceptable.
        "ovn_inspection": [
            {"apiVersion": RBAC_API, "kind": "ClusterRole", "metadata": _meta(inspector),
             "rules": [rule("k8s.cni.cncf.io", ["network-attachment-definitions", "multi-networkpolicies"], ["list"]),
                       rule("operator.openshift.io", ["networks"], ["get"], ["cluster"])]},
            _binding("ClusterRoleBinding", inspector, "ClusterRole", account),
            {"apiVersion": RBAC_API, "kind": "Role", "metadata": _meta(inspector, ovn_namespace),
             "rules": [rule("", ["pods"], ["list"]), rule("", ["pods/exec"], ["get", "create"]),
                       rule("", ["pods/log"], ["get"])]},
            _binding("RoleBinding", inspector, "Role", account, ovn_namespace)],
    }


# The role variables scope_from_settings reads (the playbook passes the inventory's value or the role's default).
SETTINGS = (
    "workloads_namespace", "workloads_vms", "workloads_pods", "workloads_vm_datasource_name",
    "workloads_vm_datasource_namespace", "network_attachment_networks", "policies_intents",
    "nmstate_install_operator", "nmstate_namespace", "nmstate_operator_package", "nmstate_operator_source_namespace",
    "virtualization_install_operator", "virtualization_namespace", "virtualization_operator_package",
    "virtualization_operator_group_name", "virtualization_operator_source_namespace", "bridge_mapping_name",
)


def _names(entries):
    return [entry["name"] for entry in entries or []]


def system_namespace(namespace, operator=False):
    """Whether `namespace` is the cluster's own: default, kube-* and, unless it holds an operator
    this inventory names (openshift-nmstate, openshift-cnv, the catalog's), openshift and openshift-*."""
    return (namespace == "default" or namespace.startswith("kube-")
            or (not operator and (namespace == "openshift" or namespace.startswith("openshift-"))))


def check_namespace(field, namespace, operator=False):
    """`namespace` when it is a namespace name the identity may get rights in, else MultinetError naming `field`."""
    problem = dns1123_label_problem(namespace) if isinstance(namespace, str) else "must be a string"
    if problem:
        raise MultinetError(problem, field, namespace)
    if system_namespace(namespace, operator):
        raise MultinetError("is a system namespace (default, kube-*{0}): the automation identity gets no rights "
                            "there".format("" if operator else ", openshift-*"), field, namespace)
    return namespace


def _intent_namespaces(intents):
    """[(field, namespace)] the intents touch: each intent's, and that of its network when '<ns>/<nad>'."""
    found = []
    for index, intent in enumerate(intents or []):
        field = "policies_intents[{0}]".format(index)
        if not isinstance(intent, dict) or "namespace" not in intent:
            raise MultinetError("an intent needs a namespace", field + ".namespace", intent)
        found.append((field + ".namespace", intent["namespace"]))
        network = intent.get("network")
        if isinstance(network, str) and "/" in network:
            # multinetwork_policy lists the NADs where the intent's network lives.
            found.append((field + ".network", parse_nad_ref(network, field=field + ".network")[0]))
    return found


def scope_from_settings(settings, name="ocpvirt-multinet-automation", account_namespace="ocpvirt-multinet",
                        ovn_namespace="openshift-ovn-kubernetes"):
    """The scope automation_rbac needs, from the role variables site.yml runs with."""
    missing = [key for key in SETTINGS if key not in settings]
    if missing:
        raise MultinetError("missing role variables: " + ", ".join(missing), "settings", sorted(settings))
    # Every name goes into an API path or a username: refused before anything is built.
    problem = dns1123_subdomain_problem(name) if isinstance(name, str) else "must be a string"
    if problem:
        raise MultinetError(problem, "name (rbac.yml: rbac_name)", name)
    check_namespace("account_namespace (rbac.yml: rbac_account_namespace)", account_namespace)
    check_namespace("ovn_namespace (rbac.yml: rbac_ovn_namespace)", ovn_namespace, operator=True)
    for key in ("nmstate_namespace", "nmstate_operator_source_namespace", "virtualization_namespace",
                "virtualization_operator_source_namespace", "workloads_vm_datasource_namespace"):
        check_namespace(key, settings[key], operator=True)
    vms, pods = settings.get("workloads_vms") or [], settings.get("workloads_pods") or []
    workloads = {"vms": _names(vms), "pods": _names(pods), "secrets": [vm + "-cloud-init" for vm in _names(vms)]}
    namespaces = {check_namespace("workloads_namespace", settings["workloads_namespace"]): workloads} if vms or pods else {}
    others = [("network_attachment_networks[{0}].namespace".format(index), nad.get("namespace"))
              for index, nad in enumerate(settings.get("network_attachment_networks") or [])]
    for field, namespace in others + _intent_namespaces(settings.get("policies_intents")):
        namespaces.setdefault(check_namespace(field, namespace), {})
    # The NMState instance is cluster-scoped (cluster_rules); HyperConverged lives in its namespace.
    operators = [
        {"olm": bool(settings.get("nmstate_install_operator")), "namespace": settings["nmstate_namespace"],
         "subscription": settings["nmstate_operator_package"], "operator_group": settings["nmstate_namespace"],
         "source_namespace": settings["nmstate_operator_source_namespace"]},
        {"olm": bool(settings.get("virtualization_install_operator")), "namespace": settings["virtualization_namespace"],
         "subscription": settings["virtualization_operator_package"],
         "operator_group": settings["virtualization_operator_group_name"],
         "source_namespace": settings["virtualization_operator_source_namespace"],
         "instances": [{"group": "hco.kubevirt.io", "resource": "hyperconvergeds", "name": "kubevirt-hyperconverged"}]},
    ]
    packages = [(o["source_namespace"], o["subscription"]) for o in operators if o["olm"]]
    return {
        "name": name,
        "account": {"name": name, "namespace": account_namespace},
        "workload_namespaces": namespaces,
        "operators": operators,
        "catalogs": packages,
        "datasource": {"namespace": settings["workloads_vm_datasource_namespace"],
                       "name": settings["workloads_vm_datasource_name"]} if vms else None,
        "bridge_mapping": settings.get("bridge_mapping_name") or None,
        "cluster_version": any(isinstance(nad, dict) and nad.get("network_name")
                               for nad in settings.get("network_attachment_networks") or []),
        "ovn_namespace": ovn_namespace,
    }
