"""site.yml through ansible-runner, laid out the way AAP lays out a job.

AAP runs a job as `ansible-runner` on a private data directory: project/ (the synced project),
inventory/ (the inventory it exports), env/extravars (survey answers and extra variables) and
env/envvars (what credential types inject), with the collection installed from a requirement
rather than found in the project. This test builds that directory from the repository's own
AAP configuration (aap/vars.yml): the collection from the built tarball, the `clusters` group
with the site variables, the survey variables, and the "OpenShift API token" credential's
injectors rendered for the least-privilege ServiceAccount of deploy/rbac/.
"""
import base64
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jinja2
import pytest
import yaml

pytest.register_assert_rewrite("automation_identity")
from automation_identity import shipped  # noqa: E402  pylint: disable=wrong-import-position

# The automation_kubeconfig fixture.
pytest_plugins = ["automation_identity"]

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


class UnsafeLoader(yaml.SafeLoader):
    """Reads Ansible's !unsafe tag as the plain string it wraps."""


UnsafeLoader.add_constructor("!unsafe", lambda loader, node: loader.construct_scalar(node))


def aap_vars():
    return yaml.load((REPO / "aap" / "vars.yml").read_text(encoding="utf-8"), Loader=UnsafeLoader)


def git_files():
    """What a project sync checks out: the tracked and not-ignored files."""
    listing = subprocess.run(["git", "-C", str(REPO), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                             check=True, capture_output=True, text=True).stdout
    return [path for path in listing.split("\0") if path and (REPO / path).is_file()]


def sync_project(destination):
    for path in git_files():
        target = destination / path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / path, target)


def install_collection(work, collections):
    """The collection as a job gets it: built, then installed from the tarball."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")}
    subprocess.run([str(BIN / "ansible-galaxy"), "collection", "build", "--output-path", str(work), str(REPO)],
                   check=True, capture_output=True, cwd=work, env=env)
    tarball = next(work.glob("ocpvirt-multinet-*.tar.gz"))
    subprocess.run([str(BIN / "ansible-galaxy"), "collection", "install", "--offline", "--no-deps",
                    "-p", str(collections), str(tarball)], check=True, capture_output=True, cwd=work, env=env)


def credential_inputs(kubeconfig_path, work):
    """The credential's inputs for a token kubeconfig: API URL, token, CA."""
    kubeconfig = yaml.safe_load(Path(kubeconfig_path).read_text(encoding="utf-8"))
    cluster = kubeconfig["clusters"][0]["cluster"]
    ca_pem = base64.b64decode(cluster["certificate-authority-data"]).decode()
    return {"host": cluster["server"], "token": kubeconfig["users"][0]["user"]["token"],
            "verify_ssl": True, "ssl_ca_cert": ca_pem}


def inject(inputs, work):
    """Render the credential type's injectors as AWX does: files first, then env templates."""
    injectors = aap_vars()["aap_credential_type_injectors"]
    environment = jinja2.Environment(undefined=jinja2.StrictUndefined)
    filenames = {}
    for key, template in injectors.get("file", {}).items():
        path = work / f"credential-{key.split('.', 1)[1]}"
        path.write_text(environment.from_string(template).render(**inputs))
        filenames[key.split(".", 1)[1]] = str(path)
    context = {**inputs, "tower": {"filename": filenames}}
    return {name: environment.from_string(template).render(**context)
            for name, template in injectors["env"].items()}


def cluster_inventory():
    """The inventory configure.yml creates: one cluster host in the `clusters` group."""
    settings = aap_vars()
    site_variables = yaml.load((REPO / "inventory" / "seed_lab" / "group_vars" / "clusters" / "seed_lab.yml").read_text(),
                               Loader=UnsafeLoader)
    group_variables = {**settings["aap_cluster_connection_variables"], **site_variables}
    return {"all": {"children": {"clusters": {"hosts": {"lab": {}}, "vars": group_variables}}}}


def survey_answers(template_name):
    template = next(item for item in aap_vars()["aap_job_templates"] if item["name"].endswith(template_name))
    questions = {key: value for key, value in aap_vars().items() if key.startswith("aap_survey_")}
    wanted = {reference.strip("{} ").strip() for reference in template["survey"]["spec"]}
    return {questions[name]["variable"]: questions[name]["default"] for name in wanted}


def lab_timing():
    timing = REPO / "playbooks" / "vars" / "lab_timing.yml"
    return yaml.safe_load(timing.read_text()) if timing.is_file() else {}


@pytest.fixture
def private_data_dir(tmp_path, automation_kubeconfig):
    data = tmp_path / "job"
    (data / "env").mkdir(parents=True)
    (data / "inventory").mkdir()
    sync_project(data / "project")
    collections = tmp_path / "requirements_collections"
    install_collection(tmp_path, collections)
    inputs = credential_inputs(automation_kubeconfig(shipped()), tmp_path)
    envvars = {**inject(inputs, tmp_path), "ANSIBLE_COLLECTIONS_PATH": str(collections)}
    (data / "env" / "envvars").write_text(yaml.safe_dump(envvars))
    (data / "env" / "extravars").write_text(yaml.safe_dump({**lab_timing(), **survey_answers("site")}))
    (data / "inventory" / "hosts.yml").write_text(yaml.safe_dump(cluster_inventory()))
    return data, inputs["token"]


def test_site_runs_through_ansible_runner_as_an_aap_job(private_data_dir):
    data, token = private_data_dir
    env = {key: value for key, value in os.environ.items() if not key.startswith(("ANSIBLE_", "K8S_AUTH_"))}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    result = subprocess.run([str(BIN / "ansible-runner"), "run", str(data), "--playbook", "playbooks/site.yml",
                             "--ident", "site"], check=False, capture_output=True, text=True, env=env, cwd=data)
    artifacts = data / "artifacts" / "site"
    stdout = (artifacts / "stdout").read_text()
    assert result.returncode == 0, stdout[-6000:] + result.stderr[-2000:]
    assert (artifacts / "status").read_text().strip() == "successful"
    assert "failed=0" in stdout
    assert token not in stdout, "the API token leaked into the job output"
