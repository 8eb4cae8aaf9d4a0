# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The API server's bookkeeping in an object, which a --diff of this collection leaves out.

Pure. Every object the API server stores carries fields no one of us wrote and that change on
every write (managedFields, resourceVersion, generation) or never matter to a change (uid,
creationTimestamp), and the status its controllers write; kubernetes.core's diff shows them
whenever they differ, burying the field a task changed.
"""
import copy

SERVER_FIELDS = (("metadata", "managedFields"), ("metadata", "uid"), ("metadata", "creationTimestamp"),
                 ("metadata", "resourceVersion"), ("metadata", "generation"), ("status",))


def without_server_fields(obj):
    """A copy of `obj` without SERVER_FIELDS; a metadata left empty is dropped too."""
    if not isinstance(obj, dict):
        return obj
    kept = copy.deepcopy(obj)
    for path in SERVER_FIELDS:
        parent = kept
        for key in path[:-1]:
            parent = parent.get(key) if isinstance(parent, dict) else None
        if isinstance(parent, dict):
            parent.pop(path[-1], None)
    if kept.get("metadata") == {}:
        del kept["metadata"]
    return kept


def diff_without_server_fields(diff):
    """A task's ``diff`` ({before, after} objects, or a list of them) without SERVER_FIELDS."""
    if isinstance(diff, list):
        return [diff_without_server_fields(item) for item in diff]
    if not isinstance(diff, dict):
        return diff
    return dict(diff, **{side: without_server_fields(diff[side]) for side in ("before", "after") if side in diff})
