"""Stand-ins for OpenShift's cluster-version operator, network operator and marketplace (pure).

Network operator: the `cluster` Network's status gets observedGeneration = metadata.generation
and Available/Progressing/Degraded conditions whose Available message states the effective
`useMultiNetworkPolicy`. A wait observes a change took effect when status.observedGeneration
equals metadata.generation and the Available message names the new value.
"""
from .conditions import condition, merge_conditions

RELEASE_IMAGE = ("quay.io/openshift-release-dev/ocp-release@sha256:"
                 "2a6f7b4f8bd7c5ef5ef2aa0b3d2bcd6a6d9e8c3f2f5a5fb0b2b7c5a9d8e7f6a1")


def multi_network_policy_enabled(network):
    return bool((network.get("spec") or {}).get("useMultiNetworkPolicy"))


def network_status(network, now):
    enabled = multi_network_policy_enabled(network)
    detail = ("useMultiNetworkPolicy=true: MultiNetworkPolicy is enforced on secondary networks"
              if enabled else "useMultiNetworkPolicy=false: MultiNetworkPolicy is not enforced")
    previous = (network.get("status") or {}).get("conditions")
    desired = [condition("Available", "True", "AsExpected", detail),
               condition("Progressing", "False", "AsExpected", ""),
               condition("Degraded", "False", "AsExpected", "")]
    return {"observedGeneration": network["metadata"].get("generation", 1), "readyReplicas": 0,
            "conditions": merge_conditions(previous, desired, now)}


def cluster_version_status(cluster_version, now, version, channel):
    """What the cluster-version operator reports for a cluster installed at `version` (the lab
    profile's, controlplane/profiles.py); valid for the 4.15 and the 4.18 ClusterVersion CRD."""
    previous = cluster_version.get("status") or {}
    history = previous.get("history") or [{
        "state": "Completed", "version": version, "image": RELEASE_IMAGE, "verified": False,
        "startedTime": now, "completionTime": now}]
    desired = [condition("Available", "True", "", f"Done applying {version}"),
               condition("Failing", "False", "", ""),
               condition("Progressing", "False", "", f"Cluster version is {version}"),
               condition("RetrievedUpdates", "False", "NoChannel", "The lab cluster has no update service")]
    return {"desired": {"version": version, "image": RELEASE_IMAGE, "channels": [channel]},
            "history": history, "observedGeneration": cluster_version["metadata"].get("generation", 1),
            "versionHash": "lab-simulated", "availableUpdates": None,
            "conditions": merge_conditions(previous.get("conditions"), desired, now)}


def catalog_source_status(catalog_source, now):
    previous = (catalog_source.get("status") or {}).get("connectionState") or {}
    name, namespace = catalog_source["metadata"]["name"], catalog_source["metadata"]["namespace"]
    return {"connectionState": {"address": f"{name}.{namespace}.svc:50051", "lastObservedState": "READY",
                                "lastConnect": previous.get("lastConnect", now)}}
