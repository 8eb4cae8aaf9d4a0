# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Names that go into an API path, checked before the path is built.

Pure. A name is joined into a URL (``/api/v1/namespaces/<name>``), so ``a/configmaps/b`` would
reach another object and ``a?x`` another query: each name is held to the rule of its kind
(Kubernetes' ``IsDNS1123Label`` for namespaces and containers, ``IsDNS1123Subdomain`` for most
other objects) and a bad one fails naming the field and the value, before any request.
"""
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.errors import MultinetError
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.vocabulary import (
    dns1123_label_problem,
    dns1123_subdomain_problem,
)

# The rule each kind of name follows (k8s.io/apimachinery validation, as the API server applies it).
RULES = {
    "namespace": dns1123_label_problem,
    "container": dns1123_label_problem,
    "label": dns1123_label_problem,
    "object": dns1123_subdomain_problem,
}


def name_problem(value, rule="object"):
    """Why ``value`` is not a name of this rule, or None."""
    if not isinstance(value, str):
        return "must be a string"
    if not value:
        return "must not be empty"
    return RULES[rule](value)


def check_name(field, value, rule="object"):
    """``value`` itself, or a MultinetError naming ``field`` and the value."""
    problem = name_problem(value, rule)
    if problem is not None:
        raise MultinetError(problem, field, value)
    return value


def check_names(checks):
    """Every ``(field, value, rule)`` at once: one MultinetError listing each bad name, or None."""
    problems = [str(MultinetError(problem, field, value)) for field, value, rule in checks
                for problem in [name_problem(value, rule)] if problem is not None]
    if problems:
        raise MultinetError("; ".join(problems))


def network_checks(field, text):
    """The checks of a NAD reference, '<namespace>/<nad>' or '<nad>', each part by its rule."""
    if not isinstance(text, str):
        return [(field, text, "object")]
    namespace, slash, nad = text.partition("/")
    if not slash:
        return [(field, text, "object")]
    whole = "{0} {1!r}".format(field, text)
    return [(whole + ", namespace part", namespace, "namespace"), (whole + ", NAD name", nad, "object")]
