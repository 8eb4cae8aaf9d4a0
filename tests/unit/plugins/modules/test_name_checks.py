"""Each module checks the names it puts into API paths before its first request (names.py)."""
import pytest

from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.errors import MultinetError
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.names import check_names
from ansible_collections.ocpvirt.multinet.plugins.module_utils.ovn.access import check_access_names
from ansible_collections.ocpvirt.multinet.plugins.modules import connectivity_info, pod_exec

OVN = {"network": "corp/lan", "ovn_namespace": "openshift-ovn-kubernetes", "container": "ovn-controller",
       "log_container": ""}


def refused(call):
    with pytest.raises(MultinetError) as error:
        call()
    return str(error.value)


def test_pod_exec_checks_namespace_pod_and_a_given_container_of_every_command():
    commands = [{"namespace": "pay-ns", "pod": "probe", "command": "true"},
                {"namespace": "pay-ns/pods/other", "pod": "probe", "command": "true", "container": ""},
                {"namespace": "pay-ns", "pod": "probe?x", "command": "true", "container": "Main"}]
    message = refused(lambda: check_names(pod_exec.name_checks(commands)))
    assert "commands[1].namespace" in message and "'pay-ns/pods/other'" in message
    assert "commands[2].pod" in message and "commands[2].container" in message and "'Main'" in message
    assert "commands[0]" not in message  # an empty container means the pod's first one
    assert check_names(pod_exec.name_checks(commands[:1])) is None


def test_connectivity_info_checks_the_network_and_each_namespace():
    message = refused(lambda: connectivity_info.check_scope_names(
        {"network": "corp/lan/x", "namespaces": ["pay-ns", "pay-ns?x"]}))
    assert "network 'corp/lan/x', NAD name" in message and "namespaces[1]" in message and "namespaces[0]" not in message
    connectivity_info.check_scope_names({"network": None, "namespaces": None})  # the intent provides them


@pytest.mark.parametrize("option, value, extra", [
    ("network", "corp/lan?x", ()), ("ovn_namespace", "openshift-ovn-kubernetes/pods/x", ()),
    ("container", "", ()), ("log_container", "Log", ("log_container",)),
])
def test_the_ovn_modules_check_their_network_namespace_and_containers(option, value, extra):
    message = refused(lambda: check_access_names(dict(OVN, **{option: value}), *extra))
    assert message.startswith(option) and repr(value) in message


def test_good_ovn_access_names_pass():
    assert check_access_names(OVN, "log_container") is None
