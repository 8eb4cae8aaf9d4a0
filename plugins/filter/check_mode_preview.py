# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter shim: ocpvirt.multinet.check_mode_preview -> check_preview.split_manifests."""

DOCUMENTATION = r"""
name: check_mode_preview
author: ocpvirt.multinet maintainers
version_added: "0.1.0"
short_description: Split manifests into those check mode can send to the API server and those it cannot yet
description:
  - In check mode an earlier stage of the run creates nothing, so an object in a namespace that
    stage would create, or of an API group whose CRDs an operator the run would install serves,
    cannot be checked by the API server's dry run yet.
  - Returns C({previewable, deferred}) with C(previewable) the manifests that can be sent, in
    order, and C(deferred) one C({object, reason}) per other manifest (C(object) is
    C(<Kind> <namespace>/<name>), C(reason) ends the sentence "cannot be previewed until ...").
  - With O(check_mode=false) every manifest is previewable.
positional: _input, preview, check_mode
options:
  _input:
    description: The manifests a stage is about to apply.
    type: list
    elements: dict
    required: true
  preview:
    description:
      - What earlier stages of this run would create (the fact C(server_dry_run_would_create)), keys
        C(new_namespaces), C(new_api_groups) and C(network_attachments) (C(<namespace>/<name>)),
        each a list of names; a missing key is an empty list.
    type: dict
    default: {}
  check_mode:
    description: Whether the run is in check mode (pass C(ansible_check_mode)).
    type: bool
    default: true
notes:
  - Pure Python, runs on the controller; it does not contact any cluster.
"""

EXAMPLES = r"""
- name: Apply what the API server can check now
  kubernetes.core.k8s:
    definition: "{{ item }}"
  loop: "{{ (manifests | ocpvirt.multinet.check_mode_preview(server_dry_run_would_create | default({}), ansible_check_mode)).previewable }}"
"""

RETURN = r"""
_value:
  description: C({previewable, deferred}).
  type: dict
"""

from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.check_preview import split_manifests
from ansible_collections.ocpvirt.multinet.plugins.plugin_utils.filter_args import domain_errors, filter_params


def check_mode_preview(*args, **kwargs):
    """Validate the filter arguments, then split the manifests."""
    params = filter_params("check_mode_preview", DOCUMENTATION, ["_input", "preview", "check_mode"], args, kwargs)
    with domain_errors("check_mode_preview"):
        return split_manifests(params["_input"], params["preview"], params["check_mode"])


class FilterModule(object):
    """ocpvirt.multinet check-mode preview filter."""

    def filters(self):
        return {"check_mode_preview": check_mode_preview}
