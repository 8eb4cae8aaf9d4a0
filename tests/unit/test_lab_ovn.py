"""The lab's OVN/OVS build from the upstream tarballs without building them
(lab/controlplane/ovn.py): where the tarballs are looked for, the digest both name, the cache
path, the build's command lines, and its one-line errors. A stand-in source tree whose boot.sh,
configure and Makefile do nothing stands for the real one."""
import subprocess
import sys
from pathlib import Path

import pytest

REPO_DIR = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_DIR / "lab"))

from controlplane import ovn  # noqa: E402  pylint: disable=wrong-import-position

NOTHING = "#!/bin/sh\nexit 0\n"
FAILS = "#!/bin/sh\necho 'autoreconf: not found' >&2\nexit 1\n"
MAKEFILE = "all:\n\t@true\ninstall-strip:\n\t@echo installing\n"


def make_tarball(tmp_path, name, top, files):
    """A gzipped tarball `name` of `top`/ holding `files` (path -> text; scripts are executable)."""
    root = tmp_path / "trees" / name / top
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
        (root / path).chmod(0o755)
    tarball = tmp_path / "src" / name
    tarball.parent.mkdir(exist_ok=True)
    subprocess.run(["tar", "-czf", str(tarball), "-C", str(root.parent), top], check=True)
    return tarball


def stand_in_tree(boot=NOTHING):
    return {"boot.sh": boot, "configure": NOTHING, "Makefile": MAKEFILE}


def stand_in_tarballs(tmp_path, ovn_boot=NOTHING, ovs_boot=NOTHING):
    ovn_tarball = make_tarball(tmp_path, ovn.OVN_TARBALL, "ovn-9.9.9",
                               {**stand_in_tree(ovn_boot), "northd/README": "the OVN tree\n"})
    ovs_tarball = make_tarball(tmp_path, ovn.OVS_TARBALL, "ovs-0123abc",
                               {**stand_in_tree(ovs_boot), "vswitchd/README": "the OVS tree\n"})
    return ovn_tarball, ovs_tarball


def cached_prefix(tmp_path, ovn_tarball, ovs_tarball):
    digest = ovn.combined_digest(ovn.sha256_file(ovn_tarball), ovn.sha256_file(ovs_tarball))
    return ovn.prefix_path(tmp_path / "cache", digest)


# --- source and cache ---------------------------------------------------------------------------

def test_tarballs_are_looked_for_beside_the_clone_unless_the_variable_says_where(tmp_path):
    shared = tmp_path / "shared" / "upstream-src"
    assert ovn.tarballs({}, repo_dir=tmp_path / "repo") == (shared / "ovn-v24.09.3.tar.gz",
                                                            shared / "ovs-533ff75523eb.tar.gz")
    elsewhere = tmp_path / "elsewhere"
    assert ovn.tarballs({ovn.SOURCE_ENV: str(elsewhere)}, repo_dir=tmp_path / "repo") == (
        elsewhere / "ovn-v24.09.3.tar.gz", elsewhere / "ovs-533ff75523eb.tar.gz")


def test_the_digest_changes_with_either_tarball_and_names_the_cache_folder(tmp_path):
    ovn_sha, ovs_sha = "a" * 64, "b" * 64
    digest = ovn.combined_digest(ovn_sha, ovs_sha)
    assert len(digest) == 64 and digest not in (ovn_sha, ovs_sha)
    assert ovn.combined_digest("c" * 64, ovs_sha) != digest
    assert ovn.combined_digest(ovn_sha, "c" * 64) != digest
    assert ovn.combined_digest(ovs_sha, ovn_sha) != digest  # which tarball is which counts
    assert ovn.prefix_path(tmp_path, digest) == tmp_path / f"ovn-{digest[:16]}"


