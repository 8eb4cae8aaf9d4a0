# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Who may reach whom on one secondary network, pure: endpoints (pods, VMs, outside
addresses) built from plain objects, and the simulator that judges every pair against the
policies the way OVN-Kubernetes enforces them. Shared by the what-if (policy/) and verify/.

Imports only model/; no Ansible import, no I/O.
"""
