# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One read of the cluster for a connectivity run: the reader next to the policy store.

``read_snapshot`` lists and gets through kubernetes.core's client (as ``k8s.apply.PolicyStore``
does for writes) everything a simulation of one secondary network needs, once, into a plain
dict; every simulation, expectation and probe plan of the run is computed from that dict
(by the pure ``verify.run``). Optional APIs (KubeVirt) the cluster does not serve
and unreadable single objects (Secrets, NADs of other namespaces) degrade to warnings; a list
the API server refuses fails the run.
"""

from ansible_collections.kubernetes.core.plugins.module_utils.k8s.exceptions import CoreException
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.service import K8sService

from ansible_collections.ocpvirt.multinet.plugins.module_utils.simulate.guest_network_data import (
    network_data_from_secret,
    secret_refs,
)
from ansible_collections.ocpvirt.multinet.plugins.module_utils.k8s.apply import ApiException, describe_api_error
from ansible_collections.ocpvirt.multinet.plugins.module_utils.k8s.retrying import connect, retried
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.vocabulary import (
    POLICY_FOR_ANNOTATION,
    parse_nad_ref,
    parse_policy_for,
)

POLICY = ("MultiNetworkPolicy", "k8s.cni.cncf.io/v1beta1")
NAD = ("NetworkAttachmentDefinition", "k8s.cni.cncf.io/v1")
POD = ("Pod", "v1")
VM = ("VirtualMachine", "kubevirt.io/v1")
VMI = ("VirtualMachineInstance", "kubevirt.io/v1")
SECRET = ("Secret", "v1")
HIDDEN = ["metadata.managedFields"]


class ClusterReader:
    """Lists and gets through kubernetes.core's client; optional APIs degrade to warnings."""

    def __init__(self, module):
        self.service = K8sService(connect(module), module)
        self.warnings = []

    @property
    def server(self):
        """The API server URL the client talks to (kubernetes.core's configuration.host)."""
        return self.service.client.configuration.host

    def list(self, kind, namespace, optional=False):
        """Every object of `kind` in `namespace`. `optional`: an API the cluster does not serve
        (KubeVirt) gives none with a warning; a refused list (403) always fails, naming the
        kind and the API's answer, since a simulation without those objects would be wrong."""
        try:
            found = retried("GET", lambda: self.service.find(kind=kind[0], api_version=kind[1], namespace=namespace,
                                                             hidden_fields=HIDDEN))
        except CoreException as error:
            cause = error.__cause__ or error.__context__
            raise CoreException(describe_api_error(
                "Failed to list", "{0} ({1}) in namespace {2!r}".format(kind[0], kind[1], namespace),
                cause if isinstance(cause, ApiException) else error)) from error
        if not found.get("api_found") and optional:
            self._warn("{0} ({1}) is not served by this cluster".format(*kind))
        elif not found.get("api_found"):
            raise CoreException(found.get("msg"))
        return found["resources"]

    def _warn(self, text):
        if text not in self.warnings:
            self.warnings.append(text)

    def get(self, kind, namespace, name):
        try:
            found = retried("GET", lambda: self.service.find(
                kind=kind[0], api_version=kind[1], namespace=namespace, name=name))
        except CoreException as error:
            self._warn("cannot read {0} {1}/{2}: {3}".format(kind[0], namespace, name, error))
            return None
        return (found.get("resources") or [None])[0]


def read_snapshot(reader, network, namespaces, read_secrets):
    """Everything one run needs, read once: {nad, nads, policies, pods, vms, vmis, secrets, warnings}.

    ``network`` is the NAD '<ns>/<nad>' the run is about; ``nads`` maps every other NAD the read
    policies name to its object (or None when unreadable), so the OVN network can be resolved
    without reading again; ``secrets`` maps '<ns>/<name>' to the networkData text of the Secrets
    VMs reference (nothing else of a Secret is kept).
    """
    snapshot = {"nad": reader.get(NAD, *parse_nad_ref(network)), "policies": [], "pods": [], "vms": [],
                "vmis": [], "secrets": {}}
    for namespace in namespaces:
        snapshot["policies"] += reader.list(POLICY, namespace)
        snapshot["pods"] += reader.list(POD, namespace)
        snapshot["vms"] += reader.list(VM, namespace, optional=True)
        snapshot["vmis"] += reader.list(VMI, namespace, optional=True)
    snapshot["nads"] = {ref: reader.get(NAD, *parse_nad_ref(ref))
                        for ref in sorted(named_nads(snapshot["policies"]) - {network})}
    if read_secrets:
        snapshot["secrets"] = _network_data_secrets(reader, snapshot["vms"] + snapshot["vmis"])
    snapshot["warnings"] = list(reader.warnings)
    return snapshot


def _network_data_secrets(reader, machines):
    texts = {}
    for machine in machines:
        namespace = machine["metadata"]["namespace"]
        spec = machine.get("spec") or {}
        spec = (spec.get("template") or {}).get("spec") or spec
        for name in secret_refs(spec):
            key = "{0}/{1}".format(namespace, name)
            if key not in texts:
                secret = reader.get(SECRET, namespace, name)
                texts[key] = network_data_from_secret(secret) if secret else None
    return {key: text for key, text in texts.items() if text}


def named_nads(manifests):
    """Every '<ns>/<nad>' the policy-for annotations of manifests name."""
    return {nad for manifest in manifests
            for nad in parse_policy_for(str((manifest["metadata"].get("annotations") or {}).get(
                POLICY_FOR_ANNOTATION, "")), manifest["metadata"]["namespace"])}
