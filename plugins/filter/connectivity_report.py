# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter shim: ocpvirt.multinet.connectivity_report -> report.build."""

DOCUMENTATION = r"""
name: connectivity_report
author: ocpvirt.multinet maintainers
version_added: "0.1.0"
short_description: Compare expected, simulated, probed and traced connectivity and render HTML, JUnit and a table
description:
  - Lines up, for every ordered pair of endpoints and every kind of traffic, what an intent
    expects, what the live policies allow (simulated) and what a probe saw.
  - A pair fails when the simulation disagrees with the intent, or when a probe ran and
    disagrees with the intent (or, without an intent, with the simulation). Probe rows with
    C(allowed=null) are skipped probes and never fail.
  - Renders one self-contained HTML page a reviewer can print (a header with the run's date,
    cluster, revision and where probes ran; a table of the disagreements with every verdict and
    its reason; per traffic kind a matrix with a colour and a mark per cell, P probed, T traced,
    S simulated only, and an SVG graph of the allowed flows; and every pair with its reasons),
    JUnit XML (one testcase per pair, the same reasons, the run's facts as properties) and a
    plain-text table of the failing pairs.
  - Pure, the date is passed in and never read.
positional: _input
options:
  _input:
    description:
      - "C({title, date, cluster, sections}), one section per intent, or a single section."
      - "C(date) is the run's time, ISO 8601 in UTC (V(2026-12-06T07:05:36Z)); C(cluster) is
        C({name, server}), the inventory host and the API server URL (shown without user,
        password, query or fragment; any other field is refused). Both may be left out: the
        header then says C(not given)."
      - "A section is C({name, network, endpoints, probe, warnings, revision, checks}): C(revision)
        is C({intent, policies, policy_count}) as M(ocpvirt.multinet.connectivity_info) returns it; C(network) is
        C(<ns>/<nad>); C(endpoints) as returned by M(ocpvirt.multinet.connectivity_info);
        C(probe) is C({enabled, reason}); C(checks) a list of C({port, expected, simulated,
        probed}) where each of the last three is a list of rows C({from, to, allowed, reason})
        (probe rows may give C(detail) instead of C(reason), shown as given, and C(via), V(pod)
        or V(guest), where the probe ran), and C(expected) may be null (no intent)."
      - "Instead of C(probed), a check may give C(probes), the probe plan returned by
        M(ocpvirt.multinet.connectivity_info), and C(runs), the registered loop results of
        M(kubernetes.core.k8s_exec) over its items: exit 0 is allowed, 126/127 (tool missing)
        and exec failures give no verdict, any other exit code is blocked. When C(probe.enabled)
        is false every pair reads C(not probed) with C(probe.reason)."
      - "A check may also give C(traced), rows C({from, to, allowed, detail}) as
        M(ocpvirt.multinet.ovn_trace) returns them: OVN's verdict, compared like a probed one
        (null never fails); the section's C(trace) (C({enabled, reason})) is shown next to C(probe)."
    type: dict
    required: true
seealso:
  - module: ocpvirt.multinet.connectivity_info
  - plugin: ocpvirt.multinet.connectivity
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Compare and render
  ansible.builtin.set_fact:
    verdict: >-
      {{ {'name': 'llm-demo', 'network': info.network, 'endpoints': info.endpoints,
          'probe': {'enabled': false, 'reason': 'no exec on this cluster'}, 'warnings': [],
          'checks': [{'port': none, 'expected': info.expected, 'simulated': info.matrix, 'probed': none}]}
         | ocpvirt.multinet.connectivity_report }}

- name: The same with the header a printed report needs
  ansible.builtin.set_fact:
    verdict: >-
      {%- set r = info.results[0] -%}
      {{ {'date': now(utc=True, fmt='%Y-%m-%dT%H:%M:%SZ'),
          'cluster': {'name': inventory_hostname, 'server': info.server},
          'sections': [{'name': 'llm-demo', 'network': info.network, 'revision': info.revision,
                        'checks': [{'port': r.port, 'expected': r.expected, 'simulated': r.matrix}]}]}
         | ocpvirt.multinet.connectivity_report }}

- name: Write the report
  ansible.builtin.copy:
    content: "{{ verdict.html }}"
    dest: reports/connectivity.html
    mode: "0644"

- name: Fail with the table of disagreements
  ansible.builtin.fail:
    msg: "{{ verdict.table }}"
  when: verdict.failed
"""

RETURN = r"""
_value:
  description:
    - C(sections) (C({name, network, checks}) with, per traffic kind, the compared rows
      C({from, to, expected, simulated, probed, traced, status, problems, expected_reason,
      simulated_reason, probed_reason, traced_reason})), C(summary)
      (C({pairs, failures, probed, traced})), C(failed) (bool), C(table) (text), C(html) and C(junit)
      (documents as strings), C(fingerprint) (C(sha256:) of the HTML and JUnit rendered without
      the date, also written into both; equal for two runs that differ only in their date).
  type: dict
"""


from ansible_collections.ocpvirt.multinet.plugins.module_utils.verify.report import build
from ansible_collections.ocpvirt.multinet.plugins.plugin_utils.filter_args import domain_errors, filter_params


def connectivity_report(data):
    """Validate the input, then compare and render."""
    params = filter_params("connectivity_report", DOCUMENTATION, ["_input"], [data], {})
    with domain_errors("connectivity_report"):
        return build(params["_input"])


class FilterModule(object):
    """ocpvirt.multinet report filter."""

    def filters(self):
        return {"connectivity_report": connectivity_report}
