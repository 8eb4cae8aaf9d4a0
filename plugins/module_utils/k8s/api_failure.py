# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a failed kubernetes.core task says about the API's answer, and the one line to report.

Pure: a task result (a dict) in, the HTTP status and Retry-After out, for retry.py to decide.
kubernetes.core's modules do not report a failure alike: ``kubernetes.core.k8s`` gives the
answer's body in ``msg`` and its reason phrase in ``reason``; ``k8s_json_patch`` the status in
``status``; ``k8s_info`` and a failed API discovery (the first requests of every module) give the
client's exception as text: ``(503)\\nReason: Service Unavailable\\nHTTP response headers:
HTTPHeaderDict({...})\\nHTTP response body: ...``, with a traceback. The status is read from
whichever of those the result has; Retry-After from the headers in that text, else from the
``details.retryAfterSeconds`` kube-apiserver puts in a 429's Status body.
"""
import json
import re
from http import HTTPStatus

from ansible_collections.ocpvirt.multinet.plugins.module_utils.k8s.retry import MAX_RETRY_AFTER

_PHRASES = {status.phrase.lower(): status.value for status in HTTPStatus}
_STATUS_LINE = re.compile(r"^\(?(\d{3})\)?\s*$", re.MULTILINE)
_REASON_LINE = re.compile(r"^Reason: (.+)$", re.MULTILINE)
_RETRY_AFTER_HEADER = re.compile(r"['\"]retry-after['\"]\s*:\s*['\"]([^'\"]*)['\"]", re.IGNORECASE)
_RETRY_AFTER_DETAIL = re.compile(r"['\"]retryAfterSeconds['\"]\s*:\s*(\d+)")
_STATUS_BODY = re.compile(r"\{\s*\"kind\"\s*:\s*\"Status\"")

# What to do about a final failure, by status; a status not listed gets no advice.
ADVICE = {
    401: "the credentials were refused: check the kubeconfig, token or AAP credential",
    403: "the identity lacks a right: grant it (deploy/rbac, playbooks/rbac.yml)",
    429: "the API server is busy or unavailable: run again later",
    500: "the API server is busy or unavailable: run again later",
    502: "the API server is busy or unavailable: run again later",
    503: "the API server is busy or unavailable: run again later",
    504: "the API server is busy or unavailable: run again later",
}


def failed_answer(result):
    """(status, Retry-After text or None) of a failed task `result`, or (None, None) when it
    carries no HTTP status (a bad argument, an unreachable server)."""
    if not result.get("failed"):
        return None, None
    text = "\n".join(str(result.get(key) or "") for key in ("msg", "exception", "error"))
    return _status(result, text), _retry_after(text)


def _status(result, text):
    for key in ("status", "error"):
        value = result.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and 100 <= value <= 599:
            return value
    body = _status_body(text)
    if isinstance(body.get("code"), int):
        return body["code"]
    reason = _REASON_LINE.search(text)
    for phrase in (result.get("reason"), reason.group(1) if reason else None):
        if isinstance(phrase, str) and phrase.strip().lower() in _PHRASES:
            return _PHRASES[phrase.strip().lower()]
    line = _STATUS_LINE.search(text)
    return int(line.group(1)) if line else None


def _retry_after(text):
    for pattern in (_RETRY_AFTER_HEADER, _RETRY_AFTER_DETAIL):
        found = pattern.search(text)
        if found:
            return found.group(1)
    return None


def _status_body(text):
    """The Kubernetes Status object the text carries, or {}."""
    for found in _STATUS_BODY.finditer(text):
        try:
            body, _end = json.JSONDecoder().raw_decode(text, found.start())
        except ValueError:
            continue
        return body
    return {}


def api_message(result):
    """The API's own message of the failure, one line, or ''."""
    text = "\n".join(str(result.get(key) or "") for key in ("msg", "exception"))
    message = _status_body(text).get("message")
    return " ".join(str(message).split()) if message else ""


def task_method(action, args):
    """The HTTP method whose retry rule (retry.retryable) applies to running task `action` again.

    A task as a whole is sent again, not a request: ``kubernetes.core.k8s`` reads the object
    before it writes, so running it again after a lost answer changes nothing the first run did
    (PUT-like), unless it creates by ``generateName`` (POST: a second object); a delete is a
    DELETE; a JSON patch is a PATCH unless an operation appends to a list ("/-"), which a second
    sending would do twice (this collection's patches ``test`` what they read first)."""
    short = str(action).rsplit(".", 1)[-1]
    if short == "k8s_info":
        return "GET"
    if short == "k8s_json_patch":
        ops = args.get("patch") if isinstance(args.get("patch"), list) else []
        appends = any(isinstance(op, dict) and str(op.get("path", "")).endswith("/-") for op in ops)
        return "POST" if appends else "PATCH"
    if args.get("state") == "absent":
        return "DELETE"
    if args.get("generate_name") or _generates_name(args.get("definition")):
        return "POST"
    return "PUT"


def _generates_name(definition):
    documents = definition if isinstance(definition, list) else [definition]
    return any(isinstance(doc, dict) and (doc.get("metadata") or {}).get("generateName") for doc in documents)


def call_name(action, args):
    """The call a task makes, for a message: the module and the object it names, if one."""
    definition = args.get("definition")
    kind, namespace, name = args.get("kind"), args.get("namespace"), args.get("name")
    if isinstance(definition, dict):
        metadata = definition.get("metadata") or {}
        kind = definition.get("kind") or kind
        namespace, name = metadata.get("namespace") or namespace, metadata.get("name") or name
    target = "/".join(str(part) for part in (namespace, name) if part)
    described = " ".join(str(part) for part in (kind, target) if part)
    return "{0} ({1})".format(action, described) if described else str(action)


def final_message(call, status, attempts, message="", retry_after=None):
    """The one line of a call that failed for good: the call, the status, what to do."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "HTTP"
    line = "{0}: {1} ({2})".format(call, phrase, status)
    if message:
        line += ": " + message
    if attempts > 1:
        line += "; gave up after {0} attempts".format(attempts)
    if retry_after is not None and retry_after > MAX_RETRY_AFTER:
        line += "; the server asked to wait {0:g} s (more than {1:g})".format(retry_after, MAX_RETRY_AFTER)
    advice = ADVICE.get(status)
    return line + ("; " + advice if advice else "")
