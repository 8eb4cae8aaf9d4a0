# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every filter shim of the collection does around its one call into the pure core:
validate its arguments against the options of its own DOCUMENTATION (as ansible.utils' filters do
with AnsibleArgSpecValidator), and turn the core's MultinetError into the filter's
AnsibleFilterError, each message starting with the filter's name."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import functools
from contextlib import contextmanager

import yaml
from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.errors import MultinetError


SPEC_KEYS = ("type", "elements", "required", "default", "choices")


@functools.lru_cache(maxsize=None)
def _argument_spec(documentation, no_log):
    return {name: dict({key: option[key] for key in SPEC_KEYS if key in option}, no_log=name in no_log)
            for name, option in (yaml.safe_load(documentation).get("options") or {}).items()}


def argument_spec(documentation, no_log=()):
    """The argument spec of a filter's DOCUMENTATION options; `no_log` names the options whose
    values no message may show (DOCUMENTATION has no such key)."""
    return copy.deepcopy(_argument_spec(documentation, tuple(no_log)))


def filter_params(name, documentation, positional, args, kwargs, no_log=()):
    """The filter's arguments by name (`positional` names them in order), checked against the
    options of its DOCUMENTATION."""
    data = dict(zip(positional, args))
    data.update(kwargs)
    result = ArgumentSpecValidator(argument_spec(documentation, no_log)).validate(data)
    if result.error_messages:
        raise AnsibleFilterError(name + ": " + "; ".join(result.error_messages))
    return result.validated_parameters


def plain_data(value):
    """Lists and mappings rebuilt item by item, inside the filter call: the templates their items
    may hold (a role default made of other variables) resolve here, where the argument check's
    copies of the lazy containers could not resolve them."""
    if isinstance(value, dict):
        return {key: plain_data(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain_data(item) for item in value]
    return value


@contextmanager
def domain_errors(name):
    """A MultinetError raised by the pure core, as the filter `name`'s AnsibleFilterError."""
    try:
        yield
    except MultinetError as error:
        raise AnsibleFilterError("{0}: {1}".format(name, error)) from error
