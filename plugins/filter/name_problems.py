# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter shim: ocpvirt.multinet.name_problems -> names.name_problem."""

DOCUMENTATION = r"""
name: name_problems
author: ocpvirt.multinet maintainers
version_added: "0.1.0"
short_description: Which of a role's names would not be valid Kubernetes names
description:
  - Takes C([field, value, rule]) triples and returns one message per value that is not a name of
    its rule, naming the field and the value, so a role can refuse it before the name goes into
    an API path (C(ns/configmaps/x) would reach another object, C(x?y) another query).
  - Rules are C(namespace), C(container) and C(label) (a DNS-1123 label, at most 63 characters)
    and C(object) (a DNS-1123 subdomain, at most 253 characters, as most object names).
positional: _input
options:
  _input:
    description: The C([field, value, rule]) triples.
    type: list
    elements: list
    required: true
notes:
  - Pure Python, runs on the controller; it does not contact any cluster.
"""

EXAMPLES = r"""
- name: Refuse names that are not names
  ansible.builtin.assert:
    that: __problems | length == 0
    fail_msg: "{{ __problems | join('; ') }}"
  vars:
    __problems: >-
      {{ [['my_namespace', my_namespace, 'namespace'], ['my_vm', my_vm, 'object']]
         | ocpvirt.multinet.name_problems }}
"""

RETURN = r"""
_value:
  description: "One message per bad name, C(<field>: <why> (got <value>)); empty when all are good."
  type: list
  elements: str
"""


from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.errors import MultinetError
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.names import RULES, name_problem
from ansible_collections.ocpvirt.multinet.plugins.plugin_utils.filter_args import domain_errors, filter_params


def name_problems(*args, **kwargs):
    """Validate the filter argument, then check each name by its rule."""
    params = filter_params("name_problems", DOCUMENTATION, ["_input"], args, kwargs)
    with domain_errors("name_problems"):
        problems = []
        for index, check in enumerate(params["_input"]):
            if len(check) != 3 or check[2] not in RULES:
                raise MultinetError("must be [field, value, rule] with a rule of {0}".format(", ".join(sorted(RULES))),
                                    "_input[{0}]".format(index), check)
            field, value, rule = check
            problem = name_problem(value, rule)
            if problem is not None:
                problems.append(str(MultinetError(problem, field, value)))
        return problems


class FilterModule(object):
    """ocpvirt.multinet name check filter."""

    def filters(self):
        return {"name_problems": name_problems}
