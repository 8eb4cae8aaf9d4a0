"""Workloads with identical rules share one policy, and a workload moving between two such groups
is an update of both, on the lab's real ovnkube (issue 23, item 2).

Seven pods on a new localnet network (namespace `labtest-grove-*`, 172.16.50.91-.97, nothing of
the seed): alder reaches birch, cedar and damson; elder reaches hazel and larch. The three and the
two share a policy each. One ansible-playbook run applies the intent with the policies role and
verifies with the verify role (probes and ovn-trace); then damson moves to elder's group by a
change of the allow list and the same run again: the policies role reports updates only, every
policy keeps its uid, and verify's first report agrees with the moved intent on every pair.
"""
import json

import pytest

from test_seed_stages import multi_network_policy  # noqa: F401  (a fixture)
from test_verify_after_apply import apply_then_verify, probed, wait_until_every_pod_pings
from test_verify_udp import junit_details, pods_on_a_new_localnet

from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.vocabulary import WORKLOADS_ANNOTATION
from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.compiler import compile_intent

NAD = "grove-net"
# The LAN's second subnet (the gateway holds .1); no other test uses .91-.97.
PODS = {"alder": ("172.16.50.91", "worker-0"), "elder": ("172.16.50.92", "worker-1"),
        "birch": ("172.16.50.93", "worker-1"), "cedar": ("172.16.50.94", "worker-0"),
        "damson": ("172.16.50.95", "worker-1"), "hazel": ("172.16.50.96", "worker-0"),
        "larch": ("172.16.50.97", "worker-1")}
FIRST = {"alder": ["birch", "cedar", "damson"], "elder": ["hazel", "larch"]}
MOVED = {"alder": ["birch", "cedar"], "elder": ["damson", "hazel", "larch"]}
GROUP, VERSION, PLURAL = "k8s.cni.cncf.io", "v1beta1", "multi-networkpolicies"


def intent(namespace, reaches):
    return {"name": "grove", "namespace": namespace, "network": f"{namespace}/{NAD}",
            "workloads": {name: {"selector": {"app": name}, "ips": [ip]} for name, (ip, _node) in PODS.items()},
            "allow": [{"from": source, "to": targets} for source, targets in reaches.items()]}


@pytest.fixture(scope="module")
def grove(core, custom, multi_network_policy):  # noqa: F811  pylint: disable=redefined-outer-name,unused-argument
    with pods_on_a_new_localnet(core, custom, "grove", NAD, PODS) as namespace:
        wait_until_every_pod_pings(core, namespace, PODS, "alder")
        yield namespace


def live_policies(custom, namespace):
    found = custom.list_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, label_selector=(
        "app.kubernetes.io/managed-by=ocpvirt.multinet,multinet.ocpvirt.io/intent=grove"))
    return {policy["metadata"]["name"]: policy for policy in found["items"]}


def shared_members(policies):
    return sorted(policy["metadata"]["annotations"][WORKLOADS_ANNOTATION].split(",")
                  for policy in policies.values() if WORKLOADS_ANNOTATION in policy["metadata"]["annotations"])


def assert_verified_as(done, report, reaches):
    assert done.returncode == 0, done.stdout[-8000:] + done.stderr[-2000:]
    assert ", 0 disagree," in done.stdout, done.stdout[-3000:]
    details = junit_details(report)
    for source in PODS:
        for target in PODS:
            if source != target:
                want = "allow" if target in reaches.get(source, []) else "deny"
                assert probed(details, (source, target)) == want, (source, target, details)
                traced = details[("icmp", f"{source} -> {target}")]
                assert f"traced: {want}" in traced, (source, target, traced)


def test_a_workload_moving_between_shared_policies_is_an_update_and_verify_agrees(
        grove, custom, lab_kubeconfig, tmp_path):  # pylint: disable=redefined-outer-name
    first_dir, moved_dir = tmp_path / "first", tmp_path / "moved"
    first_dir.mkdir()
    moved_dir.mkdir()

    done = apply_then_verify(first_dir, lab_kubeconfig, intent(grove, FIRST))
    assert_verified_as(done, first_dir / "report", FIRST)
    before = live_policies(custom, grove)
    assert sorted(before) == sorted(p["metadata"]["name"] for p in compile_intent(intent(grove, FIRST)))
    assert shared_members(before) == [["birch", "cedar", "damson"], ["hazel", "larch"]]
    assert len(before) == 5  # alder, elder, two shared, the deny-all: seven workloads

    done = apply_then_verify(moved_dir, lab_kubeconfig, intent(grove, MOVED))
    assert_verified_as(done, moved_dir / "report", MOVED)
    after = live_policies(custom, grove)
    assert sorted(after) == sorted(before)
    assert {name: p["metadata"]["uid"] for name, p in after.items()} == {
        name: p["metadata"]["uid"] for name, p in before.items()}
    assert shared_members(after) == [["birch", "cedar"], ["damson", "hazel", "larch"]]
    updated = sorted(name for name in before if name != "grove-default-deny")
    text = " ".join(done.stdout.replace('\\"', '"').split())
    assert "created [], updated {0}, deleted []".format(json.dumps(updated)) in text, text[-4000:]
