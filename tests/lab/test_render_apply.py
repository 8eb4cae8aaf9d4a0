"""The rendered seed lab is accepted as it is by the API server, against the lab's CRDs (the
upstream OpenShift 4.15 ones when ../shared/upstream-crds exists).

`playbooks/render.yml` writes one directory per stage; each directory is sent, as a GitOps
tool or a person would, with `kubectl apply --server-side --force-conflicts --dry-run=server
--validate=strict -f <dir>` (kubectl of the lab's release, built as bench/run.py builds it).
Every object must be accepted without a single warning: a field the real schema does not
declare is an error under `--validate=strict` (and for server-side apply), and one it would
only prune is a warning. Server-side, because objects the roles or the lab created earlier
(namespace `openshift-nmstate`, Network `cluster`) carry no client-side last-applied annotation,
which client-side apply reports as a warning that says nothing about the manifest.
"""
import json
import os
import re
import subprocess
import stat
import sys
import uuid
from base64 import b64decode, b64encode
from pathlib import Path

import pytest
import yaml

REPO_DIR = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(REPO_DIR / "lab"))

from simulator.crdsets import LAB_CRDS_DIR, crds_in  # noqa: E402

# render.yml's stage directories, in apply order (each a GitOps sync wave).
STAGES = ["10-nmstate", "20-bridge-mapping", "30-network-attachment", "40-multinetwork-policy-switch",
          "50-virtualization", "60-workloads", "70-policies"]


@pytest.fixture(scope="module")
def kubectl():
    build = ["nice", "-n", "19", sys.executable, str(REPO_DIR / "bench" / "kubectl" / "build.py")]
    return subprocess.run(build, check=True, stdout=subprocess.PIPE, text=True).stdout.strip()


# The seed inventory reads the guests' password from here: a value no file may hold unasked.
PASSWORD = "render-test-" + uuid.uuid4().hex


def ansible_env(**extra):
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")}
    env.update(ANSIBLE_COLLECTIONS_PATH=str(REPO_DIR / ".venv" / "collections"), MULTINET_VM_PASSWORD=PASSWORD, **extra)
    return env


def render(out, *extra):
    """render.yml into `out`; (the stage directories in order, the play's output)."""
    env = ansible_env()
    result = subprocess.run([str(BIN / "ansible-playbook"), "-i", str(REPO_DIR / "inventory" / "seed_lab"),
                             str(REPO_DIR / "playbooks" / "render.yml"),
                             "-e", json.dumps({"multinet_render_dir": str(out)}), *extra],
                            check=True, capture_output=True, text=True, cwd=REPO_DIR, env=env, timeout=900)
    [host] = list(out.iterdir())
    return sorted(path for path in host.iterdir() if path.is_dir()), result.stdout + result.stderr


@pytest.fixture(scope="module")
def rendered_run(tmp_path_factory):
    return render(tmp_path_factory.mktemp("render"))


@pytest.fixture(scope="module")
def rendered(rendered_run):
    return rendered_run[0]


@pytest.fixture(scope="module")
def seed_inventory():
    """The seed inventory's values, templated by Ansible, and its intents compiled by compile_mnp."""
    wanted = ("{{ {'nad': network_attachment_networks[0], 'localnet': bridge_mapping_localnet,"
              " 'pods': workloads_pods | map(attribute='name') | list,"
              " 'vms': workloads_vms | map(attribute='name') | list,"
              " 'policies': policies_intents | map('ocpvirt.multinet.compile_mnp') | flatten} }}")
    result = subprocess.run([str(BIN / "ansible"), "-i", str(REPO_DIR / "inventory" / "seed_lab"), "clusters",
                             "-m", "ansible.builtin.debug", "-a", json.dumps({"msg": wanted})],
                            check=True, capture_output=True, text=True, cwd=REPO_DIR, timeout=300,
                            env=ansible_env(ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_STDOUT_CALLBACK="json"))
    [host] = json.loads(result.stdout)["plays"][0]["tasks"][0]["hosts"].values()
    return host["msg"]


def documents(stage):
    return [(path, doc) for path in sorted(stage.glob("*.yaml")) for doc in yaml.safe_load_all(path.read_text()) if doc]


def test_every_stage_directory_lists_what_an_object_needs_before_it(rendered):
    """File order is apply order: namespaces, then OperatorGroup and Subscription (they install
    the operator's CRDs), then Secrets, then custom resources, VMs and pods."""
    rank = {"Namespace": 0, "OperatorGroup": 1, "Subscription": 2, "Secret": 3}
    for stage in rendered:
        kinds = [doc["kind"] for _, doc in documents(stage)]
        assert [rank.get(k, 4) for k in kinds] == sorted(rank.get(k, 4) for k in kinds), f"{stage.name}: {kinds}"
    assert [doc["kind"] for _, doc in documents(rendered[0])] == ["Namespace", "OperatorGroup", "Subscription", "NMState"]


