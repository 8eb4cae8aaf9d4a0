"""Helpers shared by the lab tests: polling the API, driving the simulated OLM, a private ovsdb-server."""
import json
import os
import signal
import subprocess
import time

import pytest
from kubernetes.client.rest import ApiException

OLM = ("operators.coreos.com", "v1alpha1")
MARKETPLACE = "openshift-marketplace"
TIMEOUT = 60


def wait_for(description, probe, timeout=TIMEOUT, interval=0.5):
    """Poll `probe` until it returns a truthy value; fail naming what never happened."""
    deadline, last = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        try:
            last = probe()
        except ApiException as error:
            if error.status != 404:
                raise
            last = None
        if last:
            return last
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout}s waiting for {description}; last value: {last!r}")


def condition(obj, type_):
    for cond in (obj or {}).get("status", {}).get("conditions") or []:
        if cond.get("type") == type_:
            return cond
    return {}


def subscribe(custom, namespace, package, approval="Automatic", with_group=True):
    if with_group and not custom.list_namespaced_custom_object("operators.coreos.com", "v1", namespace,
                                                               "operatorgroups")["items"]:
        custom.create_namespaced_custom_object("operators.coreos.com", "v1", namespace, "operatorgroups", {
            "apiVersion": "operators.coreos.com/v1", "kind": "OperatorGroup",
            "metadata": {"name": namespace}, "spec": {"targetNamespaces": [namespace]}})
    custom.create_namespaced_custom_object(*OLM, namespace, "subscriptions", {
        "apiVersion": "operators.coreos.com/v1alpha1", "kind": "Subscription",
        "metadata": {"name": package},
        "spec": {"name": package, "channel": "stable", "source": "redhat-operators",
                 "sourceNamespace": MARKETPLACE, "installPlanApproval": approval}})


def get_subscription(custom, namespace, name):
    return custom.get_namespaced_custom_object(*OLM, namespace, "subscriptions", name)


def installed_csv(custom, namespace, package):
    sub = wait_for(f"Subscription {package} to reach AtLatestKnown",
                   lambda: (s := get_subscription(custom, namespace, package))
                   and s.get("status", {}).get("state") == "AtLatestKnown" and s)
    return custom.get_namespaced_custom_object(*OLM, namespace, "clusterserviceversions",
                                               sub["status"]["installedCSV"])


def create_localnet_nad(custom, namespace, name):
    """An IPAM-less localnet NAD as the seed writes it (localnet name localnet-cnv)."""
    config = {"cniVersion": "0.3.1", "name": "localnet-cnv", "type": "ovn-k8s-cni-overlay",
              "topology": "localnet", "netAttachDefName": f"{namespace}/{name}"}
    custom.create_namespaced_custom_object("k8s.cni.cncf.io", "v1", namespace, "network-attachment-definitions", {
        "apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition",
        "metadata": {"name": name}, "spec": {"config": json.dumps(config)}})


def start_ovsdb(directory, schema, db_name, socket_name):
    """An ovsdb-server serving a fresh database from `schema` on `directory/socket_name`; its pid."""
    db = directory / db_name
    subprocess.run(["ovsdb-tool", "create", str(db), schema], check=True)
    pidfile = directory / f"{db_name}.pid"
    subprocess.run(["ovsdb-server", "--detach", "--no-chdir", f"--pidfile={pidfile}",
                    f"--log-file={directory / (db_name + '.log')}", f"--unixctl={directory / (db_name + '.ctl')}",
                    f"--remote=punix:{directory / socket_name}", str(db)], check=True)
    for _ in range(50):
        if (directory / socket_name).exists():
            break
        time.sleep(0.1)
    return int(pidfile.read_text())


def stop_daemon(pid):
    os.kill(pid, signal.SIGTERM)
