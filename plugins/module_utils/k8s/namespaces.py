# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The requests of owned_namespace: a namespace, discovery and metadata-only lists, as raw requests
on kubernetes.core's authenticated client (built by ``k8s.client.api_client``, so a kubeconfig it
cannot use is named), each retried as the collection's retry rule says.

Which namespace is ours and what may be deleted is decided by the pure
``policy.namespace_ownership``; this file only reads and writes.
"""
import json
import time

from ansible_collections.kubernetes.core.plugins.module_utils.k8s.exceptions import CoreException

from ansible_collections.ocpvirt.multinet.plugins.module_utils.k8s.apply import describe_api_error, retry_class_for
from ansible_collections.ocpvirt.multinet.plugins.module_utils.k8s.client import api_client
from ansible_collections.ocpvirt.multinet.plugins.module_utils.k8s.retry import with_retries
from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.namespace_ownership import listable_resources

try:
    from kubernetes.client.exceptions import ApiException
except ImportError:  # reported by AnsibleK8SModule's dependency check
    ApiException = ()

METADATA_ONLY = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json"
GONE_STATUSES = (404, 405)  # a resource removed since discovery (a CRD deleted) or not listable


class Api:
    """The few raw requests owned_namespace makes, through kubernetes.core's authenticated client."""

    def __init__(self, module):
        # Building the client is the first request (discovery): a read, retried as one.
        self.client = with_retries(lambda: api_client(module).client, retry_class_for("GET"))

    def call(self, method, path, body=None, query=None, accept="application/json", content_type="application/json"):
        """One request, retried as the collection's retry policy says (a 429 after its Retry-After;
        a 5xx or a lost connection unless it is the POST that creates the namespace)."""
        response = with_retries(lambda: self.client.request(
            method, path, body=body, query_params=list(query or []), header_params={"Accept": accept},
            content_type=content_type, serialize=False), retry_class_for(method))
        return json.loads(response.data or b"{}")

    def namespace(self, name):
        try:
            return self.call("GET", "/api/v1/namespaces/" + name)
        except ApiException as error:
            if error.status == 404:
                return None
            raise

    def discovery(self):
        """{group version: APIResourceList} of the core group and every version of each group (one
        version may serve what another does not: k8s.cni.cncf.io/v1beta1 the MultiNetworkPolicies)."""
        found = {"v1": self.call("GET", "/api/v1")}
        for group in self.call("GET", "/apis").get("groups") or []:
            for group_version in [version["groupVersion"] for version in group.get("versions") or []]:
                try:
                    found[group_version] = self.call("GET", "/apis/" + group_version)
                except ApiException as error:  # an aggregated API that is down cannot hold anything we can see
                    if error.status not in GONE_STATUSES + (503,):
                        raise
        return found

    def list_metadata(self, namespace, group, version, plural):
        base = "/api/v1" if not group else "/apis/{0}/{1}".format(group, version)
        items, token = [], None
        while True:
            query = [("limit", 500)] + ([("continue", token)] if token else [])
            page = self.call("GET", "{0}/namespaces/{1}/{2}".format(base, namespace, plural), query=query,
                             accept=METADATA_ONLY)
            items += page.get("items") or []
            token = (page.get("metadata") or {}).get("continue")
            if not token:
                return items


def contents(api, name):
    """(objects, unreadable) of a namespace; each object's kind is its resource's kind."""
    objects, unreadable = [], []
    discovery = api.discovery()
    kinds = {(gv.rpartition("/")[0], r["name"]): r["kind"] for gv, rl in discovery.items()
             for r in rl.get("resources") or []}
    for group, version, plural in listable_resources(discovery):
        try:
            found = api.list_metadata(name, group, version, plural)
        except ApiException as error:
            if error.status not in GONE_STATUSES:
                unreadable.append(describe_api_error("list", "{0} in {1}".format(plural, name), error))
            continue
        objects += [dict(item, kind=kinds[(group, plural)]) for item in found]
    return objects, unreadable


def wait_gone(api, name, timeout):
    deadline = time.monotonic() + timeout
    while api.namespace(name) is not None:
        if time.monotonic() > deadline:
            raise CoreException("namespace {0} still exists {1}s after its deletion".format(name, timeout))
        time.sleep(1)
