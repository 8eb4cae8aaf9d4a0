# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's retry policy (retry.py) for the modules that read through kubernetes.core.

``connect`` builds kubernetes.core's client with its first requests (the server's version and
API discovery) retried as reads; ``retried`` sends one call again as retry.py and
k8s_apply.retry_class_for say for its method, also when kubernetes.core wrapped the client's error
in a CoreException; ``exec_stream`` opens a pods/exec stream, opened again when the API server
refused the websocket handshake with a 429 or 5xx: the command did not start, so it never runs
twice. The policy module's store (k8s_apply.PolicyStore) and owned_namespace retry through the
same rule.
"""
import re

from ansible_collections.kubernetes.core.plugins.module_utils.k8s.exceptions import CoreException

from ansible_collections.ocpvirt.multinet.plugins.module_utils.k8s.apply import (
    ApiException, TransportError, describe_api_error, retry_class_for)
from ansible_collections.ocpvirt.multinet.plugins.module_utils.k8s.client import api_client
from ansible_collections.ocpvirt.multinet.plugins.module_utils.k8s.retry import RETRYABLE_STATUSES, with_retries

# websocket-client's refusal as the kubernetes client reports it (ApiException status 0):
# "Handshake status 503 Service Unavailable -+-+- {'retry-after': '1', ...} -+-+- b'...'"
_HANDSHAKE = re.compile(r"Handshake status (\d{3})")
_HANDSHAKE_RETRY_AFTER = re.compile(r"['\"]retry-after['\"]\s*:\s*['\"]([^'\"]*)['\"]", re.IGNORECASE)


def api_error(error):
    """The client's own error behind `error` (kubernetes.core raises CoreException from it)."""
    for candidate in (error, error.__cause__, error.__context__):
        if isinstance(candidate, (ApiException, TransportError)):
            return candidate
    return error


def retried(method, call):
    """call(), sent again while it fails in a way retry.py retries for `method`."""
    classify = retry_class_for(method)
    return with_retries(call, lambda error: classify(api_error(error)))


def connect(module):
    """kubernetes.core's client for `module` (k8s_client.api_client), its discovery retried; a
    final refusal is a CoreException of one line (the status and what to do)."""
    try:
        return retried("GET", lambda: api_client(module))
    except (ApiException, TransportError) as error:
        raise CoreException(describe_api_error(
            "Could not create", "a Kubernetes API client (API discovery)", error, module.params.get("host"))) from error


def handshake_refusal(error):
    """(retryable, Retry-After) of a pods/exec stream that could not be opened: retryable only
    when the API server answered the handshake with a 429 or 5xx (nothing ran)."""
    found = _HANDSHAKE.search(str(getattr(error, "reason", "") or ""))
    if not isinstance(error, ApiException) or not found:
        return False, None
    retry_after = _HANDSHAKE_RETRY_AFTER.search(str(error.reason))
    return int(found.group(1)) in RETRYABLE_STATUSES, retry_after.group(1) if retry_after else None


def exec_error(error):
    """One line for a pods/exec stream that could not be opened: the handshake's status, without
    the headers websocket-client appends to it."""
    reason = str(getattr(error, "reason", "") or error)
    return reason.split(" -+-+- ", 1)[0].strip() if _HANDSHAKE.search(reason) else " ".join(str(error).split())


def exec_stream(open_stream):
    """open_stream(), opened again while the handshake is refused with a 429 or 5xx."""
    return with_retries(open_stream, handshake_refusal)
