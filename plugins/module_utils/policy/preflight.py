# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks made before the first write of ``multinetwork_policy``: mistakes that a valid intent
can still hold and that only the cluster reveals.

Pure: no Ansible import, no I/O. Each check takes what the module read from the cluster and
returns the problems (``MultinetError`` naming the field and value); the module refuses the run
when there is any, so a refused run writes nothing.
"""
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.errors import MultinetError
from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.reconcile import allows_nothing
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.vocabulary import INTENT_LABEL, split_nad_ref

CONFIRM_OPTION = "confirm_allow_nothing"
REQUIRE_NETWORK_OPTION = "require_network"


class PreflightError(MultinetError):
    """Every problem found before writing, in one message."""

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems) if len(self.problems) > 1
                         else str(self.problems[0]))


def network_problem(network, nad_names):
    """The intent's NAD ('<ns>/<nad>') against the NAD names its namespace holds.

    A policy whose policy-for names a NAD that does not exist protects nothing: OVN-K applies a
    policy to the networks it names only (go-controller/pkg/ovn/
    base_network_controller_multipolicy.go, shouldApplyMultiPolicy). So a typo would move every
    policy, the deny-all included, off the real network.
    """
    namespace, name = split_nad_ref(network)
    if name in nad_names:
        return None
    there = ", ".join(sorted(nad_names)) if nad_names else "none (does the namespace exist?)"
    return MultinetError(
        "NetworkAttachmentDefinition {0!r} not found; searched namespace {1!r}, NADs there: {2}. Create it "
        "first (an entry in network_attachment_networks, then site.yml --tags network), or set {3}: false "
        "(policies_{3} in the policies role) if the NAD is created later".format(
            name, namespace, there, REQUIRE_NETWORK_OPTION),
        "network", network)


def emptying_problem(raw_intent, desired, live_own, confirmed):
    """An intent that allows nothing while its network has allow policies today.

    Accepted only with ``allow: []`` written in the intent and the confirmation option: one
    templating mistake (``allow`` dropped from a variable) must not cut every flow.
    """
    if any(not allows_nothing(policy) for policy in desired):
        return None
    open_today = sorted(policy["metadata"]["name"] for policy in live_own if not allows_nothing(policy))
    if not open_today:
        return None
    if raw_intent.get("allow") == [] and confirmed:
        return None
    return MultinetError(
        "the intent allows nothing, and would delete the allow policies {0}; write allow: [] and set "
        "{1}: true to do that".format(", ".join(open_today), CONFIRM_OPTION), "allow", raw_intent.get("allow"))


def ownership_problems(intent_name, desired, live_managed):
    """Compiled policies whose name a policy of another intent holds today: applying them would
    take it over (and a later run of the other intent would take it back)."""
    owners = {policy["metadata"]["name"]: (policy["metadata"].get("labels") or {}).get(INTENT_LABEL)
              for policy in live_managed}
    problems = []
    for policy in desired:
        name = policy["metadata"]["name"]
        owner = owners.get(name)
        if owner is not None and owner != intent_name:
            problems.append(MultinetError(
                "intent {0!r} would generate policy {1!r}, which belongs to intent {2!r}; rename a "
                "workload or an intent".format(intent_name, name, owner), "name", intent_name))
    return problems


def colliding_intents(models):
    """Parsed intents (applied together) whose policies would have one name in one namespace:
    '<ns>/<policy name>' -> the intent names, for every name generated more than once.

    Two intents for one NAD without ``name`` both default to the NAD name; intent ``app`` with
    workload ``b-default-deny`` and intent ``app-allow-b`` both generate
    ``app-allow-b-default-deny``.
    """
    generated = {}
    for model in models:
        names = [model.deny_policy_name] + [model.policy_name(workload.name) for workload in model.workloads]
        for name in names:
            generated.setdefault("{0}/{1}".format(model.namespace, name), []).append(model.name)
    return {name: intents for name, intents in sorted(generated.items()) if len(intents) > 1}
