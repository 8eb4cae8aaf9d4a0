"""NMState operator and handler simulator logic (pure).

A policy (NNCP) is "applied" on every matching node by validating its desiredState against the
node's current state (kept in the node's NodeNetworkState) and, when valid, merging it in. As
with kubernetes-nmstate, deleting a policy does not undo what it applied; a policy with
`state: absent` does. Validation covers what the collection can get wrong: NICs, bridge ports,
VLAN/bond bases and OVN bridge-mapping bridges that the node does not have. Condition types,
reasons and the policy messages follow kubernetes-nmstate (pkg/policyconditions); enactment
failure messages imitate the handler's wrapping of an nmstatectl error.
"""
import copy

from .conditions import condition, merge_conditions

NMSTATE_API = "nmstate.io/v1"
NNCE_API = "nmstate.io/v1beta1"
POLICY_LABEL = "nmstate.io/policy"
NODE_LABEL = "nmstate.io/node"
NMSTATECTL_TIMEOUT = 480

ENACTMENT_TYPES = ("Failing", "Available", "Progressing", "Pending", "Aborted")


def nmstate_status(nmstate, now):
    """The NMState CR named `nmstate` deploys the handler; other names are ignored by the operator."""
    previous = (nmstate.get("status") or {}).get("conditions")
    desired = [condition("Available", "True", "SuccessfullyDeployed", "NMState is deployed (simulated handler)"),
               condition("Progressing", "False", "SuccessfullyDeployed", ""),
               condition("Degraded", "False", "SuccessfullyDeployed", "")]
    return {"conditions": merge_conditions(previous, desired, now, ("lastHeartbeatTime", "lastTransitionTime"))}


def matches(node_selector, node_labels):
    return all(node_labels.get(key) == value for key, value in (node_selector or {}).items())


def node_selector(policy):
    return (policy.get("spec") or {}).get("nodeSelector") or {}


def _interfaces_by_name(state):
    names = {}
    for iface in state.get("interfaces") or []:
        names.setdefault(iface["name"], []).append(iface)
    return names


def _has_type(ifaces, *types):
    return any(iface.get("type") in types for iface in ifaces)


def _ports(iface):
    if iface.get("type") in ("ovs-bridge", "linux-bridge"):
        return [p["name"] for p in (iface.get("bridge") or {}).get("port") or [] if "name" in p]
    if iface.get("type") == "bond":
        aggregation = iface.get("link-aggregation") or {}
        return list(aggregation.get("port") or aggregation.get("slaves") or [])
    return []


def validate(desired, current):
    """None when nmstate would apply `desired` on a node in state `current`, else nmstate's error."""
    existing = _interfaces_by_name(current)
    wanted = [i for i in desired.get("interfaces") or [] if i.get("state", "up") != "absent"]
    declared = {i["name"]: i for i in wanted}
    known = set(existing) | set(declared)
    for iface in wanted:
        name, kind = iface["name"], iface.get("type")
        if kind == "ethernet" and not _has_type(existing.get(name, []), "ethernet"):
            return f"InvalidArgument: Failed to find interface {name} with type ethernet: no such NIC on the node"
        for port in _ports(iface):
            if port == name and kind == "ovs-bridge":
                continue  # the bridge's own internal port
            if port not in known:
                return (f"InvalidArgument: Failed to find interface {port} which is port of "
                        f"{kind} {name}: interface does not exist on the node")
            owner = _controller_of(port, existing)
            if owner and owner != name:
                return (f"InvalidArgument: Interface {port} is already a port of {owner}; "
                        f"attaching it to {name} would break node connectivity (rolled back)")
        base = (iface.get("vlan") or {}).get("base-iface")
        if kind == "vlan" and base and base not in known:
            return f"InvalidArgument: Failed to find interface {base} which is base-iface of vlan {name}"
    bridges = {n for n, ifaces in existing.items() if _has_type(ifaces, "ovs-bridge")}
    bridges |= {n for n, i in declared.items() if i.get("type") == "ovs-bridge"}
    for mapping in (desired.get("ovn") or {}).get("bridge-mappings") or []:
        if mapping.get("state", "present") == "absent":
            continue
        if not mapping.get("localnet") or not mapping.get("bridge"):
            return "InvalidArgument: OVN bridge mapping must have both 'localnet' and 'bridge' when state is present"
        if mapping["bridge"] not in bridges:
            return (f"InvalidArgument: Failed to find interface {mapping['bridge']}: OVN bridge mapping "
                    f"{mapping['localnet']} refers to an OVS bridge that does not exist on the node")
    return None


