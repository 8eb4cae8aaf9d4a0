# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The intents one side of playbooks/plan.yml compares, from its file's data, running nothing.

A plan compares a proposed change (a pull request's file), so the file is data: Ansible does not
template it. An inventory vars file's ``policies_intents`` may still refer to the file's own
variables (``"{{ seed_namespace }}/{{ seed_nad }}"``), so its strings are rendered here in
Jinja's immutable sandbox with no globals (no ``lookup``, ``query``, ``range``...), Jinja's
built-in filters only (none of Ansible's, which can read files or run commands) and the file's
own top-level variables, each rendered the same way when a template uses it. Variables the
intents do not use are never rendered.

Pure: no Ansible import, no I/O. In plugin_utils, not module_utils: it needs jinja2, which the
controller has (Ansible depends on it) and a managed node need not.
"""
import re

from jinja2 import StrictUndefined, TemplateError, meta
from jinja2.sandbox import ImmutableSandboxedEnvironment

from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.addresses import resolve_intents
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.errors import MultinetError

INTENTS_KEY = "policies_intents"
# A sequence or string built by `*` in a template may hold at most this many items or characters.
MAX_PRODUCT = 100000
_WHOLE_EXPRESSION = re.compile(r"\A\s*\{\{(?P<expression>.*)\}\}\s*\Z", re.DOTALL)
_TEMPLATE_MARKS = ("{{", "{%", "{#")


class _Sandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox without globals, refusing `**` and `*` products too large."""

    intercepted_binops = frozenset(["*", "**"])

    def __init__(self):
        super().__init__(undefined=StrictUndefined, autoescape=False)
        self.globals.clear()

    def call_binop(self, context, operator, left, right):
        if operator == "**":
            raise TemplateError("the ** operator is not available in a compared file")
        if isinstance(left, (str, list, tuple)) and isinstance(right, int) and len(left) * right > MAX_PRODUCT \
                or isinstance(right, (str, list, tuple)) and isinstance(left, int) and len(right) * left > MAX_PRODUCT:
            raise TemplateError("a product of more than {0} items".format(MAX_PRODUCT))
        return super().call_binop(context, operator, left, right)


WORKLOAD_VARIABLES = {"namespace": "workloads_namespace", "vms": "workloads_vms", "pods": "workloads_pods"}


def plan_intents(data, field, source):
    """The list of intents `data` (the parsed contents of the file `source`) holds for plan.yml:
    a vars file's `policies_intents` (rendered as the module docstring says), a list of intents,
    or one intent (both taken as they are). Raises MultinetError naming `field` and `source`."""
    if isinstance(data, dict) and INTENTS_KEY in data:
        resolver = _Resolver(data, field, source)
        intents = resolver.variable(INTENTS_KEY)
        if isinstance(intents, list):
            # Workloads without ips take them from the file's VMs and pods, as the policies role
            # does; a difference is the policies role's to refuse, not the plan's.
            inventory = {key: resolver.variable(variable) for key, variable in WORKLOAD_VARIABLES.items()
                         if variable in data}
            intents = resolve_intents(intents, inventory, check=False)
    elif isinstance(data, dict):
        intents = [data]
    else:
        intents = data
    if not isinstance(intents, list):
        raise MultinetError("must hold policies_intents (a list), a list of intents or one intent; it holds {0}".format(
            type(intents).__name__ if intents is not None else "nothing"), field, source)
    return intents


class _Resolver:
    """Renders the templates in the variables of one file, each variable once."""

    def __init__(self, data, field, source):
        self.data = data
        self.field = field
        self.source = source
        self.environment = _Sandbox()
        self.done = {}
        self.active = []

    def variable(self, name):
        if name in self.done:
            return self.done[name]
        if name in self.active:
            raise MultinetError("variables refer to each other in a loop: {0}".format(
                " -> ".join(self.active[self.active.index(name):] + [name])), self.field, self.source)
        self.active.append(name)
        value = self.render(self.data[name], name)
        self.active.pop()
        self.done[name] = value
        return value

    def render(self, value, where):
        if isinstance(value, dict):
            return {self.render(key, where): self.render(item, "{0}.{1}".format(where, key))
                    for key, item in value.items()}
        if isinstance(value, list):
            return [self.render(item, "{0}[{1}]".format(where, index)) for index, item in enumerate(value)]
        if not isinstance(value, str) or not any(mark in value for mark in _TEMPLATE_MARKS):
            return value
        try:
            whole = _WHOLE_EXPRESSION.match(value)
            # One expression keeps its type (a list stays a list), as Ansible renders it.
            if whole and "}}" not in whole.group("expression"):
                parsed = self.environment.parse(value)
                expression = self.environment.compile_expression(whole.group("expression"), undefined_to_none=False)
                return expression(**self.variables_of(parsed))
            template = self.environment.from_string(value)
            return template.render(**self.variables_of(self.environment.parse(value)))
        except MultinetError:
            raise
        except Exception as error:  # Jinja's errors, and whatever a sandboxed call raised
            raise MultinetError("{0}: cannot render {1!r} with the file's own variables and Jinja's built-in "
                                "filters (a compared file is data: no lookup, no Ansible filter): {2}".format(
                                    where, value, error), self.field, self.source) from None

    def variables_of(self, parsed):
        """The file's variables a parsed template uses, rendered (the others are left undefined)."""
        return {name: self.variable(name) for name in meta.find_undeclared_variables(parsed) if name in self.data}
