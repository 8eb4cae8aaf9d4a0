"""Thin REST layer of the lab simulator: plain dicts in and out, one call per API request.

The simulator talks to the lab's real kube-apiserver through the `kubernetes` client's
ApiClient (authentication, TLS) but builds paths itself, so core objects and custom resources
are handled the same way and CRDs that appear later (installed by the OLM simulator) need no
discovery refresh.
"""
import json
import threading
from dataclasses import dataclass
from datetime import datetime, timezone

from kubernetes import config
from kubernetes.client.rest import ApiException

MERGE_PATCH = "application/merge-patch+json"
WRITES = ("POST", "PUT", "PATCH")


def is_rejection(method, status, body):
    """True when the API server refused a write for what it contained or where it was sent.

    Strict field validation turns fields a schema would prune into 400s; 422 is a schema or
    validation failure; a 404 without the object's name is a missing route (e.g. a status
    subresource the CRD does not have). Not rejections: 409 (conflict, already exists), 403
    (namespace terminating) and a 404 naming the object (it was deleted meanwhile)."""
    if method not in WRITES or status < 400 or status in (403, 409):
        return False
    if status == 404:
        try:
            return not (json.loads(body).get("details") or {}).get("name")
        except ValueError:
            return True
    return True


@dataclass(frozen=True)
class Resource:
    group: str
    version: str
    plural: str
    namespaced: bool

    def path(self, namespace=None, name=None, subresource=None):
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        parts = [base]
        if self.namespaced and namespace:
            parts.append(f"namespaces/{namespace}")
        parts.append(self.plural)
        if name:
            parts.append(name)
        if subresource:
            parts.append(subresource)
        return "/".join(parts)

    @property
    def api_version(self):
        return f"{self.group}/{self.version}" if self.group else self.version


NODES = Resource("", "v1", "nodes", False)
NAMESPACES = Resource("", "v1", "namespaces", False)
PODS = Resource("", "v1", "pods", True)
SECRETS = Resource("", "v1", "secrets", True)
CRDS = Resource("apiextensions.k8s.io", "v1", "customresourcedefinitions", False)
SUBSCRIPTIONS = Resource("operators.coreos.com", "v1alpha1", "subscriptions", True)
OPERATOR_GROUPS = Resource("operators.coreos.com", "v1", "operatorgroups", True)
INSTALL_PLANS = Resource("operators.coreos.com", "v1alpha1", "installplans", True)
CSVS = Resource("operators.coreos.com", "v1alpha1", "clusterserviceversions", True)
CATALOG_SOURCES = Resource("operators.coreos.com", "v1alpha1", "catalogsources", True)
PACKAGE_MANIFESTS = Resource("packages.operators.coreos.com", "v1", "packagemanifests", True)
NADS = Resource("k8s.cni.cncf.io", "v1", "network-attachment-definitions", True)
NETWORKS = Resource("operator.openshift.io", "v1", "networks", False)
MULTI_NETWORK_POLICIES = Resource("k8s.cni.cncf.io", "v1beta1", "multi-networkpolicies", True)
CLUSTER_VERSIONS = Resource("config.openshift.io", "v1", "clusterversions", False)
DATA_SOURCES = Resource("cdi.kubevirt.io", "v1beta1", "datasources", True)
DATA_VOLUMES = Resource("cdi.kubevirt.io", "v1beta1", "datavolumes", True)
NMSTATES = Resource("nmstate.io", "v1", "nmstates", False)
NNCPS = Resource("nmstate.io", "v1", "nodenetworkconfigurationpolicies", False)
NNCES = Resource("nmstate.io", "v1beta1", "nodenetworkconfigurationenactments", False)
NNSS = Resource("nmstate.io", "v1beta1", "nodenetworkstates", False)
HYPERCONVERGEDS = Resource("hco.kubevirt.io", "v1beta1", "hyperconvergeds", True)
VMS = Resource("kubevirt.io", "v1", "virtualmachines", True)
VMIS = Resource("kubevirt.io", "v1", "virtualmachineinstances", True)


