"""OLM simulator logic (pure): Subscription -> InstallPlan -> ClusterServiceVersion.

Mirrors what OLM's catalog and OLM operators do on OpenShift (4.15 and 4.18 alike), reduced to the lab's needs:
resolution against the PackageManifests (one CSV per channel, no upgrade graph), an InstallPlan
that waits for approval when installPlanApproval is Manual, a CSV that reaches Succeeded once the
CRDs it owns are Established, and the Subscription status fields roles wait on (state,
currentCSV, installedCSV, installPlanRef, conditions). Messages follow OLM's wording.
"""
import copy
from dataclasses import dataclass, field

from .conditions import condition, merge_conditions, stamp_updated

OPERATORS_API = "operators.coreos.com/v1alpha1"
# Package -> (its CSVs' name prefix, the Era field with their version): the catalog's current CSVs.
CATALOG_CSVS = {"kubernetes-nmstate-operator": ("kubernetes-nmstate-operator.", "nmstate_csv_version"),
                "kubevirt-hyperconverged": ("kubevirt-hyperconverged-operator.v", "virtualization_version")}


def catalog_object(document, era):
    """A redhat-operators object of lab/crds/base-objects/ as the lab profile's era (controlplane/
    profiles.py Era) has it: the index image's tag and each package's current CSV and version."""
    document = copy.deepcopy(document)
    if document["kind"] == "CatalogSource" and document["metadata"]["name"] == "redhat-operators":
        image = document["spec"]["image"]
        document["spec"]["image"] = f"{image.rpartition(':')[0]}:{era.catalog_tag}"
    elif document["kind"] == "PackageManifest" and document["metadata"]["name"] in CATALOG_CSVS:
        prefix, field_name = CATALOG_CSVS[document["metadata"]["name"]]
        version = getattr(era, field_name)
        for channel in document["status"]["channels"]:
            channel["currentCSV"] = f"{prefix}{version}"
            channel["currentCSVDesc"]["version"] = version
    return document


@dataclass
class Resolution:
    csv_name: str | None = None
    package: dict = field(default_factory=dict)
    failure: dict | None = None  # a Subscription condition explaining why nothing is installed


def resolve(subscription, operator_groups, package_manifest, catalog_source):
    """What OLM would install for `subscription`, or the condition saying why it cannot."""
    spec, name = subscription["spec"], subscription["metadata"]["name"]
    namespace = subscription["metadata"]["namespace"]
    if catalog_source is None:
        return Resolution(failure=condition(
            "CatalogSourcesUnhealthy", "True", "UnhealthyCatalogSourceFound",
            f"targeted catalogsource {spec['sourceNamespace']}/{spec['source']} missing"))
    if not operator_groups:
        return Resolution(failure=condition(
            "ResolutionFailed", "True", "NoOperatorGroup",
            f"no operator group found that is managing this namespace ({namespace})"))
    if len(operator_groups) > 1:
        return Resolution(failure=condition(
            "ResolutionFailed", "True", "TooManyOperatorGroups",
            "csv created in namespace with multiple operatorgroups, can't pick one automatically"))
    if package_manifest is None:
        return Resolution(failure=_not_satisfiable(
            f"no operators found in package {spec['name']} in the catalog referenced by "
            f"subscription {name}", name))
    status = package_manifest.get("status") or {}
    channel = spec.get("channel") or status.get("defaultChannel")
    for entry in status.get("channels") or []:
        if entry["name"] == channel:
            if spec.get("startingCSV") and spec["startingCSV"] != entry["currentCSV"]:
                return Resolution(failure=_not_satisfiable(
                    f"no operators found with name {spec['startingCSV']} in channel {channel} of "
                    f"package {spec['name']} in the catalog referenced by subscription {name}", name))
            return Resolution(csv_name=entry["currentCSV"], package=package_manifest)
    return Resolution(failure=_not_satisfiable(
        f"no operators found in channel {channel} of package {spec['name']} in the catalog "
        f"referenced by subscription {name}", name))


def _not_satisfiable(detail, subscription_name):
    return condition("ResolutionFailed", "True", "ConstraintsNotSatisfiable",
                     f"constraints not satisfiable: {detail}, subscription {subscription_name} exists")


def owner_reference(obj, controller=False):
    ref = {"apiVersion": obj["apiVersion"], "kind": obj["kind"],
           "name": obj["metadata"]["name"], "uid": obj["metadata"]["uid"]}
    if controller:
        ref.update(controller=True, blockOwnerDeletion=True)
    return ref


def new_install_plan(subscription, csv_name, name):
    approval = subscription["spec"].get("installPlanApproval") or "Automatic"
    return {
        "apiVersion": OPERATORS_API, "kind": "InstallPlan",
        "metadata": {"name": name, "namespace": subscription["metadata"]["namespace"],
                     "labels": {f"operators.coreos.com/{subscription['spec']['name']}."
                                f"{subscription['metadata']['namespace']}": ""},
                     "ownerReferences": [owner_reference(subscription)]},
        "spec": {"approval": approval, "approved": approval == "Automatic",
                 "clusterServiceVersionNames": [csv_name], "generation": 1,
                 "source": subscription["spec"]["source"],
                 "sourceNamespace": subscription["spec"]["sourceNamespace"]},
    }


def plan_for(subscription, plans, csv_name):
    """The InstallPlan of this Subscription that installs csv_name, if any."""
    uid = subscription["metadata"]["uid"]
    for plan in plans:
        owners = {ref.get("uid") for ref in plan["metadata"].get("ownerReferences") or []}
        if uid in owners and csv_name in plan["spec"].get("clusterServiceVersionNames", []):
            return plan
    return None


