"""Every API call of the roles and playbooks goes through the collection's retrying modules:
no task runs kubernetes.core.k8s, k8s_info or k8s_json_patch directly (module_defaults keys for
those names stay: the retrying modules apply them)."""
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
UNRETRIED = {"kubernetes.core.k8s", "kubernetes.core.k8s_info", "kubernetes.core.k8s_json_patch"}
TASK_LISTS = ("handlers", "tasks", "pre_tasks", "post_tasks", "block", "rescue", "always")


def tasks_of(node):
    if isinstance(node, list):
        for item in node:
            yield from tasks_of(item)
    elif isinstance(node, dict):
        yield node
        for key in TASK_LISTS:
            yield from tasks_of(node.get(key))


def test_no_task_calls_kubernetes_core_without_retries():
    files = sorted(REPO.glob("roles/*/tasks/*.yml")) + sorted(REPO.glob("roles/*/handlers/*.yml")) + \
        sorted(REPO.glob("playbooks/*.yml"))
    direct = ["{0}: {1}".format(path.relative_to(REPO), task.get("name"))
              for path in files for task in tasks_of(yaml.safe_load(path.read_text()))
              if UNRETRIED & set(task)]
    assert direct == []
    assert any("ocpvirt.multinet.k8s_json_patch" in task for path in REPO.glob("roles/*/tasks/*.yml")
               for task in tasks_of(yaml.safe_load(path.read_text())))