def test_the_stages_hold_what_the_seed_inventory_names(rendered, seed_inventory):
    assert [stage.name for stage in rendered] == STAGES
    objects = [doc for stage in rendered for _, doc in documents(stage)]
    [nad] = [doc for doc in objects if doc["kind"] == "NetworkAttachmentDefinition"]
    expected = seed_inventory["nad"]
    assert (nad["metadata"]["name"], nad["metadata"]["namespace"]) == (expected["name"], expected["namespace"])
    assert json.loads(nad["spec"]["config"])["name"] == expected["localnet"]
    mappings = [mapping for _, doc in documents(stage_named(rendered, "-bridge-mapping"))
                for mapping in doc["spec"]["desiredState"]["ovn"]["bridge-mappings"]]
    assert [mapping["localnet"] for mapping in mappings] == [seed_inventory["localnet"]]
    for kind, names in (("Pod", seed_inventory["pods"]), ("VirtualMachine", seed_inventory["vms"])):
        assert sorted(doc["metadata"]["name"] for doc in objects if doc["kind"] == kind) == sorted(names)
    policies = [doc for _, doc in documents(stage_named(rendered, "-policies"))]
    assert sorted(policies, key=lambda doc: doc["metadata"]["name"]) == \
        sorted(seed_inventory["policies"], key=lambda doc: doc["metadata"]["name"])


def test_each_stage_needs_only_namespaces_and_operators_of_its_own_or_an_earlier_stage(rendered):
    """Applied wave by wave from an empty cluster, a stage waits only on itself (an operator's
    custom resource is retried until the Subscription before it has installed the CRD): each
    namespace an object lives in, and each operator whose CRD (lab/crds/operators/<package>/)
    serves its kind, comes from the same stage or an earlier one."""
    served_by = {(crd["spec"]["group"], crd["spec"]["names"]["kind"]): package.name
                 for package in (LAB_CRDS_DIR / "operators").iterdir() for crd in crds_in(package).values()}
    namespaces, packages, missing = set(), set(), []
    for stage in rendered:
        docs = [doc for _, doc in documents(stage)]
        namespaces |= {doc["metadata"]["name"] for doc in docs if doc["kind"] == "Namespace"}
        packages |= {doc["spec"]["name"] for doc in docs if doc["kind"] == "Subscription"}
        for doc in docs:
            name = f"{stage.name}: {doc['kind']} {doc['metadata']['name']}"
            namespace = doc["metadata"].get("namespace")
            package = served_by.get((doc["apiVersion"].rpartition("/")[0], doc["kind"]))
            missing += [f"{name} needs namespace {namespace}"] if namespace and namespace not in namespaces else []
            missing += [f"{name} needs operator {package}"] if package and package not in packages else []
    assert set(served_by.values()) <= packages  # the check saw every operator the lab knows
    assert missing == []


def test_rendering_again_into_the_same_directory_changes_nothing(rendered):
    before = {path: path.read_bytes() for stage in rendered for path in stage.iterdir()}
    _, output = render(rendered[0].parents[1])
    assert re.search(r"seed-lab\s*:\s*ok=\d+\s+changed=0\s", output), output[-3000:]
    assert {path: path.read_bytes() for stage in rendered for path in stage.iterdir()} == before


def test_the_rendered_seed_lab_passes_a_strict_server_dry_run(rendered, kubectl, lab_kubeconfig, nmstate_installed,
                                                             virtualization_installed):
    """The operators' CRDs are installed (fixtures); the rendered namespaces are created for real
    first, since a dry-run namespace does not exist for the objects that follow it."""
    env = dict(os.environ, KUBECONFIG=lab_kubeconfig)
    namespaces = [str(path) for stage in rendered for path, doc in documents(stage) if doc["kind"] == "Namespace"]
    for path in namespaces:
        subprocess.run([kubectl, "apply", "--server-side", "--field-manager=labtest", "-f", path],
                       check=True, capture_output=True, text=True, env=env)
    accepted, refused, warnings = [], [], []
    for stage in rendered:
        result = subprocess.run([kubectl, "apply", "--server-side", "--force-conflicts", "--field-manager=labtest",
                                 "--dry-run=server", "--validate=strict", "-f", str(stage)],
                                capture_output=True, text=True, env=env, check=False)
        accepted += [line for line in result.stdout.splitlines() if line.endswith("serverside-applied (server dry run)")]
        errors = [line for line in result.stderr.splitlines() if line.strip()]
        warnings += [f"{stage.name}: {line}" for line in errors if line.startswith("Warning:")]
        refused += [f"{stage.name}: {line}" for line in errors if not line.startswith("Warning:")]
        assert result.returncode == 0 or refused, result.stderr
    total = sum(len(documents(stage)) for stage in rendered)
    assert refused == [] and warnings == []
    assert len(accepted) == total, "\n".join(accepted)


def stage_named(rendered, suffix):
    [stage] = [path for path in rendered if path.name.endswith(suffix)]
    return stage


