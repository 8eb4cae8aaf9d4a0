"""Reading a failed kubernetes.core task result: the status, Retry-After, the one line to report."""
import json

import pytest

from ansible_collections.ocpvirt.multinet.plugins.module_utils.k8s.api_failure import (
    api_message, call_name, failed_answer, final_message, task_method)
from ansible_collections.ocpvirt.multinet.plugins.module_utils.k8s.retry import MAX_RETRY_AFTER


def status_body(code, message="slow down", **extra):
    return json.dumps(dict({"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": code,
                            "message": message}, **extra))


def raw_exception(code, phrase, headers, body):
    """The kubernetes client's ApiException as text, as kubernetes.core passes it on."""
    return "({0})\nReason: {1}\nHTTP response headers: HTTPHeaderDict({2!r})\nHTTP response body: {3}\n".format(
        code, phrase, headers, body)


@pytest.mark.parametrize("result,expected", [
    # kubernetes.core.k8s: the answer's body in msg, its reason phrase in reason
    ({"failed": True, "msg": "Failed to create object: " + status_body(429), "reason": "Too Many Requests"}, (429, None)),
    # the API server's priority and fairness answers 429 with a plain-text body: the phrase says it
    ({"failed": True, "msg": "Failed to create object: b'Too many requests, please try again later.\\n'",
      "reason": "Too Many Requests"}, (429, None)),
    # k8s_json_patch: the status as a number
    ({"failed": True, "msg": "Failed to patch existing object: b'busy'", "status": 503, "error": 503}, (503, None)),
    # a failed discovery (k8s_info): the client's exception as text, headers and all
    ({"failed": True, "msg": raw_exception(503, "Service Unavailable", {"Retry-After": "2"}, status_body(503))},
     (503, "2")),
    ({"failed": True, "exception": raw_exception(502, "Bad Gateway", {"Content-Type": "text/plain"}, "b'no'")},
     (502, None)),
    # kube-apiserver also puts Retry-After in a 429's Status details
    ({"failed": True, "msg": "Failed to apply object: " + status_body(429, details={"retryAfterSeconds": 3})},
     (429, "3")),
    # no HTTP status at all
    ({"failed": True, "msg": "missing required arguments: name"}, (None, None)),
    ({"failed": True, "msg": "Failed to get client due to HTTPSConnectionPool: Max retries exceeded"}, (None, None)),
    ({"changed": True, "msg": status_body(503)}, (None, None)),
], ids=["k8s-status-body", "k8s-plain-text-429", "json-patch-status", "raw-exception-with-retry-after",
        "raw-exception-in-exception", "status-details", "bad-argument", "unreachable", "not-failed"])
def test_failed_answer(result, expected):
    assert failed_answer(result) == expected


def test_api_message_is_the_status_message_on_one_line():
    result = {"msg": raw_exception(503, "Service Unavailable", {"Retry-After": "2"},
                                   status_body(503, "etcd is\nunavailable"))}
    assert api_message(result) == "etcd is unavailable"
    assert api_message({"msg": "Failed to create object: b'Too many requests'"}) == ""


@pytest.mark.parametrize("action,args,method", [
    ("kubernetes.core.k8s_info", {"kind": "Pod"}, "GET"),
    ("kubernetes.core.k8s", {"definition": {"kind": "ConfigMap", "metadata": {"name": "a"}}}, "PUT"),
    ("kubernetes.core.k8s", {"state": "absent", "kind": "ConfigMap", "name": "a"}, "DELETE"),
    ("kubernetes.core.k8s", {"definition": [{"kind": "Pod", "metadata": {"generateName": "probe-"}}]}, "POST"),
    ("kubernetes.core.k8s", {"generate_name": "probe-", "kind": "Pod"}, "POST"),
    ("kubernetes.core.k8s_json_patch", {"patch": [{"op": "test", "path": "/spec/a", "value": 1},
                                                  {"op": "replace", "path": "/spec/a", "value": 2}]}, "PATCH"),
    ("kubernetes.core.k8s_json_patch", {"patch": [{"op": "add", "path": "/spec/list/-", "value": 2}]}, "POST"),
])
def test_task_method(action, args, method):
    assert task_method(action, args) == method


def test_call_name_names_the_module_and_the_object():
    definition = {"kind": "ConfigMap", "metadata": {"name": "cm-a", "namespace": "tenant-q"}}
    assert call_name("kubernetes.core.k8s", {"definition": definition}) == "kubernetes.core.k8s (ConfigMap tenant-q/cm-a)"
    assert call_name("kubernetes.core.k8s_info", {"kind": "Node"}) == "kubernetes.core.k8s_info (Node)"
    assert call_name("kubernetes.core.k8s", {"src": "objects.yml"}) == "kubernetes.core.k8s"


def test_final_message_is_one_line_with_the_call_status_and_what_to_do():
    line = final_message("kubernetes.core.k8s_info (Pod x/y)", 503, 5, "etcd is unavailable")
    assert line == ("kubernetes.core.k8s_info (Pod x/y): Service Unavailable (503): etcd is unavailable; "
                    "gave up after 5 attempts; the API server is busy or unavailable: run again later")
    assert "\n" not in line


def test_final_message_says_when_the_server_asked_to_wait_too_long():
    line = final_message("kubernetes.core.k8s (ConfigMap a/b)", 429, 1, retry_after=MAX_RETRY_AFTER + 1)
    assert line.startswith("kubernetes.core.k8s (ConfigMap a/b): Too Many Requests (429); the server asked to wait 31 s")
    assert "gave up" not in line and line.endswith("run again later")
