import copy
import json
import threading
from pathlib import Path

import pytest
import yaml
from kubernetes.client.exceptions import ApiException
from kubernetes.dynamic.exceptions import api_exception
from urllib3.exceptions import MaxRetryError, NewConnectionError, ProtocolError, ReadTimeoutError

from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.compiler import compile_intent
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.intent import parse_intent, parse_intent_identity
from ansible_collections.ocpvirt.multinet.plugins.module_utils.k8s.apply import (
    ApplyError,
    PolicyStore,
    created_by_us,
    describe_api_error,
    reconcile,
    retry_class,
    retry_class_for,
)

SEED_INTENT = yaml.safe_load((Path(__file__).parents[3] / "unit" / "fixtures" / "seed_intent.yml").read_text())


class FakeStore:
    """The store's interface over a dict of live objects; records every write.

    Writes may come from several threads (`workers` at once), as from the real store. Dry runs
    change nothing and are recorded in `dry_runs`; `fail_on` fails a real write only (what a
    dry run cannot foresee: a lost connection), `refuse_on` fails the dry run too (a schema).
    """

    check_mode = False

    def __init__(self, live=(), fail_on=None, foreign_keys=(), workers=4, refuse_on=None):
        self.live = {obj["metadata"]["name"]: copy.deepcopy(obj) for obj in live}
        self.writes, self.dry_runs = [], []
        self.refuse_on = refuse_on
        self.lists = 0
        self.fail_on = fail_on
        self.foreign_keys = foreign_keys
        self.workers = workers
        self.lock = threading.Lock()

    def list(self, namespace, selector):
        self.lists += 1
        self.selector = (namespace, selector)
        return [copy.deepcopy(obj) for obj in self.live.values()]

    def prepare_writes(self):
        return self.workers

    def apply(self, manifest, dry_run=False):
        """Like server-side apply: spec keys absent from the manifest survive if someone else set them."""
        self._write("apply", manifest, dry_run)
        name = manifest["metadata"]["name"]
        with self.lock:
            created = name not in self.live
            stored = self.live.get(name, {"spec": {}})
            kept = {key: value for key, value in stored["spec"].items() if key in self.foreign_keys}
            result = copy.deepcopy(manifest)
            result["spec"].update(kept)
            if not dry_run:
                self.live[name] = result
            return created, copy.deepcopy(result)

    def remove_keys(self, manifest, patch, dry_run=False):
        self._write("patch", manifest, dry_run, patch)

    def delete(self, obj, dry_run=False):
        self._write("delete", obj, dry_run)
        with self.lock:
            if not dry_run:
                del self.live[obj["metadata"]["name"]]

    def _write(self, verb, obj, dry_run, *extra):
        key = (verb, obj["metadata"]["name"])
        if self.refuse_on == key or (self.fail_on == key and not dry_run):
            raise ApplyError("Failed to {0} {1}: Forbidden".format(verb, obj["metadata"]["name"]))
        with self.lock:
            (self.dry_runs if dry_run else self.writes).append((verb, obj["metadata"]["name"], *extra))


def names(policies):
    return [p["metadata"]["name"] for p in policies]


def test_first_run_creates_every_compiled_policy():
    store = FakeStore()
    result = reconcile(store, parse_intent(SEED_INTENT))
    compiled = compile_intent(SEED_INTENT)
    assert result["changed"] and result["created"] == names(compiled)
    assert result["policies"] == [] and result["updated"] == result["deleted"] == []  # return_policies: names
    assert store.selector[0] == "llm-demo" and "multinet.ocpvirt.io/intent=llm-demo-localnet-network" in store.selector[1]


def test_second_run_lists_once_and_writes_nothing():
    store = FakeStore(compile_intent(SEED_INTENT))
    result = reconcile(store, parse_intent(SEED_INTENT))
    assert not result["changed"] and store.writes == [] and store.lists == 1


def test_a_hand_edit_is_applied_back():
    live = compile_intent(SEED_INTENT)
    live[1]["spec"]["policyTypes"] = ["Ingress"]
    store = FakeStore(live)
    result = reconcile(store, parse_intent(SEED_INTENT))
    assert result["updated"] == [live[1]["metadata"]["name"]] and result["changed"]
    assert store.writes == [("apply", live[1]["metadata"]["name"])]


