# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a multinetwork_policy run returns beside reconcile's result, pure: its arguments as the
`invocation` shows them, and the note of what a check-mode run took as given."""


def invocation_args(params, raw, model):
    """The module's arguments as the result's `invocation` shows them (verbose output): the
    intent by its identity and size, not echoed whole.

    A result is kept by every callback and stored with each AAP job event, and the controller
    decodes and copies it; an intent of 1,000 workloads echoed there (twice through the policies
    role's `applied_with`) is a quarter of a megabyte more per run, which the playbook holds anyway.
    """
    intent = {"name": model.name, "namespace": model.namespace, "network": model.network}
    intent.update(("{0}_count".format(key), len(raw[key])) for key in ("workloads", "endpoints", "allow")
                  if isinstance(raw.get(key), (dict, list)))
    shown = {key: value for key, value in params.items() if key != "applied_with"}
    return dict(shown, intent=intent, applied_with_count=len(params["applied_with"]))


def assumed_note(model, unsent):
    """What a check-mode run took as given for RV(assumed)."""
    note = ("NetworkAttachmentDefinition {0} does not exist yet; taken as present (assume_present: an earlier "
            "stage of this run creates it)".format(model.network))
    if unsent:
        note += ("; namespace {0} does not exist yet either, so {1} {2} not sent to the API server as dry runs "
                 "(the real run checks them)".format(model.namespace, len(unsent),
                                                     "policy was" if len(unsent) == 1 else "policies were"))
    return note
