"""The lab profiles without a lab (lab/controlplane/profiles.py and what labctl takes from them):
which profile the variable selects, what each names, the PATH that puts an OVN build first, the
schemas the nodes' ovsdb-servers are created from, the refusal to switch a lab's profile, each
profile's own state folder and cache override, and what the simulator's stand-ins report per era."""
import sys
from pathlib import Path

import pytest

REPO_DIR = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_DIR / "lab"))

from controlplane import binaries, ovnkube, profiles, state  # noqa: E402  pylint: disable=wrong-import-position
from dataplane import topology  # noqa: E402  pylint: disable=wrong-import-position
from simulator import crdsets, kubevirt, nodes, olm  # noqa: E402  pylint: disable=wrong-import-position

LABCTL = ".venv/bin/python lab/labctl.py"


def test_unset_or_empty_selects_4_15_and_each_name_selects_its_profile():
    assert profiles.selected({}).name == profiles.DEFAULT == "4.15"
    assert profiles.selected({profiles.ENV: ""}).name == "4.15"
    assert profiles.selected({profiles.ENV: "4.18"}) is profiles.PROFILES["4.18"]


@pytest.mark.parametrize("value", ["4.16", "418", " 4.18", "latest"])
def test_an_unknown_profile_is_one_line_naming_the_value_and_the_choices(value):
    with pytest.raises(profiles.ProfileError) as error:
        profiles.selected({profiles.ENV: value})
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith(f"OCPVIRT_LAB_PROFILE={value!r}: no such lab profile") and "4.15, 4.18" in message


def test_each_profile_names_its_eras_crds_ovnkube_ovn_and_release():
    old, new = profiles.PROFILES["4.15"], profiles.PROFILES["4.18"]
    assert (old.crds, old.ovnkube_commit, old.ovn) == ("upstream-crds", ovnkube.COMMIT, profiles.DEBIAN)
    assert (new.crds, new.ovnkube_commit, new.ovn) == ("upstream-crds-4.18", "6c366bb49", profiles.BUILT)
    for profile in (old, new):
        assert profile.openshift_version.startswith(f"{profile.name}.")
        assert profile.channel == f"stable-{profile.name}"


def test_each_profiles_crd_folder_is_the_one_beside_the_clone_unless_the_variable_says(tmp_path):
    new = profiles.PROFILES["4.18"]
    assert crdsets.upstream_location({}, tmp_path / "repo", new.crds) == tmp_path / "shared" / "upstream-crds-4.18"
    assert crdsets.upstream_location({crdsets.UPSTREAM_ENV: str(tmp_path / "x")}, tmp_path / "repo", new.crds) == \
        tmp_path / "x"
    assert crdsets.describe(tmp_path, [], tmp_path, new.name).startswith(f"upstream OpenShift 4.18 ({tmp_path})")


@pytest.mark.parametrize("name", sorted(profiles.PROFILES))
def test_the_shared_sources_hold_each_profiles_tarball_and_crds(name):
    shared = REPO_DIR.parent / "shared"
    if not shared.is_dir():
        pytest.skip(f"no {shared} beside the clone")
    profile = profiles.PROFILES[name]
    assert ovnkube.tarball({}, REPO_DIR, profile.ovnkube_commit).is_file()
    assert "clusterversions.config.openshift.io" in crdsets.crds_in(shared / profile.crds)


def test_an_ovn_build_goes_first_on_path_and_the_rest_keeps_its_order(tmp_path):
    prefix = tmp_path / "ovn-0123"
    assert profiles.path_with_ovn(prefix, "/usr/local/bin:/usr/bin::/bin") == \
        f"{prefix}/bin:{prefix}/sbin:/usr/local/bin:/usr/bin:/bin"
    assert profiles.path_with_ovn(prefix, "") == f"{prefix}/bin:{prefix}/sbin"


def test_the_nodes_databases_are_created_from_the_schemas_beside_the_programs(tmp_path):
    debian = {d.name: d.schema for d in topology.daemons() if d.schema}
    assert debian == {"ovsdb-server": "/usr/share/openvswitch/vswitch.ovsschema",
                      "ovnnb_db": "/usr/share/ovn/ovn-nb.ovsschema", "ovnsb_db": "/usr/share/ovn/ovn-sb.ovsschema"}
    built = {d.name: d.schema for d in topology.daemons(tmp_path / "share") if d.schema}
    assert built["ovnnb_db"] == str(tmp_path / "share" / "ovn" / "ovn-nb.ovsschema")
    assert all(path.startswith(str(tmp_path / "share")) for path in built.values())


def test_a_lab_without_data_or_on_the_same_profile_comes_up():
    for name, profile in profiles.PROFILES.items():
        assert profiles.switch_refusal(None, profile, LABCTL) is None
        assert profiles.switch_refusal(name, profile, LABCTL) is None


