"""Check mode across stages: which manifests the API server can check now, which wait for a
namespace or an operator's CRDs that an earlier stage of the run would create."""
import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.ocpvirt.multinet.plugins.filter.check_mode_preview import FilterModule
from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.check_preview import (
    api_group,
    check_preview_record,
    split_manifests,
)
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.errors import MultinetError

check_mode_preview = FilterModule().filters()["check_mode_preview"]

NAD = {"apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition",
       "metadata": {"name": "branch-lan", "namespace": "ledger"}}
OTHER_NAD = {"apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition",
             "metadata": {"name": "branch-lan", "namespace": "kept-team"}}
POLICY = {"apiVersion": "nmstate.io/v1", "kind": "NodeNetworkConfigurationPolicy", "metadata": {"name": "branch-map"}}
POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "probe-a", "namespace": "ledger"}}


def test_nothing_recorded_means_everything_is_previewable():
    assert split_manifests([NAD, POLICY, POD], {}) == {"previewable": [NAD, POLICY, POD], "deferred": []}


def test_objects_in_a_namespace_the_run_creates_wait_for_it_and_say_so():
    split = split_manifests([NAD, OTHER_NAD, POD], {"new_namespaces": ["ledger"]})
    assert split["previewable"] == [OTHER_NAD]
    assert [entry["object"] for entry in split["deferred"]] == [
        "NetworkAttachmentDefinition ledger/branch-lan", "Pod ledger/probe-a"]
    assert split["deferred"][0]["reason"].startswith("namespace ledger exists (this run creates it first")


def test_objects_of_an_api_the_run_installs_wait_for_its_crd():
    split = split_manifests([POLICY, NAD], {"new_api_groups": ["nmstate.io"]})
    assert split["previewable"] == [NAD]
    assert split["deferred"] == [{"object": "NodeNetworkConfigurationPolicy branch-map",
                                  "reason": split["deferred"][0]["reason"]}]
    assert "its CRD exists (API group nmstate.io" in split["deferred"][0]["reason"]


def test_the_core_group_is_never_an_operator_api():
    assert api_group("v1") == "" and api_group("hco.kubevirt.io/v1beta1") == "hco.kubevirt.io"
    assert split_manifests([POD], {"new_api_groups": ["nmstate.io"]})["previewable"] == [POD]


def test_outside_check_mode_the_record_changes_nothing():
    assert split_manifests([NAD, POLICY], {"new_namespaces": ["ledger"], "new_api_groups": ["nmstate.io"]},
                           check_mode=False)["deferred"] == []


@pytest.mark.parametrize("preview, field", [
    (["ledger"], "server_dry_run_would_create"),
    ({"new_namespace": ["ledger"]}, "server_dry_run_would_create"),
    ({"new_namespaces": "ledger"}, "server_dry_run_would_create.new_namespaces"),
    ({"new_api_groups": [""]}, "server_dry_run_would_create.new_api_groups"),
    ({"network_attachments": ["branch-lan"]}, "server_dry_run_would_create.network_attachments"),
])
def test_a_malformed_record_fails_naming_the_key(preview, field):
    with pytest.raises(MultinetError, match="^" + field.replace(".", r"\.") + ": "):
        check_preview_record(preview)


def test_the_filter_returns_the_split_and_reports_errors_by_name():
    assert check_mode_preview([NAD], {"new_namespaces": ["ledger"]}, True)["previewable"] == []
    assert check_mode_preview([NAD], {"new_namespaces": ["ledger"]}, False)["previewable"] == [NAD]
    with pytest.raises(AnsibleFilterError, match="check_mode_preview: server_dry_run_would_create: unknown key"):
        check_mode_preview([NAD], {"namespaces": ["ledger"]})