def test_spec_keys_the_apply_leaves_behind_are_patched_away():
    live = compile_intent(SEED_INTENT)
    ingress_only = next(p for p in live if "egress" not in p["spec"])
    ingress_only["spec"]["egress"] = [{}]
    store = FakeStore(live, foreign_keys=("egress",))
    result = reconcile(store, parse_intent(SEED_INTENT))
    name = ingress_only["metadata"]["name"]
    assert result["updated"] == [name]
    assert store.writes == [("apply", name), ("patch", name, {"spec": {"egress": None}})]


def test_every_write_is_dry_run_before_the_first_real_write():
    stale = copy.deepcopy(compile_intent(SEED_INTENT)[0])
    stale["metadata"]["name"] = "zz-stale"
    store = FakeStore([stale])
    reconcile(store, parse_intent(SEED_INTENT))
    assert sorted(store.dry_runs) == sorted(store.writes)
    assert ("delete", "zz-stale") in store.dry_runs


def test_a_write_the_dry_run_refuses_leaves_the_cluster_as_it_was():
    compiled = compile_intent(SEED_INTENT)
    stale = copy.deepcopy(compiled[0])
    stale["metadata"]["name"] = "zz-stale"
    deny_all = next(p for p in compiled if p["metadata"]["name"].endswith("default-deny"))
    store = FakeStore([stale], refuse_on=("apply", deny_all["metadata"]["name"]))  # in the second phase
    before = copy.deepcopy(store.live)
    with pytest.raises(ApplyError) as failure:
        reconcile(store, parse_intent(SEED_INTENT))
    assert store.writes == [] and store.live == before
    assert failure.value.result["created"] == failure.value.result["deleted"] == []


def test_check_mode_sends_each_write_once():
    store = FakeStore()
    store.check_mode = True
    reconcile(store, parse_intent(SEED_INTENT))
    assert store.dry_runs == [] and len(store.writes) == len(compile_intent(SEED_INTENT))


def test_the_store_marks_a_dry_run_failure_as_nothing_written():
    invalid = api_error(500, "Internal Server Error", {"reason": "InternalError", "message": (
        ".spec.ingress[1].ports[1].endPort: field not declared in schema")})
    manifest = compile_intent(SEED_INTENT)[0]
    client = StubClient(fail={"apply": invalid})
    with pytest.raises(ApplyError) as failure:
        stub_store(client).apply(manifest, dry_run=True)
    assert client.calls[0][1]["dry_run"] == "All"
    assert "endPort: field not declared in schema" in str(failure.value)
    assert str(failure.value).endswith("nothing was written)")


def test_prune_deletes_stale_policies_after_applying():
    stale = copy.deepcopy(compile_intent(SEED_INTENT)[0])
    stale["metadata"]["name"] = "zz-stale"
    store = FakeStore([stale])
    result = reconcile(store, parse_intent(SEED_INTENT))
    assert result["deleted"] == ["zz-stale"] and store.writes[-1] == ("delete", "zz-stale")


def test_without_prune_stale_policies_stay():
    stale = copy.deepcopy(compile_intent(SEED_INTENT)[0])
    stale["metadata"]["name"] = "zz-stale"
    store = FakeStore(compile_intent(SEED_INTENT) + [stale])
    assert not reconcile(store, parse_intent(SEED_INTENT), prune=False)["changed"]


def test_absent_deletes_the_listed_policies_even_with_prune_off():
    store = FakeStore(compile_intent(SEED_INTENT))
    result = reconcile(store, parse_intent_identity(SEED_INTENT), state="absent", prune=False)
    assert result["deleted"] == names(compile_intent(SEED_INTENT)) and result["policies"] == []
    assert store.live == {}


def test_absent_needs_only_the_intents_identity():
    store = FakeStore()
    intent = {"namespace": "llm-demo", "network": "net", "name": "web", "allow": "not even a list"}
    result = reconcile(store, parse_intent_identity(intent), state="absent")
    assert not result["changed"] and store.selector == (
        "llm-demo", "app.kubernetes.io/managed-by=ocpvirt.multinet,multinet.ocpvirt.io/intent=web")


