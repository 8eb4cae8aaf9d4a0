# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One multinetwork_policy run against the cluster, after the module's pure checks: read what
the checks need, hold the intent's Lease when something is to be written (and read again under
it), reconcile, release."""
from ansible_collections.ocpvirt.multinet.plugins.module_utils.k8s.apply import ApplyError, PolicyStore, reconcile
from ansible_collections.ocpvirt.multinet.plugins.module_utils.k8s.intent_lease import (
    LeaseApi,
    LeaseLock,
    NamespaceMissing,
)
from ansible_collections.ocpvirt.multinet.plugins.module_utils.k8s.preflight import check_before_writes
from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.compiler import selector_for
from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.reconcile import compute_plan, write_phases
from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.run_result import assumed_note


def apply_intent(module, params, raw, model, judge):
    """The run's result for the intent ``raw``, parsed once as ``model`` (with state absent its
    identity alone); ``judge`` is the what-if hook (``policy.what_if.flow_check``) or None."""
    store = PolicyStore(module, params["request_timeout"])
    desired, live = read_state(store, module, params, raw, model)
    lease = None
    prune = params["prune"] or params["state"] == "absent"
    if not store.check_mode and write_phases(compute_plan(desired, live, prune=prune)):
        lease = take_lease(store, module, params, model)
    try:
        if lease is not None:  # read again under the lease: another run may have written meanwhile
            desired = live = None  # the first read goes before the second arrives: one LIST in memory at a time
            desired, live = read_state(store, module, params, raw, model)
        result = reconcile(store, model, state=params["state"], prune=params["prune"], want_diff=module._diff,
                           return_policies=params["return_policies"], before_write=judge,
                           desired=desired, live=live)
    finally:
        problem = lease.release() if lease is not None else None
    if problem is not None:
        raise ApplyError(problem, result)
    if store.namespace_assumed:
        result["assumed"] = assumed_note(model, store.unsent)
    return result


def read_state(store, module, params, raw, model):
    """(compiled policies, this intent's live policies) after the preflight checks."""
    if params["state"] == "present":
        return check_before_writes(store, module, params, raw, model)
    return [], store.list(model.namespace, selector_for(model.name))


def take_lease(store, module, params, model):
    """The intent's Lease, held (see intent_lease), or None when its namespace does not exist
    (nothing can be written there: the dry run names the namespace)."""
    lock = LeaseLock(LeaseApi(store, module, model.namespace), model.namespace, model.name,
                     params["lease_wait"], params["lease_duration"])
    try:
        lock.acquire()
    except NamespaceMissing:
        return None
    for note in lock.notes():
        module.warn(note)
    return lock
