"""Pure reconciliation of compiled MultiNetworkPolicies against the ones a cluster holds.

Only the fields this collection owns are compared: `spec` as a whole, and the labels and
annotations the compiler sets (by key). Everything else on a live object (status,
managedFields, labels or annotations added by other controllers) is none of our business,
so comparing whole objects would report a change on every run.
"""

from dataclasses import dataclass, field


def owned_view(obj, label_keys, annotation_keys):
    """The part of `obj` this collection owns, for the given label and annotation keys."""
    metadata = obj.get("metadata") or {}
    view = {
        "apiVersion": obj.get("apiVersion"),
        "kind": obj.get("kind"),
        "metadata": {
            "name": metadata.get("name"),
            "namespace": metadata.get("namespace"),
            "labels": _pick(metadata.get("labels"), label_keys),
            "annotations": _pick(metadata.get("annotations"), annotation_keys),
        },
        "spec": obj.get("spec") or {},
    }
    return view


def _pick(mapping, keys):
    mapping = mapping or {}
    return {key: mapping[key] for key in sorted(keys) if key in mapping}


def _owned_keys(desired):
    metadata = desired.get("metadata") or {}
    return set(metadata.get("labels") or {}), set(metadata.get("annotations") or {})


def desired_view(desired):
    """`desired` reduced to the fields we compare (what a diff shows as `after`)."""
    return owned_view(desired, *_owned_keys(desired))


def live_view(existing, desired):
    """What `existing` holds of the fields `desired` owns (a diff's `before`)."""
    return owned_view(existing, *_owned_keys(desired))


def differs(existing, desired):
    """True when an owned field of `existing` is not what `desired` says."""
    return live_view(existing, desired) != desired_view(desired)


def foreign_keys_patch(live, desired):
    """A JSON merge patch deleting map keys that `live` has and `desired` lacks.

    Server-side apply leaves fields owned by another manager in place even when forcing
    conflicts, so a key added by hand inside the spec (an `egress` list on an ingress-only
    policy) would survive the apply. Lists and label selectors are atomic in the
    MultiNetworkPolicy schema and are replaced by the apply itself; only granular maps need
    this. Called with the object the apply returned, so it is {} unless something survived.
    """
    patch = {}
    for key, value in live.items():
        if key not in desired:
            patch[key] = None
        elif isinstance(value, dict) and isinstance(desired[key], dict):
            nested = foreign_keys_patch(value, desired[key])
            if nested:
                patch[key] = nested
    return patch


@dataclass(frozen=True)
class Update:
    existing: dict
    desired: dict


@dataclass(frozen=True)
class Plan:
    """Writes needed to turn the listed policies into the compiled ones."""

    create: list = field(default_factory=list)
    update: list = field(default_factory=list)
    delete: list = field(default_factory=list)

    @property
    def empty(self):
        return not (self.create or self.update or self.delete)


def _name(obj):
    return obj["metadata"]["name"]


def compute_plan(desired, existing, prune=True):
    """Plan from compiled manifests and the live objects managed by the same intent.

    `existing` must already be limited to this intent's policies (its label selector), so
    pruning can never reach a policy that belongs to someone else.
    """
    live = {_name(obj): obj for obj in existing}
    wanted = {_name(obj) for obj in desired}
    create = [obj for obj in desired if _name(obj) not in live]
    update = [Update(live[_name(obj)], obj) for obj in desired
              if _name(obj) in live and differs(live[_name(obj)], obj)]
    delete = [live[name] for name in sorted(live) if prune and name not in wanted]
    return Plan(create=create, update=update, delete=delete)


def allows_nothing(policy):
    """True for a policy without ingress or egress rules: it only isolates the pods it selects.

    The deny-all policy is one; so is an allow policy whose rules someone emptied by hand.
    """
    spec = policy.get("spec") or {}
    return not spec.get("ingress") and not spec.get("egress")


@dataclass(frozen=True)
class Write:
    """One write of a plan: `create` or `update` applies `obj` (the compiled manifest),
    `delete` removes `obj` (the live object)."""

    action: str
    obj: dict

    @property
    def name(self):
        return _name(self.obj)


def write_phases(plan):
    """The plan's writes in phases that run one after the other; each phase sorted by name.

    A run can stop half-way (a refused write, a lost connection), so the order is chosen to
    never block, even for a moment, a flow that both the old and the new policies allow:
    1. policies that allow something are created or updated, but for 1b;
    1b. then updates whose podSelector lets pods go (a workload leaving a shared policy): the
       policy it joins, or its own, is written in 1 first, so the flows both allow stay open;
    2. then policies that allow nothing (the deny-all): applied before the allows, it would
       cut every flow of a workload whose allow policy is not written yet;
    3. stale policies that allow nothing are deleted (they only block);
    4. stale policies that allow something are deleted last: removing one narrows what is
       allowed, so it waits until every new allow is in place.
    Writes within one phase are independent of each other and may run concurrently.
    """
    narrowing = {_name(update.desired) for update in plan.update if _selects_fewer(update)}
    applies = sorted([Write("create", obj) for obj in plan.create] +
                     [Write("update", update.desired) for update in plan.update], key=_write_name)
    deletes = sorted((Write("delete", obj) for obj in plan.delete), key=_write_name)
    phases = (
        [write for write in applies if not allows_nothing(write.obj) and write.name not in narrowing],
        [write for write in applies if not allows_nothing(write.obj) and write.name in narrowing],
        [write for write in applies if allows_nothing(write.obj)],
        [write for write in deletes if allows_nothing(write.obj)],
        [write for write in deletes if not allows_nothing(write.obj)],
    )
    return [phase for phase in phases if phase]


def _write_name(write):
    return write.name


def _selects_fewer(update):
    """True unless the update's podSelector selects every pod the live one does: the same
    selector, or a shared policy's ``In`` values widened (the compiler writes no other form)."""
    before = (update.existing.get("spec") or {}).get("podSelector") or {}
    after = update.desired["spec"]["podSelector"]
    if before == after:
        return False
    values = [_in_values(selector) for selector in (before, after)]
    return None in values or values[0][0] != values[1][0] or not values[0][1] <= values[1][1]


def _in_values(selector):
    """(key, set of values) of a selector that is one ``In`` expression and nothing else, or None."""
    expressions = selector.get("matchExpressions") or []
    if selector.get("matchLabels") or len(expressions) != 1 or expressions[0].get("operator") != "In":
        return None
    return expressions[0].get("key"), set(expressions[0].get("values") or ())


def removal_view(existing, label_keys):
    """A deleted policy as a diff's `before`: its spec and the labels that marked it ours."""
    return owned_view(existing, label_keys, ())


def diff_entries(plan, label_keys):
    """Ansible diff entries (before/after per policy): creates, updates, then deletes."""
    entries = []
    for desired in plan.create:
        entries.append(_entry(desired, {}, desired_view(desired)))
    for update in plan.update:
        entries.append(_entry(update.desired, live_view(update.existing, update.desired),
                              desired_view(update.desired)))
    for existing in plan.delete:
        entries.append(_entry(existing, removal_view(existing, label_keys), {}))
    return entries


def _entry(obj, before, after):
    header = "MultiNetworkPolicy {0}/{1}".format(obj["metadata"].get("namespace"), _name(obj))
    return {"before_header": header, "after_header": header, "before": before, "after": after}
