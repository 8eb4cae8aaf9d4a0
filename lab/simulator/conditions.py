"""Condition helpers of the lab simulator (pure).

Conditions are written whole; lastTransitionTime is kept from the previous condition of the same
type while its status is unchanged, so that re-reconciling yields an identical status and no
write happens.
"""
from datetime import datetime, timezone


def now_iso():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def condition(type_, status, reason="", message=""):
    return {"type": type_, "status": status, "reason": reason, "message": message}


def merge_conditions(previous, desired, now, time_fields=("lastTransitionTime",)):
    """Desired conditions with transition times carried over from `previous` when unchanged."""
    by_type = {c.get("type"): c for c in previous or []}
    merged = []
    for cond in desired:
        old = by_type.get(cond["type"])
        unchanged = old is not None and old.get("status") == cond["status"]
        stamped = dict(cond)
        for field in time_fields:
            stamped[field] = old.get(field, now) if unchanged else now
        merged.append(stamped)
    return merged


def find_condition(obj, type_):
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if cond.get("type") == type_:
            return cond
    return None


def is_true(obj, type_):
    cond = find_condition(obj, type_)
    return cond is not None and cond.get("status") == "True"


def status_differs(current, desired):
    """True when any key of `desired` differs from `current` (keys absent from desired are ignored)."""
    current = current or {}
    return any(current.get(key) != value for key, value in desired.items())


def stamp_updated(previous, desired, now, field="lastUpdated"):
    """`desired` with `field` set to `now` when anything else differs from `previous`, else
    the previous stamp (OLM's Subscription status.lastUpdated, required by its schema)."""
    previous = previous or {}
    changed = status_differs(previous, desired) or not previous.get(field)
    return {**desired, field: now if changed else previous[field]}
