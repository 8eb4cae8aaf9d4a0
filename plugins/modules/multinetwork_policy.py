#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: multinetwork_policy
short_description: Compile an allow-list intent into MultiNetworkPolicies and apply them idempotently
version_added: 0.1.0
author:
  - ocpvirt.multinet maintainers (!UNKNOWN)
description:
  - Validates and compiles an intent (workloads, outside endpoints and an allow list on one secondary
    network) into C(k8s.cni.cncf.io/v1beta1) MultiNetworkPolicy objects, the same manifests the
    P(ocpvirt.multinet.compile_mnp#filter) filter returns.
  - Applies them with server-side apply under the field manager C(ocpvirt.multinet), forcing
    conflicts, so a policy edited by hand is put back and reported in RV(updated).
  - Lists the policies this collection manages in the namespace once (by the label
    C(app.kubernetes.io/managed-by=ocpvirt.multinet); with O(state=absent) only the intent's, also
    by C(multinet.ocpvirt.io/intent=<intent name>)) and writes only the intent's policies whose
    owned fields differ. Owned fields are the spec, the labels and the annotations the compiler sets; labels,
    annotations and status added by others are left alone. A re-run with the same intent makes no
    write request and reports C(changed=false).
  - Spec keys added by hand that the compiled policy does not set (for example an C(egress) list
    on an ingress-only policy) are removed with a merge patch after the apply, because server-side
    apply keeps fields owned by another manager.
  - Writes up to 4 policies at a time. Policies with rules are written first, the deny-all after
    them, stale policies are deleted last (for O(state=absent), the deny-all first), so a run that
    stops half-way never blocks a flow that the old and the new policies both allow. At the first
    failure no further write starts; the writes in flight are waited for and reported in
    RV(created), RV(updated) and RV(deleted).
  - Nothing is applied when any part of the intent is invalid; the error names the field and value.
  - Naming a workload in the allow list isolates it in that direction, as NetworkPolicy does.
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Writes are sent as server-side dry runs, so the API server still validates them.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details:
      - One before/after pair per created, updated or deleted policy, owned fields only.
      - Above them, a short list of the flows the change opens and closes (see RV(flows)).
options:
  intent:
    description:
      - The intent, schema v1. See C(docs/multinetwork_policy.md) in the collection for every key.
      - Keys are C(namespace) (required), C(network) (required, C(<nad>) or C(<ns>/<nad>)), C(name)
        (the intent name, default the NAD name), C(ipam) (default V(false)),
        C(target_honours_end_port) (default V(false), so port ranges become single ports), C(default_deny)
        (default V([ingress, egress])), C(workloads), C(endpoints) and C(allow).
      - With O(state=absent) only C(namespace), C(network) and C(name) are read (the rest is not
        validated), so the same intent that created the policies removes them.
      - Exactly one of O(intent) and O(src) is required.
    type: dict
  src:
    description:
      - Path to a file holding the intent (the same mapping as O(intent)), in JSON or YAML.
      - With a local connection (how this module runs) the path is looked for as
        M(kubernetes.core.k8s) looks for its C(src), on the controller, a relative path in the
        role's and the playbook's C(files/) folders, then relative to the playbook.
      - For large intents. The module reads the file itself, so Ansible neither loads the intent
        as variables nor templates it into the task's arguments, which at 1,000 workloads is most
        of a re-run's time (see C(docs/benchmarks.md)). JSON parses fastest.
      - The file is read as carefully as an inline intent. Its name (after following symlinks)
        must end in C(.json), C(.yaml) or C(.yml), and it must be a regular file (no FIFO, device
        or directory) of at most 16 MiB, read within 30 seconds; anything else is refused
        without being read. A key written twice in one mapping is refused, naming the key and
        both lines; so is YAML whose aliases expand to more than a million values or that nests
        deeper than 64 levels. A message quotes at most the offending line of the file.
    type: path
  state:
    description:
      - V(present) makes the namespace hold exactly the compiled policies of this intent.
      - V(absent) deletes every policy labelled with this intent, and only those.
    type: str
    choices: [present, absent]
    default: present
  prune:
    description:
      - Delete policies labelled with this intent that the intent no longer compiles to.
      - Policies of other intents and policies not managed by this collection are never touched.
    type: bool
    default: true
  return_policies:
    description:
      - Which compiled manifests RV(policies) holds. RV(policy_names) always lists every one, and
        RV(created), RV(updated) and RV(deleted) name what this run wrote.
      - V(names) (the default) returns none, RV(policies) is empty. A result is kept by every
        callback and, in AAP, stored with each job event; a first apply of 1,000 workloads
        returned 1 MB of manifests, and carrying it cost more CPU than checking the cluster
        (see C(docs/benchmarks.md)). The manifests can be compiled again at any time from the
        same intent with the P(ocpvirt.multinet.compile_mnp#filter) filter.
      - V(changed) returns the policies this run created or updated (in check mode, would), so
        a re-run that changes nothing returns none.
      - V(all) returns every compiled manifest, whether it was written or not.
    type: str
    choices: [all, changed, names]
    default: names
  merge_peers:
    description:
      - Write each rule's ipBlock peers as the fewest ipBlocks that match exactly their addresses
        (never one address more); neighbouring workload addresses become one wider C(cidr), and a
        block missing a few addresses may carry an C(except). OVN-Kubernetes makes one ACL of each
        ipBlock, so fewer ipBlocks are fewer ACLs and logical flows.
      - V(false) writes one ipBlock per workload address and per endpoint, as the intent lists
        them, to compare the two as C(make bench) does. Who may reach whom is the same either way.
      - Switching it rewrites the policies whose peers change, in one update each.
    type: bool
    default: true
  share_policies:
    description:
      - Give workloads whose compiled rules are identical (the same directions, peers and ports)
        and that select by one label of one key one policy, C(<intent>-shared-<digest>), whose
        C(podSelector) is C(<key> In [their values]). It selects exactly their pods, so who may
        reach whom is unchanged, and OVN-Kubernetes keeps one port group and one set of ACLs
        instead of one per workload. The digest is of the rules and the label key, not of the
        members, so a workload that joins or leaves such a group updates the policy's selector;
        the annotation C(multinet.ocpvirt.io/workloads) lists the members. A workload whose
        rules no other shares keeps C(<intent>-allow-<workload>).
      - V(false) writes one policy per workload, to compare the two as C(make bench) does.
    type: bool
    default: true
  max_closed_flows:
    description:
      - Fail before writing anything when this run would close more flows than this, listing them
        in the message and in RV(flows). V(0) refuses any change that closes a flow.
      - Unset (the default), nothing is refused. See RV(flows) for how flows are judged.
    type: int
  require_network:
    description:
      - With O(state=present), refuse the run (before any write) when the
        NetworkAttachmentDefinition that C(network) names does not exist; the error names the NAD
        and the namespace searched, and lists the NADs there.
      - A policy whose C(policy-for) names a NAD that does not exist protects nothing, so a typo
        would move every policy, the deny-all included, off the real network.
      - Set V(false) when the NAD is created later. Needs C(list) on
        network-attachment-definitions in the NAD's namespace.
    type: bool
    default: true
  assume_present:
    description:
      - "NetworkAttachmentDefinitions (C(<namespace>/<name>)) that an earlier stage of the same run
        creates. Honoured in check mode only: there the earlier stage created nothing, so when
        C(network) names one of them and it does not exist yet, the run is not refused
        (O(require_network)) but previews the policies it would create, and RV(assumed) says so."
      - When the NAD's namespace does not exist yet either, the policies cannot be sent to the API
        server's dry run; they are reported as created, and RV(assumed) names them.
      - Outside check mode the list is only validated; the NAD must exist.
      - The P(ocpvirt.multinet.policies#role) role passes the NADs that the
        P(ocpvirt.multinet.network_attachment#role) role of the same run would create.
    type: list
    elements: str
    default: []
  check_addresses:
    description:
      - With O(state=present), refuse the run (before any write) when a live pod or VM in the
        intent's namespace on its network that a workload selects (its C(selector), or its
        C(vm)) has none of the workload's C(ips). The error names the workload, the intent's
        addresses, the object and its live address (from the VMI's status, the launcher pod or
        the VM's cloud-init networkData).
      - An intent address that is not the workload's compiles into an ipBlock that matches
        nobody, so the run would cut the flows it reads as opening.
      - Set V(false) to apply such an intent on purpose. Needs C(list) on pods, and on
        virtualmachines and virtualmachineinstances where KubeVirt is served, in the namespace.
    type: bool
    default: true
  confirm_allow_nothing:
    description:
      - "An intent that compiles to no allow policy (only the deny-all) while this intent has allow
        policies in the cluster today is refused, before any write, unless the intent says
        C(allow: []) explicitly and this option is V(true)."
      - It guards against an C(allow) list lost by a templating mistake cutting every flow.
    type: bool
    default: false
  request_timeout:
    description:
      - Seconds each API request may take (connecting and reading the answer) before the run
        fails naming the request; a request that timed out is not retried.
      - Requests answered with 429 (too many requests), 500, 502, 503 or 504, or whose connection
        failed, are retried up to 4 times, after the answer's C(Retry-After) when it has one (up
        to 30 seconds), else after 0.5, 1, 2 and 4 seconds. Every request the module sends is
        idempotent, so a retry is safe.
    type: float
    default: 60
  applied_with:
    description:
      - The other intents applied in the same play (the P(ocpvirt.multinet.policies#role) role
        passes its whole list). The run is refused, before any write, when one of them generates
        a policy of the same name in the same namespace (two intents for one NAD without C(name),
        or intent C(app) with workload C(b-default-deny) next to intent C(app-allow-b)).
      - This intent itself may be in the list; invalid ones are skipped (their own run reports them).
    type: list
    elements: dict
    default: []
  lease_wait:
    description:
      - One run writes an intent at a time. A run that has something to write takes the Lease
        C(multinet-intent-<intent name>) (C(coordination.k8s.io/v1)) in the intent's namespace,
        reads the policies again and writes, renewing the lease every third of O(lease_duration),
        and deletes it at the end.
      - Seconds to wait while another run holds the lease, then fail before any write, naming the
        holder (user, host and process of that run). V(0) fails at once.
      - A run with nothing to write and a run in check mode take no lease (they write nothing).
    type: float
    default: 90
  lease_duration:
    description:
      - Seconds a lease stays valid after its holder last renewed it (C(leaseDurationSeconds)).
        A run that died leaves its lease behind; another run takes it over once this long has
        passed since its last renewal (judged by the waiting run's clock).
      - At least 6.
    type: int
    default: 60
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
requirements:
  - python >= 3.9
  - kubernetes >= 24.2.0
notes:
  - The namespace must exist; the module does not create it.
  - Before the first write, with O(state=present), the run lists the policies managed by this
    collection in the namespace and refuses to create or update a policy that belongs to another
    intent (its C(multinet.ocpvirt.io/intent) label names another intent); the error names both.
  - Needs C(list) on multi-networkpolicies in the namespace, plus C(patch) and C(delete) when
    something differs, and then C(get), C(create), C(update) and C(delete) on
    C(leases.coordination.k8s.io) in the namespace (C(get) on namespaces is not needed).
  - The result's C(invocation) (shown with C(-vvv)) names the intent by its name, namespace and
    network, with the counts of its workloads, endpoints and allow entries, and O(applied_with)
    by its count (C(applied_with_count)), since a result is kept by every callback and, in AAP,
    stored with each job event, and the intent is in the playbook already.
seealso:
  - plugin: ocpvirt.multinet.compile_mnp
    plugin_type: filter
  - module: kubernetes.core.k8s
"""

EXAMPLES = r"""
- name: Allow the seed lab's flows on the localnet network, deny the rest
  ocpvirt.multinet.multinetwork_policy:
    intent:
      namespace: llm-demo
      network: llm-demo-localnet-network
      workloads:
        tinypod: {selector: {app: tinypod}, ips: [192.168.77.91]}
        tinypod-01: {selector: {app: tinypod-01}, ips: [192.168.77.92]}
        gold-rabbit: {vm: centos-stream9-gold-rabbit-80, ips: [192.168.77.71]}
      endpoints:
        gateway: 192.168.77.1
        internet: {cidr: 0.0.0.0/0, except: [192.168.77.0/24]}
      allow:
        - {from: tinypod-01, to: tinypod}
        - {from: gold-rabbit, to: [gateway, tinypod-01, internet]}

- name: Apply a large intent kept in a file next to the playbook (files/llm-demo-intent.json)
  ocpvirt.multinet.multinetwork_policy:
    src: llm-demo-intent.json

- name: Preview the changes without writing (the API server still validates them)
  ocpvirt.multinet.multinetwork_policy:
    intent: "{{ llm_demo_intent }}"
    kubeconfig: ~/.kube/lab
  check_mode: true
  diff: true
  register: preview

- name: Remove every policy of that intent
  ocpvirt.multinet.multinetwork_policy:
    intent: "{{ llm_demo_intent }}"
    state: absent
"""

RETURN = r"""
policy_names:
  description: Names of every compiled policy, sorted (empty for O(state=absent)).
  returned: always
  type: list
  elements: str
  sample: [llm-demo-localnet-network-allow-tinypod, llm-demo-localnet-network-default-deny]
policies:
  description:
    - Compiled MultiNetworkPolicy manifests, sorted by name (empty for O(state=absent)).
    - None with O(return_policies=names) (the default), those created or updated by this run
      with O(return_policies=changed), every one with O(return_policies=all).
  returned: always
  type: list
  elements: dict
  sample:
    - apiVersion: k8s.cni.cncf.io/v1beta1
      kind: MultiNetworkPolicy
      metadata:
        name: llm-demo-localnet-network-default-deny
        namespace: llm-demo
        labels:
          app.kubernetes.io/managed-by: ocpvirt.multinet
          multinet.ocpvirt.io/intent: llm-demo-localnet-network
        annotations:
          k8s.v1.cni.cncf.io/policy-for: llm-demo/llm-demo-localnet-network
      spec:
        podSelector: {}
        policyTypes: [Ingress, Egress]
created:
  description: Names of the policies created (in check mode, that would be created).
  returned: always
  type: list
  elements: str
  sample: [llm-demo-localnet-network-default-deny]
updated:
  description:
    - Names of the existing policies whose owned fields were put back to the compiled ones,
      including policies edited by hand.
  returned: always
  type: list
  elements: str
  sample: [llm-demo-localnet-network-allow-tinypod]
deleted:
  description: Names of this intent's policies deleted (pruned, or all of them for O(state=absent)).
  returned: always
  type: list
  elements: str
  sample: []
changed:
  description: Whether any policy was created, updated or deleted.
  returned: always
  type: bool
assumed:
  description:
    - In check mode, when the NAD that C(network) names does not exist yet and O(assume_present)
      lists it, what the preview took as given, and the policies it could not send to the API
      server's dry run because their namespace does not exist yet either.
  returned: in check mode, when O(assume_present) was used
  type: str
  sample: >-
    NetworkAttachmentDefinition payments/corp-lan does not exist yet; taken as present (assume_present:
    an earlier stage of this run creates it); namespace payments does not exist yet either, so 3
    policies were not sent to the API server as dry runs
flows:
  description:
    - "The flows this run opens and closes (in check mode, would): the live policies of the intent
      and the compiled ones are simulated as the P(ocpvirt.multinet.connectivity_diff#filter)
      filter does, over the workloads (at their first address) and outside endpoints the intent
      names, for ICMP and every port a rule of either side names."
    - Only this intent's policies are compared; a flow another policy also allows reads as
      closed here when this intent stops allowing it.
    - Only pairs with an endpoint that a created, changed or deleted policy selects are judged;
      nothing is judged when nothing is written. The lists hold the first 100 flows each, the
      counts all of them (a first apply closes nearly every pair).
    - When judging would cost too much (more than about a second of CPU, some 200 workloads with
      three ports) the lists are empty and C(skipped) says why, unless O(max_closed_flows) is set
      (then it takes about 10 seconds for 1,000 workloads).
  returned: with O(state=present)
  type: dict
  contains:
    opened:
      description:
        - Flows allowed after and not before, each C({from, to, traffic, before, after}) with the
          intent's names, the traffic and the simulator's reason on each side (the rules deciding).
        - C(traffic) is C(icmp) or a port such as C(tcp/22), or C(all) when the pair changes for
          every kind judged (then the change is one of all its traffic, and the reasons are ICMP's).
      type: list
      elements: dict
    closed:
      description: Flows allowed before and not after, in the same form.
      type: list
      elements: dict
    opened_count:
      description: How many flows open (RV(flows.opened) lists the first 100).
      type: int
    closed_count:
      description: How many flows close; the number O(max_closed_flows) limits.
      type: int
    traffic:
      description: What was judged.
      type: list
      elements: str
    summary:
      description: One line per listed flow, C(opens <from> -> <to> <traffic>) or C(closes ...), and
        C(... and <n> more closed) when a list holds only the first ones.
      type: list
      elements: str
    skipped:
      description: Why the flows were not judged (too many endpoints); absent when they were.
      type: str
    warnings:
      description: Workloads that could not be judged (no C(ips) in the intent).
      type: list
      elements: str
  sample:
    opened:
      - {from: tinypod-02, to: gold-rabbit, traffic: tcp/22, before: "egress denied: ...", after: "allowed on tcp/22: ..."}
    closed:
      - {from: green-ferret, to: gateway, traffic: all, before: "allowed: ...", after: "egress denied: ..."}
    opened_count: 1
    closed_count: 1
    traffic: [icmp, tcp/22]
    summary: [opens tinypod-02 -> gold-rabbit tcp/22, closes green-ferret -> gateway all]
    warnings: []
"""

import copy

from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.exceptions import CoreException

from ansible_collections.ocpvirt.multinet.plugins.module_utils.k8s.apply import RETURN_POLICIES
from ansible_collections.ocpvirt.multinet.plugins.module_utils.k8s.intent_lease import check_lease_options
from ansible_collections.ocpvirt.multinet.plugins.module_utils.k8s.intent_run import apply_intent
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.errors import MultinetError
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.intent import parse_intent, parse_intent_identity
from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.intent_file import read_intent_file
from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.run_result import invocation_args
from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.what_if import flow_check


def argspec():
    spec = copy.deepcopy(AUTH_ARG_SPEC)
    spec.update(
        intent={"type": "dict"},
        src={"type": "path"},
        state={"type": "str", "choices": ["present", "absent"], "default": "present"},
        prune={"type": "bool", "default": True},
        return_policies={"type": "str", "choices": list(RETURN_POLICIES), "default": "names"},
        merge_peers={"type": "bool", "default": True},
        share_policies={"type": "bool", "default": True},
        max_closed_flows={"type": "int"},
        require_network={"type": "bool", "default": True},
        check_addresses={"type": "bool", "default": True},
        request_timeout={"type": "float", "default": 60},
        confirm_allow_nothing={"type": "bool", "default": False},
        assume_present={"type": "list", "elements": "str", "default": []},
        applied_with={"type": "list", "elements": "dict", "default": []},
        lease_wait={"type": "float", "default": 90},
        lease_duration={"type": "int", "default": 60},
    )
    return spec


def main():
    module = AnsibleK8SModule(argument_spec=argspec(), supports_check_mode=True, check_pyyaml=False,
                              mutually_exclusive=[("intent", "src")], required_one_of=[("intent", "src")])
    params = module.params
    try:
        raw = params["intent"] if params["src"] is None else read_intent_file(params["src"])
        # The pure checks first: a bad option fails before connecting. One parse per run.
        if params["state"] == "present":
            model = parse_intent(raw)
            judge = flow_check(model, params["max_closed_flows"])
        else:
            model, judge = parse_intent_identity(raw), None
        check_lease_options(params["lease_wait"], params["lease_duration"])
        result = apply_intent(module, params, raw, model, judge)
    except MultinetError as error:
        module.fail_json(msg=str(error), **dict(getattr(error, "result", {}), changed=False))
    except CoreException as error:
        module.fail_json(msg=str(error), **getattr(error, "result", {}))
    module.exit_json(invocation={"module_args": invocation_args(params, raw, model)}, **result)


if __name__ == "__main__":
    main()
