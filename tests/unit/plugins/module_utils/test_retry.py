"""Retries: which failures, how long between attempts, when to give up."""
import pytest

from ansible_collections.ocpvirt.multinet.plugins.module_utils.k8s.retry import (
    MAX_ATTEMPTS,
    parse_retry_after,
    retryable,
    retry_delay,
    with_retries,
)


class Refused(Exception):
    def __init__(self, retryable, retry_after=None):
        super().__init__("refused")
        self.retryable, self.retry_after = retryable, retry_after


def classify(error):
    return error.retryable, error.retry_after


def flaky(*failures):
    """A call failing with `failures` in order, then answering 'ok'; counts its calls."""
    calls = []

    def call():
        calls.append(len(calls))
        if len(calls) <= len(failures):
            raise failures[len(calls) - 1]
        return "ok"
    return call, calls


def test_retry_after_is_waited_then_the_call_succeeds():
    call, calls = flaky(Refused(True, "1"))
    slept = []
    assert with_retries(call, classify, sleep=slept.append) == "ok"
    assert slept == [1.0] and len(calls) == 2


def test_without_retry_after_the_wait_doubles():
    call, _calls = flaky(*[Refused(True)] * 3)
    slept = []
    with_retries(call, classify, sleep=slept.append)
    assert slept == [0.5, 1.0, 2.0]


def test_a_failure_not_worth_retrying_is_raised_at_once():
    call, calls = flaky(Refused(False, "1"))
    with pytest.raises(Refused):
        with_retries(call, classify, sleep=pytest.fail)
    assert len(calls) == 1


def test_it_gives_up_after_the_last_attempt_with_the_last_error():
    failures = [Refused(True)] * MAX_ATTEMPTS
    call, calls = flaky(*failures)
    with pytest.raises(Refused) as caught:
        with_retries(call, classify, sleep=lambda _seconds: None)
    assert caught.value is failures[-1] and len(calls) == MAX_ATTEMPTS


def test_a_retry_after_longer_than_the_limit_is_not_waited_for():
    assert retry_delay(1, 600.0) is None
    assert retry_delay(1, 30.0) == 30.0


@pytest.mark.parametrize("value, seconds", [("1", 1.0), (" 2 ", 2.0), ("0", 0.0), (None, None),
                                            ("Wed, 21 Oct 2026 07:28:00 GMT", None), ("-1", None)])
def test_parse_retry_after(value, seconds):
    assert parse_retry_after(value) == seconds


def test_backoff_is_capped():
    assert [retry_delay(attempt) for attempt in range(1, MAX_ATTEMPTS + 1)] == [0.5, 1.0, 2.0, 4.0, None]


@pytest.mark.parametrize("method,status,expected", [
    ("GET", 503, True), ("PATCH", 500, True), ("DELETE", 504, True), ("put", 502, True),
    ("POST", 429, True), ("POST", 503, False), ("POST", 500, False),
    ("GET", 404, False), ("PATCH", 409, False), ("GET", 501, False),
])
def test_a_5xx_is_retried_only_for_requests_safe_to_send_twice(method, status, expected):
    assert retryable(method, status) is expected
