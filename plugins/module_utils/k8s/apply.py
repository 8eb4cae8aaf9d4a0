"""Thin apply/prune layer for compiled MultiNetworkPolicies over kubernetes.core's module_utils.

No client of our own: kubernetes.core's `get_api_client` builds (and caches) the client from
the module's auth options and `K8sService` finds the API resource. What kubernetes.core's
service does not offer is a server-side apply without a preliminary GET per object (its
`apply` goes through `k8s_apply`, which reads the object first), so writes go straight to
the dynamic client it built: one LIST per run, then one request per policy that differs.

Writes run a few at a time (`WRITE_WORKERS`): each one is a round trip in which the client
mostly waits for the API server, so a thousand sequential applies spend most of their time
idle. The phases of `reconcile.write_phases` still run one after the other.

Before the first real write, every write of the run is sent once as a server-side dry run
(`dryRun=All`): schema, admission and RBAC refusals then stop the run while the cluster is
still exactly as it was (e.g. `endPort` on a MultiNetworkPolicy CRD that does not declare it,
as OpenShift 4.15's, where a plain run would have written the policies sorted before it).
"""

import json
import threading
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

from ansible_collections.kubernetes.core.plugins.module_utils.k8s.exceptions import CoreException
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.service import K8sService

from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.vocabulary import INTENT_LABEL, MANAGED_BY_LABEL
from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.compiler import (
    API_VERSION,
    KIND,
    compile_policies,
    selector_for,
)
from ansible_collections.ocpvirt.multinet.plugins.module_utils.k8s.client import api_client
from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.reconcile import (
    compute_plan,
    diff_entries,
    foreign_keys_patch,
    write_phases,
)
from ansible_collections.ocpvirt.multinet.plugins.module_utils.k8s.retry import (
    IDEMPOTENT_METHODS, RETRYABLE_STATUSES, retryable, with_retries)

try:
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError as TransportError
    from urllib3.exceptions import NewConnectionError as NeverSent
    from urllib3.exceptions import ReadTimeoutError as TransportTimeout
except ImportError:  # reported by AnsibleK8SModule's dependency check
    ApiException = TransportError = TransportTimeout = NeverSent = ()

FIELD_MANAGER = "ocpvirt.multinet"
OWNED_LABELS = (MANAGED_BY_LABEL, INTENT_LABEL)
# Writes in flight at once. Four keep a 2-core API server busy; more mostly queue there, and
# they would exceed the connections urllib3 keeps per host on a 1-CPU execution environment
# (the kubernetes client's default pool is 5 per CPU).
WRITE_WORKERS = 4
RETURN_POLICIES = ("all", "changed", "names")
_SKIPPED = object()  # what a write task returns when it did not start because another failed


class ApplyError(CoreException):
    """A failed API call; `result` holds what had been done before it (for fail_json)."""

    def __init__(self, message, result=None):
        super().__init__(message)
        self.result = result or {}


def describe_api_error(action, target, error, host=None):
    """One line naming what failed and the API's own reason, never a traceback."""
    if isinstance(error, ApiException):
        return "{0} {1}: {2}".format(action, target, _api_reason(error))
    if isinstance(error, TransportError):
        return "{0} {1}: cannot reach the Kubernetes API server{2}: {3}".format(
            action, target, " at " + host if host else "", _root_cause(error))
    return "{0} {1}: {2}".format(action, target, error)


def namespace_missing(error):
    """True for the API's answer that the object's namespace does not exist."""
    return isinstance(error, ApiException) and error.status == 404 and \
        (_status_body(error).get("details") or {}).get("kind") == "namespaces"


def _api_reason(error):
    status = _status_body(error)
    details = status.get("details") or {}
    if namespace_missing(error):
        return "namespace {0!r} does not exist".format(details.get("name"))
    reason = status.get("reason") or error.reason
    message = status.get("message") or error.reason
    # Not for a 500: kube-apiserver answers some refusals so (a field not in the schema, to a server-side apply).
    advice = "; the API server is busy or unavailable: run again later" if error.status in (429, 502, 503, 504) else ""
    return "{0} ({1}): {2}{3}".format(reason, error.status, message, advice)


def _status_body(error):
    try:
        body = json.loads(error.body)
    except (TypeError, ValueError):
        return {}
    return body if isinstance(body, dict) else {}


