# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The only way into the cluster: the only package that imports `kubernetes` or
kubernetes.core. The client factory, the store that writes policies, the snapshot reader, the
OVN reader, the intent lease, API errors and retries. Everything it reads is handed to the pure
packages below it.
"""