def secret_refs(stage):
    """{Secret name: VM name} of the cloud-init volumes of the stage's VMs."""
    return {volume["cloudInitNoCloud"]["secretRef"]["name"]: doc["metadata"]["name"]
            for _, doc in documents(stage) if doc["kind"] == "VirtualMachine"
            for volume in doc["spec"]["template"]["spec"]["volumes"] if "cloudInitNoCloud" in volume}


def test_every_manifest_is_numbered_and_listed_in_its_stage_kustomization(rendered):
    """`oc apply -f <stage>` reads *.yaml in file order; `kubectl apply -k`, Argo CD and Flux read
    the stage's Kustomization (a file name `oc apply -f` skips), which lists the same files."""
    for stage in rendered:
        manifests = sorted(path.name for path in stage.glob("*.yaml"))
        assert all(name[:2].isdigit() and name[2] == "-" for name in manifests), manifests
        assert {path.name for path in stage.iterdir()} - set(manifests) <= {"Kustomization", "SECRETS-TO-CREATE.md"}
        kustomization = yaml.safe_load((stage / "Kustomization").read_text())
        assert kustomization["kind"] == "Kustomization" and kustomization["resources"] == manifests


def test_the_vms_secrets_are_named_with_the_vm_that_needs_each_but_not_written(rendered):
    workloads = stage_named(rendered, "-workloads")
    refs = secret_refs(workloads)
    assert len(refs) == 2  # the seed's two VMs
    note = (workloads / "SECRETS-TO-CREATE.md").read_text()
    for secret, vm in refs.items():
        assert f"| llm-demo | {secret} | userdata | {vm} |" in note
    assert [doc for stage in rendered for _, doc in documents(stage) if doc["kind"] == "Secret"] == []
    for path in (file for stage in rendered for file in stage.iterdir()):
        text = path.read_text()
        assert PASSWORD not in text and PASSWORD.encode().hex() not in text, path


def test_the_secrets_are_written_when_asked_with_a_warning_and_never_printed(tmp_path):
    rendered, output = render(tmp_path, "-e", "workloads_render_secrets=true")
    workloads = stage_named(rendered, "-workloads")
    secrets = {doc["metadata"]["name"]: (path, doc) for path, doc in documents(workloads) if doc["kind"] == "Secret"}
    assert set(secrets) == set(secret_refs(workloads))
    for path, doc in secrets.values():
        assert path.name.startswith("40-secret-llm-demo-")  # before the VMs (50-) in apply order
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert PASSWORD in b64decode(doc["data"]["userdata"]).decode()
    assert not (workloads / "SECRETS-TO-CREATE.md").exists()
    assert "WARNING workloads: workloads_render_secrets is true: 2 cloud-init Secret(s) holding guest credentials" \
        in " ".join(output.split())  # the callback may fold the message over lines
    assert PASSWORD not in output
    userdata = [doc["data"]["userdata"] for _, doc in secrets.values()]
    assert not any(data in output or data[:40] in output for data in userdata)
    assert b64encode(PASSWORD.encode()).decode()[:12] not in output


def test_the_network_change_is_a_patch_that_gitops_tools_never_replace_prune_or_delete(rendered):
    [(_path, network)] = documents(stage_named(rendered, "-multinetwork-policy-switch"))
    assert network["kind"] == "Network" and network["spec"] == {"useMultiNetworkPolicy": True}
    annotations = network["metadata"]["annotations"]
    assert set(annotations["argocd.argoproj.io/sync-options"].split(",")) == {
        "ServerSideApply=true", "Prune=false", "Delete=false"}
    assert annotations["kustomize.toolkit.fluxcd.io/ssa"] == "Merge"
    assert annotations["kustomize.toolkit.fluxcd.io/prune"] == "disabled"


def test_the_network_patch_applied_server_side_keeps_the_rest_of_the_clusters_network(rendered, kubectl,
                                                                                      lab_kubeconfig):
    env = dict(os.environ, KUBECONFIG=lab_kubeconfig)
    live = json.loads(subprocess.run([kubectl, "get", "network.operator.openshift.io", "cluster", "-o", "json"],
                                     check=True, capture_output=True, text=True, env=env).stdout)
    stage = stage_named(rendered, "-multinetwork-policy-switch")
    applied = json.loads(subprocess.run([kubectl, "apply", "--server-side", "--force-conflicts", "--field-manager=labtest",
                                         "--dry-run=server", "-o", "json", "-f", str(stage)],
                                        check=True, capture_output=True, text=True, env=env).stdout)
    assert applied["spec"] == dict(live["spec"], useMultiNetworkPolicy=True)
    assert live["spec"]["serviceNetwork"] and live["spec"]["clusterNetwork"]


def test_each_stage_builds_with_kustomize_into_its_files_objects(rendered, kubectl):
    for stage in rendered:
        built = subprocess.run([kubectl, "kustomize", str(stage)], check=True, capture_output=True, text=True).stdout
        objects = [(doc["kind"], doc["metadata"]["name"]) for doc in yaml.safe_load_all(built) if doc]
        assert sorted(objects) == sorted((doc["kind"], doc["metadata"]["name"]) for _, doc in documents(stage))