class Kube:
    """Minimal typed-by-path client; every method is a single API request."""

    def __init__(self, kubeconfig, rejected_writes_log=None):
        self.api_client = config.new_client_from_config(config_file=str(kubeconfig))
        self.rejected_writes_log = rejected_writes_log
        self._log_lock = threading.Lock()

    def _send(self, method, path, *, query=None, body=None, content_type="application/json", timeout=30):
        """Send one request; return the urllib3 response (not yet read) or raise ApiException.

        Writes use strict field validation, so a field the real schema would silently prune
        is an error; every rejected write is also appended to the rejected-writes log, which
        the lab tests assert empty."""
        if method in WRITES:
            query = {**(query or {}), "fieldValidation": "Strict"}
        method, url, headers, body, _ = self.api_client.param_serialize(
            method, path, query_params=list((query or {}).items()),
            header_params={"Content-Type": content_type, "Accept": "application/json"},
            body=body, auth_settings=["BearerToken"])
        response = self.api_client.call_api(method, url, header_params=headers, body=body,
                                            _request_timeout=timeout).response
        if not 200 <= response.status <= 299:
            text = response.data.decode(errors="replace")
            response.release_conn()
            if self.rejected_writes_log and is_rejection(method, response.status, text):
                self._record_rejection(method, path, response.status, text)
            raise ApiException(status=response.status, reason=response.reason, body=text)
        return response

    def _record_rejection(self, method, path, status, text):
        stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        with self._log_lock, open(self.rejected_writes_log, "a") as out:
            out.write(f"{stamp} {method} {path} {status}: {' '.join(text.split())[:1000]}\n")

    def request(self, method, path, *, query=None, body=None, content_type="application/json",
                timeout=30):
        response = self._send(method, path, query=query, body=body, content_type=content_type,
                              timeout=timeout)
        data = response.data
        response.release_conn()
        return json.loads(data) if data else {}

    def get(self, resource, name, namespace=None):
        try:
            return self.request("GET", resource.path(namespace, name))
        except ApiException as error:
            if error.status == 404:
                return None
            raise

    def list(self, resource, namespace=None, label_selector=None, field_selector=None):
        query = {key: value for key, value in (("labelSelector", label_selector),
                                               ("fieldSelector", field_selector)) if value}
        return self.request("GET", resource.path(namespace), query=query)

    def items(self, resource, namespace=None, label_selector=None, field_selector=None):
        """The list's items, or [] while the resource type does not exist (CRD not installed)."""
        try:
            return self.list(resource, namespace, label_selector, field_selector).get("items", [])
        except ApiException as error:
            if error.status == 404:
                return []
            raise

    def watch(self, resource, resource_version, timeout_seconds=240):
        """Yield (type, object) events until the server ends the watch."""
        query = {"watch": "true", "resourceVersion": resource_version,
                 "timeoutSeconds": str(timeout_seconds), "allowWatchBookmarks": "false"}
        response = self._send("GET", resource.path(), query=query, timeout=timeout_seconds + 30)
        try:
            buffer = b""
            for chunk in response.stream(4096, decode_content=True):
                buffer += chunk
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    if line.strip():
                        event = json.loads(line)
                        yield event["type"], event["object"]
        finally:
            response.release_conn()

    def create(self, resource, body, namespace=None):
        namespace = namespace or body.get("metadata", {}).get("namespace")
        return self.request("POST", resource.path(namespace), body=body)

    def create_if_absent(self, resource, body, namespace=None):
        try:
            return self.create(resource, body, namespace)
        except ApiException as error:
            if error.status == 409:
                return None
            raise

    def merge_patch(self, resource, name, patch, namespace=None, subresource=None):
        return self.request("PATCH", resource.path(namespace, name, subresource), body=patch,
                            content_type=MERGE_PATCH)

    def patch_status(self, resource, obj, status):
        metadata = obj["metadata"]
        return self.merge_patch(resource, metadata["name"], {"status": status},
                                metadata.get("namespace"), "status")

    def has_status_subresource(self, resource):
        """Whether the installed CRD (or core type) of `resource` has a status subresource."""
        if not resource.group:  # core types
            return True
        crd = self.get(CRDS, f"{resource.plural}.{resource.group}") or {}
        for version in (crd.get("spec") or {}).get("versions") or []:
            if version["name"] == resource.version:
                return "status" in (version.get("subresources") or {})
        return False

    def update_status(self, resource, obj, status):
        """Replace the object's status as the real controllers do: UpdateStatus (PUT on /status),
        or Update (PUT on the object) where the CRD has no status subresource. Keys of the
        current status that `status` does not name are kept; the object's resourceVersion
        makes a concurrent change a 409 (retried by the controller)."""
        metadata = obj["metadata"]
        body = {**obj, "status": {**(obj.get("status") or {}), **status}}
        subresource = "status" if self.has_status_subresource(resource) else None
        return self.request("PUT", resource.path(metadata.get("namespace"), metadata["name"], subresource), body=body)

    def delete(self, resource, name, namespace=None, grace_period_seconds=None, uid=None):
        body = {"kind": "DeleteOptions", "apiVersion": "v1"}
        if grace_period_seconds is not None:
            body["gracePeriodSeconds"] = grace_period_seconds
        if uid:
            body["preconditions"] = {"uid": uid}
        try:
            return self.request("DELETE", resource.path(namespace, name), body=body)
        except ApiException as error:
            if error.status in (404, 409):
                return None
            raise

    def bind_pod(self, pod, node_name):
        metadata = pod["metadata"]
        body = {"apiVersion": "v1", "kind": "Binding",
                "metadata": {"name": metadata["name"], "namespace": metadata["namespace"],
                             "uid": metadata["uid"]},
                "target": {"apiVersion": "v1", "kind": "Node", "name": node_name}}
        return self.request("POST", PODS.path(metadata["namespace"], metadata["name"], "binding"),
                            body=body)
