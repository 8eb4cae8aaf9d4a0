"""pod_exec refuses limits that would mean "no limit" before it connects anywhere."""
import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.ocpvirt.multinet.plugins.modules import pod_exec


def run_main(capsys, args):
    with patch_module_args(args), pytest.raises(SystemExit) as exit_info:
        pod_exec.main()
    return exit_info.value.code, json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("option, value", [("timeout", 0), ("timeout", -1), ("parallel", 0)])
def test_a_limit_below_one_is_refused_naming_option_and_value(capsys, tmp_path, option, value):
    status, result = run_main(capsys, {
        "commands": [{"namespace": "ledger", "pod": "ledger-probe", "command": "true"}], option: value,
        "kubeconfig": str(tmp_path / "missing-kubeconfig")})

    assert status == 1 and result["msg"] == "{0}: must be at least 1 (got {1})".format(option, value)
