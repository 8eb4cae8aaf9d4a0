"""The lab's real OVN-Kubernetes without a lab (lab/controlplane/ovnkube.py and the
simulator's stand-in parts): the build's cache and its one-line errors, the NB schema with
ACL.tier, ovnkube's flags from the Network spec, the container log writer (conmon.py), and the CNI/Multus stand-in taking ovnkube's
pod-networks. Names and addresses share nothing with the seed."""
import json
import re
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml

REPO_DIR = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_DIR / "lab"))

from controlplane import conmon, ovnkube  # noqa: E402  pylint: disable=wrong-import-position
from simulator import controllers, kubelet  # noqa: E402  pylint: disable=wrong-import-position

NB_SCHEMA = Path("/usr/share/ovn/ovn-nb.ovsschema")


def make_tarball(tmp_path, files):
    root = tmp_path / "tree" / "ovn-kubernetes-x"
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    tarball = tmp_path / ovnkube.TARBALL
    subprocess.run(["tar", "-czf", str(tarball), "-C", str(tmp_path / "tree"), "ovn-kubernetes-x"], check=True)
    return tarball


# --- source -------------------------------------------------------------------------------

def test_tarball_is_looked_for_beside_the_clone_unless_the_variable_says_where(tmp_path):
    assert ovnkube.tarball({}, repo_dir=tmp_path / "repo") == (tmp_path / "shared" / "upstream-src" /
                                                               "ovn-kubernetes-dad2fde5a.tar.gz")
    assert ovnkube.tarball({ovnkube.SOURCE_ENV: str(tmp_path / "elsewhere")}, repo_dir=tmp_path / "repo") == \
        tmp_path / "elsewhere" / "ovn-kubernetes-dad2fde5a.tar.gz"


def test_each_commit_has_its_tarball_and_the_tarballs_name_says_its_commit(tmp_path):
    later = ovnkube.tarball({ovnkube.SOURCE_ENV: str(tmp_path)}, repo_dir=tmp_path / "repo", commit="0a1b2c3d4")
    assert later == tmp_path / "ovn-kubernetes-0a1b2c3d4.tar.gz"
    assert ovnkube.commit_of(later) == "0a1b2c3d4"
    assert ovnkube.commit_of(ovnkube.tarball({}, repo_dir=tmp_path / "repo")) == ovnkube.COMMIT
    with pytest.raises(ovnkube.OvnkubeError, match=r"^/x/go-controller.zip: not named ovn-kubernetes-<commit>"):
        ovnkube.commit_of("/x/go-controller.zip")


# --- build ------------------------------------------------------------------------------------

def test_missing_tarball_is_one_line_naming_the_path_and_what_to_do(tmp_path):
    missing = tmp_path / "nowhere" / ovnkube.TARBALL
    with pytest.raises(ovnkube.OvnkubeError) as error:
        ovnkube.build(missing, tmp_path / "cache", "go", print)
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith(f"{missing}: not found;") and ovnkube.SOURCE_ENV in message
    assert not (tmp_path / "cache").exists()


def test_a_tarball_without_go_controller_is_refused_by_name(tmp_path):
    tarball = make_tarball(tmp_path, {"README.md": "not the source\n"})
    with pytest.raises(ovnkube.OvnkubeError, match=rf"^{tarball}: cannot unpack a go-controller/") as error:
        ovnkube.build(tarball, tmp_path / "cache", "go", print)
    assert "\n" not in str(error.value)


def test_a_failed_build_names_its_log_and_leaves_no_binary_nor_sources(tmp_path):
    tarball = make_tarball(tmp_path, {"go-controller/go.mod": "module example.com/x\n"})
    log = []
    with pytest.raises(ovnkube.OvnkubeError) as error:
        ovnkube.build(tarball, tmp_path / "cache", "false", log.append)  # `false` stands for a failing go
    binary = ovnkube.binary_path(tmp_path / "cache", ovnkube.sha256_file(tarball))
    message = str(error.value)
    assert "\n" not in message and "failed (exit 1)" in message
    assert str(binary.parent / "build.log") in message and "labctl build-ovnkube" in message
    assert not binary.exists() and not (binary.parent / "src").exists()
    assert any("building ovnkube" in line for line in log)


def test_a_cached_binary_is_reused_by_the_tarballs_digest(tmp_path):
    tarball = make_tarball(tmp_path, {"go-controller/go.mod": "module example.com/x\n"})
    binary = ovnkube.binary_path(tmp_path / "cache", ovnkube.sha256_file(tarball))
    binary.parent.mkdir(parents=True)
    binary.write_text("built before\n")
    # A go that cannot run proves nothing was built.
    assert ovnkube.build(tarball, tmp_path / "cache", str(tmp_path / "no-go"), print) == binary
    other = make_tarball(tmp_path / "other", {"go-controller/go.mod": "module example.com/y\n"})
    assert ovnkube.binary_path(tmp_path / "cache", ovnkube.sha256_file(other)) != binary


