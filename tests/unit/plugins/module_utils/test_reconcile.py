import copy

import pytest

from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.reconcile import (
    allows_nothing,
    compute_plan,
    diff_entries,
    differs,
    foreign_keys_patch,
    live_view,
    write_phases,
)

OUR_LABELS = ("app.kubernetes.io/managed-by", "multinet.ocpvirt.io/intent")


def policy(name, cidr="192.168.77.92/32"):
    return {
        "apiVersion": "k8s.cni.cncf.io/v1beta1",
        "kind": "MultiNetworkPolicy",
        "metadata": {
            "name": name,
            "namespace": "llm-demo",
            "labels": {OUR_LABELS[0]: "ocpvirt.multinet", OUR_LABELS[1]: "net"},
            "annotations": {"k8s.v1.cni.cncf.io/policy-for": "llm-demo/net"},
        },
        "spec": {
            "podSelector": {"matchLabels": {"app": name}},
            "policyTypes": ["Ingress"],
            "ingress": [{"from": [{"ipBlock": {"cidr": cidr}}]}],
        },
    }


def live(manifest):
    """What the API server returns for an applied manifest: extra fields from others included."""
    obj = copy.deepcopy(manifest)
    obj["metadata"].update(resourceVersion="42", uid="u-1", managedFields=[{"manager": "ocpvirt.multinet"}],
                           creationTimestamp="2024-01-01T00:00:00Z", generation=3)
    obj["metadata"]["labels"]["team"] = "blue"
    obj["metadata"]["annotations"]["kubemacpool.io/transaction-timestamp"] = "now"
    obj["status"] = {"observed": True}
    return obj


def test_fields_added_by_others_are_not_a_difference():
    assert not differs(live(policy("a")), policy("a"))


@pytest.mark.parametrize("edit", [
    lambda obj: obj["spec"]["ingress"][0]["from"][0]["ipBlock"].update(cidr="0.0.0.0/0"),
    lambda obj: obj["spec"]["ingress"].append({}),
    lambda obj: obj["spec"]["podSelector"]["matchLabels"].update(extra="x"),
    lambda obj: obj["spec"].update(egress=[{}]),
    lambda obj: obj["spec"].update(policyTypes=["Ingress", "Egress"]),
    lambda obj: obj["metadata"]["labels"].pop(OUR_LABELS[1]),
    lambda obj: obj["metadata"]["annotations"].update({"k8s.v1.cni.cncf.io/policy-for": "other/net"}),
], ids=["rule-cidr", "extra-rule", "extra-match-label", "extra-egress", "policy-types", "our-label", "policy-for"])
def test_an_edit_of_an_owned_field_is_a_difference(edit):
    obj = live(policy("a"))
    edit(obj)
    assert differs(obj, policy("a"))


def test_live_view_shows_only_owned_keys():
    view = live_view(live(policy("a")), policy("a"))
    assert "team" not in view["metadata"]["labels"]
    assert list(view["metadata"]["annotations"]) == ["k8s.v1.cni.cncf.io/policy-for"]
    assert "status" not in view and "resourceVersion" not in view["metadata"]


def test_plan_is_empty_when_everything_matches():
    desired = [policy("a"), policy("b")]
    assert compute_plan(desired, [live(p) for p in desired]).empty


def test_plan_creates_updates_and_prunes():
    existing = [live(policy("b", cidr="10.0.0.1/32")), live(policy("c")), live(policy("stale"))]
    plan = compute_plan([policy("a"), policy("b"), policy("c")], existing)
    assert [p["metadata"]["name"] for p in plan.create] == ["a"]
    assert [u.desired["metadata"]["name"] for u in plan.update] == ["b"]
    assert [u.existing["spec"] for u in plan.update] == [existing[0]["spec"]]
    assert [p["metadata"]["name"] for p in plan.delete] == ["stale"]


def test_plan_keeps_stale_policies_without_prune():
    plan = compute_plan([policy("a")], [live(policy("a")), live(policy("stale"))], prune=False)
    assert plan.empty


def test_removing_everything_deletes_every_listed_policy_in_name_order():
    plan = compute_plan([], [live(policy("b")), live(policy("a"))])
    assert [p["metadata"]["name"] for p in plan.delete] == ["a", "b"]
    assert not plan.create and not plan.update


def test_foreign_keys_patch_nulls_only_keys_we_do_not_set():
    desired = policy("a")["spec"]
    edited = copy.deepcopy(desired)
    edited["podSelector"]["matchLabels"]["extra"] = "x"
    edited["egress"] = [{}]
    edited["ingress"] = [{"from": []}]  # lists are atomic: the apply replaces them
    assert foreign_keys_patch(edited, desired) == {"podSelector": {"matchLabels": {"extra": None}}, "egress": None}


def test_foreign_keys_patch_is_empty_for_our_own_spec():
    assert foreign_keys_patch(policy("a")["spec"], policy("a")["spec"]) == {}


def test_diff_entries_pair_owned_fields_per_policy():
    updated = live(policy("b", cidr="10.0.0.1/32"))
    plan = compute_plan([policy("a"), policy("b")], [updated, live(policy("gone"))])
    entries = diff_entries(plan, OUR_LABELS)
    assert [e["before_header"] for e in entries] == [
        "MultiNetworkPolicy llm-demo/a", "MultiNetworkPolicy llm-demo/b", "MultiNetworkPolicy llm-demo/gone"]
    created, changed, deleted = entries
    assert created["before"] == {} and created["after"]["spec"] == policy("a")["spec"]
    assert changed["before"]["spec"] == updated["spec"] and changed["after"]["spec"] == policy("b")["spec"]
    assert "team" not in changed["before"]["metadata"]["labels"]
    assert deleted["after"] == {} and set(deleted["before"]["metadata"]["labels"]) == set(OUR_LABELS)


def deny_all(name):
    obj = policy(name)
    obj["spec"] = {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    return obj


def phases_of(plan):
    return [[(write.action, write.name) for write in phase] for phase in write_phases(plan)]


def test_a_policy_without_rules_allows_nothing():
    emptied = policy("a")
    emptied["spec"]["ingress"] = []
    assert allows_nothing(deny_all("d")) and allows_nothing(emptied) and not allows_nothing(policy("a"))


def test_allows_are_written_before_the_deny_all_and_stale_allows_deleted_last():
    existing = [live(policy("b", cidr="10.0.0.1/32")), live(deny_all("old-deny")), live(policy("stale"))]
    plan = compute_plan([deny_all("deny"), policy("c"), policy("b"), policy("a")], existing)
    assert phases_of(plan) == [
        [("create", "a"), ("update", "b"), ("create", "c")],
        [("create", "deny")],
        [("delete", "old-deny")],
        [("delete", "stale")],
    ]


def test_removing_everything_deletes_the_deny_all_before_the_allows():
    plan = compute_plan([], [live(policy("a")), live(deny_all("deny")), live(policy("b"))])
    assert phases_of(plan) == [[("delete", "deny")], [("delete", "a"), ("delete", "b")]]


def test_an_empty_plan_has_no_phase():
    assert write_phases(compute_plan([policy("a")], [live(policy("a"))])) == []
