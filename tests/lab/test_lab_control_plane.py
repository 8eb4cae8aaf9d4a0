"""The lab's control plane behaves like a cluster's: TLS, RBAC, controllers, server-side apply.

These run against the real kube-apiserver, etcd and kube-controller-manager that labctl starts.
"""
import ssl
import time
import urllib.request
from pathlib import Path

import pytest
import yaml
from kubernetes import client
from kubernetes.client.rest import ApiException
from kubernetes.dynamic import DynamicClient


def eventually(check, timeout=60, interval=0.5):
    """Controllers act asynchronously: poll until check() is truthy or fail after timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(interval)
    pytest.fail(f"condition not met within {timeout}s: {check.__doc__ or check}")


def configmap(name, owner=None):
    metadata = client.V1ObjectMeta(name=name)
    if owner is not None:
        metadata.owner_references = [client.V1OwnerReference(
            api_version="v1", kind="ConfigMap", name=owner.metadata.name, uid=owner.metadata.uid)]
    return client.V1ConfigMap(metadata=metadata, data={"key": "value"})


def is_gone(read):
    try:
        read()
    except ApiException as error:
        if error.status == 404:
            return True
        raise
    return False


def test_readyz_over_verified_tls_with_client_certificate(lab_kubeconfig):
    kubeconfig = yaml.safe_load(Path(lab_kubeconfig).read_text())
    server = kubeconfig["clusters"][0]["cluster"]["server"]
    assert server.startswith("https://127.0.0.1:")
    pki = Path(lab_kubeconfig).parent / "pki"
    context = ssl.create_default_context(cafile=str(pki / "ca.crt"))
    context.load_cert_chain(str(pki / "admin.crt"), str(pki / "admin.key"))
    with urllib.request.urlopen(f"{server}/readyz?verbose", context=context, timeout=10) as response:
        body = response.read().decode()
    assert response.status == 200
    assert "readyz check passed" in body


def test_version_is_the_pinned_release(lab_api):
    version = client.VersionApi(lab_api).get_code()
    assert version.git_version.startswith("v1.")
    assert version.git_version != "v0.0.0-master+$Format:%H$"


def test_rbac_denies_a_serviceaccount_until_a_role_grants_access(lab_api, lab_namespace, serviceaccount_api):
    reader = client.CoreV1Api(serviceaccount_api("secret-reader"))
    with pytest.raises(ApiException) as denied:
        reader.list_namespaced_secret(lab_namespace)
    assert denied.value.status == 403

    rbac = client.RbacAuthorizationV1Api(lab_api)
    rbac.create_namespaced_role(lab_namespace, client.V1Role(
        metadata=client.V1ObjectMeta(name="read-secrets"),
        rules=[client.V1PolicyRule(api_groups=[""], resources=["secrets"], verbs=["list"])]))
    rbac.create_namespaced_role_binding(lab_namespace, client.V1RoleBinding(
        metadata=client.V1ObjectMeta(name="read-secrets"),
        role_ref=client.V1RoleRef(api_group="rbac.authorization.k8s.io", kind="Role", name="read-secrets"),
        subjects=[client.RbacV1Subject(kind="ServiceAccount", name="secret-reader", namespace=lab_namespace)]))

    def reader_can_list():
        """the granted Role lets the ServiceAccount list secrets"""
        try:
            reader.list_namespaced_secret(lab_namespace)
            return True
        except ApiException as error:
            if error.status != 403:
                raise
            return False
    eventually(reader_can_list, timeout=10)  # the RBAC authorizer watches roles: not instant

    with pytest.raises(ApiException) as still_denied:
        reader.list_namespaced_config_map(lab_namespace)
    assert still_denied.value.status == 403


def test_namespace_deletion_removes_namespaced_objects(lab_api):
    core = client.CoreV1Api(lab_api)
    namespace = "labtest-ns-deletion"
    if not is_gone(lambda: core.read_namespace(namespace)):
        eventually(lambda: is_gone(lambda: core.read_namespace(namespace)), timeout=120)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=namespace)))
    core.create_namespaced_config_map(namespace, configmap("payload"))

    core.delete_namespace(namespace)

    def namespace_gone():
        """the namespace controller finalizes the namespace"""
        return is_gone(lambda: core.read_namespace(namespace))
    eventually(namespace_gone, timeout=120)
    assert core.list_config_map_for_all_namespaces(field_selector=f"metadata.namespace={namespace}").items == []


def test_garbage_collector_deletes_dependents_of_a_deleted_owner(lab_api, lab_namespace):
    core = client.CoreV1Api(lab_api)
    owner = core.create_namespaced_config_map(lab_namespace, configmap("owner"))
    core.create_namespaced_config_map(lab_namespace, configmap("dependent", owner=owner))
    core.create_namespaced_config_map(lab_namespace, configmap("bystander"))

    core.delete_namespaced_config_map("owner", lab_namespace)

    def dependent_collected():
        """the garbage collector deletes the ConfigMap whose owner is gone"""
        return is_gone(lambda: core.read_namespaced_config_map("dependent", lab_namespace))
    eventually(dependent_collected, timeout=90)
    assert core.read_namespaced_config_map("bystander", lab_namespace).metadata.name == "bystander"


def test_server_side_apply_of_an_unchanged_object_is_a_no_op(lab_api, lab_namespace):
    configmaps = DynamicClient(lab_api).resources.get(api_version="v1", kind="ConfigMap")
    body = {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "applied", "namespace": lab_namespace}, "data": {"key": "value"}}

    def apply():
        return configmaps.server_side_apply(body=body, name="applied", namespace=lab_namespace,
                                            field_manager="lab-test").metadata.resourceVersion

    first = apply()
    assert apply() == first
    body["data"]["key"] = "changed"
    assert apply() != first
