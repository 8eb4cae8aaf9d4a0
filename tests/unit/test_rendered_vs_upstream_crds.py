"""What the roles write is valid on OpenShift 4.15 and 4.18 alike: every field of every rendered
custom resource is in that release's CRD schema (a field it lacks would be pruned, or refused
under strict field validation) and none is one the schema calls deprecated (such as VM
`spec.running`, which virt-api v1.4.1 answers with a warning). The CRDs are the upstream ones in
../shared/upstream-crds{,-4.18} (SOURCES.md there); without them the test is skipped.
"""
import os
from pathlib import Path

import pytest
import yaml

from test_example_inventory import render

ROOT = Path(__file__).resolve().parents[2]
CRD_SETS = {"4.15": ROOT.parent / "shared" / "upstream-crds", "4.18": ROOT.parent / "shared" / "upstream-crds-4.18"}
INVENTORIES = {"inventory/seed_lab": "seed-lab", "inventory/payments_lab": "payments-lab"}


def crd_schemas(directory):
    """{(group, version, kind): openAPIV3Schema} of every CRD in the directory."""
    schemas = {}
    for path in directory.glob("*.yaml"):
        crd = yaml.safe_load(path.read_text())
        for version in crd["spec"]["versions"]:
            schemas[(crd["spec"]["group"], version["name"], crd["spec"]["names"]["kind"])] = \
                version["schema"]["openAPIV3Schema"]
    return schemas


def problems(value, schema, path):
    """Fields a structural schema would drop, and fields it calls deprecated."""
    found = []
    if "deprecated" in (schema.get("description") or "").lower():
        found.append("{0}: deprecated ({1})".format(path, schema["description"].splitlines()[0][:100]))
    if isinstance(value, dict) and not schema.get("x-kubernetes-preserve-unknown-fields"):
        properties = schema.get("properties")
        for key, item in value.items():
            if properties is not None and key in properties:
                found += problems(item, properties[key], "{0}.{1}".format(path, key))
            elif isinstance(schema.get("additionalProperties"), dict):
                found += problems(item, schema["additionalProperties"], "{0}.{1}".format(path, key))
            elif properties is not None or schema.get("additionalProperties") is False:
                found.append("{0}.{1}: not in the schema (pruned)".format(path, key))
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            found += problems(item, schema["items"], "{0}[{1}]".format(path, index))
    return found


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """Every custom resource the roles write for the seed and the payments inventories."""
    objects = []
    for inventory, host in INVENTORIES.items():
        out = tmp_path_factory.mktemp(host)
        render(inventory, host, out)
        for path in sorted(out.rglob("*.yaml")):
            objects += [(path.name, doc) for doc in yaml.safe_load_all(path.read_text()) if doc]
    return [(name, doc) for name, doc in objects if "." in doc["apiVersion"].split("/")[0]]


@pytest.mark.parametrize("release", sorted(CRD_SETS))
def test_every_rendered_field_is_in_the_releases_crd_and_none_is_deprecated(release, rendered):
    if not CRD_SETS[release].is_dir():
        pytest.skip("no upstream CRDs at {0}".format(os.path.relpath(CRD_SETS[release], ROOT)))
    schemas = crd_schemas(CRD_SETS[release])
    kinds, found = set(), []
    for name, doc in rendered:
        group, version = doc["apiVersion"].split("/")
        schema = schemas.get((group, version, doc["kind"]))
        assert schema is not None, "{0}: no {1} CRD serves {2}".format(name, release, doc["apiVersion"])
        kinds.add(doc["kind"])
        found += ["{0} {1}".format(name, problem) for key in doc if key not in ("apiVersion", "kind", "metadata")
                  for problem in problems(doc[key], schema["properties"][key], key)]
    assert {"VirtualMachine", "HyperConverged", "MultiNetworkPolicy", "NetworkAttachmentDefinition",
            "NodeNetworkConfigurationPolicy", "Network", "Subscription", "OperatorGroup"} <= kinds
    assert found == []


def test_the_check_sees_a_deprecated_and_a_pruned_field():
    """The walker itself: VM spec.running is deprecated in 4.18's schema, an unknown key is pruned."""
    path = CRD_SETS["4.18"] / "virtualmachines.kubevirt.io.yaml"
    if not path.is_file():
        pytest.skip("no upstream 4.18 CRDs")
    schema = crd_schemas(CRD_SETS["4.18"])[("kubevirt.io", "v1", "VirtualMachine")]
    assert [p.split(":")[0] for p in problems({"running": True, "runStrategy": "Always", "bogus": 1},
                                              schema["properties"]["spec"], "spec")] == ["spec.running", "spec.bogus"]
