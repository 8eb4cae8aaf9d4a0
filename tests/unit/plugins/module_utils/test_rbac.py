"""module_utils/policy/rbac.py: the automation identity's rights from the inventory's role variables."""
import pytest

from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.errors import MultinetError
from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.rbac import SETTINGS, automation_rbac, scope_from_settings

SETTINGS_SEEDLIKE = {
    "workloads_namespace": "team-a",
    "workloads_vms": [{"name": "vm-1"}],
    "workloads_pods": [{"name": "probe"}],
    "workloads_vm_datasource_name": "centos-stream9",
    "workloads_vm_datasource_namespace": "openshift-virtualization-os-images",
    "network_attachment_networks": [{"name": "net", "namespace": "team-nads"}],
    "policies_intents": [{"namespace": "team-a"}],
    "nmstate_install_operator": True,
    "nmstate_namespace": "openshift-nmstate",
    "nmstate_operator_package": "kubernetes-nmstate-operator",
    "nmstate_operator_source_namespace": "openshift-marketplace",
    "virtualization_install_operator": True,
    "virtualization_namespace": "openshift-cnv",
    "virtualization_operator_package": "kubevirt-hyperconverged",
    "virtualization_operator_group_name": "kubevirt-hyperconverged-group",
    "virtualization_operator_source_namespace": "openshift-marketplace",
    "bridge_mapping_name": "mapping",
}


def build(**changes):
    return automation_rbac(scope_from_settings({**SETTINGS_SEEDLIKE, **changes}))


def roles(rbac):
    return {doc["metadata"]["namespace"]: doc["rules"] for doc in rbac["namespaced"] if doc["kind"] == "Role"}


def cluster_rules(rbac):
    return rbac["cluster"][0]["rules"]


def rules_on(rules, resource):
    return [rule for rule in rules if resource in rule["resources"]]


def test_secrets_only_in_the_workloads_namespace_by_name_and_never_listed():
    rbac = build()
    by_namespace = {ns: rules_on(rules, "secrets") for ns, rules in roles(rbac).items()}
    assert by_namespace.pop("team-a") == [{"apiGroups": [""], "resources": ["secrets"],
                                           "verbs": ["get", "create", "patch", "delete"],
                                           "resourceNames": ["vm-1-cloud-init"]}]
    assert not any(by_namespace.values())
    assert not rules_on(cluster_rules(rbac), "secrets")


def test_every_namespace_the_inventory_touches_gets_a_role_and_a_binding():
    rbac = build()
    assert sorted(roles(rbac)) == ["openshift-cnv", "openshift-marketplace", "openshift-nmstate",
                                   "openshift-virtualization-os-images", "team-a", "team-nads"]
    bindings = [doc for doc in rbac["namespaced"] if doc["kind"] == "RoleBinding"]
    assert sorted(doc["metadata"]["namespace"] for doc in bindings) == sorted(roles(rbac))
    assert [doc["metadata"]["name"] for doc in rbac["namespaces"]] == sorted(roles(rbac))
    # The NAD-only namespace holds no pods of ours and no Secrets: nothing named there.
    assert not [rule for rule in roles(rbac)["team-nads"] if rule.get("resourceNames")]


def test_cluster_scope_only_for_cluster_objects_and_by_name():
    rules = cluster_rules(build())
    assert {resource for rule in rules for resource in rule["resources"]} == {
        "namespaces", "customresourcedefinitions", "networks", "nmstates", "nodenetworkconfigurationpolicies",
        "nodes", "nodenetworkconfigurationenactments"}
    assert rules_on(rules, "networks") == [{"apiGroups": ["operator.openshift.io"], "resources": ["networks"],
                                            "verbs": ["get", "patch"], "resourceNames": ["cluster"]}]
    [namespaces] = rules_on(rules, "namespaces")
    assert namespaces["verbs"] == ["get", "patch"]
    assert namespaces["resourceNames"] == ["openshift-cnv", "openshift-nmstate", "team-a", "team-nads"]


def test_no_namespace_create_by_name_the_admin_creates_the_namespaces_the_rules_name():
    """A POST is authorized without a name, so `create` by resourceNames would never allow one;
    the namespaces the rules use are those rbac.yml creates before the first run."""
    rbac = build()
    cluster_wide = [rule for doc in rbac["cluster"] + rbac["delete_namespaces"] for rule in doc.get("rules", [])]
    assert not [rule for rule in rules_on(cluster_wide, "namespaces") if "create" in rule["verbs"]]
    made = {doc["metadata"]["name"] for doc in rbac["namespaces"]}
    assert set(rules_on(cluster_rules(rbac), "namespaces")[0]["resourceNames"]) <= made


