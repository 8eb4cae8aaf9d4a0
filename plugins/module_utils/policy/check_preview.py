# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check mode across stages: what a later stage can preview when an earlier stage of the same
run would create what it needs.

In check mode nothing is written, so a namespace a stage would create, or the CRDs of an
operator the run would install, are still missing when a later stage sends its objects to the
API server's dry run: the server answers 404 for the namespace, discovery finds no such kind,
and the preview fails where the real run would not. So each stage records in the fact
``server_dry_run_would_create`` what it would create (the keys of ``PREVIEW_KEYS``), and an object that
needs one of those is listed as would-be-created, with the reason, instead of being sent.

Pure: no Ansible import, no I/O.
"""

from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.errors import MultinetError
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.vocabulary import split_nad_ref

# new_namespaces: namespaces that do not exist and that this run creates; new_api_groups: API
# groups whose CRDs do not exist and that an operator this run installs serves;
# network_attachments: '<namespace>/<name>' of the NADs this run makes exist.
PREVIEW_KEYS = ("new_namespaces", "new_api_groups", "network_attachments")


def check_preview_record(preview):
    """The record as given, checked: a dict of PREVIEW_KEYS, each a list of non-empty strings,
    network attachments as '<namespace>/<name>'. Missing keys read as empty lists."""
    if preview is None:
        preview = {}
    if not isinstance(preview, dict):
        raise MultinetError("must be a mapping of {0}".format(", ".join(PREVIEW_KEYS)), "server_dry_run_would_create", preview)
    unknown = sorted(set(preview) - set(PREVIEW_KEYS))
    if unknown:
        raise MultinetError("unknown key(s) {0}; known: {1}".format(", ".join(unknown), ", ".join(PREVIEW_KEYS)),
                            "server_dry_run_would_create", preview)
    record = {}
    for key in PREVIEW_KEYS:
        values = preview.get(key) or []
        field = "server_dry_run_would_create." + key
        if not isinstance(values, list) or not all(isinstance(value, str) and value for value in values):
            raise MultinetError("must be a list of names", field, values)
        if key == "network_attachments":
            for value in values:
                if split_nad_ref(value) is None:
                    raise MultinetError("must be '<namespace>/<nad name>'", field, value)
        record[key] = values
    return record


def api_group(api_version):
    """'nmstate.io/v1' -> 'nmstate.io'; the core group ('v1') is ''."""
    return api_version.rpartition("/")[0]


def object_label(manifest):
    """'Kind namespace/name', or 'Kind name' for a cluster-scoped object."""
    metadata = manifest.get("metadata") or {}
    where = "{0}/{1}".format(metadata["namespace"], metadata.get("name")) if metadata.get("namespace") \
        else metadata.get("name")
    return "{0} {1}".format(manifest.get("kind"), where)


def deferral(manifest, record):
    """Why the API server cannot check `manifest` before this run has created what it needs
    (the end of 'cannot be previewed until ...'), or None when it can."""
    group = api_group(manifest.get("apiVersion") or "")
    if group and group in record["new_api_groups"]:
        return ("its CRD exists (API group {0}, served by an operator this run installs first; "
                "the real run checks it with the API server)".format(group))
    namespace = (manifest.get("metadata") or {}).get("namespace")
    if namespace and namespace in record["new_namespaces"]:
        return "namespace {0} exists (this run creates it first; the real run checks it with the API server)".format(
            namespace)
    return None


def split_manifests(manifests, preview, check_mode=True):
    """{'previewable': manifests the API server can check now, 'deferred': [{'object', 'reason'}]
    for the others}, in the given order. Outside check mode everything is previewable: the
    earlier stages really created what the record lists."""
    record = check_preview_record(preview)
    result = {"previewable": [], "deferred": []}
    for manifest in manifests:
        reason = deferral(manifest, record) if check_mode else None
        if reason is None:
            result["previewable"].append(manifest)
        else:
            result["deferred"].append({"object": object_label(manifest), "reason": reason})
    return result
