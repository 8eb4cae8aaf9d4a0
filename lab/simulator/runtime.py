"""Controller machinery of the lab simulator: list+watch threads feeding a work queue.

Level-triggered, as controller-runtime is: on start every primary object is reconciled, then
watch events enqueue keys; events on a controller's secondary ("trigger") resources and a
periodic resync enqueue every primary again, so a reconcile may read any other object it needs.
A reconcile that raises is logged and retried with backoff (2 s doubling to 60 s); the loops
never die. A controller may have several workers (`workers`, controller-runtime's
MaxConcurrentReconciles); as client-go's workqueue, the queue never hands out a key that a worker
is still reconciling (one queued again meanwhile waits until that worker is done).
"""
import contextlib
import logging
import threading
import time

from kubernetes.client.rest import ApiException

ALL = ("*", "*")
RETRY_SECONDS = 2.0
MAX_RETRY_SECONDS = 60.0


class Controller:
    """Subclasses set name, primary (a kube.Resource), triggers and implement reconcile()."""

    name = "controller"
    primary = None
    triggers = ()
    resync_seconds = 30.0
    workers = 1

    def __init__(self, kube, state_dir=None):
        self.kube = kube
        self.state_dir = state_dir  # the lab's state directory (labctl's STATE_DIR)
        self.log = logging.getLogger(f"simulator.{self.name}")

    def startup(self):
        """One-off work before the first reconcile (e.g. creating simulated nodes)."""

    def reconcile(self, obj):
        """Drive the world towards what `obj` (a primary object, as a dict) asks for."""
        raise NotImplementedError


class WorkQueue:
    """A set of pending keys; a key queued twice before it is processed runs once, and a key is
    never handed out again before done() says its worker has finished it."""

    def __init__(self):
        self._pending = set()
        self._order = []
        self._processing = set()
        self._cond = threading.Condition()

    def add(self, key):
        with self._cond:
            if key not in self._pending:
                self._pending.add(key)
                self._order.append(key)
                self._cond.notify_all()

    def add_after(self, key, delay):
        timer = threading.Timer(delay, self.add, args=(key,))
        timer.daemon = True
        timer.start()

    def get(self):
        with self._cond:
            while True:
                key = next((k for k in self._order if k not in self._processing), None)
                if key is not None:
                    self._order.remove(key)
                    self._pending.discard(key)
                    self._processing.add(key)
                    return key
                self._cond.wait()

    def done(self, key):
        with self._cond:
            self._processing.discard(key)
            self._cond.notify_all()


class KeyLocks:
    """Work on a key waits until earlier work on the same key is done; other keys go on."""

    def __init__(self):
        self._busy = set()
        self._cond = threading.Condition()

    @contextlib.contextmanager
    def held(self, key):
        with self._cond:
            while key in self._busy:
                self._cond.wait()
            self._busy.add(key)
        try:
            yield
        finally:
            with self._cond:
                self._busy.discard(key)
                self._cond.notify_all()


def object_key(obj):
    metadata = obj["metadata"]
    return metadata.get("namespace") or "", metadata["name"]


class ControllerRunner:
    def __init__(self, controller):
        self.controller = controller
        self.queue = WorkQueue()
        self.failures = {}  # key -> consecutive failed reconciles, for backoff
        self.log = controller.log

    def start(self):
        threads = [threading.Thread(target=self._start_workers, name=f"{self.controller.name}-worker", daemon=True),
                   threading.Thread(target=self._resync, name=f"{self.controller.name}-resync", daemon=True)]
        threads.append(threading.Thread(target=self._watch, args=(self.controller.primary, True),
                                        name=f"{self.controller.name}-watch", daemon=True))
        for trigger in self.controller.triggers:
            threads.append(threading.Thread(target=self._watch, args=(trigger, False),
                                            name=f"{self.controller.name}-watch-{trigger.plural}",
                                            daemon=True))
        for thread in threads:
            thread.start()

    def _resync(self):
        while True:
            self.queue.add(ALL)
            time.sleep(self.controller.resync_seconds)

    def _watch(self, resource, is_primary):
        while True:
            try:
                listing = self.controller.kube.list(resource)
                self._on_event(listing.get("items", []), is_primary)
                version = listing["metadata"]["resourceVersion"]
                for event_type, obj in self.controller.kube.watch(resource, version):
                    if event_type == "ERROR":  # 410 Gone: our resourceVersion is too old
                        break
                    self._on_event([obj], is_primary)
            except ApiException as error:
                # 404: the CRD is not installed yet (operators' APIs arrive with their CSV).
                if error.status != 404:
                    self.log.warning("watch %s: %s %s", resource.plural, error.status, error.reason)
                time.sleep(5)
            except Exception as error:  # connection drops; the apiserver may be restarting
                self.log.warning("watch %s: %s", resource.plural, error)
                time.sleep(RETRY_SECONDS)

    def _on_event(self, objects, is_primary):
        if not is_primary:
            if objects:
                self.queue.add(ALL)
            return
        for obj in objects:
            self.queue.add(object_key(obj))

    def _start_workers(self):
        while True:
            try:
                self.controller.startup()
                break
            except Exception as error:  # the apiserver may not answer yet
                self.log.warning("startup failed, retrying: %s", _describe(error))
                time.sleep(RETRY_SECONDS)
        for index in range(1, self.controller.workers):
            threading.Thread(target=self._work, name=f"{self.controller.name}-worker-{index}", daemon=True).start()
        self._work()

    def _work(self):
        while True:
            key = self.queue.get()
            try:
                self._process(key)
                self.failures.pop(key, None)
            except Exception as error:
                if _namespace_terminating(error):
                    continue  # the object goes away with its namespace; nothing to converge
                count = self.failures[key] = self.failures.get(key, 0) + 1
                delay = min(RETRY_SECONDS * 2 ** (count - 1), MAX_RETRY_SECONDS)
                self.log.warning("reconcile %s failed (%d), retrying in %.0fs: %s",
                                 "/".join(key), count, delay, _describe(error))
                self.queue.add_after(key, delay)
            finally:
                self.queue.done(key)

    def _process(self, key):
        kube, resource = self.controller.kube, self.controller.primary
        if key == ALL:
            for obj in kube.items(resource):
                self.queue.add(object_key(obj))
            return
        namespace, name = key
        obj = kube.get(resource, name, namespace or None)
        if obj is not None:
            self.controller.reconcile(obj)


def _namespace_terminating(error):
    return isinstance(error, ApiException) and error.status == 403 and "being terminated" in (error.body or "")


def _describe(error):
    if isinstance(error, ApiException):
        return f"{error.status} {error.reason}: {(error.body or '')[:300]}"
    return repr(error)


def run_forever(controllers):
    for controller in controllers:
        ControllerRunner(controller).start()
    while True:
        time.sleep(3600)
