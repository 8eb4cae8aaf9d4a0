"""The retry policy on kubernetes.core's client: reads, discovery and a refused exec handshake."""
from types import SimpleNamespace

import pytest
from kubernetes.client.exceptions import ApiException

from ansible_collections.kubernetes.core.plugins.module_utils.k8s.exceptions import CoreException
from ansible_collections.ocpvirt.multinet.plugins.module_utils.k8s import retry, retrying as k8s_retry
from ansible_collections.ocpvirt.multinet.plugins.module_utils.k8s.retry import MAX_ATTEMPTS


def answer(status, retry_after=None):
    error = ApiException(status=status, reason="refused")
    error.headers = {"Retry-After": retry_after} if retry_after else {}
    error.body = '{"kind": "Status", "code": %d, "message": "injected", "reason": "ServiceUnavailable"}' % status
    return error


def wrapped(error):
    """kubernetes.core's K8sService raises CoreException from the client's error."""
    try:
        raise CoreException("Failed to retrieve requested object: body") from error
    except CoreException as core:
        return core


def handshake(status, phrase):
    return ApiException(status=0, reason="Handshake status {0} {1} -+-+- {{'retry-after': '2', 'date': 'x'}} "
                                         "-+-+- b'{{}}'".format(status, phrase))


@pytest.fixture
def sleeps(monkeypatch):
    slept = []
    monkeypatch.setattr(retry.with_retries, "__defaults__", (slept.append,))  # its default sleep
    return slept


def failing(*errors):
    calls = []

    def call():
        calls.append(1)
        if len(calls) <= len(errors):
            raise errors[len(calls) - 1]
        return "ok"
    return call, calls


def test_a_read_wrapped_by_kubernetes_core_is_retried_after_its_retry_after(sleeps):
    call, calls = failing(wrapped(answer(429, "1")), wrapped(answer(503)))
    assert k8s_retry.retried("GET", call) == "ok" and len(calls) == 3
    assert sleeps == [1.0, retry.BASE_DELAY * 2]


def test_a_5xx_to_a_post_is_not_sent_again(sleeps):
    call, calls = failing(answer(503))
    with pytest.raises(ApiException):
        k8s_retry.retried("POST", call)
    assert len(calls) == 1 and sleeps == []


def test_an_error_that_is_not_an_answer_is_not_retried(sleeps):
    call, calls = failing(CoreException("Failed to find exact match for Foo"))
    with pytest.raises(CoreException):
        k8s_retry.retried("GET", call)
    assert len(calls) == 1


def test_connect_gives_up_in_one_line(monkeypatch, sleeps):
    calls = []

    def refuse(_module):
        calls.append(1)
        raise answer(503)
    monkeypatch.setattr(k8s_retry, "api_client", refuse)
    with pytest.raises(CoreException) as raised:
        k8s_retry.connect(SimpleNamespace(params={"host": None}))
    assert len(calls) == MAX_ATTEMPTS
    assert str(raised.value) == ("Could not create a Kubernetes API client (API discovery): ServiceUnavailable (503): "
                                 "injected; the API server is busy or unavailable: run again later")


@pytest.mark.parametrize("error,expected", [
    (handshake(503, "Service Unavailable"), (True, "2")),
    (handshake(429, "Too Many Requests"), (True, "2")),
    (handshake(403, "Forbidden"), (False, "2")),
    (ApiException(status=0, reason="Connection to remote host was lost."), (False, None)),
    (RuntimeError("Handshake status 503"), (False, None)),
])
def test_handshake_refusal(error, expected):
    assert k8s_retry.handshake_refusal(error) == expected


def test_exec_is_opened_again_only_after_a_refused_handshake(sleeps):
    call, calls = failing(handshake(503, "Service Unavailable"))
    assert k8s_retry.exec_stream(call) == "ok" and len(calls) == 2 and sleeps == [2.0]


def test_exec_error_is_the_handshake_status_without_headers():
    assert k8s_retry.exec_error(handshake(503, "Service Unavailable")) == "Handshake status 503 Service Unavailable"
    assert k8s_retry.exec_error(RuntimeError("pod\ngone")) == "pod gone"
