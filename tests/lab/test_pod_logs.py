"""pods/log against the lab: the ovnkube-node pods' `ovnkube-controller` log, read through the real
kube-apiserver's pods/log proxy from the kubelet stand-in's /containerLogs (lab/kubelet/logs.go),
holds the line the lab's real ovnkube-controller writes when it refuses a policy (its klog output, which
lab/controlplane/conmon.py appends to the container log);
and ocpvirt.multinet.ovn_policy_info quotes that line, read the same way, for the refused policy.

The refused policy is the seed's allow-specific-pods (a podSelector peer on an IPAM-less localnet
network, seed line 698), as in test_ovn_policy_info.py and test_seed_stages.py.
"""
import re
import uuid

import pytest
from kubernetes.client.rest import ApiException

import ovnk_seed as seed
from lab_helpers import wait_for
from test_ovn_policy_info import OVN_NAMESPACE, ovnkube_nodes, run_module  # noqa: F401
from test_ovnk_controller import multi_network_policy_on, nad  # noqa: F401

CONTAINER = "ovnkube-controller"
KLOG = r"I\d{4} \d\d:\d\d:\d\d\.\d{6} +\d+ obj_retry\.go:370\] "
STAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z "


def refusal_pattern(namespace, name):
    """The klog line of obj_retry.go for the policy (the seed's text, after its retry's prefix)."""
    return (KLOG + re.escape(f"Retry add failed for *v1beta1.MultiNetworkPolicy {namespace}/{name}, will try again "
                             "later: invalid ingress peer {&LabelSelector{MatchLabels:map[string]string{app: "
                             "tinypod-01,},MatchExpressions:[]LabelSelectorRequirement{},} nil <nil>} in "
                             f"multi-network policy {name}; IPAM-less networks can only have `ipBlock` peers"))


def refused_policy(namespace, name="allow-specific-pods"):
    [policy] = seed.load("allow-specific-pods.yaml")
    policy["metadata"].update(namespace=namespace, name=name)
    return policy


def create_policy(custom, policy):
    custom.create_namespaced_custom_object("k8s.cni.cncf.io", "v1beta1", policy["metadata"]["namespace"],
                                           "multi-networkpolicies", policy)


def read_log(core, pod, **options):
    return core.read_namespaced_pod_log(pod, OVN_NAMESPACE, container=CONTAINER, **options)


@pytest.fixture
def refused(custom, lab_namespace, multi_network_policy_on):  # noqa: F811
    """A new IPAM-less localnet network and the seed's refused policy for it; (namespace, <ns>/<nad>)."""
    custom.create_namespaced_custom_object("k8s.cni.cncf.io", "v1", lab_namespace, "network-attachment-definitions",
                                           nad(lab_namespace, f"net-{uuid.uuid4().hex[:6]}"))
    create_policy(custom, refused_policy(lab_namespace))
    return lab_namespace, f"{lab_namespace}/{seed.NAD_NAME}"


def test_refusal_is_in_every_nodes_ovnkube_controller_log(core, ovnkube_nodes, refused):  # noqa: F811
    namespace, _ = refused
    line = re.compile(refusal_pattern(namespace, "allow-specific-pods"))

    def logged():
        found = {node: [x for x in read_log(core, pod, tail_lines=2000).splitlines() if line.fullmatch(x)]
                 for node, pod in ovnkube_nodes.items()}
        return found if all(found.values()) else None
    found = wait_for("the refusal in every ovnkube-node pod's ovnkube-controller log", logged, timeout=60)
    assert all(len(lines) == 1 for lines in found.values()), found  # written once, not on every resync

    pod = ovnkube_nodes["worker-0"]
    last = read_log(core, pod, tail_lines=1)
    assert re.fullmatch(KLOG + ".*\n", last) and last.count("\n") == 1, last
    stamped = read_log(core, pod, tail_lines=1, timestamps=True)
    assert re.fullmatch(STAMP + KLOG + ".*\n", stamped), stamped
    assert stamped.split(" ", 1)[1] == last
    assert read_log(core, pod, limit_bytes=5) == read_log(core, pod)[:5]
    assert found["worker-0"][0] in read_log(core, pod, since_seconds=3600)


def test_follow_streams_a_new_refusal(core, custom, ovnkube_nodes, refused):  # noqa: F811
    namespace, _ = refused
    response = read_log(core, ovnkube_nodes["worker-0"], follow=True, tail_lines=0, _preload_content=False,
                        _request_timeout=90)
    try:
        create_policy(custom, refused_policy(namespace, "allow-specific-pods-2"))
        line = re.compile(refusal_pattern(namespace, "allow-specific-pods-2"))
        received = ""
        for chunk in response.stream(64):
            received += chunk.decode()
            if any(line.fullmatch(x) for x in received.splitlines()):
                break
        assert any(line.fullmatch(x) for x in received.splitlines()), received
    finally:
        response.release_conn()


def test_a_container_without_a_log_and_previous_get_the_kubelets_errors(core, ovnkube_nodes):  # noqa: F811
    pod = ovnkube_nodes["worker-0"]
    with pytest.raises(ApiException) as previous:
        read_log(core, pod, previous=True)
    assert previous.value.status == 400
    assert f'previous terminated container \\"{CONTAINER}\\" in pod \\"{pod}\\" not found' in previous.value.body
    with pytest.raises(ApiException) as other:  # the lab writes no log for the OVN daemons' containers
        core.read_namespaced_pod_log(pod, OVN_NAMESPACE, container="nbdb")
    assert other.value.status == 404


def test_ovn_policy_info_quotes_the_refusal_from_the_pods_log(lab_kubeconfig, ovnkube_nodes, refused):  # noqa: F811
    namespace, target = refused
    quoted = re.compile(r".*; ovnkube-controller logged: " + refusal_pattern(namespace, "allow-specific-pods"))
    seen = {}

    def quoting():
        result = seen["last"] = run_module(lab_kubeconfig, network=target)
        policies = {p["name"]: p for p in result.get("policies", [])}
        findings = policies.get("allow-specific-pods", {}).get("findings", [])
        return result if any(quoted.fullmatch(f) for f in findings) else None
    result = wait_for("ovn_policy_info quoting ovnkube-controller's refusal", quoting, timeout=90)
    [finding] = {p["name"]: p for p in result["policies"]}["allow-specific-pods"]["findings"]
    assert "refused by OVN-Kubernetes: spec.ingress[0].from[0] is a podSelector/namespaceSelector peer" in finding
    assert not [w for w in result.get("warnings", []) if "cannot read the log" in w], result["warnings"]
