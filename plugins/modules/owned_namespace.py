#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: owned_namespace
short_description: Create a namespace and remember that we did; delete it only when it is ours alone
version_added: 0.1.0
description:
  - With O(state=present), creates the namespace when it does not exist, with the label
    C(app.kubernetes.io/managed-by=ocpvirt.multinet) and the annotation
    C(multinet.ocpvirt.io/created-namespace). The create is one POST, so a namespace that
    already existed (HTTP 409) is never marked as ours; only the labels of O(labels) it lacks
    are added to it.
  - With O(state=absent), deletes the namespace only when it carries that annotation and every
    object left in it is ours, being deleted, owned only by objects of ours, or one the cluster
    puts in every namespace (C(default) ServiceAccount, C(kube-root-ca.crt), OpenShift's
    builder/deployer ServiceAccounts, their Secrets and image RoleBindings). Events are ignored.
    Otherwise the namespace is kept and RV(reason) and RV(foreign) say why; a resource that
    cannot be listed (RV(unreadable)) keeps it too.
  - An object is ours only when it carries the managed-by label B(and) our record names it
    (O(owned), or for a MultiNetworkPolicy its C(multinet.ocpvirt.io/intent) label is one of
    O(intents)). The label alone is not enough, since another intent's policies and the Role,
    RoleBinding and ServiceAccount of C(playbooks/rbac.yml) carry it too. An object with an
    ownerReference to anything but objects of ours (a Node, another team's object) is someone
    else's.
  - O(name) must be a DNS-1123 label (a namespace name); anything else (C(a/configmaps/b),
    C(a?x), an empty string) fails before any request.
  - "Objects are listed as metadata only (C(PartialObjectMetadataList)): no Secret's data is read."
  - Supports check mode.
author:
  - ocpvirt.multinet maintainers (!UNKNOWN)
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
options:
  name:
    description: The namespace, a DNS-1123 label.
    type: str
    required: true
  owned:
    description:
      - With O(state=absent), C(Kind/name) of each object this automation creates in the namespace
        (our record, e.g. C(NetworkAttachmentDefinition/my-net), C(VirtualMachine/web-1)). Such an
        object, or one owned by it, does not keep the namespace.
    type: list
    elements: str
    default: []
  intents:
    description:
      - With O(state=absent), the names of the intents whose MultiNetworkPolicies in the namespace
        are ours. Policies of any other intent keep the namespace.
    type: list
    elements: str
    default: []
  state:
    description: C(present) creates it when missing; C(absent) deletes it when it is ours alone.
    type: str
    choices: [present, absent]
    default: present
  labels:
    description: Labels the namespace must carry (O(state=present)).
    type: dict
    default: {}
  wait:
    description: With O(state=absent), wait until a deleted namespace is gone.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for that.
    type: int
    default: 300
requirements:
  - kubernetes >= 24.2.0
"""

EXAMPLES = r"""
- name: Create the NAD's namespace unless it exists
  ocpvirt.multinet.owned_namespace:
    name: my-team

- name: Delete it only when we created it and it holds nothing of others
  ocpvirt.multinet.owned_namespace:
    name: my-team
    state: absent
    owned: [NetworkAttachmentDefinition/my-net, VirtualMachine/web-1, Secret/web-1-cloud-init]
    intents: [my-net]
  register: removed

- name: Say what was kept
  ansible.builtin.debug:
    msg: "{{ removed.reason }}"
  when: not removed.deleted
"""

RETURN = r"""
created:
  description: The namespace was created by this run (O(state=present)).
  returned: always
  type: bool
deleted:
  description: The namespace was deleted by this run (O(state=absent); in check mode, would be).
  returned: always
  type: bool
kept:
  description: The namespace exists and was not deleted (O(state=absent)); RV(reason) says why.
  returned: always
  type: bool
ours:
  description: The namespace exists and was created by ocpvirt.multinet.
  returned: always
  type: bool
reason:
  description: Why the namespace was created, kept or deleted.
  returned: always
  type: str
foreign:
  description:
    - C(Kind/name) of the objects of others that kept the namespace (O(state=absent)), with what
      makes an object that looks ours someone else's, e.g. C(ConfigMap/x (owned by Node/n)),
      C(MultiNetworkPolicy/p (of intent other-team)).
  returned: always
  type: list
  elements: str
unreadable:
  description: Resources that could not be listed in it, with the API's reason (O(state=absent)).
  returned: always
  type: list
  elements: str
"""

import copy

from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.exceptions import CoreException

from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.errors import MultinetError
from ansible_collections.ocpvirt.multinet.plugins.module_utils.k8s.apply import (
    ApiException,
    TransportError,
    describe_api_error,
)
from ansible_collections.ocpvirt.multinet.plugins.module_utils.k8s.namespaces import Api, contents, wait_gone
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.names import check_name
from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.namespace_ownership import (
    created_by_us,
    deletion_verdict,
    foreign_objects,
    missing_labels,
    namespace_manifest,
)


def argspec():
    spec = copy.deepcopy(AUTH_ARG_SPEC)
    spec.update(
        name=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        labels=dict(type="dict", default={}),
        owned=dict(type="list", elements="str", default=[]),
        intents=dict(type="list", elements="str", default=[]),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=300),
    )
    return spec


def present(module, api, name):
    labels = module.params["labels"]
    namespace = api.namespace(name)
    if namespace is None:
        if not module.check_mode:
            try:
                api.call("POST", "/api/v1/namespaces", body=namespace_manifest(name, labels))
            except ApiException as error:
                if error.status != 409:  # created by someone else meanwhile: theirs, not ours
                    raise
                return present(module, api, name)
        return dict(changed=True, created=True, ours=True, reason="namespace {0} created".format(name))
    add = missing_labels(namespace, labels)
    if add and not module.check_mode:
        api.call("PATCH", "/api/v1/namespaces/" + name, body={"metadata": {"labels": add}},
                 content_type="application/merge-patch+json")
    ours = created_by_us(namespace)
    return dict(changed=bool(add), created=False, ours=ours, reason="namespace {0} exists{1}{2}".format(
        name, " (created by ocpvirt.multinet)" if ours else " (not ours: left as it is but for the labels asked)",
        "; labels added: " + ", ".join(sorted(add)) if add else ""))


def absent(module, api, name):
    namespace = api.namespace(name)
    foreign, unreadable = [], []
    if namespace is not None and created_by_us(namespace):
        objects, unreadable = contents(api, name)
        foreign = foreign_objects(objects, module.params["owned"], module.params["intents"])
    delete, reason = deletion_verdict(name, namespace, foreign, unreadable)
    result = dict(changed=delete, created=False, deleted=delete, kept=namespace is not None and not delete,
                  ours=namespace is not None and created_by_us(namespace), reason=reason, foreign=foreign,
                  unreadable=unreadable)
    if delete and not module.check_mode:
        api.call("DELETE", "/api/v1/namespaces/" + name)
        if module.params["wait"]:
            wait_gone(api, name, module.params["wait_timeout"])
    return result


def main():
    module = AnsibleK8SModule(argument_spec=argspec(), supports_check_mode=True)
    name = module.params["name"]
    try:
        check_name("name", name, "namespace")  # joined into the request path: never a path itself
        api = Api(module)
        result = (present if module.params["state"] == "present" else absent)(module, api, name)
    except (CoreException, MultinetError) as error:
        module.fail_json(msg=str(error))
    except (ApiException, TransportError) as error:
        module.fail_json(msg=describe_api_error("Failed on namespace", name, error))
    result.setdefault("deleted", False)
    result.setdefault("kept", False)
    result.setdefault("foreign", [])
    result.setdefault("unreadable", [])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
