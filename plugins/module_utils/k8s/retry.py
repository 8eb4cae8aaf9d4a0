# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Retries of API requests that the server asks to be retried or that never got an answer.

Pure: no Ansible or client import; the caller says which errors are retryable (and what
``Retry-After`` they carry) and how to sleep. Every request this collection retries is
idempotent (server-side apply of a whole object, a merge patch deleting keys, a delete that
accepts 404, reads), so a request that reached the server before the connection broke is
safe to send again.

Close to client-go's rest client (k8s.io/client-go/rest/request.go ``checkWait``, and
with_retry.go), which retries a 429 or 5xx answer carrying ``Retry-After`` and waits that long;
here any 429, 500, 502, 503 or 504 answer and a failed connection are retried, waiting
``Retry-After`` when the answer has one and backing off exponentially otherwise.
"""
import time

RETRYABLE_STATUSES = (429, 500, 502, 503, 504)
# Requests that are safe to send twice: reads, and writes whose second sending changes nothing the
# first did not (this collection's PUTs, PATCHes and DELETEs; see above).
IDEMPOTENT_METHODS = ("GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE")
MAX_ATTEMPTS = 5
BASE_DELAY = 0.5
MAX_DELAY = 8.0
# A Retry-After longer than this is the server saying "not soon": the run fails instead.
MAX_RETRY_AFTER = 30.0


def retryable(method, status):
    """Whether an answer `status` to a `method` request is worth sending again: a 429 always (API
    priority and fairness refuses it before any work is done), a 500, 502, 503 or 504 only for an
    idempotent method: a POST answered with a 5xx may have created its object, and sending it
    again would then meet our own object as someone else's (409)."""
    return status == 429 or (status in RETRYABLE_STATUSES and str(method).upper() in IDEMPOTENT_METHODS)


def parse_retry_after(value):
    """Retry-After in seconds (a number of seconds; the HTTP-date form is not used by
    kube-apiserver), or None when absent or unreadable."""
    if value is None:
        return None
    try:
        seconds = float(str(value).strip())
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


def retry_delay(attempt, retry_after=None):
    """Seconds to wait after failed attempt number `attempt` (1-based), or None to give up.

    The server's Retry-After when it sent one (up to MAX_RETRY_AFTER), else exponential backoff
    from BASE_DELAY doubling up to MAX_DELAY.
    """
    if attempt >= MAX_ATTEMPTS:
        return None
    if retry_after is not None:
        return retry_after if retry_after <= MAX_RETRY_AFTER else None
    return min(MAX_DELAY, BASE_DELAY * 2 ** (attempt - 1))


def with_retries(call, classify, sleep=time.sleep):
    """call() until it succeeds or fails in a way not worth retrying.

    `classify(error)` -> (retryable, Retry-After header value or None). The last error is
    raised as it was, so the caller's messages stay the same.
    """
    attempt = 1
    while True:
        try:
            return call()
        except Exception as error:  # classify decides; anything not retryable is raised as is
            retryable, retry_after = classify(error)
            delay = retry_delay(attempt, parse_retry_after(retry_after)) if retryable else None
            if delay is None:
                raise
            sleep(delay)
            attempt += 1
