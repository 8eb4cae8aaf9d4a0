# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Lookup shim: ocpvirt.multinet.plan_intents -> intent_file.read_checked_text, intent.load_data_text
and plan_vars.plan_intents."""

DOCUMENTATION = r"""
name: plan_intents
author:
  - ocpvirt.multinet maintainers (!UNKNOWN)
version_added: "0.1.0"
short_description: The intents a file holds, read as data for playbooks/plan.yml
description:
  - Reads an inventory vars file holding C(policies_intents), a file holding a list of intents,
    or a file holding one intent, and returns its intents, without letting Ansible template the
    file, so a compared revision (a pull request's file) runs nothing on the controller.
  - The strings of C(policies_intents) may refer to the file's own top-level variables; they are
    rendered in Jinja's immutable sandbox with Jinja's built-in filters only. C(lookup),
    C(query) and Ansible's filters are not available, and a template that uses one fails the
    lookup naming the value. Variables the intents do not use are never rendered.
  - A relative path is taken from the current directory (where ansible-playbook runs, such as
    the repository's root in CI), not from the playbook's directory.
  - The file is read as the O(ocpvirt.multinet.multinetwork_policy#module:src) of the module is
    (a regular C(*.json), C(*.yaml) or C(*.yml) file of at most 16 MiB, read within 30 seconds;
    a key written twice, an alias bomb or too deep a nesting refused).
options:
  _terms:
    description: The path of one file.
    required: true
    type: path
  field:
    description: The name the error messages give the file (for example C(plan_before)).
    type: str
    default: file
"""

EXAMPLES = r"""
- name: The intents of the base revision, as data
  ansible.builtin.set_fact:
    base_intents: "{{ query('ocpvirt.multinet.plan_intents', 'base/seed_lab.yml', field='plan_before') }}"
"""

RETURN = r"""
_raw:
  description: The intents, one list element each.
  type: list
  elements: dict
"""

import os

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.errors import MultinetError
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.intent import load_data_text
from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.intent_file import read_checked_text
from ansible_collections.ocpvirt.multinet.plugins.plugin_utils.plan_vars import plan_intents


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        field = self.get_option("field")
        if len(terms) != 1:
            raise AnsibleLookupError("{0}: give one file, got {1}".format(field, len(terms)))
        path = os.path.abspath(os.path.expanduser(str(terms[0])))
        try:
            return plan_intents(load_data_text(read_checked_text(path, field), path, field), field, path)
        except MultinetError as error:
            raise AnsibleLookupError(str(error)) from None
