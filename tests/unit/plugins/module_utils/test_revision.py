"""revision: digests of what a run compared, stable under what does not change enforcement."""
import copy
import hashlib
import json
import re

from ansible_collections.ocpvirt.multinet.plugins.module_utils.verify.revision import digest, revision
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.vocabulary import POLICY_FOR_ANNOTATION

INTENT = {"name": "shop", "namespace": "shop", "network": "corp-lan",
          "workloads": {"web": {"ips": ["10.44.0.10"]}, "db": {"ips": ["10.44.0.12"]}},
          "allow": [{"from": "web", "to": "db", "ports": ["tcp/5432"]}]}


def policy(name, spec, **meta):
    metadata = {"name": name, "namespace": "shop", "annotations": {POLICY_FOR_ANNOTATION: "shop/corp-lan"}}
    metadata.update(meta)
    return {"apiVersion": "k8s.cni.cncf.io/v1beta1", "kind": "MultiNetworkPolicy", "metadata": metadata, "spec": spec}


DENY = policy("deny", {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]})
ALLOW = policy("allow-db", {"podSelector": {"matchLabels": {"app": "db"}}, "policyTypes": ["Ingress"],
                            "ingress": [{"from": [{"ipBlock": {"cidr": "10.44.0.10/32"}}]}]})


def test_a_digest_is_sha256_of_the_canonical_json_cut_to_12_digits():
    canonical = json.dumps(INTENT, sort_keys=True, separators=(",", ":")).encode()
    assert digest(INTENT) == "sha256:" + hashlib.sha256(canonical).hexdigest()[:12]
    assert re.fullmatch(r"sha256:[0-9a-f]{12}", digest(INTENT))


def test_the_intent_digest_ignores_key_order_but_not_content():
    reordered = dict(reversed(list(INTENT.items())))
    assert revision(reordered, [])["intent"] == revision(INTENT, [])["intent"]
    changed = copy.deepcopy(INTENT)
    changed["allow"][0]["ports"] = ["tcp/5433"]
    assert revision(changed, [])["intent"] != revision(INTENT, [])["intent"]
    assert revision(None, [])["intent"] is None


def test_the_policies_digest_ignores_order_and_bookkeeping_metadata():
    plain = revision(INTENT, [DENY, ALLOW])
    touched = [policy("allow-db", ALLOW["spec"], resourceVersion="98765", generation=3, uid="u-1",
                      labels={"team": "shop"}), DENY]
    assert revision(INTENT, touched)["policies"] == plain["policies"]
    assert plain["policy_count"] == 2


def test_the_policies_digest_follows_spec_name_and_network():
    plain = revision(INTENT, [DENY, ALLOW])["policies"]
    wider = policy("allow-db", dict(ALLOW["spec"], ingress=[{"from": [{"ipBlock": {"cidr": "10.44.0.0/24"}}]}]))
    renamed = policy("allow-postgres", ALLOW["spec"])
    elsewhere = policy("allow-db", ALLOW["spec"], annotations={POLICY_FOR_ANNOTATION: "shop/other-lan"})
    for changed in (wider, renamed, elsewhere):
        assert revision(INTENT, [DENY, changed])["policies"] != plain
    assert revision(INTENT, [DENY])["policies"] != plain
