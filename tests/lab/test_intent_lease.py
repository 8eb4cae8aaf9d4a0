"""One writer per intent, against the lab's real kube-apiserver: two applies of one intent name
at once end in one of the two requested states, the one that waited naming the holder; a
run finds a lease held by another and fails naming it, writing nothing; a lease left by a run
that died is taken over once expired; no lease is left behind.

Names and addresses share nothing with the seed (intent `ledger-lan`, 10.62.0.0/24).
"""
import datetime
import json
import re
import subprocess
import time

from kubernetes import client

from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.compiler import compile_intent
from ansible_collections.ocpvirt.multinet.plugins.module_utils.k8s.intent_lease import format_time
from lab_helpers import create_localnet_nad
from test_multinetwork_policy import (
    ADDRESS_READERS,
    ANSIBLE,
    ANSIBLE_ENV,
    GROUP,
    MODULE,
    NAD_LISTER,
    PLURAL,
    REPO_DIR,
    PolicyApi,
    run_module,
    serviceaccount_kubeconfig,
)

NETWORK = "ledger-lan"
LEASE = "multinet-intent-" + NETWORK
WORKLOADS = 120  # enough writes that the first run still holds the lease when the other one looks


def ledger_intent(namespace, port):
    """One intent name, two revisions: every workload reaches the next on `port`."""
    names = ["ledger-{0}".format(index) for index in range(WORKLOADS)]
    return {
        "namespace": namespace, "network": NETWORK,
        "workloads": {name: {"selector": {"app": name}, "ips": ["10.62.{0}.{1}".format(index // 200, index % 200 + 10)]}
                      for index, name in enumerate(names)},
        "allow": [{"from": source, "to": target, "ports": [port]} for source, target in zip(names, names[1:])],
    }


def specs(policies):
    return {policy["metadata"]["name"]: policy["spec"] for policy in policies}


def leases(lab_api, namespace):
    return client.CoordinationV1Api(lab_api).list_namespaced_lease(namespace).items


def hold(lab_api, namespace, holder, renewed, duration=60):
    """A Lease as another run holding the intent would have written it."""
    return client.CoordinationV1Api(lab_api).create_namespaced_lease(namespace, {
        "metadata": {"name": LEASE},
        "spec": {"holderIdentity": holder, "leaseDurationSeconds": duration,
                 "acquireTime": format_time(renewed), "renewTime": format_time(renewed)}})


def start_module(kubeconfig, intent):
    args = {"intent": intent, "kubeconfig": kubeconfig, "require_network": False}
    return subprocess.Popen([ANSIBLE, "localhost", "-c", "local", "-m", MODULE, "-a", json.dumps(args)],
                            cwd=REPO_DIR, env=ANSIBLE_ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def result_of(process):
    out, err = process.communicate(timeout=600)
    try:
        return json.loads(out)["plays"][0]["tasks"][0]["hosts"]["localhost"]
    except (ValueError, KeyError, IndexError):
        raise AssertionError("no task result (rc {0}):\n{1}\n{2}".format(process.returncode, out, err)) from None


def test_two_applies_of_one_intent_at_once_end_in_one_requested_state(lab_api, lab_kubeconfig, lab_namespace):
    """A lease held by a gate makes both runs wait, so their writes would overlap; once the gate
    goes, one run writes while the other waits for it (naming it) and then writes its own."""
    create_localnet_nad(client.CustomObjectsApi(lab_api), lab_namespace, NETWORK)
    policies = PolicyApi(client.CustomObjectsApi(lab_api), lab_namespace)
    intents = {"tcp/8080": ledger_intent(lab_namespace, "tcp/8080"), "tcp/8081": ledger_intent(lab_namespace, "tcp/8081")}
    hold(lab_api, lab_namespace, "gate", datetime.datetime.now(datetime.timezone.utc))
    runs = {port: start_module(lab_kubeconfig, intent) for port, intent in intents.items()}
    # Both runs read the policies (nothing there) and wait for the gate (lease_wait: 90 s).
    time.sleep(40)
    client.CoordinationV1Api(lab_api).delete_namespaced_lease(LEASE, lab_namespace)

    results = {port: result_of(process) for port, process in runs.items()}

    for port, result in results.items():
        assert not result.get("failed"), (port, result.get("msg"))
    holders = {port: _holders_waited_for(result, lab_namespace) for port, result in results.items()}
    # The run that wrote last waited for the other one, and named it; the other never waited for it.
    (last,) = [port for port, seen in holders.items() if set(seen) - {"gate"}]
    first = next(port for port in intents if port != last)
    # The last run's state, whole: its policies only, none of the first run's port left.
    assert specs(policies.items()) == specs(compile_intent(intents[last]))
    assert results[last]["updated"] and not results[first]["updated"]
    assert leases(lab_api, lab_namespace) == []


def _holders_waited_for(result, namespace):
    """The holders a run's warning says it waited for, in order."""
    for warning in result.get("warnings", []):
        if "for Lease {0}/{1}, held by ".format(namespace, LEASE) in warning:
            return re.findall(r"'([^']*)'", warning.split("held by ", 1)[1].split(" (another run", 1)[0])
    return []


def test_a_lease_held_by_another_run_fails_the_run_naming_it_and_nothing_is_written(lab_api, lab_kubeconfig,
                                                                                   lab_namespace):
    create_localnet_nad(client.CustomObjectsApi(lab_api), lab_namespace, NETWORK)
    policies = PolicyApi(client.CustomObjectsApi(lab_api), lab_namespace)
    hold(lab_api, lab_namespace, "carol@batch-3 pid 77 feedf00d", datetime.datetime.now(datetime.timezone.utc))

    result = run_module(lab_kubeconfig, ledger_intent(lab_namespace, "tcp/9443"), lease_wait=2)

    assert result["failed"] and not result["changed"]
    assert result["msg"].startswith("intent 'ledger-lan' in namespace '{0}' is being written by another run: Lease "
                                    "{0}/{1} is held by 'carol@batch-3 pid 77 feedf00d'".format(lab_namespace, LEASE))
    assert policies.items() == []
    (lease,) = leases(lab_api, lab_namespace)
    assert lease.spec.holder_identity == "carol@batch-3 pid 77 feedf00d"


def test_a_lease_left_by_a_run_that_died_is_taken_over_once_expired(lab_api, lab_kubeconfig, lab_namespace):
    create_localnet_nad(client.CustomObjectsApi(lab_api), lab_namespace, NETWORK)
    policies = PolicyApi(client.CustomObjectsApi(lab_api), lab_namespace)
    died = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=55)
    hold(lab_api, lab_namespace, "dave@gone pid 1 deadbeef", died, duration=60)
    intent = ledger_intent(lab_namespace, "tcp/9443")

    result = run_module(lab_kubeconfig, intent, lease_wait=30)

    assert not result.get("failed"), result.get("msg")
    # Expired before the run looked, or waited for and then taken over: either way it says whose.
    assert any("took over Lease {0}/{1} from 'dave@gone pid 1 deadbeef'".format(lab_namespace, LEASE) in warning
               for warning in result.get("warnings", [])), result.get("warnings")
    assert specs(policies.items()) == specs(compile_intent(intent))
    assert leases(lab_api, lab_namespace) == []


def test_an_identity_without_lease_rights_fails_naming_them_before_any_write(lab_api, lab_namespace):
    create_localnet_nad(client.CustomObjectsApi(lab_api), lab_namespace, NETWORK)
    writer = {"apiGroups": [GROUP], "resources": [PLURAL], "verbs": ["list", "create", "patch", "delete"]}
    # Every right a writing run needs but the Lease's (the address check reads pods, VMs and VMIs).
    kubeconfig = serviceaccount_kubeconfig(lab_api, lab_namespace, "no-lease", [writer, NAD_LISTER] + ADDRESS_READERS)

    result = run_module(kubeconfig, ledger_intent(lab_namespace, "tcp/9443"))

    assert result["failed"] and not result["changed"]
    assert result["msg"].startswith("Failed to read Lease {0}/{1} (one writer per intent; the identity needs get, "
                                    "create, update and delete on leases.coordination.k8s.io in the namespace): "
                                    "Forbidden (403)".format(lab_namespace, LEASE))
    assert PolicyApi(client.CustomObjectsApi(lab_api), lab_namespace).items() == []
