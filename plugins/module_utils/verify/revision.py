# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a verification run compared, as short digests two reports can be compared by.

Pure. The intent's digest is over its content, not its text: SHA-256 of the intent as JSON with
sorted keys and no spaces, so YAML comments, key order and quoting leave it alone. The live
policies' digest is over what OVN-Kubernetes enforces of them: namespace, name, the policy-for
annotation and spec of each MultiNetworkPolicy that applies to the network, sorted by namespace
and name. Neither resourceVersion (etcd's counter: it moves with any write, a label included,
and differs between two clusters holding the same policies) nor generation (back to 1 when a
policy is deleted and created again, so two different specs can share it) says that.
"""
import hashlib
import json

from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.vocabulary import POLICY_FOR_ANNOTATION

DIGEST_LENGTH = 12


def digest(value):
    """``sha256:`` and the first 12 hex digits of the SHA-256 of ``value`` as canonical JSON."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:DIGEST_LENGTH]


def enforced(policy):
    """The part of a MultiNetworkPolicy manifest that decides what it enforces, and where."""
    meta = policy.get("metadata") or {}
    return {"namespace": meta.get("namespace"), "name": meta.get("name"),
            "policy-for": (meta.get("annotations") or {}).get(POLICY_FOR_ANNOTATION),
            "spec": policy.get("spec") or {}}


def revision(intent, policies):
    """{intent, policies, policy_count}: the intent's digest (null without one) and the live
    policies' digest and number."""
    contents = sorted((enforced(p) for p in policies), key=lambda p: (p["namespace"] or "", p["name"] or ""))
    return {"intent": None if intent is None else digest(intent), "policies": digest(contents),
            "policy_count": len(contents)}