def test_given_compiled_and_listed_policies_it_neither_compiles_nor_lists():
    compiled = compile_intent(SEED_INTENT)
    stale, unlisted = copy.deepcopy(compiled[0]), copy.deepcopy(compiled[0])
    stale["metadata"]["name"], unlisted["metadata"]["name"] = "zz-stale", "zz-unlisted"
    store = FakeStore(compiled + [stale, unlisted])
    # the caller's list (the module's preflight LIST) is what is reconciled: no LIST of its own
    result = reconcile(store, parse_intent(SEED_INTENT), desired=compiled[1:], live=compiled + [stale])
    assert store.lists == 0 and "zz-unlisted" in store.live
    assert result["deleted"] == sorted([compiled[0]["metadata"]["name"], "zz-stale"])
    assert result["policy_names"] == names(compiled[1:])


def test_dry_runs_of_every_phase_come_before_the_first_real_write():
    compiled = compile_intent(SEED_INTENT)
    stale = copy.deepcopy(compiled[0])
    stale["metadata"]["name"] = "zz-stale"
    order = []
    store = FakeStore([stale], workers=1)
    original = store._write

    def recording(verb, obj, dry_run, *extra):
        order.append(dry_run)
        original(verb, obj, dry_run, *extra)

    store._write = recording
    reconcile(store, parse_intent(SEED_INTENT))
    # every phase (allow policies, deny-all, prune) was dry-run, all before the first real write
    assert order == [True] * (len(compiled) + 1) + [False] * (len(compiled) + 1)


def test_a_failed_write_reports_what_was_done_before_it():
    compiled = names(compile_intent(SEED_INTENT))
    store = FakeStore(fail_on=("apply", compiled[1]), workers=1)
    with pytest.raises(ApplyError, match="Forbidden") as failure:
        reconcile(store, parse_intent(SEED_INTENT))
    assert failure.value.result["created"] == compiled[:1] and failure.value.result["changed"]
    assert store.writes == [("apply", compiled[0])]


def ring_intent(size):
    """`size` workloads, each allowed to reach the next: `size` allow policies and a deny-all."""
    workloads = {"w{0:02d}".format(i): {"selector": {"app": "w{0:02d}".format(i)}, "ips": ["10.0.0.{0}".format(i + 10)]}
                 for i in range(size)}
    ring = sorted(workloads)
    return {"namespace": "ns", "network": "net", "workloads": workloads,
            "allow": [{"from": name, "to": ring[(i + 1) % size]} for i, name in enumerate(ring)]}