def _controller_of(port, existing):
    for iface in existing.get(port, []):
        if iface.get("controller"):
            return iface["controller"]
    return None


def apply(desired, current):
    """The node state after applying `desired` (already validated) on top of `current`."""
    state = copy.deepcopy(current)
    interfaces = state.setdefault("interfaces", [])
    for iface in desired.get("interfaces") or []:
        key = (iface["name"], iface.get("type"))
        interfaces[:] = [i for i in interfaces if (i["name"], i.get("type")) != key
                         and not (iface.get("type") is None and i["name"] == iface["name"])]
        if iface.get("state", "up") == "absent":
            for other in interfaces:
                if other.get("controller") == iface["name"]:
                    del other["controller"]
        else:
            interfaces.append(copy.deepcopy(iface))
            for port in _ports(iface):
                for other in interfaces:
                    if other["name"] == port and other is not iface and port != iface["name"]:
                        other["controller"] = iface["name"]
    mappings = (desired.get("ovn") or {}).get("bridge-mappings")
    if mappings is not None:
        current_maps = {m["localnet"]: m for m in state.setdefault("ovn", {}).get("bridge-mappings") or []}
        for mapping in mappings:
            if mapping.get("state", "present") == "absent":
                current_maps.pop(mapping.get("localnet"), None)
            else:
                current_maps[mapping["localnet"]] = {"localnet": mapping["localnet"], "bridge": mapping["bridge"]}
        state["ovn"]["bridge-mappings"] = [current_maps[k] for k in sorted(current_maps)]
    return state


def merged_bridge_mappings(desired, live):
    """The node's Open_vSwitch `external_ids:ovn-bridge-mappings` after nmstate applies `desired`
    on top of `live` (its value now, `localnet:bridge` pairs comma separated, '' when unset), or
    None when nothing changes. As nmstate's OVN support does (nmstate/nmstate
    `rust/src/lib/ovn.rs`, `MergedOvnConfiguration::new`: "Partial editing for ovn: Merge desire
    with current and do overriding. To remove a particular ovn-bridge-mapping, do `state:
    absent`"), only the
    localnets `desired` names change: `present` adds or updates its pair, `absent` removes it,
    and every other pair stays (a hand-made one, or a node's default `physnet:br-ex`). Pairs are
    written sorted by localnet (the seed's `localnet-cnv:br-ex,physnet:br-ex`)."""
    wanted = (desired.get("ovn") or {}).get("bridge-mappings")
    if wanted is None:
        return None
    current = dict(pair.partition(":")[::2] for pair in live.split(",") if pair)
    merged = dict(current)
    for mapping in wanted:
        if mapping.get("state", "present") == "absent":
            merged.pop(mapping["localnet"], None)
        else:
            merged[mapping["localnet"]] = mapping["bridge"]
    if merged == current:
        return None
    return ",".join(f"{localnet}:{merged[localnet]}" for localnet in sorted(merged))


def recorded_bridge_mappings(desired, state):
    """`desired`'s OVN bridge mappings as the node's state records them now: each localnet it
    names, `present` with the bridge `state` maps it to, else `absent`. What a resync puts back
    (only this policy's localnets, without undoing what a later policy changed of them)."""
    wanted = (desired.get("ovn") or {}).get("bridge-mappings")
    if wanted is None:
        return {}
    recorded = {m["localnet"]: m["bridge"] for m in (state.get("ovn") or {}).get("bridge-mappings") or []}
    return {"ovn": {"bridge-mappings": [
        {"localnet": m["localnet"], "bridge": recorded[m["localnet"]], "state": "present"}
        if m["localnet"] in recorded else {"localnet": m["localnet"], "state": "absent"} for m in wanted]}}


def enactment_name(node_name, policy_name):
    return f"{node_name}.{policy_name}"


