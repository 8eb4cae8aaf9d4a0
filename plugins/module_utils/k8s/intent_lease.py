# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One writer per intent at a time: a coordination.k8s.io/v1 Lease per intent name.

Two runs that write one intent at once each list, plan and write from what they read, and
interleaved they leave a state neither asked for (190 policies of one run's port and 10 of the
other's, both rc=0). multinetwork_policy therefore holds the Lease ``multinet-intent-<intent
name>`` in the intent's namespace from before its last read of the policies to after its last
write, as client-go's leader election holds its lock (k8s.io/client-go/tools/leaderelection:
holderIdentity, leaseDurationSeconds, renewTime; taking an expired lease is an update with the
resourceVersion read, so two runs cannot both take it). The holder renews it every third of
its duration while it writes and deletes it at the end; a run that died leaves it to expire.

The decisions (free, ours, held, expired) and the Lease bodies are pure functions; LeaseLock
does the requests through the client kubernetes.core built.
"""
import datetime
import getpass
import json
import os
import socket
import threading
import time
import uuid

from ansible_collections.kubernetes.core.plugins.module_utils.k8s.service import K8sService

from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.vocabulary import (
    INTENT_LABEL,
    MANAGED_BY_LABEL,
    MANAGED_BY_VALUE,
)
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.errors import MultinetError
from ansible_collections.ocpvirt.multinet.plugins.module_utils.k8s.apply import ApiException, ApplyError, describe_api_error

LEASE_API_VERSION = "coordination.k8s.io/v1"
LEASE_KIND = "Lease"
LEASE_PREFIX = "multinet-intent-"
POLL_SECONDS = 1.0
MIN_DURATION = 6  # renewed every third: at least every 2 s


def lease_name(intent_name):
    return LEASE_PREFIX + intent_name


def holder_identity():
    """Who holds a lease, as another run's error names it: user, host, process and a random
    part (two runs of one process, e.g. two tasks in one fork, are still two holders)."""
    try:
        user = getpass.getuser()
    except Exception:  # no user name for this uid (some containers)
        user = str(os.getuid())
    return "{0}@{1} pid {2} {3}".format(user, socket.gethostname(), os.getpid(), uuid.uuid4().hex[:8])


def format_time(moment):
    """A MicroTime as the API writes it: RFC 3339, UTC, microseconds."""
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text):
    if not text:
        return None
    try:
        return datetime.datetime.strptime(text.replace("Z", "+0000"), "%Y-%m-%dT%H:%M:%S.%f%z")
    except ValueError:
        try:
            return datetime.datetime.strptime(text.replace("Z", "+0000"), "%Y-%m-%dT%H:%M:%S%z")
        except ValueError:
            return None


def lease_state(lease, identity, now):
    """('free' | 'ours' | 'expired' | 'held', seconds until it expires or None) of a Lease as read
    (None: there is none). A lease without a holder or without a renewal time is free."""
    if lease is None:
        return "free", None
    spec = lease.get("spec") or {}
    holder = spec.get("holderIdentity")
    if holder == identity:
        return "ours", None
    renewed = parse_time(spec.get("renewTime") or spec.get("acquireTime"))
    if not holder or renewed is None:
        return "free", None
    left = (renewed - now).total_seconds() + (spec.get("leaseDurationSeconds") or 0)
    return ("held", left) if left > 0 else ("expired", left)


def lease_body(namespace, intent_name, identity, duration, now, current=None):
    """The Lease that says `identity` holds the intent's lease from `now` (an update of
    `current`, carrying its resourceVersion, when there is one)."""
    spec = {"holderIdentity": identity, "leaseDurationSeconds": duration,
            "acquireTime": format_time(now), "renewTime": format_time(now)}
    metadata = {"name": lease_name(intent_name), "namespace": namespace,
                "labels": {MANAGED_BY_LABEL: MANAGED_BY_VALUE, INTENT_LABEL: intent_name}}
    if current is not None:
        metadata["resourceVersion"] = current["metadata"]["resourceVersion"]
        transitions = (current.get("spec") or {}).get("leaseTransitions") or 0
        spec["leaseTransitions"] = transitions + 1
    return {"apiVersion": LEASE_API_VERSION, "kind": LEASE_KIND, "metadata": metadata, "spec": spec}


def held_message(namespace, intent_name, lease, left, waited):
    spec = lease.get("spec") or {}
    return ("intent {0!r} in namespace {1!r} is being written by another run: Lease {1}/{2} is held by {3!r} "
            "(since {4}, expires in {5:.0f} s unless renewed); waited {6:.0f} s (lease_wait). Nothing was "
            "written; run again when it is done, or raise lease_wait".format(
                intent_name, namespace, lease_name(intent_name), spec.get("holderIdentity"),
                spec.get("acquireTime") or "?", left, waited))


def check_lease_options(wait, duration):
    if wait < 0:
        raise MultinetError("must be 0 (fail at once) or more seconds", "lease_wait", wait)
    if duration < MIN_DURATION:
        raise MultinetError("must be at least {0} seconds".format(MIN_DURATION), "lease_duration", duration)


class LeaseHeld(MultinetError):
    """Another run holds the intent's lease and did not let go within lease_wait."""