def test_two_commits_are_cached_apart_and_the_default_commits_cache_path_is_unchanged(tmp_path):
    digest = "f" * 64
    assert ovnkube.binary_path(tmp_path, digest) == tmp_path / "ovnkube-dad2fde5a-ffffffffffffffff" / "ovnkube"
    assert ovnkube.binary_path(tmp_path, digest, "6c366bb49") == \
        tmp_path / "ovnkube-6c366bb49-ffffffffffffffff" / "ovnkube"
    later = make_tarball(tmp_path / "later", {"go-controller/go.mod": "module example.com/z\n"})
    renamed = later.rename(later.with_name("ovn-kubernetes-6c366bb49.tar.gz"))
    built = ovnkube.binary_path(tmp_path / "cache", ovnkube.sha256_file(renamed), "6c366bb49")
    built.parent.mkdir(parents=True)
    built.write_text("built before\n")
    assert ovnkube.build(renamed, tmp_path / "cache", str(tmp_path / "no-go"), print) == built


def test_build_is_offline_and_niced():
    argv = ovnkube.build_argv("/usr/local/go/bin/go", "/c/ovnkube.partial")
    assert argv[:3] == ["nice", "-n", "19"]
    assert "-mod=vendor" in argv and argv[-1] == "./cmd/ovnkube"
    assert ovnkube.BUILD_ENV["GOPROXY"] == "off" and ovnkube.BUILD_ENV["GOTOOLCHAIN"] == "local"


# --- NB schema and flags ------------------------------------------------------------------------

@pytest.mark.skipif(not NB_SCHEMA.exists(), reason=f"{NB_SCHEMA} (Debian's ovn-common) is not installed")
def test_nb_schema_gains_acl_tier_as_ovn_23_09_defines_it():
    served = json.loads(NB_SCHEMA.read_text())
    converted = ovnkube.nb_schema_with_tier(served)
    assert ovnkube.has_tier(converted)
    assert converted["tables"]["ACL"]["columns"]["tier"] == {
        "type": {"key": {"type": "integer", "minInteger": 0, "maxInteger": 3}}}
    assert "pass" in converted["tables"]["ACL"]["columns"]["action"]["type"]["key"]["enum"][1]
    assert json.loads(NB_SCHEMA.read_text()) == served  # the input is left alone
    untouched = {name: table for name, table in converted["tables"].items() if name != "ACL"}
    assert untouched == {name: table for name, table in served["tables"].items() if name != "ACL"}


def lab_network_spec():
    documents = yaml.safe_load_all((REPO_DIR / "lab" / "crds" / "base-objects" / "10-cluster-config.yaml").read_text())
    return next(d for d in documents if d["kind"] == "Network")["spec"]


def test_flags_come_from_the_labs_network_spec_and_the_switch():
    spec = lab_network_spec()
    flags = ovnkube.network_flags(spec)
    assert "--cluster-subnets=10.128.0.0/14/23" in flags and "--k8s-service-cidrs=172.30.0.0/16" in flags
    assert "--enable-multi-networkpolicy" not in flags
    assert "--enable-multi-networkpolicy" in ovnkube.network_flags({**spec, "useMultiNetworkPolicy": True})


def test_each_zone_controller_talks_to_its_own_nodes_databases(tmp_path):
    argv = ovnkube.controller_argv("/c/ovnkube", "worker-7", tmp_path / "worker-7", "/k", ["--x"])
    assert "--init-ovnkube-controller=worker-7" in argv and "--zone=worker-7" in argv
    assert f"--nb-address=unix:{tmp_path / 'worker-7' / 'ovnnb_db.sock'}" in argv
    assert f"--sb-address=unix:{tmp_path / 'worker-7' / 'ovnsb_db.sock'}" in argv
    assert "--k8s-kubeconfig=/k" in argv and argv[-1] == "--x"
    # run by the runtime stand-in, which writes its output into the pod's container log
    assert argv[:5] == [sys.executable, str(REPO_DIR / "lab" / "controlplane" / "conmon.py"),
                        str(tmp_path / "worker-7" / "ovnkube-controller.log"), "--", "/c/ovnkube"]
    env = ovnkube.controller_env(tmp_path / "worker-7", {"OVN_RUNDIR": "r"})
    assert env["OVN_NB_DB"] == f"unix:{tmp_path / 'worker-7' / 'ovnnb_db.sock'}" and env["OVN_RUNDIR"] == "r"


def test_conmon_writes_each_line_of_the_child_as_a_cri_record_and_echoes_it(tmp_path):
    log = tmp_path / "orchard-controller.log"
    log.write_text("2030-01-02T03:04:05.000000001Z stdout F earlier\n")  # appended to, as a runtime does
    child = "import sys; print('to out'); print('E0101 to err', file=sys.stderr); sys.exit(3)"
    done = subprocess.run([sys.executable, str(ovnkube.CONMON), str(log), "--", sys.executable, "-c", child],
                          capture_output=True, check=False)
    assert done.returncode == 3  # the child's exit code: labctl sees the process end as the child's
    assert sorted(done.stdout.decode().splitlines()) == ["E0101 to err", "to out"]
    lines = log.read_text().splitlines()
    assert lines[0].endswith(" earlier") and len(lines) == 3
    records = sorted(line.split(" ", 1)[1] for line in lines[1:])
    assert records == ["stderr F E0101 to err", "stdout F to out"]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z", line.split(" ")[0]) for line in lines)