def test_switching_a_labs_profile_is_refused_in_one_line_saying_what_to_run():
    message = profiles.switch_refusal("4.15", profiles.PROFILES["4.18"], LABCTL)
    assert "\n" not in message and message.startswith("this lab is on profile 4.15, not 4.18")
    assert f"`{LABCTL} down --purge`" in message and f"`OCPVIRT_LAB_PROFILE=4.18 {LABCTL} up`" in message
    back = profiles.switch_refusal("4.18", profiles.PROFILES["4.15"], LABCTL)
    assert back.startswith("this lab is on profile 4.18, not 4.15") and "OCPVIRT_LAB_PROFILE=4.15 " in back


def test_each_profile_has_its_own_state_folder_unless_ocpvirt_lab_dir_names_one(tmp_path):
    repo = tmp_path / "repo"
    assert state.state_dir({}, repo) == state.state_dir({profiles.ENV: ""}, repo) == repo / ".lab"
    assert state.state_dir({profiles.ENV: "4.18"}, repo) == repo / ".lab-4.18"
    explicit = {profiles.ENV: "4.18", "OCPVIRT_LAB_DIR": str(tmp_path / "mine")}
    assert state.state_dir(explicit, repo) == tmp_path / "mine"
    # Two folders, two labs: no network namespace name in common (dataplane/topology.py lab_id).
    assert topology.netns_prefix(repo / ".lab") != topology.netns_prefix(repo / ".lab-4.18")


def test_ocpvirt_lab_cache_moves_every_build_else_the_xdg_cache_holds_them(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("OCPVIRT_LAB_CACHE", raising=False)
    assert binaries.cache_root() == tmp_path / "xdg" / "ocpvirt-multinet-lab"
    monkeypatch.setenv("OCPVIRT_LAB_CACHE", str(tmp_path / "scratch"))
    assert binaries.cache_root() == tmp_path / "scratch"
    assert binaries.bin_dir().is_relative_to(tmp_path / "scratch")


CATALOG = [
    {"apiVersion": "operators.coreos.com/v1alpha1", "kind": "CatalogSource",
     "metadata": {"name": "redhat-operators", "namespace": "openshift-marketplace"},
     "spec": {"image": "registry.redhat.io/redhat/redhat-operator-index:v4.15"}},
    *({"apiVersion": "packages.operators.coreos.com/v1", "kind": "PackageManifest",
       "metadata": {"name": package, "namespace": "openshift-marketplace"},
       "status": {"channels": [{"name": "stable", "currentCSV": "old", "currentCSVDesc": {"version": "old"}}]}}
      for package in ("kubernetes-nmstate-operator", "kubevirt-hyperconverged")),
]


def test_the_catalog_offers_each_eras_index_and_csvs_and_leaves_other_objects_alone():
    new = profiles.PROFILES["4.18"].era
    source, nmstate, virtualization = (olm.catalog_object(document, new) for document in CATALOG)
    assert source["spec"]["image"] == "registry.redhat.io/redhat/redhat-operator-index:v4.18"
    assert nmstate["status"]["channels"][0]["currentCSV"] == f"kubernetes-nmstate-operator.{new.nmstate_csv_version}"
    assert virtualization["status"]["channels"][0] == {
        "name": "stable", "currentCSV": "kubevirt-hyperconverged-operator.v4.18.0",
        "currentCSVDesc": {"version": "4.18.0"}}
    assert CATALOG[1]["status"]["channels"][0]["currentCSV"] == "old", "the input is not changed"
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "openshift-marketplace"}}
    assert olm.catalog_object(namespace, new) == namespace


@pytest.mark.parametrize("name", sorted(profiles.PROFILES))
def test_the_stand_ins_report_their_profiles_release(name):
    era = profiles.PROFILES[name].era
    info = nodes.node_status(nodes.NODES[1], "2026-01-01T00:00:00Z", 10250, era)["nodeInfo"]
    assert f"rhaos{name}." in info["containerRuntimeVersion"]
    assert info["osImage"].startswith(f"Red Hat Enterprise Linux CoreOS {name.replace('.', '')}.")
    assert era.nmstate_csv_version.startswith(f"{name}.") and era.catalog_tag == f"v{name}"
    hco = {"metadata": {"name": "kubevirt-hyperconverged", "generation": 1}}
    version = kubevirt.hyperconverged_status(hco, "2026-01-01T00:00:00Z", era.virtualization_version)["versions"]
    assert version == [{"name": "operator", "version": era.virtualization_version}]
    assert era.virtualization_version.startswith(f"{name}.")
    assert f"virt-launcher-rhel9:v{name}." in kubevirt.launcher_image(era.virtualization_version)
