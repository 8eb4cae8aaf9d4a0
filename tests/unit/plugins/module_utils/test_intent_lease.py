"""One writer per intent: the Lease is taken when free or expired, waited for while another run
holds it (then the failure names the holder), renewed while held and deleted at the end."""
import copy
import datetime
import threading

import pytest

from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.errors import MultinetError
from ansible_collections.ocpvirt.multinet.plugins.module_utils.k8s.intent_lease import (
    LeaseHeld,
    LeaseLock,
    check_lease_options,
    format_time,
    lease_body,
    lease_state,
    parse_time,
)

START = datetime.datetime(2026, 12, 6, 7, 0, 0, tzinfo=datetime.timezone.utc)
NAMESPACE, INTENT = "ledger-ns", "ledger-net"


class Conflict(Exception):
    status = 409


class FakeLeases:
    """The Leases of one namespace as the API server keeps them: resourceVersion checked on
    update and delete, 409 on a conflict."""

    def __init__(self):
        self.stored = {}
        self.version = 0
        self.lock = threading.Lock()
        self.calls = []

    def _store(self, body):
        self.version += 1
        stored = copy.deepcopy(body)
        stored["metadata"]["resourceVersion"] = str(self.version)
        self.stored[stored["metadata"]["name"]] = stored
        return copy.deepcopy(stored)

    def read(self, name):
        self.calls.append(("read", name))
        return copy.deepcopy(self.stored.get(name))

    def create(self, body):
        with self.lock:
            self.calls.append(("create", body["metadata"]["name"]))
            if body["metadata"]["name"] in self.stored:
                raise Conflict()
            return self._store(body)

    def replace(self, body):
        with self.lock:
            self.calls.append(("replace", body["metadata"]["name"]))
            current = self.stored.get(body["metadata"]["name"])
            if current is None or current["metadata"]["resourceVersion"] != body["metadata"]["resourceVersion"]:
                raise Conflict()
            return self._store(body)

    def delete(self, name, resource_version):
        with self.lock:
            self.calls.append(("delete", name))
            if self.stored.get(name, {}).get("metadata", {}).get("resourceVersion") != resource_version:
                raise Conflict()
            del self.stored[name]

    def held_by(self, holder, renewed, duration=60):
        return self._store(lease_body(NAMESPACE, INTENT, holder, duration, renewed))


class Clock:
    def __init__(self):
        self.seconds = 0.0

    def monotonic(self):
        return self.seconds

    def now(self):
        return START + datetime.timedelta(seconds=self.seconds)

    def sleep(self, seconds):
        self.seconds += seconds


def lock(api, clock, wait=10, duration=60, identity="run-b"):
    return LeaseLock(api, NAMESPACE, INTENT, wait, duration, identity=identity,
                     clock=clock.monotonic, now=clock.now, sleep=clock.sleep)


def test_a_free_intent_is_taken_and_released():
    api, clock = FakeLeases(), Clock()
    held = lock(api, clock).acquire()
    stored = api.stored["multinet-intent-ledger-net"]
    assert stored["spec"]["holderIdentity"] == "run-b" and stored["spec"]["leaseDurationSeconds"] == 60
    assert stored["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "ocpvirt.multinet",
                                            "multinet.ocpvirt.io/intent": INTENT}
    assert held.release() is None and held.notes() == []
    assert api.stored == {}


def test_a_lease_held_by_another_run_is_waited_for_then_the_failure_names_the_holder():
    api, clock = FakeLeases(), Clock()
    api.held_by("alice@ci-7 pid 4242 0badcafe", START)
    with pytest.raises(LeaseHeld) as error:
        lock(api, clock, wait=5).acquire()
    message = str(error.value)
    assert message.startswith("intent 'ledger-net' in namespace 'ledger-ns' is being written by another run: "
                              "Lease ledger-ns/multinet-intent-ledger-net is held by 'alice@ci-7 pid 4242 0badcafe'")
    assert "waited 5 s (lease_wait)" in message and "expires in 55 s" in message
    assert 5 <= clock.seconds < 6
    assert api.stored["multinet-intent-ledger-net"]["spec"]["holderIdentity"] == "alice@ci-7 pid 4242 0badcafe"


def test_lease_wait_0_fails_at_once():
    api, clock = FakeLeases(), Clock()
    api.held_by("alice", START)
    with pytest.raises(LeaseHeld):
        lock(api, clock, wait=0).acquire()
    assert clock.seconds == 0


