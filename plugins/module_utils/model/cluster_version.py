# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The OpenShift version of a cluster, from its ClusterVersion `version` (config.openshift.io/v1).

Pure parsing. `status.history` lists updates newest first, each `Completed` or `Partial`; while an
update runs, `status.desired.version` is already the target but the nodes still run the old
release's OVN-Kubernetes, so the version that counts is the newest `Completed` one, and
`desired` only when there is no history (openshift/api config/v1 types_cluster_version.go).
"""
import re

_RELEASE = re.compile(r"^v?(\d+)\.(\d+)(?:[.-]|$)")


def openshift_version(value):
    """The version string ("4.18.3") of a ClusterVersion object, or `value` itself when it is a
    version string (given by the user where no cluster can be read); None when unknown."""
    if isinstance(value, str):
        return value.strip() or None
    if not isinstance(value, dict):
        return None
    status = value.get("status") or {}
    for entry in status.get("history") or []:
        if isinstance(entry, dict) and entry.get("state") == "Completed" and entry.get("version"):
            return str(entry["version"])
    if not status.get("history"):
        return (status.get("desired") or {}).get("version") or None
    return None


def release(version):
    """(major, minor) of a version string such as "4.18.3" or "4.19.0-rc.2", or None."""
    found = _RELEASE.match(version or "")
    return (int(found.group(1)), int(found.group(2))) if found else None