class GatedStore(FakeStore):
    """After a phase's first apply (it runs alone), the next `workers` applies each wait until all
    of them have started: only concurrent writes get past."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.started = []
        self.all_started = threading.Barrier(self.workers, timeout=10)
        self.failure_raised = threading.Event()

    def apply(self, manifest, dry_run=False):
        if dry_run:
            return super().apply(manifest, dry_run=True)
        name = manifest["metadata"]["name"]
        with self.lock:
            self.started.append(name)
            concurrent_wave = 1 < len(self.started) <= 1 + self.workers
        if concurrent_wave:
            self.all_started.wait()
        if self.fail_on == ("apply", name):
            error = ApplyError("Failed to apply {0}: Forbidden".format(name))
            self.failure_raised.set()
            raise error
        if self.fail_on and concurrent_wave:  # the other writes in flight finish only after the failure
            assert self.failure_raised.wait(timeout=10)
        return super().apply(manifest)


def test_writes_of_a_phase_run_concurrently_and_the_deny_all_comes_last():
    intent = ring_intent(9)
    compiled = names(compile_intent(intent))
    store = GatedStore(workers=4)  # the barrier breaks (an error) unless 4 applies run at once
    result = reconcile(store, parse_intent(intent))
    assert result["created"] == compiled and store.live.keys() == set(compiled)
    assert store.writes[-1] == ("apply", "net-default-deny")


def test_concurrent_writes_stop_at_a_failure_and_report_the_ones_in_flight():
    intent = ring_intent(9)
    allow = [name for name in names(compile_intent(intent)) if name != "net-default-deny"]
    store = GatedStore(workers=4, fail_on=("apply", allow[1]))
    with pytest.raises(ApplyError, match="Failed to apply {0}: Forbidden".format(allow[1])) as failure:
        reconcile(store, parse_intent(intent))
    # allow[0] went alone; allow[2:5] were in flight with the failed write, finished after it
    # and are reported; nothing else started, the deny-all least of all
    done = [allow[0]] + allow[2:5]
    assert sorted(store.started) == allow[:5]
    assert failure.value.result["created"] == done == sorted(write[1] for write in store.writes)
    # A failed run's result lists names, never manifests.
    assert failure.value.result["changed"] and failure.value.result["policies"] == []
    assert failure.value.result["policy_names"] == [policy["metadata"]["name"] for policy in compile_intent(intent)]


def test_when_the_first_write_fails_nothing_is_written():
    intent = ring_intent(9)
    store = FakeStore(workers=4, fail_on=("apply", names(compile_intent(intent))[0]))
    with pytest.raises(ApplyError) as failure:
        reconcile(store, parse_intent(intent))
    assert store.writes == [] and failure.value.result["created"] == [] and not failure.value.result["changed"]


def test_state_absent_deletes_the_deny_all_first():
    store = FakeStore(compile_intent(SEED_INTENT))
    reconcile(store, parse_intent_identity(SEED_INTENT), state="absent")
    assert store.writes[0] == ("delete", "llm-demo-localnet-network-default-deny")


def test_return_policies_chooses_which_manifests_come_back():
    live = compile_intent(SEED_INTENT)
    live[1]["spec"]["policyTypes"] = ["Ingress"]
    compiled = compile_intent(SEED_INTENT)
    by_mode = {mode: reconcile(FakeStore(live), parse_intent(SEED_INTENT), return_policies=mode) for mode in ("all", "changed", "names")}
    assert by_mode["all"]["policies"] == compiled
    assert by_mode["changed"]["policies"] == [compiled[1]]
    assert by_mode["names"]["policies"] == []
    assert all(result["policy_names"] == names(compiled) for result in by_mode.values())


def test_a_no_op_run_returns_no_manifest_by_default():
    result = reconcile(FakeStore(compile_intent(SEED_INTENT)), parse_intent(SEED_INTENT))
    assert result["policies"] == [] and result["policy_names"] == names(compile_intent(SEED_INTENT))


def test_diff_is_returned_only_when_asked():
    assert "diff" not in reconcile(FakeStore(), parse_intent(SEED_INTENT))
    diff = reconcile(FakeStore(), parse_intent(SEED_INTENT), want_diff=True)["diff"]
    assert [d["after"]["metadata"]["name"] for d in diff] == names(compile_intent(SEED_INTENT))


def api_error(status, reason, body):
    return api_exception(ApiException(status=status, reason=reason) if body is None else _with_body(status, reason, body))


def _with_body(status, reason, body):
    error = ApiException(status=status, reason=reason)
    error.body = json.dumps(body)
    return error


def test_api_errors_name_the_object_and_the_servers_reason():
    error = api_error(403, "Forbidden", {"kind": "Status", "reason": "Forbidden", "message": "user x cannot patch"})
    assert describe_api_error("Failed to apply", "MultiNetworkPolicy ns/a", error) == (
        "Failed to apply MultiNetworkPolicy ns/a: Forbidden (403): user x cannot patch")


def test_a_missing_namespace_is_said_plainly():
    error = api_error(404, "Not Found", {"reason": "NotFound", "message": 'namespaces "ghost" not found',
                                         "details": {"name": "ghost", "kind": "namespaces"}})
    assert describe_api_error("Failed to apply", "x", error) == "Failed to apply x: namespace 'ghost' does not exist"


def test_an_error_without_a_status_body_keeps_the_http_reason():
    assert describe_api_error("Failed to list", "x", api_error(500, "Internal Server Error", None)) == (
        "Failed to list x: Internal Server Error (500): Internal Server Error")
    assert describe_api_error("Failed to list", "x", api_error(503, "Service Unavailable", None)) == (
        "Failed to list x: Service Unavailable (503): Service Unavailable; the API server is busy or unavailable: "
        "run again later")


def test_connection_errors_name_the_server_and_the_socket_error():
    cause = NewConnectionError(None, "Failed to establish a new connection: [Errno 111] Connection refused")
    error = MaxRetryError(None, "/apis", reason=cause)
    message = describe_api_error("Failed to discover", "MNP", error, host="https://127.0.0.1:1")
    assert message.startswith("Failed to discover MNP: cannot reach the Kubernetes API server at https://127.0.0.1:1: ")
    assert "Connection refused" in message


def test_other_errors_keep_their_own_message():
    assert describe_api_error("Could not create", "a client", FileNotFoundError("no /ca.crt")) == (
        "Could not create a client: no /ca.crt")


class StubResponse:
    def __init__(self, status, body):
        self.status, self.data = status, json.dumps(body).encode()


class StubClient:
    """Just what PolicyStore uses of kubernetes.core's K8SClient; `fail` maps a verb to an error."""

    def __init__(self, fail=None, dry_run=False, pool_size=10):
        self.fail, self.dry_run, self.calls = fail or {}, dry_run, []
        self.configuration = type("Configuration", (), {"host": "https://127.0.0.1:6443",
                                                        "connection_pool_maxsize": pool_size})()
        self.client = self  # the dynamic client kubernetes.core wraps

    def _call(self, verb, response, **params):
        self.calls.append((verb, params))
        if verb in self.fail:
            raise self.fail[verb]
        return response

    def server_side_apply(self, resource, body, **params):
        # the client sends a str body as it is; the server reads it as YAML (JSON is YAML)
        return self._call("apply", StubResponse(201, yaml.safe_load(body)), **params)

    def delete(self, resource, **params):
        return self._call("delete", StubResponse(200, {}), **params)


