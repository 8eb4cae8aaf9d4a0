"""Which CustomResourceDefinitions the lab installs (pure, apart from reading YAML files).

The lab prefers the CRDs OpenShift and OpenShift Virtualization of the lab profile's release really
install, kept outside the project in `<repo>/../shared/upstream-crds/` (4.15) or
`upstream-crds-4.18/` (provenance in their SOURCES.md; `$OCPVIRT_UPSTREAM_CRDS` points elsewhere). The lab's own CRDs in `lab/crds/` say *which* kinds
exist and when: `crds/base/` at `labctl up`, `crds/operators/<package>/` when the OLM simulator
installs that package's CSV. For each of those kinds the upstream definition is used when the
upstream folder has one; the lab's own is kept only for kinds with no CRD upstream
(PackageManifest, an aggregated API served by OLM's package-server). Upstream CRDs that no
operator package claims are installed with the base set. Without the upstream folder the lab
falls back to its own CRDs and says so.
"""
import os
from pathlib import Path

import yaml

UPSTREAM_ENV = "OCPVIRT_UPSTREAM_CRDS"
LAB_CRDS_DIR = Path(__file__).resolve().parent.parent / "crds"
REPO_DIR = LAB_CRDS_DIR.parent.parent


def upstream_location(environ=None, repo_dir=REPO_DIR, folder="upstream-crds"):
    """Where the upstream CRDs are looked for: $OCPVIRT_UPSTREAM_CRDS or <repo>/../shared/<folder>
    (the lab profile's: upstream-crds for 4.15, upstream-crds-4.18)."""
    environ = os.environ if environ is None else environ
    return Path(environ.get(UPSTREAM_ENV) or repo_dir.parent / "shared" / folder).resolve()


def upstream_dir(environ=None, repo_dir=REPO_DIR, folder="upstream-crds"):
    """The upstream CRD folder, or None when it does not exist (the lab then uses its own)."""
    location = upstream_location(environ, repo_dir, folder)
    return location if location.is_dir() else None


def crds_in(directory):
    """CRD name -> CRD document for every CRD in the YAML files under `directory`."""
    found = {}
    for path in sorted(Path(directory).rglob("*")) if Path(directory).is_dir() else []:
        if path.suffix in (".yaml", ".yml") and path.is_file():
            for document in yaml.safe_load_all(path.read_text()):
                if document and document.get("kind") == "CustomResourceDefinition":
                    found[document["metadata"]["name"]] = document
    return found


def _operator_crd_names(lab_dir):
    return {name for package in (Path(lab_dir) / "operators").glob("*")
            for name in crds_in(package)}


def base_crds(upstream, lab_dir=LAB_CRDS_DIR):
    """(CRD documents for `labctl up`, names of the lab's own among them).

    `upstream` is the upstream folder, or None for the lab's own set."""
    own = crds_in(Path(lab_dir) / "base")
    if upstream is None:
        return list(own.values()), sorted(own)
    real = crds_in(upstream)
    claimed = _operator_crd_names(lab_dir)
    chosen = [real[name] for name in sorted(real) if name not in claimed]
    kept = sorted(name for name in own if name not in real)
    return chosen + [own[name] for name in kept], kept


def operator_crds(package, upstream, lab_dir=LAB_CRDS_DIR):
    """The CRDs the OLM simulator installs with `package`'s CSV (upstream definitions if known)."""
    own = crds_in(Path(lab_dir) / "operators" / package)
    real = crds_in(upstream) if upstream is not None else {}
    return [real.get(name, document) for name, document in own.items()]


def describe(upstream, kept, looked_at, release="4.15"):
    """One line for `labctl status`: which CRD set is installed."""
    if upstream is None:
        return f"lab's own (lab/crds/): no upstream CRD folder at {looked_at}"
    own = f"; lab's own for {', '.join(kept)} (no CRD upstream)" if kept else ""
    return f"upstream OpenShift {release} ({upstream}){own}"