def plan_reference(plan):
    metadata = plan["metadata"]
    return {"apiVersion": OPERATORS_API, "kind": "InstallPlan", "name": metadata["name"],
            "namespace": metadata["namespace"], "uid": metadata["uid"],
            "resourceVersion": metadata.get("resourceVersion", "")}


def subscription_status(subscription, resolution, plan, csv, now):
    """The Subscription status OLM reports for this stage of the install; lastUpdated (required
    by the CRD) moves only when something else changes."""
    return stamp_updated(subscription.get("status"), _subscription_status(subscription, resolution, plan, csv, now), now)


def _subscription_status(subscription, resolution, plan, csv, now):
    previous = (subscription.get("status") or {}).get("conditions")
    healthy = condition("CatalogSourcesUnhealthy", "False", "AllCatalogSourcesHealthy",
                        "all available catalogsources are healthy")
    if resolution.failure is not None:
        conditions = [resolution.failure]
        if resolution.failure["type"] != "CatalogSourcesUnhealthy":
            conditions.insert(0, healthy)
        return {"state": "", "conditions": merge_conditions(previous, conditions, now)}
    status = {"currentCSV": resolution.csv_name, "conditions": [healthy]}
    if plan is not None:
        status["installPlanRef"] = plan_reference(plan)
        status["installplan"] = {"apiVersion": OPERATORS_API, "kind": "InstallPlan",
                                 "name": plan["metadata"]["name"], "uuid": plan["metadata"]["uid"]}
        status["installPlanGeneration"] = plan["spec"].get("generation", 1)
    if csv is not None and (csv.get("status") or {}).get("phase") == "Succeeded":
        status.update(state="AtLatestKnown", installedCSV=resolution.csv_name)
    elif plan is not None and not plan["spec"].get("approved"):
        status["state"] = "UpgradePending"
        status["conditions"].append(condition("InstallPlanPending", "True", "RequiresApproval", ""))
    else:
        status["state"] = "UpgradePending"
        status["conditions"].append(condition("InstallPlanPending", "True", "Installing", ""))
    status["conditions"] = merge_conditions(previous, status["conditions"], now)
    return status


def install_plan_status(plan, installed, now):
    """Phase and Installed condition; catalogSources (required by the CRD) names the catalog
    the plan resolved from, as OLM's catalog operator records it."""
    previous = (plan.get("status") or {}).get("conditions")
    if not plan["spec"].get("approved"):
        phase, installed_condition = "RequiresApproval", condition("Installed", "False", "RequiresApproval", "")
    elif not installed:
        phase, installed_condition = "Installing", condition("Installed", "Unknown", "Installing", "")
    else:
        phase, installed_condition = "Complete", condition("Installed", "True", "", "")
    return {"phase": phase, "catalogSources": [plan["spec"]["source"]],
            "conditions": merge_conditions(previous, [installed_condition], now)}


def new_csv(plan, package_manifest, csv_name, crds):
    """The CSV OLM creates when the plan runs; it owns the operator's CRDs."""
    channel_desc = {}
    for entry in (package_manifest.get("status") or {}).get("channels") or []:
        if entry["currentCSV"] == csv_name:
            channel_desc = entry.get("currentCSVDesc") or {}
    owned = [{"name": crd["metadata"]["name"], "kind": crd["spec"]["names"]["kind"],
              "version": _storage_version(crd)} for crd in crds]
    return {
        "apiVersion": OPERATORS_API, "kind": "ClusterServiceVersion",
        "metadata": {"name": csv_name, "namespace": plan["metadata"]["namespace"],
                     "labels": dict(plan["metadata"].get("labels") or {}),
                     "annotations": {"olm.operatorNamespace": plan["metadata"]["namespace"]}},
        "spec": {"displayName": channel_desc.get("displayName", csv_name),
                 "version": channel_desc.get("version", ""),
                 "installModes": channel_desc.get("installModes", []),
                 "customresourcedefinitions": {"owned": owned},
                 "install": {"strategy": "deployment"}},
    }


def _storage_version(crd):
    return next(v["name"] for v in crd["spec"]["versions"] if v.get("storage"))


def csv_status(csv, established, now):
    """Succeeded once every owned CRD is Established; until then InstallReady/Installing."""
    previous = csv.get("status") or {}
    owned = [c["name"] for c in csv["spec"].get("customresourcedefinitions", {}).get("owned", [])]
    missing = [name for name in owned if not established.get(name)]
    if missing:
        phase, reason, message = ("Pending", "RequirementsNotMet",
                                  "one or more requirements couldn't be found")
    else:
        phase, reason, message = ("Succeeded", "InstallSucceeded",
                                  "install strategy completed with no errors")
    if previous.get("phase") == phase:
        return dict(previous)
    history = list(previous.get("conditions") or [])
    history.append({"phase": phase, "reason": reason, "message": message,
                    "lastTransitionTime": now, "lastUpdateTime": now})
    return {"phase": phase, "reason": reason, "message": message, "lastTransitionTime": now,
            "lastUpdateTime": now, "conditions": history,
            "requirementStatus": [_crd_requirement(name, name not in missing) for name in owned]}


def _crd_requirement(name, established):
    """One CRD entry of status.requirementStatus, worded as OLM's requirementStatus for CRDs
    (operator-framework/operator-lifecycle-manager pkg/controller/operators/olm/requirements.go)."""
    entry = {"group": "apiextensions.k8s.io", "version": "v1", "kind": "CustomResourceDefinition", "name": name}
    if established:
        return {**entry, "status": "Present", "message": "CRD is present and Established condition is true"}
    return {**entry, "status": "NotPresent", "message": "CRD is not present"}