def stub_store(client):
    store = PolicyStore(module=None)
    store._client, store._resource = client, "multi-networkpolicies"
    return store


def test_the_store_applies_server_side_with_our_field_manager_and_force():
    client = StubClient(dry_run=True)
    manifest = compile_intent(SEED_INTENT)[0]
    created, stored = stub_store(client).apply(manifest)
    assert created and stored == manifest
    (verb, params), = client.calls
    assert params["field_manager"] == "ocpvirt.multinet" and params["force_conflicts"] is True
    assert params["dry_run"] == "All"


def test_deleting_a_policy_someone_else_deleted_is_not_an_error():
    client = StubClient(fail={"delete": api_error(404, "Not Found", {"reason": "NotFound", "message": "gone"})})
    stub_store(client).delete(compile_intent(SEED_INTENT)[0])
    assert [call[0] for call in client.calls] == ["delete"]


def test_a_refused_write_names_the_policy():
    forbidden = api_error(403, "Forbidden", {"reason": "Forbidden", "message": "cannot patch"})
    manifest = compile_intent(SEED_INTENT)[0]
    with pytest.raises(ApplyError) as failure:
        stub_store(StubClient(fail={"apply": forbidden})).apply(manifest)
    assert str(failure.value) == "Failed to apply MultiNetworkPolicy llm-demo/{0}: Forbidden (403): cannot patch".format(
        manifest["metadata"]["name"])


@pytest.mark.parametrize("pool_size, workers", [(10, 4), (2, 2), (None, 1)])
def test_parallel_writes_never_exceed_the_connections_urllib3_keeps(pool_size, workers):
    assert stub_store(StubClient(pool_size=pool_size)).prepare_writes() == workers


def _answer(status, headers):
    """An ApiException as the client raises it for an HTTP answer (status, headers)."""
    class Response:
        reason, data = "answer", b"{}"

        def __init__(self):
            self.status, self.headers = status, headers
    return ApiException(http_resp=Response())


