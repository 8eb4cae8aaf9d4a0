# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one error type of ocpvirt.multinet's pure core.

Library code raises it and never exits; modules and filters turn it into ``fail_json`` or
``AnsibleFilterError`` at their boundary.
"""


class MultinetError(Exception):
    """A problem the user can fix, with the field path and the offending value."""

    def __init__(self, message, field=None, value=None):
        self.field = field
        self.value = value
        if field is not None:
            message = "{0}: {1} (got {2!r})".format(field, message, value)
        super().__init__(message)


def problems_message(problems, header):
    """One problem's own message, or ``header`` and then one line per problem."""
    if len(problems) == 1:
        return str(problems[0])
    return "{0}:\n{1}".format(header, "\n".join("- {0}".format(problem) for problem in problems))