def new_enactment(policy, node_name):
    name = policy["metadata"]["name"]
    return {"apiVersion": NNCE_API, "kind": "NodeNetworkConfigurationEnactment",
            "metadata": {"name": enactment_name(node_name, name),
                         "labels": {POLICY_LABEL: name, NODE_LABEL: node_name},
                         "ownerReferences": [{"apiVersion": NMSTATE_API,
                                              "kind": "NodeNetworkConfigurationPolicy",
                                              "name": name, "uid": policy["metadata"]["uid"]}]}}


def failure_message(node_name, error):
    return (f"error reconciling NodeNetworkConfigurationPolicy on node {node_name} at desired state "
            f"apply: \"\",\n failed to execute nmstatectl set --no-commit --timeout {NMSTATECTL_TIMEOUT}: "
            f"'exit status 1' '' '[ERROR nmstatectl] NmstateError: {error}'")


def enactment_status(enactment, policy, node_name, error, now):
    """Enactment status for a finished apply: Available, or Failing with the handler's message."""
    previous = (enactment.get("status") or {}).get("conditions")
    if error is None:
        states = {"Available": ("True", "SuccessfullyConfigured", "successfully reconciled")}
        reason = "SuccessfullyConfigured"
    else:
        states = {"Failing": ("True", "FailedToConfigure", failure_message(node_name, error))}
        reason = "FailedToConfigure"
    desired = [condition(t, *states.get(t, ("False", reason, ""))) for t in ENACTMENT_TYPES]
    return {"conditions": merge_conditions(previous, desired, now, ("lastHeartbeatTime", "lastTransitionTime")),
            "desiredState": copy.deepcopy(policy["spec"].get("desiredState") or {}),
            "desiredStateMetaInfo": {"time": now, "version": "0"},
            "policyGeneration": policy["metadata"].get("generation", 1)}


def enactment_result(enactment, generation):
    """'Available', 'Failing' or None (not finished for this policy generation)."""
    status = enactment.get("status") or {}
    if status.get("policyGeneration") != generation:
        return None
    for cond in status.get("conditions") or []:
        if cond.get("status") == "True" and cond.get("type") in ("Available", "Failing"):
            return cond["type"]
    return None


def policy_status(policy, matching_nodes, enactments, now):
    """Aggregate per-node enactments into the policy conditions, as kubernetes-nmstate does."""
    generation = policy["metadata"].get("generation", 1)
    results = [enactment_result(e, generation) for e in enactments]
    total, failed, available = len(matching_nodes), results.count("Failing"), results.count("Available")
    if total == 0:
        message, kind = "Policy does not match any node", "NoMatchingNode"
    elif failed:
        message, kind = f"{failed}/{total} nodes failed to configure", "FailedToConfigure"
    elif failed + available < total:
        message, kind = f"Policy is progressing {failed + available}/{total} nodes finished", "ConfigurationProgressing"
    else:
        message, kind = f"{available}/{total} nodes successfully configured", "SuccessfullyConfigured"
    table = {
        "NoMatchingNode": [("Degraded", "False", ""), ("Available", "False", ""),
                           ("Progressing", "False", ""), ("Ignored", "True", message)],
        "FailedToConfigure": [("Degraded", "True", message), ("Available", "False", ""),
                              ("Progressing", "False", ""), ("Ignored", "False", "")],
        "ConfigurationProgressing": [("Degraded", "Unknown", ""), ("Available", "Unknown", ""),
                                     ("Progressing", "True", message), ("Ignored", "False", "")],
        "SuccessfullyConfigured": [("Degraded", "False", ""), ("Available", "True", message),
                                   ("Progressing", "False", ""), ("Ignored", "False", "")],
    }
    desired = [condition(t, s, kind, m) for t, s, m in table[kind]]
    previous = (policy.get("status") or {}).get("conditions")
    return {"conditions": merge_conditions(previous, desired, now, ("lastHeartbeatTime", "lastTransitionTime"))}


def node_network_state(node_name, current_state, now):
    return {"apiVersion": NNCE_API, "kind": "NodeNetworkState", "metadata": {"name": node_name}}, {
        "currentState": current_state, "lastSuccessfulUpdateTime": now,
        "handlerNmstateVersion": "2.2.27", "hostNetworkManagerVersion": "1.42.2"}