@pytest.mark.parametrize("error, expected", [
    (_answer(429, {"Retry-After": "1"}), (True, "1")),
    (_answer(503, {}), (True, None)),
    (_answer(500, {}), (True, None)),
    (_answer(403, {"Retry-After": "1"}), (False, "1")),
    (_answer(422, {}), (False, None)),
    (MaxRetryError(None, "/apis", NewConnectionError(None, "Connection refused")), (True, None)),
    (ProtocolError("Connection aborted."), (True, None)),
    (ReadTimeoutError(None, "/apis", "Read timed out."), (False, None)),
    (MaxRetryError(None, "/apis", ReadTimeoutError(None, "/apis", "Read timed out.")), (False, None)),
    (ValueError("not a request failure"), (False, None)),
])
def test_what_is_retried(error, expected):
    retryable, retry_after = retry_class(error)
    assert (retryable, retry_after and str(retry_after)) == expected


@pytest.mark.parametrize("method, error, expected", [
    ("POST", _answer(429, {"Retry-After": "1"}), True),
    ("POST", _answer(503, {}), False),  # the namespace may have been created: a retry would meet it as not ours
    ("POST", ProtocolError("Connection aborted."), False),  # sent, answer lost
    ("POST", MaxRetryError(None, "/api", NewConnectionError(None, "Connection refused")), True),  # never sent
    ("GET", _answer(503, {}), True),
    ("PATCH", ProtocolError("Connection aborted."), True),
    ("DELETE", _answer(500, {}), True),
])
def test_what_is_retried_depends_on_whether_the_request_is_safe_to_send_twice(method, error, expected):
    assert retry_class_for(method)(error)[0] is expected


def _stored(generation, *managers):
    return {"metadata": {"generation": generation, "managedFields": [{"manager": name} for name in managers]}}


@pytest.mark.parametrize("stored, created", [
    (_stored(1, "ocpvirt.multinet"), True),  # our lost create: nobody else touched it
    (_stored(2, "ocpvirt.multinet"), False),  # existed with another spec, ours changed it
    (_stored(1, "ocpvirt.multinet", "kubectl-client-side-apply"), False),  # someone else's object, taken over
    ({"metadata": {}}, False),
])
def test_who_created_an_object_is_read_from_the_object(stored, created):
    assert created_by_us(stored) is created


class LostAnswerClient(StubClient):
    """The first apply reaches the server (which creates the object) but its answer is lost; the
    retry finds it there (200)."""

    def server_side_apply(self, resource, body, **params):
        self.calls.append(("apply", params))
        if len(self.calls) == 1:
            raise ProtocolError("Connection aborted.")
        sent = yaml.safe_load(body)
        stored = dict(sent, metadata=dict(sent["metadata"], generation=1, managedFields=[{"manager": self.manager}]))
        return StubResponse(200, stored)


@pytest.mark.parametrize("manager, created", [("ocpvirt.multinet", True), ("someone-else", False)])
def test_a_create_whose_answer_was_lost_counts_as_created_when_the_object_says_so(manager, created):
    client = LostAnswerClient()
    client.manager = manager
    assert stub_store(client).apply(compile_intent(SEED_INTENT)[0])[0] is created
    assert len(client.calls) == 2


NAMESPACE_MISSING = {"reason": "NotFound", "message": 'namespaces "ledger" not found',
                     "details": {"name": "ledger", "kind": "namespaces"}}


def test_check_mode_takes_a_missing_namespace_assumed_created_earlier_as_a_create_not_sent():
    client = StubClient(fail={"apply": api_error(404, "Not Found", NAMESPACE_MISSING)}, dry_run=True)
    store = stub_store(client)
    store.namespace_assumed = True
    manifest = compile_intent(SEED_INTENT)[0]
    assert store.apply(manifest) == (True, manifest)
    assert store.unsent == [manifest["metadata"]["name"]]


@pytest.mark.parametrize("dry_run, assumed, body", [
    (False, True, NAMESPACE_MISSING),  # a real write: the namespace must exist
    (True, False, NAMESPACE_MISSING),  # nothing of the run creates it
    (True, True, {"reason": "NotFound", "message": "the server could not find the requested resource"}),
], ids=["real-run", "not-assumed", "another-404"])
def test_any_other_404_is_still_a_failure(dry_run, assumed, body):
    store = stub_store(StubClient(fail={"apply": api_error(404, "Not Found", body)}, dry_run=dry_run))
    store.namespace_assumed = assumed
    with pytest.raises(ApplyError):
        store.apply(compile_intent(SEED_INTENT)[0])
    assert store.unsent == []
