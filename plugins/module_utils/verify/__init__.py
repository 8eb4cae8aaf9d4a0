# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Verifying connectivity, pure: the flows an intent expects, probe plans and their outcomes,
the report, the revision digests.

Imports model/ and simulate/; no Ansible import, no I/O.
"""
