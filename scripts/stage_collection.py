"""Stage the collection under <root>/ansible_collections/ocpvirt/multinet for ansible-test.

ansible-test only works from a directory laid out as ansible_collections/<ns>/<name>, and it
walks every file it finds there. This script copies what the collection is made of (the files
git tracks plus untracked files that are not ignored, minus galaxy.yml's build_ignore, so the
lab, benchmarks and caches are not checked as if they shipped) and links the collections that
galaxy.yml depends on beside it, found where ansible-galaxy finds them.

Usage: python scripts/stage_collection.py [--root DIR]   (prints the staged collection path)
"""
import argparse
import fnmatch
import json
import os
import shutil
import subprocess
import sys

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_ROOT = os.path.join(REPO, ".cache")


def read_galaxy(repo):
    with open(os.path.join(repo, "galaxy.yml"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def collection_files(repo):
    """Tracked plus untracked-but-not-ignored files that exist in the work tree."""
    listing = subprocess.run(
        ["git", "-C", repo, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        check=True, capture_output=True,
    ).stdout.decode()
    paths = sorted({path for path in listing.split("\0") if path})
    return [path for path in paths if os.path.isfile(os.path.join(repo, path))]


def is_build_ignored(path, patterns):
    """True when the path or one of its parent directories matches a build_ignore pattern,
    which is how ansible-galaxy applies them while walking the tree."""
    parts = path.split("/")
    prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    return any(fnmatch.fnmatch(prefix, pattern) for prefix in prefixes for pattern in patterns)


def installed_collections():
    """Map 'ns.name' -> directory, as ansible-galaxy resolves them (first path wins)."""
    listing = subprocess.run(
        ["ansible-galaxy", "collection", "list", "--format", "json"],
        check=True, capture_output=True, text=True,
    ).stdout
    found = {}
    for search_path, collections in json.loads(listing).items():
        for fqcn in collections:
            namespace, name = fqcn.split(".")
            found.setdefault(fqcn, os.path.join(search_path, namespace, name))
    return found


def copy_files(repo, paths, destination):
    for path in paths:
        target = os.path.join(destination, path)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(os.path.join(repo, path), target)


def mark_content_root(destination):
    """ansible-test walks up to the nearest .git to list files; without one of its own the copy
    would resolve to this repository, where .cache is ignored, and every target would be skipped."""
    subprocess.run(["git", "init", "--quiet", destination], check=True)


def link_dependencies(dependencies, collections_dir):
    available = installed_collections()
    missing = sorted(set(dependencies) - set(available))
    if missing:
        raise SystemExit(f"dependencies not installed: {', '.join(missing)} (install the ansible package)")
    for fqcn in dependencies:
        namespace, name = fqcn.split(".")
        link = os.path.join(collections_dir, namespace, name)
        os.makedirs(os.path.dirname(link), exist_ok=True)
        os.symlink(available[fqcn], link)


def stage(repo, root):
    galaxy = read_galaxy(repo)
    collections_dir = os.path.join(root, "ansible_collections")
    destination = os.path.join(collections_dir, galaxy["namespace"], galaxy["name"])
    # A clean tree every time: a file deleted in the repo must not linger in the copy.
    shutil.rmtree(collections_dir, ignore_errors=True)
    patterns = galaxy.get("build_ignore") or []
    paths = [path for path in collection_files(repo) if not is_build_ignored(path, patterns)]
    copy_files(repo, paths, destination)
    mark_content_root(destination)
    link_dependencies(galaxy.get("dependencies") or {}, collections_dir)
    return destination


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=DEFAULT_ROOT, help="directory that will hold ansible_collections/")
    args = parser.parse_args(argv)
    print(stage(REPO, os.path.abspath(args.root)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