def test_namespace_creation_is_a_separate_grant_on_every_name():
    role, binding = build()["create_namespaces"]
    assert role["rules"] == [{"apiGroups": [""], "resources": ["namespaces"], "verbs": ["create"]}]
    assert binding["roleRef"]["name"] == role["metadata"]["name"] == "ocpvirt-multinet-automation-create-namespaces"
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "ocpvirt-multinet-automation",
                                    "namespace": "ocpvirt-multinet"}]


def test_namespace_deletion_is_a_separate_grant_for_the_managed_namespaces():
    role, binding = build()["delete_namespaces"]
    assert role["rules"] == [{"apiGroups": [""], "resources": ["namespaces"], "verbs": ["delete"],
                              "resourceNames": ["openshift-cnv", "openshift-nmstate", "team-a", "team-nads"]}]
    assert binding["roleRef"]["name"] == role["metadata"]["name"] == "ocpvirt-multinet-automation-delete-namespaces"


def test_without_olm_installs_no_olm_rights_but_the_instances_stay():
    rbac = build(nmstate_install_operator=False, virtualization_install_operator=False)
    assert "openshift-nmstate" not in roles(rbac) and "openshift-marketplace" not in roles(rbac)
    assert [rule["resources"] for rule in roles(rbac)["openshift-cnv"]] == [["hyperconvergeds"]]
    assert rules_on(cluster_rules(rbac), "nmstates")


def test_without_vms_no_secret_and_no_boot_source():
    rbac = build(workloads_vms=[])
    assert not rules_on(roles(rbac)["team-a"], "secrets")
    assert "openshift-virtualization-os-images" not in roles(rbac)


def test_no_wildcards_anywhere():
    rbac = build()
    for doc in rbac["cluster"] + rbac["namespaced"] + rbac["delete_namespaces"] + rbac["create_namespaces"]:
        for rule in doc.get("rules", []):
            assert "*" not in rule["verbs"] + rule["resources"] + rule["apiGroups"], rule


def test_missing_settings_are_named():
    settings = dict(SETTINGS_SEEDLIKE)
    del settings["workloads_namespace"], settings["bridge_mapping_name"]
    with pytest.raises(MultinetError, match="missing role variables: workloads_namespace, bridge_mapping_name"):
        scope_from_settings(settings)
    assert set(SETTINGS) == set(SETTINGS_SEEDLIKE)


def test_without_olm_no_namespace_of_the_operators_may_be_deleted():
    role, binding = build(nmstate_install_operator=False, virtualization_install_operator=False)["delete_namespaces"]
    assert binding["roleRef"]["name"] == role["metadata"]["name"]
    assert role["rules"][0]["resourceNames"] == ["team-a", "team-nads"]


def test_ovn_inspection_is_a_separate_grant_with_exec_only_in_the_ovn_namespace():
    documents = build()["ovn_inspection"]
    [role] = [doc for doc in documents if doc["kind"] == "Role"]
    assert role["metadata"]["namespace"] == "openshift-ovn-kubernetes"
    assert rules_on(role["rules"], "pods/exec")
    assert not roles(build()).get("openshift-ovn-kubernetes")


def test_the_namespace_of_an_intents_network_gets_a_role():
    rbac = build(policies_intents=[{"namespace": "team-a", "network": "shared-nets/net"}])
    assert rules_on(roles(rbac)["shared-nets"], "network-attachment-definitions")


@pytest.mark.parametrize("changes,field,value", [
    ({"workloads_namespace": "kube-system"}, "workloads_namespace", "kube-system"),
    ({"workloads_namespace": "default"}, "workloads_namespace", "default"),
    ({"workloads_namespace": "openshift-monitoring"}, "workloads_namespace", "openshift-monitoring"),
    ({"policies_intents": [{"namespace": "team-a"}, {"namespace": "openshift"}]}, r"policies_intents\[1\].namespace",
     "openshift"),
    ({"policies_intents": [{"namespace": "team-a", "network": "kube-public/net"}]},
     r"policies_intents\[0\].network", "kube-public"),
    ({"network_attachment_networks": [{"name": "net", "namespace": "kube-node-lease"}]},
     r"network_attachment_networks\[0\].namespace", "kube-node-lease"),
    ({"nmstate_namespace": "kube-system"}, "nmstate_namespace", "kube-system"),
    ({"virtualization_operator_source_namespace": "default"}, "virtualization_operator_source_namespace", "default"),
])
def test_system_namespaces_are_refused_naming_field_and_value(changes, field, value):
    with pytest.raises(MultinetError, match=r"^{0}: is a system namespace .*\(got '{1}'\)$".format(field, value)):
        build(**changes)