def test_a_lease_released_while_waiting_is_taken():
    api, clock = FakeLeases(), Clock()
    api.held_by("alice", START)
    real_sleep = clock.sleep

    def sleep_then_release(seconds):
        real_sleep(seconds)
        api.stored.clear()  # alice's run ends
    clock.sleep = sleep_then_release
    held = lock(api, clock, wait=30).acquire()
    assert api.stored["multinet-intent-ledger-net"]["spec"]["holderIdentity"] == "run-b" and clock.seconds <= 1
    assert held.notes() == ["waited 1 s for Lease ledger-ns/multinet-intent-ledger-net, held by 'alice' "
                            "(another run writing intent 'ledger-net')"]
    held.release()


def test_a_lease_left_by_a_crashed_run_is_taken_over_once_expired():
    api, clock = FakeLeases(), Clock()
    api.held_by("crashed", START - datetime.timedelta(seconds=50), duration=60)
    held = lock(api, clock, wait=30).acquire()
    spec = api.stored["multinet-intent-ledger-net"]["spec"]
    assert spec["holderIdentity"] == "run-b" and spec["leaseTransitions"] == 1
    assert 10 <= clock.seconds <= 11  # waited until 60 s after the crashed run's last renewal
    waited, took_over = held.notes()
    assert "held by 'crashed'" in waited
    assert took_over == ("took over Lease ledger-ns/multinet-intent-ledger-net from 'crashed', last renewed 60 s ago "
                         "for 60 s (a run that died?)")
    held.release()


def test_two_runs_taking_a_free_lease_at_once_end_with_one_holder():
    api, clock = FakeLeases(), Clock()
    racing = {"done": False}
    real_read = api.read

    def read_then_lose_the_race(name):
        found = real_read(name)
        if not racing["done"]:
            racing["done"] = True
            api.held_by("run-c", clock.now())  # created between run-a's read and its create
        return found
    api.read = read_then_lose_the_race
    with pytest.raises(LeaseHeld, match="held by 'run-c'"):
        lock(api, clock, wait=0, identity="run-a").acquire()
    assert ("create", "multinet-intent-ledger-net") in api.calls


def test_a_retried_take_whose_answer_was_lost_finds_the_lease_its_own():
    api, clock = FakeLeases(), Clock()
    real_create = api.create

    def create_then_lose_the_answer(body):
        real_create(body)
        raise Conflict()  # what the retry of a create that had succeeded gets
    api.create = create_then_lose_the_answer
    held = lock(api, clock).acquire()
    assert held.lease["spec"]["holderIdentity"] == "run-b"
    held.release()
    assert api.stored == {}


def test_the_lease_is_renewed_while_held():
    api, clock = FakeLeases(), Clock()
    held = lock(api, clock, duration=6)
    held._stop.wait = lambda seconds: len([c for c in api.calls if c[0] == "replace"]) >= 2  # two renewals
    held.acquire()
    held._renewer.join(5)
    assert [call[0] for call in api.calls] == ["read", "create", "replace", "replace"]
    assert held.release() is None and api.stored == {}


def test_a_lease_taken_over_during_the_run_is_reported_at_release():
    api, clock = FakeLeases(), Clock()
    held = lock(api, clock, duration=6)
    waits = []

    def one_renewal(_seconds):
        if not waits:
            api.held_by("run-z", clock.now())  # our lease expired and run-z took it
        waits.append(1)
        return len(waits) > 1
    held._stop.wait = one_renewal
    held.acquire()
    held._renewer.join(5)
    problem = held.release()
    assert problem.startswith("Lease ledger-ns/multinet-intent-ledger-net was taken over by 'run-z' while this run wrote")
    assert api.stored["multinet-intent-ledger-net"]["spec"]["holderIdentity"] == "run-z"  # not deleted


def test_lease_state_reads_holder_and_expiry():
    body = lease_body(NAMESPACE, INTENT, "alice", 60, START)
    assert lease_state(None, "me", START) == ("free", None)
    assert lease_state(body, "alice", START) == ("ours", None)
    assert lease_state(body, "me", START + datetime.timedelta(seconds=20)) == ("held", 40)
    assert lease_state(body, "me", START + datetime.timedelta(seconds=61))[0] == "expired"
    assert lease_state(dict(body, spec=dict(body["spec"], holderIdentity="")), "me", START)[0] == "free"


def test_times_are_written_as_the_api_writes_them_and_read_back():
    assert format_time(START) == "2026-12-06T07:00:00.000000Z"
    assert parse_time("2026-12-06T07:00:00.000000Z") == parse_time("2026-12-06T07:00:00Z") == START
    assert parse_time("yesterday") is None


@pytest.mark.parametrize("wait, duration, message", [
    (-1, 60, "lease_wait: must be 0 (fail at once) or more seconds (got -1)"),
    (10, 5, "lease_duration: must be at least 6 seconds (got 5)")])
def test_bad_lease_options_are_named(wait, duration, message):
    with pytest.raises(MultinetError) as error:
        check_lease_options(wait, duration)
    assert str(error.value) == message
