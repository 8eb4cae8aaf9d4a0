# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Aggregate callback for the benchmark playbooks: a compact summary of each task result.

The benchmark needs what the module reported (changed, how many policies were created,
updated, deleted; which loop items changed) while Ansible prints what users see with the
default stdout callback. Serialising the whole result (every compiled policy) with the json
stdout callback would add work a user's run does not do. Written to $OCPVIRT_BENCH_RESULTS.
"""
import json
import os

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
name: bench_results
type: aggregate
short_description: Summary of each task result for bench/run.py
description:
  - Writes, for every task, changed/failed, the lengths of created, updated and deleted, and the
    changed flag of each loop item, as JSON to the file named by E(OCPVIRT_BENCH_RESULTS).
requirements:
  - enabled with ANSIBLE_CALLBACKS_ENABLED=bench_results
"""

COUNTED = ("created", "updated", "deleted")


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bench_results"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self.tasks = []

    def _summary(self, result):
        outcome = result._result  # `result` only from ansible-core 2.19 on
        summary = {"task": result._task.get_name(), "changed": bool(outcome.get("changed")),
                   "failed": bool(outcome.get("failed")), "msg": outcome.get("msg")}
        summary.update({key: len(outcome[key]) for key in COUNTED if key in outcome})
        if "results" in outcome:
            summary["items_changed"] = [bool(item.get("changed")) for item in outcome["results"]]
        self.tasks.append(summary)

    v2_runner_on_ok = v2_runner_on_failed = _summary

    def v2_playbook_on_stats(self, stats):
        with open(os.environ["OCPVIRT_BENCH_RESULTS"], "w", encoding="utf-8") as out:
            json.dump(self.tasks, out)