def test_conmon_splits_a_line_longer_than_the_runtimes_maximum_into_partial_records():
    when = datetime(2031, 5, 6, 7, 8, 9, 123456, tzinfo=timezone.utc)
    assert conmon.cri_lines(when, "stderr", b"abcdefg", max_line=3) == [
        b"2031-05-06T07:08:09.123456000Z stderr P abc\n", b"2031-05-06T07:08:09.123456000Z stderr P def\n",
        b"2031-05-06T07:08:09.123456000Z stderr F g\n"]
    assert conmon.cri_lines(when, "stdout", b"") == [b"2031-05-06T07:08:09.123456000Z stdout F \n"]


# --- the simulator's stand-in parts -------------------------------------------------------------

ORCHARD_CONFIG = json.dumps({"cniVersion": "0.3.1", "name": "orchard-net", "type": "ovn-k8s-cni-overlay",
                             "topology": "localnet", "netAttachDefName": "orchard/orchard-net"})
ORCHARD_NAD = {"metadata": {"namespace": "orchard", "name": "orchard-net"}, "spec": {"config": ORCHARD_CONFIG}}
PEAR_NETWORKS = {"default": {"ip_addresses": ["10.129.2.5/23"], "mac_address": "0a:58:0a:81:02:05"},
                 "orchard/orchard-net": {"ip_addresses": ["172.16.50.61/24"], "mac_address": "0a:58:ac:10:32:3d"}}


def pear(networks=None):
    annotations = {kubelet.NETWORKS_ANNOTATION: json.dumps([{"name": "orchard-net", "ips": ["172.16.50.61/24"]}])}
    if networks is not None:
        annotations[kubelet.POD_NETWORKS_ANNOTATION] = json.dumps(networks)
    return {"metadata": {"namespace": "orchard", "name": "pear", "uid": "5e1f-pear", "annotations": annotations},
            "spec": {"nodeName": "worker-1"}, "status": {"phase": "Running"}}


def test_the_cni_waits_for_ovnkubes_annotation_of_each_localnet_network():
    localnet = kubelet.localnet_networks([ORCHARD_NAD])
    requests = kubelet.parse_networks(pear())
    assert kubelet.unannotated(requests, localnet, kubelet.pod_networks(pear())) == ["default", "orchard/orchard-net"]
    only_default = {"default": PEAR_NETWORKS["default"]}
    assert kubelet.unannotated(requests, localnet, kubelet.pod_networks(pear(only_default))) == ["orchard/orchard-net"]
    # the secondary controller annotated first: the pod IP must still wait for the default's
    only_localnet = {"orchard/orchard-net": PEAR_NETWORKS["orchard/orchard-net"]}
    assert kubelet.unannotated(requests, localnet, kubelet.pod_networks(pear(only_localnet))) == ["default"]
    assert kubelet.unannotated(requests, localnet, kubelet.pod_networks(pear(PEAR_NETWORKS))) == []
    broken = pear()
    broken["metadata"]["annotations"][kubelet.POD_NETWORKS_ANNOTATION] = "{not json"
    assert kubelet.pod_networks(broken) == {}


def test_network_status_carries_what_ovnkube_chose():
    networks = kubelet.pod_networks(pear(PEAR_NETWORKS))
    pod_ip = kubelet.default_pod_ip(networks)
    assert pod_ip == "10.129.2.5"
    status = json.loads(kubelet.network_status(pear(PEAR_NETWORKS), pod_ip, kubelet.parse_networks(pear()), networks))
    assert status[0]["ips"] == ["10.129.2.5"] and status[0]["mac"] == "0a:58:0a:81:02:05"
    assert status[1] == {"name": "orchard/orchard-net", "interface": "net1", "mac": "0a:58:ac:10:32:3d",
                         "ips": ["172.16.50.61"], "dns": {}}


def test_sandboxes_carry_the_pod_uid_as_iface_id_ver():
    pod = pear(PEAR_NETWORKS)
    networks = kubelet.pod_networks(pod)
    pod["metadata"]["annotations"][kubelet.NETWORK_STATUS_ANNOTATION] = kubelet.network_status(
        pod, "10.129.2.5", kubelet.parse_networks(pod), networks)
    localnet = kubelet.localnet_networks([ORCHARD_NAD])
    [real] = kubelet.sandboxes([pod], localnet, {})[("pods", "orchard", "pear")]["interfaces"]
    assert real["iface_id"] == "orchard.orchard.net_orchard_pear"  # util.GetSecondaryNetworkIfaceId
    assert real["iface_id_ver"] == "5e1f-pear" and real["mac"] == "0a:58:ac:10:32:3d"
    assert real["addresses"] == ["172.16.50.61/24"]


def test_the_simulator_runs_the_node_stand_in_and_no_emulation():
    names = {c.name for c in controllers.ALL_CONTROLLERS}
    assert {"ovnkube-node-standin", "ovnkube-rollout"} <= names
    assert not hasattr(controllers, "OVNKubernetesController")
