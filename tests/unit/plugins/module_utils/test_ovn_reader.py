import json

import pytest

from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.errors import MultinetError
from ansible_collections.ocpvirt.multinet.plugins.module_utils.k8s.ovn_reader import exit_code


def test_success_is_zero():
    assert exit_code(json.dumps({"metadata": {}, "status": "Success"})) == 0


def test_non_zero_exit_code_from_the_status_causes():
    # what the kubelet sends on channel 3 (k8s.io/apimachinery remotecommand NonZeroExitCode)
    status = {"metadata": {}, "status": "Failure", "message": "command terminated with non-zero exit code: exit status 3",
              "reason": "NonZeroExitCode", "details": {"causes": [{"reason": "ExitCode", "message": "3"}]}}
    assert exit_code(json.dumps(status)) == 3


def test_failure_without_exit_code_names_the_message():
    status = {"status": "Failure", "message": 'container not found ("ovn-controller")'}
    with pytest.raises(MultinetError, match=r'exec failed: container not found \("ovn-controller"\)'):
        exit_code(json.dumps(status))


def test_no_status_at_all():
    with pytest.raises(MultinetError, match="no exit status"):
        exit_code("")
