import json
from pathlib import Path

import pytest
import yaml
from ansible.module_utils.testing import patch_module_args
from ansible_collections.kubernetes.core.plugins.doc_fragments.k8s_auth_options import ModuleDocFragment
from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC

from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.intent import parse_intent
from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.run_result import assumed_note
from ansible_collections.ocpvirt.multinet.plugins.modules import multinetwork_policy

DOC = yaml.safe_load(multinetwork_policy.DOCUMENTATION)
DOCUMENTED = {**yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"], **DOC["options"]}


def run_main(capsys, args):
    """main() as Ansible runs it: args in, one JSON result out, exit status."""
    with patch_module_args(args), pytest.raises(SystemExit) as exit_info:
        multinetwork_policy.main()
    return exit_info.value.code, json.loads(capsys.readouterr().out)


def test_every_option_is_documented_with_the_same_type_and_default():
    spec = multinetwork_policy.argspec()
    assert set(spec) == set(DOCUMENTED)
    for name in DOC["options"]:
        assert spec[name].get("type", "str") == DOCUMENTED[name].get("type", "str"), name
        assert spec[name].get("default") == DOCUMENTED[name].get("default"), name
        assert spec[name].get("choices") == DOCUMENTED[name].get("choices"), name


def test_auth_specs_are_copied_not_shared():
    multinetwork_policy.argspec()["api_key"]["no_log"] = False
    assert AUTH_ARG_SPEC["api_key"]["no_log"] is True
    assert multinetwork_policy.argspec()["api_key"]["no_log"] is True


def test_returned_keys_are_documented():
    assert set(yaml.safe_load(multinetwork_policy.RETURN)) == {
        "policies", "policy_names", "created", "updated", "deleted", "changed", "flows", "assumed"}


def test_an_invalid_intent_fails_on_its_field_before_any_connection(capsys, tmp_path):
    status, result = run_main(capsys, {
        "intent": {"namespace": "llm-demo", "network": "net", "endpoints": {"lan": "192.168.77.1/24"}},
        "kubeconfig": str(tmp_path / "missing-kubeconfig"),
    })
    assert status == 1 and result["failed"] and not result["changed"]
    assert "endpoints.lan" in result["msg"] and "192.168.77.1/24" in result["msg"]


def test_a_negative_max_closed_flows_fails_before_any_connection(capsys, tmp_path):
    status, result = run_main(capsys, {
        "intent": {"namespace": "llm-demo", "network": "net"}, "max_closed_flows": -1,
        "kubeconfig": str(tmp_path / "missing-kubeconfig")})
    assert status == 1 and result["msg"] == "max_closed_flows: must be 0 or more (got -1)"


def test_an_unreadable_kubeconfig_is_a_clear_failure(capsys, tmp_path):
    status, result = run_main(capsys, {
        "intent": {"namespace": "llm-demo", "network": "net"}, "kubeconfig": str(tmp_path / "missing")})
    assert status == 1 and result["msg"].startswith("kubeconfig '{0}': no such file".format(tmp_path / "missing"))
    assert "Traceback" not in result["msg"]


def test_an_unreachable_api_server_is_named_in_the_failure(capsys):
    status, result = run_main(capsys, {
        "intent": {"namespace": "llm-demo", "network": "net"},
        "host": "https://127.0.0.1:1", "api_key": "not-a-secret", "validate_certs": False})
    assert status == 1 and "cannot reach the Kubernetes API server at https://127.0.0.1:1" in result["msg"]
    assert "Connection refused" in result["msg"] and "not-a-secret" not in json.dumps(result)


def test_a_malformed_assume_present_entry_fails_naming_it_before_any_connection(capsys, tmp_path):
    status, result = run_main(capsys, {
        "intent": {"namespace": "ledger", "network": "branch-lan"}, "assume_present": ["branch-lan"],
        "kubeconfig": str(tmp_path / "missing-kubeconfig")})
    assert status == 1 and result["msg"] == "assume_present: must be '<namespace>/<nad name>' (got 'branch-lan')"


def test_the_assumed_note_names_the_nad_and_what_was_not_sent():
    model = parse_intent({"namespace": "ledger", "network": "branch-lan"})
    assert assumed_note(model, []) == (
        "NetworkAttachmentDefinition ledger/branch-lan does not exist yet; taken as present (assume_present: "
        "an earlier stage of this run creates it)")
    assert assumed_note(model, ["a", "b"]).endswith(
        "namespace ledger does not exist yet either, so 2 policies were not sent to the API server as dry runs "
        "(the real run checks them)")


def test_an_alias_bomb_in_src_fails_with_a_short_message_before_any_connection(capsys, tmp_path):
    bomb = tmp_path / "bomb.yml"  # kept as .txt: ansible-lint, scanning the repository, would expand it
    bomb.write_text((Path(__file__).parents[2] / "fixtures" / "alias_bomb.txt").read_text())
    status, result = run_main(capsys, {"src": str(bomb), "kubeconfig": str(tmp_path / "missing-kubeconfig")})
    assert status == 1 and not result["changed"]
    assert result["msg"].startswith("src: holds more than 1000000 values once its aliases are expanded")
    assert len(result["msg"]) < 400


def test_a_key_written_twice_in_src_fails_naming_it_before_any_connection(capsys, tmp_path):
    intent = tmp_path / "twice.json"
    intent.write_text('{"namespace": "files-ns", "network": "files-net",\n "allow": [],\n "allow": [{"from": "a", "to": "b"}]}')
    status, result = run_main(capsys, {"src": str(intent), "kubeconfig": str(tmp_path / "missing-kubeconfig")})
    assert status == 1 and result["msg"].startswith("src: key 'allow' written twice in one mapping at line 3")


def test_a_too_short_lease_duration_fails_before_any_connection(capsys, tmp_path):
    status, result = run_main(capsys, {
        "intent": {"namespace": "files-ns", "network": "net"}, "lease_duration": 2,
        "kubeconfig": str(tmp_path / "missing-kubeconfig")})
    assert status == 1 and result["msg"] == "lease_duration: must be at least 6 seconds (got 2)"