class LeaseLock:
    """The intent's Lease, taken, renewed and released through `api`, an object with
    read(name) -> dict or None, create(body) -> dict, replace(body) -> dict and
    delete(name, resource_version) (404 and 409 are the api's ApiException, status 404/409)."""

    def __init__(self, api, namespace, intent_name, wait, duration, identity=None,
                 clock=time.monotonic, now=None, sleep=time.sleep):
        self.api = api
        self.namespace = namespace
        self.intent_name = intent_name
        self.wait = wait
        self.duration = duration
        self.identity = identity or holder_identity()
        self._clock = clock
        self._now = now or (lambda: datetime.datetime.now(datetime.timezone.utc))
        self._sleep = sleep
        self.lease = None
        self.lost_to = None
        self.waited = 0.0
        self.waited_for = []  # the other holders seen while waiting, in order
        self.took_over = None  # (holder, leaseDurationSeconds, seconds left) of an expired lease taken over
        self._stop = threading.Event()
        self._renewer = None

    @property
    def name(self):
        return lease_name(self.intent_name)

    def notes(self):
        """What the run waited for and whose expired lease it took over, for warnings."""
        notes = []
        if self.waited_for:
            notes.append("waited {0:.0f} s for Lease {1}/{2}, held by {3} (another run writing intent {4!r})".format(
                self.waited, self.namespace, self.name, ", then ".join(repr(h) for h in self.waited_for),
                self.intent_name))
        if self.took_over is not None:
            holder, duration, left = self.took_over
            notes.append("took over Lease {0}/{1} from {2!r}, last renewed {3:.0f} s ago for {4} s (a run that "
                         "died?)".format(self.namespace, self.name, holder, duration - left, duration))
        return notes

    def acquire(self):
        """Take the lease, waiting up to `wait` seconds for another holder; raise LeaseHeld."""
        started = self._clock()
        while True:
            current = self.api.read(self.name)
            state, left = lease_state(current, self.identity, self._now())
            if state == "ours":
                self.lease = current
                break
            if state == "held":
                waited = self._clock() - started
                holder = current["spec"]["holderIdentity"]
                if holder not in self.waited_for:
                    self.waited_for.append(holder)
                if waited >= self.wait:
                    raise LeaseHeld(held_message(self.namespace, self.intent_name, current, left, waited))
                self._sleep(min(POLL_SECONDS, self.wait - waited, max(left, 0.1)))
                continue
            body = lease_body(self.namespace, self.intent_name, self.identity, self.duration, self._now(),
                              None if current is None else current)
            self.took_over = None if state != "expired" else (
                current["spec"]["holderIdentity"], current["spec"].get("leaseDurationSeconds") or 0, left)
            try:
                self.lease = self.api.create(body) if current is None else self.api.replace(body)
                break
            except Exception as error:  # 409: another run took it (or our retried write did); read again
                if getattr(error, "status", None) != 409:
                    raise
        self.waited = self._clock() - started
        self._renewer = threading.Thread(target=self._renew_until_released, daemon=True)
        self._renewer.start()
        return self

    def _renew_until_released(self):
        while not self._stop.wait(self.duration / 3.0):
            current = self.lease
            body = dict(current, spec=dict(current["spec"], renewTime=format_time(self._now())))
            try:
                self.lease = self.api.replace(body)
            except Exception as error:  # a failed renewal is tried again a third of the duration later
                if getattr(error, "status", None) == 409 and self._taken_over():
                    return

    def _taken_over(self):
        """After a refused renewal: True (and `lost_to` set) when another run holds the lease."""
        try:
            found = self.api.read(self.name)
        except Exception:  # unknown yet: the next renewal asks again
            return False
        if lease_state(found, self.identity, self._now())[0] == "ours":
            self.lease = found
            return False
        self.lost_to = ((found or {}).get("spec") or {}).get("holderIdentity") or "nobody"
        return True

    def release(self):
        """Stop renewing and delete the lease if it is still ours. Returns a problem to report
        (the lease was taken over while this run wrote) or None; a failed delete only leaves
        the lease to expire."""
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join()
        if self.lost_to is not None:
            return ("Lease {0}/{1} was taken over by {2!r} while this run wrote (it could not renew it within "
                    "lease_duration, {3} s); the two runs may have interleaved: run again".format(
                        self.namespace, self.name, self.lost_to, self.duration))
        try:
            self.api.delete(self.name, self.lease["metadata"]["resourceVersion"])
        except Exception:  # 404: gone already; 409: renewed by no one but us, so changed by another
            pass
        return None


