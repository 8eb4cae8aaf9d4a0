"""OVN v24.09.3 with the OVS its submodule pins (3.4.x), built from the upstream source tarballs
(../shared/upstream-src/SOURCES.md) for the nodes of the 4.18 profile: ovnkube at 6c366bb49 needs
NB schema 7.6.0 and SB 20.37.0, which Debian 12's OVN 23.03 does not have.

`build` unpacks both tarballs (OVS into OVN's `ovs/`), builds and installs OVS, then OVN against
it, into <cache>/ovn-<digest of both tarballs>/ (the prefix is compiled in, so the build installs
there directly and marks the tree complete last). Pure functions except `build`.
"""
import hashlib
import os
import shutil
import subprocess
import time
from pathlib import Path

from .ovnkube import SOURCE_ENV, sha256_file

VERSION = "24.09.3"
OVN_TARBALL = f"ovn-v{VERSION}.tar.gz"
OVS_TARBALL = "ovs-533ff75523eb.tar.gz"
# Written last: a prefix without it is a build that was interrupted, and is built again.
COMPLETE = ".complete"
# Debian packages the build needs beside build-essential (SOURCES.md).
BUILD_DEPS = ("autoconf", "automake", "libtool", "libcap-ng-dev", "libunbound-dev", "libunwind-dev",
              "pkg-config", "libssl-dev")
# The test programs are not needed and take a third of the build.
MAKE_ARGS = ("-j2", "noinst_PROGRAMS=")
# install-strip: the programs without their debug info (264 MB installed with it).


class OvnBuildError(RuntimeError):
    """One line for the user: the path concerned and what to do."""


def tarballs(environ=None, repo_dir=None):
    """(OVN tarball, OVS tarball) in $OCPVIRT_UPSTREAM_SRC, else <repo>/../shared/upstream-src."""
    environ = os.environ if environ is None else environ
    folder = Path(environ.get(SOURCE_ENV) or Path(repo_dir).parent / "shared" / "upstream-src").resolve()
    return folder / OVN_TARBALL, folder / OVS_TARBALL


def combined_digest(ovn_sha256, ovs_sha256):
    """One digest of both sources, as `sha256sum` would list them: either changing rebuilds."""
    listing = f"{ovn_sha256}  {OVN_TARBALL}\n{ovs_sha256}  {OVS_TARBALL}\n"
    return hashlib.sha256(listing.encode()).hexdigest()


def prefix_path(cache_root, digest):
    return Path(cache_root) / f"ovn-{digest[:16]}"


def is_complete(prefix):
    return (Path(prefix) / COMPLETE).is_file()


def nice(argv):
    # Minutes of both cores of a shared machine.
    return ["nice", "-n", "19", *argv]


def build_steps(source_dir, prefix):
    """[(working directory, argv)] that build and install OVS, then OVN against OVS's build tree."""
    ovn_dir, ovs_dir = Path(source_dir), Path(source_dir) / "ovs"
    common = [f"--prefix={prefix}", "--enable-silent-rules"]
    steps = []
    for directory, configure in ((ovs_dir, common),
                                 (ovn_dir, [*common, f"--with-ovs-source={ovs_dir}", f"--with-ovs-build={ovs_dir}"])):
        steps += [(directory, nice(["./boot.sh"])),
                  (directory, nice(["./configure", *configure])),
                  (directory, nice(["make", *MAKE_ARGS])),
                  (directory, nice(["make", "install-strip", "noinst_PROGRAMS="]))]
    return steps


def missing_tarball_message(path):
    return (f"{path}: not found; put {path.name} there (see ../shared/upstream-src/SOURCES.md) "
            f"or set {SOURCE_ENV} to the folder that holds it")


def unpack(ovn_tarball, ovs_tarball, work):
    """The OVN tree in `work` with OVS's tree as its `ovs/` submodule; its path."""
    for source in (ovn_tarball, ovs_tarball):
        done = subprocess.run(["tar", "-xzf", str(source), "-C", str(work)], capture_output=True, text=True)
        if done.returncode != 0:
            raise OvnBuildError(f"{source}: cannot unpack it ({done.stderr.strip()}); replace it with the file "
                                f"SOURCES.md names (sha256 there)")
    ovn_dir = next((d for d in work.glob("ovn-*") if (d / "northd").is_dir()), None)
    ovs_dir = next((d for d in work.glob("ovs-*") if (d / "vswitchd").is_dir()), None)
    if ovn_dir is None:
        raise OvnBuildError(f"{ovn_tarball}: holds no OVN tree (no ovn-*/northd/); replace it with the file "
                            f"SOURCES.md names (sha256 there)")
    if ovs_dir is None:
        raise OvnBuildError(f"{ovs_tarball}: holds no OVS tree (no ovs-*/vswitchd/); replace it with the file "
                            f"SOURCES.md names (sha256 there)")
    (ovn_dir / "ovs").mkdir(exist_ok=True)
    for entry in ovs_dir.iterdir():
        entry.rename(ovn_dir / "ovs" / entry.name)
    return ovn_dir


def build(ovn_tarball, ovs_tarball, cache_root, log):
    """The prefix of the cached OVN/OVS build from both tarballs; builds it first when absent."""
    for source in (ovn_tarball, ovs_tarball):
        if not Path(source).is_file():
            raise OvnBuildError(missing_tarball_message(Path(source)))
    prefix = prefix_path(cache_root, combined_digest(sha256_file(ovn_tarball), sha256_file(ovs_tarball)))
    if is_complete(prefix):
        return prefix
    shutil.rmtree(prefix, ignore_errors=True)  # an interrupted build's leftovers
    work, build_log = prefix / "src", prefix / "build.log"
    work.mkdir(parents=True)
    log(f"building OVN {VERSION} and OVS from {ovn_tarball} and {ovs_tarball} into {prefix} "
        f"(minutes; output: {build_log})")
    started = time.monotonic()
    try:
        source_dir = unpack(Path(ovn_tarball), Path(ovs_tarball), work)
        with open(build_log, "w") as out:
            for directory, argv in build_steps(source_dir, prefix):
                out.write(f"$ cd {directory} && {' '.join(argv)}\n")
                out.flush()
                result = subprocess.run(argv, cwd=directory, stdout=out, stderr=subprocess.STDOUT)
                if result.returncode != 0:
                    raise OvnBuildError(f"`{' '.join(argv[3:])}` in {directory} failed (exit {result.returncode}); "
                                        f"read {build_log}, install what it lacks (Debian: {' '.join(BUILD_DEPS)}), "
                                        f"then run `labctl build-ovn` again")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    (prefix / COMPLETE).write_text(f"OVN {VERSION} from {Path(ovn_tarball).name} and {Path(ovs_tarball).name}\n")
    log(f"built OVN {VERSION} and OVS in {time.monotonic() - started:.0f}s")
    return prefix