def test_operator_namespaces_may_be_openshift_ones():
    rbac = build(nmstate_namespace="openshift-nmstate", virtualization_namespace="openshift-cnv")
    assert {"openshift-nmstate", "openshift-cnv"} <= set(roles(rbac))


@pytest.mark.parametrize("changes,field", [
    ({"workloads_namespace": ""}, "workloads_namespace"),
    ({"workloads_namespace": "../x"}, "workloads_namespace"),
    ({"policies_intents": [{"namespace": "team-a/../b"}]}, r"policies_intents\[0\].namespace"),
    ({"policies_intents": [{"namespace": "team-a", "network": "shared-nets/net/x"}]}, r"policies_intents\[0\].network"),
    ({"network_attachment_networks": [{"name": "net"}]}, r"network_attachment_networks\[0\].namespace"),
])
def test_a_namespace_that_is_no_name_is_refused(changes, field):
    with pytest.raises(MultinetError, match="^" + field + ": must be"):
        build(**changes)


def test_an_intent_without_namespace_is_named():
    with pytest.raises(MultinetError, match=r"^policies_intents\[0\].namespace: an intent needs a namespace"):
        build(policies_intents=[{"name": "no-ns"}])


@pytest.mark.parametrize("kwargs,field", [
    ({"name": "bad name"}, "name"), ({"name": ""}, "name"),
    ({"account_namespace": "../x"}, "account_namespace"), ({"account_namespace": "kube-system"}, "account_namespace"),
    ({"ovn_namespace": "Bad_NS"}, "ovn_namespace"),
])
def test_the_identitys_own_names_are_checked(kwargs, field):
    with pytest.raises(MultinetError, match="^" + field + r" \(rbac.yml: rbac_"):
        scope_from_settings(SETTINGS_SEEDLIKE, **kwargs)


def test_exec_only_into_the_inventorys_test_pods():
    rbac = build(workloads_pods=[{"name": "probe"}, {"name": "probe-2"}])
    execs = {ns: rules_on(rules, "pods/exec") for ns, rules in roles(rbac).items()}
    assert execs.pop("team-a") == [{"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["get", "create"],
                                    "resourceNames": ["probe", "probe-2"]}]
    assert not any(execs.values())
    assert not rules_on(roles(build(workloads_pods=[]))["team-a"], "pods/exec")


def admission(rbac, kind):
    return {doc["metadata"]["name"]: doc for doc in rbac["admission"] if doc["kind"] == kind}


def test_admission_policies_hold_only_the_identity_to_its_fields():
    rbac = build()
    policies, bindings = admission(rbac, "ValidatingAdmissionPolicy"), admission(rbac, "ValidatingAdmissionPolicyBinding")
    assert sorted(policies) == sorted(bindings) == ["ocpvirt-multinet-automation-namespace-labels-only",
                                                    "ocpvirt-multinet-automation-network-switch-only"]
    for name, policy in policies.items():
        assert bindings[name]["spec"] == {"policyName": name, "validationActions": ["Deny"]}
        assert policy["spec"]["failurePolicy"] == "Fail"
        assert policy["spec"]["matchConditions"] == [{
            "name": "automation-identity",
            "expression": "request.userInfo.username == 'system:serviceaccount:ocpvirt-multinet:ocpvirt-multinet-automation'"}]
        assert [rule["operations"] for rule in policy["spec"]["matchConstraints"]["resourceRules"]] == [["UPDATE"]]
    network = policies["ocpvirt-multinet-automation-network-switch-only"]["spec"]
    assert network["matchConstraints"]["resourceRules"][0]["resources"] == ["networks"]
    # Only our field and our annotation are spared in the comparisons.
    spared = [validation["expression"] for validation in network["validations"]]
    assert "k == 'useMultiNetworkPolicy'" in spared[0] and "previous-use-multi-network-policy" in spared[1]
    namespace = policies["ocpvirt-multinet-automation-namespace-labels-only"]["spec"]
    assert {"name": "owned", "expression": "{'app.kubernetes.io/managed-by': 'ocpvirt.multinet'}"} in namespace["variables"]


def test_the_cluster_version_is_read_by_name_only_for_a_nad_with_network_name():
    assert not rules_on(cluster_rules(build()), "clusterversions")
    rules = cluster_rules(build(network_attachment_networks=[
        {"name": "orchid-net", "namespace": "greenhouse", "localnet": "uplink-west", "network_name": "orchid"}]))
    assert rules_on(rules, "clusterversions") == [{"apiGroups": ["config.openshift.io"], "resources": ["clusterversions"],
                                                   "verbs": ["get"], "resourceNames": ["version"]}]