class NamespaceMissing(Exception):
    """The intent's namespace does not exist: there is nothing to hold a lease on (the writes
    fail on their own, naming it)."""


class LeaseApi:
    """The Leases of one namespace through the client kubernetes.core built (see PolicyStore):
    requests retried as every other, failures other than 404 and 409 raised as ApplyError."""

    def __init__(self, store, module, namespace):
        self.store = store
        self.namespace = namespace
        self._module = module
        self._resource = None

    @property
    def resource(self):
        if self._resource is None:
            target = "{0} {1}".format(LEASE_API_VERSION, LEASE_KIND)
            try:
                self._resource = K8sService(self.store.client, self._module).find_resource(LEASE_KIND, LEASE_API_VERSION)
            except Exception as error:
                raise ApplyError(describe_api_error("Failed to discover", target, error, self.store.host)) from error
            if self._resource is None:
                raise ApplyError("The API server does not serve {0}, which holds one writer per intent".format(target))
        return self._resource

    def read(self, name):
        try:
            return self._call("read", name, lambda timeout: self.store.client.get(
                self.resource, name=name, namespace=self.namespace, _request_timeout=timeout)).to_dict()
        except ApiException as error:
            if error.status == 404:
                return None
            raise self._error("read", name, error) from error

    def create(self, body):
        return self._write("take", body, lambda timeout: self.store.client.create(
            self.resource, body, namespace=self.namespace, _request_timeout=timeout))

    def replace(self, body):
        return self._write("take", body, lambda timeout: self.store.client.replace(
            self.resource, body, name=body["metadata"]["name"], namespace=self.namespace, _request_timeout=timeout))

    def delete(self, name, resource_version):
        self._call("release", name, lambda timeout: self.store.client.delete(
            self.resource, name=name, namespace=self.namespace, _request_timeout=timeout,
            body={"preconditions": {"resourceVersion": resource_version}}))

    def _write(self, verb, body, call):
        try:
            return self._call(verb, body["metadata"]["name"], call).to_dict()
        except ApiException as error:
            if error.status == 404 and _missing_kind(error) == "namespaces":
                raise NamespaceMissing() from error
            if error.status == 409:
                raise
            raise self._error(verb, body["metadata"]["name"], error) from error

    def _call(self, verb, name, call):
        # Resolved outside the try: discovery's errors are explicit already.
        self.resource  # pylint: disable=pointless-statement
        try:
            return self.store.request(call)
        except ApiException:
            raise
        except Exception as error:
            raise self._error(verb, name, error) from error

    def _error(self, verb, name, error):
        return ApplyError(describe_api_error(
            "Failed to {0}".format(verb), "Lease {0}/{1} (one writer per intent; the identity needs get, create, "
            "update and delete on leases.coordination.k8s.io in the namespace)".format(self.namespace, name),
            error, self.store.host))


def _missing_kind(error):
    """The kind a 404's Status names (`namespaces` when the namespace is what is missing)."""
    try:
        status = json.loads(error.body)
    except (TypeError, ValueError):
        return None
    return ((status if isinstance(status, dict) else {}).get("details") or {}).get("kind")
