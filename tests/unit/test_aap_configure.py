"""aap/configure.yml against what awx.awx and kubernetes.core document.

No AAP controller exists here, so the playbook cannot be run; instead every awx.awx task is
checked against its module's documented options (ansible-doc), the credential type against the
environment variables kubernetes.core reads, and the surveys against AWX's survey schema and
the variables the playbooks really use.
"""
import json
import os
import re
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

import jinja2
import pytest
import yaml
from jinja2 import meta

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
AAP = REPO / "aap"
SURVEY_TYPES = {"text", "textarea", "password", "integer", "float", "multiplechoice", "multiselect"}


class UnsafeLoader(yaml.SafeLoader):
    """Reads Ansible's !unsafe tag as the plain string it wraps."""


UnsafeLoader.add_constructor("!unsafe", lambda loader, node: loader.construct_scalar(node))


def load(path):
    return yaml.load(path.read_text(encoding="utf-8"), Loader=UnsafeLoader)


def ansible_env():
    return {**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(REPO / ".venv" / "collections"), "NO_COLOR": "1"}


@lru_cache(maxsize=None)
def module_docs():
    """One ansible-doc call for every module the checks need (each call costs seconds)."""
    modules = sorted({module for module, _args, _name in awx_tasks()} | {"kubernetes.core.k8s"})
    output = subprocess.run([str(BIN / "ansible-doc"), "--json", *modules], check=True, capture_output=True,
                            text=True, env=ansible_env()).stdout
    return json.loads(output)


def module_doc(fqcn):
    return module_docs()[fqcn]["doc"]


def awx_tasks():
    plays = load(AAP / "configure.yml")
    tasks = [task for play in plays for task in play["tasks"]]
    return [(name, task[name], task["name"]) for task in tasks for name in task if name.startswith("awx.awx.")]


def aap_vars():
    return load(AAP / "vars.yml")


def test_playbook_passes_syntax_check():
    subprocess.run([str(BIN / "ansible-playbook"), "--syntax-check", str(AAP / "configure.yml")],
                   check=True, capture_output=True, env=ansible_env(), cwd=REPO)


@pytest.mark.parametrize("module, args, task_name", awx_tasks(), ids=lambda value: str(value)[:40])
def test_awx_task_uses_only_documented_options(module, args, task_name):
    options = module_doc(module)["options"]
    unknown = sorted(set(args) - set(options))
    assert not unknown, f"{task_name}: {module} has no option(s) {unknown}"
    for option, value in args.items():
        choices = options[option].get("choices")
        if choices and isinstance(value, str) and "{{" not in value:
            assert value in choices, f"{task_name}: {option}={value!r} not in {choices}"
    required = {name for name, spec in options.items() if spec.get("required")}
    assert required <= set(args), f"{task_name}: missing required {sorted(required - set(args))}"


def test_credential_type_injects_what_kubernetes_core_reads():
    k8s_options = module_doc("kubernetes.core.k8s")["options"]
    documented = " ".join(" ".join(k8s_options[name]["description"])
                          for name in ("host", "api_key", "validate_certs", "ca_cert"))
    injected = aap_vars()["aap_credential_type_injectors"]["env"]
    assert set(injected) == {"K8S_AUTH_HOST", "K8S_AUTH_API_KEY", "K8S_AUTH_VERIFY_SSL", "K8S_AUTH_SSL_CA_CERT"}
    for variable in injected:
        assert variable in documented, f"kubernetes.core does not document {variable}"


def injector_templates():
    injectors = aap_vars()["aap_credential_type_injectors"]
    return [*injectors["env"].values(), *injectors.get("file", {}).values()]


def test_injectors_refer_only_to_declared_inputs():
    """Every input reaches the job, and nothing but inputs (and AWX's `tower`) is referenced."""
    fields = {field["id"] for field in aap_vars()["aap_credential_type_inputs"]["fields"]}
    environment = jinja2.Environment()
    referenced = set().union(*(meta.find_undeclared_variables(environment.parse(template))
                               for template in injector_templates()))
    assert referenced - {"tower"} == fields


def test_injected_files_are_referenced_by_their_template_name():
    injectors = aap_vars()["aap_credential_type_injectors"]
    for file_key in injectors.get("file", {}):
        name = file_key.split(".", 1)[1]
        assert any(f"tower.filename.{name}" in value for value in injectors["env"].values()), file_key


def test_token_input_is_secret():
    fields = {field["id"]: field for field in aap_vars()["aap_credential_type_inputs"]["fields"]}
    assert fields["token"]["secret"] is True


def survey_questions():
    settings = aap_vars()
    return [settings[name] for name in settings if name.startswith("aap_survey_")]


@pytest.mark.parametrize("question", survey_questions(), ids=lambda question: question["variable"])
def test_survey_question_matches_awx_schema(question):
    assert {"question_name", "variable", "type", "required"} <= set(question)
    assert question["type"] in SURVEY_TYPES
    assert re.fullmatch(r"[a-z_][a-z0-9_]*", question["variable"])
    if question["type"] == "multiplechoice":
        assert question["default"] in question["choices"]
    if question["type"] in {"text", "textarea"}:
        assert question["min"] <= len(question["default"]) <= question["max"]


def test_every_template_has_a_survey_and_a_playbook_in_the_project():
    templates = aap_vars()["aap_job_templates"]
    assert {template["playbook"] for template in templates} == {
        "playbooks/site.yml", "playbooks/verify.yml", "playbooks/teardown.yml"}
    for template in templates:
        assert (REPO / template["playbook"]).is_file(), f"{template['playbook']} does not exist"
        assert template["survey"]["spec"], f"{template['name']} has an empty survey"


def project_yaml_text():
    paths = [*REPO.glob("playbooks/**/*.yml"), *REPO.glob("inventory/**/*.yml"),
             *REPO.glob("roles/*/tasks/*.yml"), *REPO.glob("roles/*/defaults/*.yml")]
    return "\n".join(path.read_text(encoding="utf-8") for path in paths)


@pytest.mark.parametrize("question", survey_questions(), ids=lambda question: question["variable"])
def test_survey_variables_are_used_by_the_playbooks(question):
    """A survey answer nobody reads would be silently ignored by the job."""
    assert re.search(rf"\b{question['variable']}\b", project_yaml_text()), (
        f"{question['variable']} is asked for but no playbook or role uses it")