def test_build_steps_build_ovs_first_then_ovn_against_it_niced_without_test_programs(tmp_path):
    steps = ovn.build_steps(tmp_path / "ovn-src", tmp_path / "prefix")
    ovs_dir = tmp_path / "ovn-src" / "ovs"
    assert [step[0] for step in steps] == [ovs_dir] * 4 + [tmp_path / "ovn-src"] * 4
    assert all(step[1][:3] == ["nice", "-n", "19"] for step in steps)
    commands = [step[1][3:] for step in steps]
    assert [c[0] for c in commands] == ["./boot.sh", "./configure", "make", "make"] * 2
    assert commands[2] == commands[6] == ["make", "-j2", "noinst_PROGRAMS="]
    assert commands[3] == commands[7] == ["make", "install-strip", "noinst_PROGRAMS="]
    assert f"--prefix={tmp_path / 'prefix'}" in commands[1] and f"--prefix={tmp_path / 'prefix'}" in commands[5]
    assert f"--with-ovs-source={ovs_dir}" in commands[5] and f"--with-ovs-build={ovs_dir}" in commands[5]
    assert not any(flag.startswith("--with-ovs") for flag in commands[1])


# --- build ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("which", [0, 1])
def test_a_missing_tarball_is_one_line_naming_the_path_and_what_to_do(tmp_path, which):
    tarballs = list(stand_in_tarballs(tmp_path))
    tarballs[which] = tmp_path / "nowhere" / tarballs[which].name
    with pytest.raises(ovn.OvnBuildError) as error:
        ovn.build(*tarballs, tmp_path / "cache", print)
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith(f"{tarballs[which]}: not found;") and ovn.SOURCE_ENV in message
    assert not (tmp_path / "cache").exists()


def test_a_tarball_without_the_ovs_tree_is_refused_by_name(tmp_path):
    ovn_tarball = stand_in_tarballs(tmp_path)[0]
    wrong = make_tarball(tmp_path / "wrong", ovn.OVS_TARBALL, "something", {"README.md": "not OVS\n"})
    with pytest.raises(ovn.OvnBuildError, match=rf"^{wrong}: holds no OVS tree") as error:
        ovn.build(ovn_tarball, wrong, tmp_path / "cache", print)
    assert "\n" not in str(error.value)
    assert not ovn.is_complete(cached_prefix(tmp_path, ovn_tarball, wrong))


def test_a_failed_step_names_itself_its_log_and_the_command_and_leaves_no_complete_build(tmp_path):
    ovn_tarball, ovs_tarball = stand_in_tarballs(tmp_path, ovs_boot=FAILS)
    log = []
    with pytest.raises(ovn.OvnBuildError) as error:
        ovn.build(ovn_tarball, ovs_tarball, tmp_path / "cache", log.append)
    prefix = cached_prefix(tmp_path, ovn_tarball, ovs_tarball)
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith("`./boot.sh` in ") and "/ovs failed (exit 1)" in message
    assert str(prefix / "build.log") in message and "labctl build-ovn" in message and "libtool" in message
    assert "autoreconf: not found" in (prefix / "build.log").read_text()
    assert not ovn.is_complete(prefix) and not (prefix / "src").exists()
    assert any("building OVN" in line for line in log)


def test_a_build_runs_every_step_marks_the_prefix_complete_and_is_then_reused(tmp_path):
    ovn_tarball, ovs_tarball = stand_in_tarballs(tmp_path)
    prefix = ovn.build(ovn_tarball, ovs_tarball, tmp_path / "cache", print)
    assert prefix == cached_prefix(tmp_path, ovn_tarball, ovs_tarball)
    assert ovn.is_complete(prefix) and not (prefix / "src").exists()
    build_log = (prefix / "build.log").read_text()
    assert build_log.count("$ cd ") == 8 and build_log.count("installing\n") == 2
    # Reused by the digest: tarballs that could not be unpacked any more prove nothing is rebuilt.
    (prefix / "build.log").write_text("kept\n")
    assert ovn.build(ovn_tarball, ovs_tarball, tmp_path / "cache", print) == prefix
    assert (prefix / "build.log").read_text() == "kept\n"


def test_an_interrupted_build_is_built_again(tmp_path):
    ovn_tarball, ovs_tarball = stand_in_tarballs(tmp_path)
    prefix = cached_prefix(tmp_path, ovn_tarball, ovs_tarball)
    (prefix / "bin").mkdir(parents=True)
    (prefix / "bin" / "half-installed").write_text("")
    assert ovn.build(ovn_tarball, ovs_tarball, tmp_path / "cache", print) == prefix
    assert ovn.is_complete(prefix) and not (prefix / "bin" / "half-installed").exists()