def retry_class_for(method):
    """retry_class for a request of `method`: a request that may have reached the server (a 5xx
    answer, a connection lost after sending) is sent again only when `method` is idempotent."""
    def classify(error):
        again, retry_after = retry_class(error)
        if isinstance(error, ApiException):
            return again and retryable(method, error.status), retry_after
        never_sent = isinstance(error, NeverSent) or isinstance(getattr(error, "reason", None), NeverSent)
        return again and (never_sent or method.upper() in IDEMPOTENT_METHODS), None
    return classify


def retry_class(error):
    """(retryable, Retry-After) of a failed request, for retry.with_retries.

    A request whose answer did not come within `request_timeout` is not retried: a server that
    does not answer would only hold the run that much longer each time. (urllib3's
    NewConnectionError, a refused connection, is a connect timeout by class, and is retried.)
    """
    if isinstance(error, ApiException):
        return error.status in RETRYABLE_STATUSES, (error.headers or {}).get("Retry-After")
    timed_out = isinstance(error, TransportTimeout) or isinstance(getattr(error, "reason", None), TransportTimeout)
    return isinstance(error, TransportError) and not timed_out, None


def _root_cause(error):
    # urllib3 wraps the socket error (connection refused, TLS failure) in MaxRetryError.reason
    return str(getattr(error, "reason", None) or error)


class PolicyStore:
    """The MultiNetworkPolicies of a cluster, reached through one kubernetes.core client."""

    def __init__(self, module, timeout=None):
        # Connecting is deferred to the first request so an invalid intent fails on its own
        # message, even when no cluster is configured.
        self._module = module
        self._client = None
        self._resource = None
        # Seconds a request may take (connect and read); None: the client's default (no limit).
        self.timeout = timeout
        # Check mode only: the namespace is created by an earlier stage of the run, so a dry run
        # answered "namespace not found" is a create the server could not check yet (`unsent`).
        self.namespace_assumed = False
        self.unsent = []

    @property
    def client(self):
        if self._client is None:
            try:
                # its first requests (version, API discovery) are retried as any read
                self._client = with_retries(lambda: api_client(self._module), retry_class_for("GET"))
            except CoreException:  # already says "Could not create API client ...: <why>"
                raise
            except Exception as error:  # the server is unreachable (the client asks /version), bad cert paths
                raise ApplyError(describe_api_error(
                    "Could not create", "a Kubernetes API client", error, self._module.params.get("host"))) from error
        return self._client

    @property
    def host(self):
        return self.client.configuration.host

    @property
    def resource(self):
        if self._resource is None:
            self._resource = self._find_resource()
        return self._resource

    def _find_resource(self):
        target = "{0} {1}".format(API_VERSION, KIND)
        try:
            resource = K8sService(self.client, self._module).find_resource(KIND, API_VERSION)
        except Exception as error:  # discovery is the first request: any transport error lands here
            raise ApplyError(describe_api_error("Failed to discover", target, error, self.host)) from error
        if resource is None:
            raise ApplyError("The API server does not serve {0}: is the MultiNetworkPolicy CRD "
                             "installed (useMultiNetworkPolicy on OpenShift)?".format(target))
        return resource

    def prepare_writes(self):
        """Resolve the client and the API resource in this thread, before writes run in others
        (the lazy properties are not thread-safe); how many writes may run at once.

        Capped by the connections the client's urllib3 pool keeps: a write beyond them would
        open a connection and throw it away afterwards.
        """
        if self._resource is None:
            self._resource = self._find_resource()  # resolves the client too
        pool_size = self.client.configuration.connection_pool_maxsize or 1
        return max(1, min(WRITE_WORKERS, pool_size))

    @property
    def check_mode(self):
        """True when every write is a dry run anyway (Ansible check mode)."""
        return bool(self.client.dry_run)

    def _dry_run(self, dry_run):
        return "All" if dry_run or self.client.dry_run else None

    def list(self, namespace, selector):
        resource = self.resource  # outside the try: its own errors are already explicit
        try:
            # raw JSON: wrapping a thousand items in ResourceInstance costs more than the request
            found = self.request(lambda timeout: self.client.get(
                resource, namespace=namespace, label_selector=selector, serialize=False, _request_timeout=timeout))
        except Exception as error:
            raise ApplyError(describe_api_error(
                "Failed to list", "MultiNetworkPolicies in namespace {0!r} ({1})".format(namespace, selector),
                error, self.host)) from error
        return json.loads(found.data).get("items") or []

    def request(self, call):
        """call(timeout) with this store's timeout, retried on 429, 5xx and connection errors."""
        return with_retries(lambda: call(self.timeout), retry_class)

    def apply(self, manifest, dry_run=False):
        """Server-side apply, taking back fields edited by others: (created?, object as stored).

        An apply that was retried and answered 200 may have created the object on an attempt
        whose answer was lost; the object as stored (the answer: what a re-read would return)
        then says who created it (`created_by_us`).
        """
        metadata = manifest["metadata"]
        attempts = []
        # Sent as JSON text (YAML's subset), which the kubernetes client passes through as it
        # is: given the dict, it walks it in Python first, a fifth of the client's CPU per write.
        body = json.dumps(manifest)

        def call(resource):
            attempts.append(resource)
            return self.client.client.server_side_apply(
                resource, body=body, name=metadata["name"], namespace=metadata["namespace"],
                field_manager=FIELD_MANAGER, force_conflicts=True, dry_run=self._dry_run(dry_run), serialize=False,
                _request_timeout=self.timeout)
        response = self._write("apply", manifest, dry_run, call)
        if response is None:  # the namespace comes later in this check-mode run: a create
            self.unsent.append(metadata["name"])
            return True, manifest
        stored = json.loads(response.data)
        return response.status == 201 or (len(attempts) > 1 and created_by_us(stored)), stored

    def remove_keys(self, manifest, patch, dry_run=False):
        """Merge-patch `patch` (nulls for keys another manager added) into the live object."""
        metadata = manifest["metadata"]
        self._write("patch", manifest, dry_run, lambda resource: self.client.client.patch(
            resource, body=patch, name=metadata["name"], namespace=metadata["namespace"],
            content_type="application/merge-patch+json", field_manager=FIELD_MANAGER,
            dry_run=self._dry_run(dry_run), serialize=False, _request_timeout=self.timeout))

    def delete(self, obj, dry_run=False):
        metadata = obj["metadata"]
        self._write("delete", obj, dry_run, lambda resource: self.client.delete(
            resource, name=metadata["name"], namespace=metadata["namespace"],
            dry_run=self._dry_run(dry_run), serialize=False, _request_timeout=self.timeout), gone_ok=True)

    def _write(self, verb, obj, dry_run, call, gone_ok=False):
        resource = self.resource  # outside the try: discovery errors are not this write's
        try:
            return with_retries(lambda: call(resource), retry_class)
        except ApiException as error:
            if gone_ok and error.status == 404:  # deleted by someone else since the list: done
                return None
            if self.namespace_assumed and self.check_mode and namespace_missing(error):
                return None
            raise self._write_error(verb, obj, error, dry_run) from error
        except Exception as error:
            raise self._write_error(verb, obj, error, dry_run) from error

    def _write_error(self, verb, obj, error, dry_run):
        target = "{0} {1}/{2}".format(KIND, obj["metadata"].get("namespace"), obj["metadata"]["name"])
        message = describe_api_error("Failed to " + verb, target, error, self.host)
        if dry_run:
            message += " (refused by the server-side dry run that precedes every write: nothing was written)"
        return ApplyError(message)


