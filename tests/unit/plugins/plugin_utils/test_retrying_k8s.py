"""The retrying action of ocpvirt.multinet.k8s*: runs kubernetes.core's action again as retry.py says."""
from types import SimpleNamespace

import pytest

from ansible_collections.ocpvirt.multinet.plugins.plugin_utils import retrying_k8s
from ansible_collections.ocpvirt.multinet.plugins.module_utils.k8s.retry import MAX_ATTEMPTS

CREATED = {"changed": True, "method": "create"}


def too_many(retry_after="2"):
    return {"failed": True, "msg": ("(429)\nReason: Too Many Requests\nHTTP response headers: "
                                    "HTTPHeaderDict({'Retry-After': '%s'})\nHTTP response body: b''\n" % retry_after)}


def unavailable():
    return {"failed": True, "msg": 'Failed to create object: {"kind": "Status", "code": 503, "message": "etcd down"}',
            "reason": "Service Unavailable", "exception": "Traceback ... HTTP response headers: {...}"}


def run(monkeypatch, results, args, delegate="kubernetes.core.k8s"):
    """The action run against a stand-in of kubernetes.core's action answering `results` in order;
    returns (result, runs, sleeps)."""
    runs, sleeps = [], []

    class Delegate:
        def __init__(self, task):
            self.task = task

        def run(self, task_vars=None):
            runs.append(self.task.action)
            return dict(results[min(len(runs), len(results)) - 1])

        def cleanup(self):
            pass

    monkeypatch.setattr(retrying_k8s, "_apply_action_arg_defaults", lambda action, task, action_args, templar: action_args)
    monkeypatch.setattr(retrying_k8s.time, "sleep", sleeps.append)
    task = SimpleNamespace(args=args, action="ocpvirt.multinet.k8s")
    task.copy = lambda: SimpleNamespace(**vars(task))
    action = object.__new__(type("ActionModule", (retrying_k8s.RetryingK8sAction,), {"DELEGATE": delegate}))
    action._task, action._connection, action._play_context = task, None, None
    action._loader = action._templar = None
    action._shared_loader_obj = SimpleNamespace(action_loader=SimpleNamespace(
        get=lambda name, task, **_kwargs: Delegate(task)))
    return action.run(task_vars={}), runs, sleeps


CONFIGMAP = {"definition": {"kind": "ConfigMap", "metadata": {"name": "cm-q", "namespace": "tenant-q"}}}


def test_a_429_runs_the_task_again_after_its_retry_after(monkeypatch):
    result, runs, sleeps = run(monkeypatch, [too_many("2"), CREATED], CONFIGMAP)
    assert result == CREATED
    assert runs == ["kubernetes.core.k8s"] * 2 and sleeps == [2.0]


def test_a_permanent_503_gives_up_after_max_attempts_in_one_line(monkeypatch):
    result, runs, sleeps = run(monkeypatch, [unavailable()], CONFIGMAP)
    assert len(runs) == MAX_ATTEMPTS and len(sleeps) == MAX_ATTEMPTS - 1
    assert result["msg"] == ("kubernetes.core.k8s (ConfigMap tenant-q/cm-q): Service Unavailable (503): etcd down; "
                             "gave up after {0} attempts; the API server is busy or unavailable: run again later"
                             .format(MAX_ATTEMPTS))
    assert result["failed"] and result["status"] == 503 and "exception" not in result


def test_a_retry_after_beyond_the_limit_fails_at_once(monkeypatch):
    result, runs, sleeps = run(monkeypatch, [too_many("600"), CREATED], CONFIGMAP)
    assert len(runs) == 1 and sleeps == []
    assert "Too Many Requests (429)" in result["msg"] and "wait 600 s" in result["msg"] and "\n" not in result["msg"]


def test_a_5xx_to_a_create_by_generate_name_is_not_run_again(monkeypatch):
    args = {"definition": {"kind": "Pod", "metadata": {"generateName": "probe-", "namespace": "tenant-q"}}}
    result, runs, _sleeps = run(monkeypatch, [unavailable(), CREATED], args)
    assert len(runs) == 1 and result["failed"] and "(503)" in result["msg"]


def test_a_refusal_is_returned_as_kubernetes_core_gave_it(monkeypatch):
    forbidden = {"failed": True, "msg": 'Failed to create object: {"kind": "Status", "code": 403, "message": "no"}',
                 "reason": "Forbidden"}
    result, runs, _sleeps = run(monkeypatch, [forbidden], CONFIGMAP)
    assert len(runs) == 1 and result == forbidden


@pytest.mark.parametrize("delegate", ["kubernetes.core.k8s_info", "kubernetes.core.k8s_json_patch"])
def test_each_module_runs_its_kubernetes_core_namesake(monkeypatch, delegate):
    _result, runs, _sleeps = run(monkeypatch, [CREATED], {"kind": "Network", "name": "cluster", "patch": []}, delegate)
    assert runs == [delegate]
