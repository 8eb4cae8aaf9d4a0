# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one change this collection makes to network.operator.openshift.io/cluster, as a JSON patch.

Pure: the Network object as read in, RFC 6902 operations out. The patch can only set
``spec.useMultiNetworkPolicy`` and our record annotation: every other operation is a ``test``,
so the server applies it only while ``spec`` (every field of it) and the annotations are what
we read, and refuses it (nothing written) when anything else changed in between. RBAC cannot
limit a patch to fields; the ValidatingAdmissionPolicy of ``rbac.py`` does that for the
automation identity on the server side.
"""

from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.errors import MultinetError

SWITCH_FIELD = "useMultiNetworkPolicy"
# spec.useMultiNetworkPolicy as it was before this collection first set it ("true", "false" or "unset").
RECORD_ANNOTATION = "multinet.ocpvirt.io/previous-use-multi-network-policy"
RECORD_VALUES = ("true", "false", "unset")
# switch_patch's `record` when the record annotation is to be dropped.
DROP = object()


def _pointer(*parts):
    """An RFC 6901 JSON pointer ('~' and '/' escaped in each part)."""
    return "".join("/" + part.replace("~", "~0").replace("/", "~1") for part in parts)


def switch_patch(network, enabled, record=None):
    """The operations that set the switch to `enabled` (True, False, or None to remove the field,
    as it was unset) and the record to `record` (one of RECORD_VALUES, DROP, or None to leave it).

    The first operations test that ``spec`` and the annotations are those of `network`; [] when
    nothing would change.
    """
    if enabled not in (True, False, None):
        raise MultinetError("must be true, false or null (unset)", "spec." + SWITCH_FIELD, enabled)
    if record is not None and record is not DROP and record not in RECORD_VALUES:
        raise MultinetError("must be one of " + ", ".join(RECORD_VALUES), RECORD_ANNOTATION, record)
    meta = network.get("metadata") or {}
    spec = network.get("spec")
    annotations = meta.get("annotations")
    if not isinstance(spec, dict):
        raise MultinetError("the Network has no spec object to patch", "spec", spec)
    changes = []
    if enabled is None and SWITCH_FIELD in spec:
        changes.append({"op": "remove", "path": _pointer("spec", SWITCH_FIELD)})
    elif enabled is not None and spec.get(SWITCH_FIELD) is not enabled:
        changes.append({"op": "add", "path": _pointer("spec", SWITCH_FIELD), "value": enabled})
    if record is DROP and RECORD_ANNOTATION in (annotations or {}):
        changes.append({"op": "remove", "path": _pointer("metadata", "annotations", RECORD_ANNOTATION)})
    elif record not in (None, DROP) and (annotations or {}).get(RECORD_ANNOTATION) != record:
        changes.append({"op": "add", "path": _pointer("metadata", "annotations", RECORD_ANNOTATION), "value": record}
                       if annotations is not None else
                       {"op": "add", "path": _pointer("metadata", "annotations"), "value": {RECORD_ANNOTATION: record}})
    if not changes:
        return []
    # A test of null passes on a missing member (kube-apiserver's JSON patch, evanphx/json-patch),
    # so an annotations map added since the read fails the patch rather than being replaced.
    return [{"op": "test", "path": _pointer("spec"), "value": spec},
            {"op": "test", "path": _pointer("metadata", "annotations"), "value": annotations}] + changes