def created_by_us(stored):
    """True when the stored object was created by our apply and changed by nobody since: its
    spec never changed (generation 1) and no other field manager holds any field. An object
    someone else created has their manager in managedFields, or a later generation once ours
    changed it."""
    metadata = stored.get("metadata") or {}
    managers = {entry.get("manager") for entry in metadata.get("managedFields") or []}
    return metadata.get("generation") == 1 and managers == {FIELD_MANAGER}


def reconcile(store, intent, state="present", prune=True, want_diff=False, return_policies="names",
              before_write=None, desired=None, live=None):
    """Make the cluster hold exactly the intent's policies; returns the module result.

    ``intent`` is the parsed intent: an ``intent.Intent`` for ``present``; for ``absent`` its
    ``IntentIdentity`` is enough (``name`` and ``namespace`` find the policies to delete).
    ``desired`` (the compiled manifests) and ``live`` (the intent's policies as listed, only
    those of this intent) may be given when the caller has them already, so a run compiles
    once and lists once. Raises ApplyError (with the partial result) when the API refuses a
    request. ``before_write(plan, live, desired, result)`` runs once the plan is known and
    before any write; it may add to the result or raise to stop.
    """
    if desired is None:
        desired = compile_policies(intent) if state == "present" else []
    if live is None:
        live = store.list(intent.namespace, selector_for(intent.name))
    plan = compute_plan(desired, live, prune=prune or state == "absent")
    result = {"created": [], "updated": [], "deleted": []}
    if want_diff:
        result["diff"] = diff_entries(plan, OWNED_LABELS)
    if before_write is not None:
        before_write(plan, live, desired, result)
    try:
        execute(store, plan, result)
    except ApplyError as error:
        # Names only: a failed run's output is read by a person, and the manifests can be
        # compiled again from the intent.
        error.result = _finish(result, desired, "names")
        raise
    return _finish(result, desired, return_policies)


