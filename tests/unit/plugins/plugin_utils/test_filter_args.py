"""Every filter validates its arguments against the options of its own DOCUMENTATION."""
import importlib
import pathlib

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.ocpvirt.multinet.plugins.plugin_utils.filter_args import argument_spec

FILTERS = sorted(path.stem for path in (pathlib.Path(__file__).resolve().parents[4] / "plugins" / "filter").glob("*.py")
                 if path.stem != "__init__")
WRONG = {"list": {"not": "a list"}, "dict": ["not", "a", "dict"]}


def plugin(name):
    return importlib.import_module("ansible_collections.ocpvirt.multinet.plugins.filter." + name)


@pytest.mark.parametrize("name", FILTERS)
def test_the_spec_is_the_documentation(name):
    options = yaml.safe_load(plugin(name).DOCUMENTATION)["options"]
    spec = argument_spec(plugin(name).DOCUMENTATION)
    assert set(spec) == set(options)
    for option, entry in spec.items():
        assert entry["type"] == options[option]["type"]
        assert entry.get("required", False) == options[option].get("required", False)
        assert entry.get("default") == options[option].get("default")


@pytest.mark.parametrize("name", FILTERS)
def test_an_input_of_the_wrong_type_or_missing_is_refused_naming_the_filter(name):
    module = plugin(name)
    kind = yaml.safe_load(module.DOCUMENTATION)["options"]["_input"]["type"]
    function = module.FilterModule().filters()[name]
    with pytest.raises(AnsibleFilterError, match="^{0}: .*_input".format(name)):
        function(*([WRONG[kind]] if kind in WRONG else []))  # a raw input can only be missing


def test_a_no_log_option_stays_out_of_the_message():
    function = plugin("workload_inventory").FilterModule().filters()["workload_inventory"]
    with pytest.raises(AnsibleFilterError) as error:
        function([], user_data={"secret": "s3cr3t-value"})
    assert "s3cr3t-value" not in str(error.value)