def execute(store, plan, result):
    """Dry-run every write of the plan, then write it phase by phase (see `write_phases` for
    the order and why).

    The dry runs store nothing, so their order does not matter: they run in one pass over
    every phase, the first alone, then `workers` at a time. A failure in that pass is raised
    before any real write. A phase's real writes run concurrently, after its first one
    succeeded alone. At the first failure no further write starts, the ones in flight are
    waited for and recorded, and the failure is raised.
    """
    phases = write_phases(plan)
    if not phases:
        return
    workers = store.prepare_writes()
    if not store.check_mode:  # in check mode the writes below are dry runs already
        failure = run_bounded([_write_task(store, write, dry_run=True) for phase in phases for write in phase],
                              workers)[1]
        if failure is not None:
            raise failure
    for phase in phases:
        done, failure = run_bounded([_write_task(store, write) for write in phase], workers)
        for index in sorted(done):
            result[done[index]].append(phase[index].name)
        if failure is not None:
            raise failure


def _write_task(store, write, dry_run=False):
    """A callable doing `write`; it returns the result list the policy's name belongs in."""
    def task():
        if write.action == "delete":
            store.delete(write.obj, dry_run=dry_run)
            return "deleted"
        created = _apply(store, write.obj, dry_run)
        # A create answered 200 instead of 201 found the object already there (created
        # meanwhile, or an unlabelled policy of the same name, now taken over): an update.
        return "created" if created and write.action == "create" else "updated"
    return task


def run_bounded(tasks, workers):
    """Run `tasks` (callables) in order, at most `workers` at a time, stopping at a failure.

    The first task runs alone: most failures are the same for every write (no `patch` right,
    a missing namespace, an admission webhook that is down), and those then stop the run
    before anything is written. Once a task has failed, no task that has not started yet
    starts; the running ones are waited for, so their results are known.
    Returns ({index: value} of the tasks that completed, the exception of the first failed
    task in task order or None).
    """
    completed, failures = {}, {}
    failed = threading.Event()
    pending = {}
    queue = iter(enumerate(tasks))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        while True:
            # Submit only into free threads, so nothing waits in the executor's queue and
            # stopping the submissions stops the work.
            while not failed.is_set() and len(pending) < (workers if completed else 1):
                item = next(queue, None)
                if item is None:
                    break
                pending[pool.submit(_guarded, item[1], failed)] = item[0]
            if not pending:
                break
            done = wait(pending, return_when=FIRST_COMPLETED).done
            for future in done:
                index = pending.pop(future)
                if future.exception() is not None:
                    failures[index] = future.exception()
                elif future.result() is not _SKIPPED:
                    completed[index] = future.result()
    return completed, failures[min(failures)] if failures else None


def _guarded(task, failed):
    # Checked in the worker thread as well: between a failure and the main thread noticing it,
    # a task already submitted must not start its write.
    if failed.is_set():
        return _SKIPPED
    try:
        return task()
    except BaseException:
        failed.set()
        raise


def _apply(store, manifest, dry_run=False):
    """Apply, then delete what the apply could not: spec keys another field manager added.
    True when the apply created the object."""
    created, stored = store.apply(manifest, dry_run=dry_run)
    extra = foreign_keys_patch(stored.get("spec") or {}, manifest["spec"])
    if extra:
        store.remove_keys(manifest, {"spec": extra}, dry_run=dry_run)
    return created


def _finish(result, desired, return_policies):
    """Sorted name lists (writes complete in any order), `changed` and the policies asked for."""
    for key in ("created", "updated", "deleted"):
        result[key].sort()
    written = set(result["created"]) | set(result["updated"])
    result["policy_names"] = [policy["metadata"]["name"] for policy in desired]
    result["policies"] = _returned_policies(desired, written, return_policies)
    result["changed"] = bool(result["created"] or result["updated"] or result["deleted"])
    return result


def _returned_policies(desired, written, return_policies):
    if return_policies == "all":
        return desired
    if return_policies == "changed":
        return [policy for policy in desired if policy["metadata"]["name"] in written]
    return []
