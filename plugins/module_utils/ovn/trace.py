# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read `ovn-trace` output as a verdict: delivered to which logical ports, or dropped.

`--minimal` prints only the actions that matter, `output("<port>");` when the packet leaves on
a port, nothing of the kind when it is dropped. `--detailed` (and the default) also print each
logical flow hit, e.g. `17. ls_in_acl_after_lb (northd.c:6543): reg0[9] == 1 && (inport ==
@pg_egressDefaultDeny), priority 2000, uuid edfd71b3` followed by its actions; northd builds the
ACL stages' flows from the ACL's own match in parentheses at the ACL's priority + 1000
(ovn-org/ovn northd/northd.c consider_acl, OVN 23.03 stage names `ls_{in,out}_acl` and
`..._acl_after_lb`, later `..._acl_eval`), so the last such flow names the ACL that decided.
"""
import re

OUTPUT_MINIMAL = re.compile(r'^\s*output\("([^"]+)"\);', re.M)
OUTPUT_DETAILED = re.compile(r'/\* output to "([^"]+)"', re.M)
ACL_FLOW = re.compile(r"^\s*\d+\. (ls_(?:in|out)_acl(?:_eval|_after_lb|_after_lb_eval)?) \([^)]*\): "
                      r".*?&& \((.*)\), priority (\d+), uuid \w+$")
ACL_PRIORITY_OFFSET = 1000  # northd.c: OVN_ACL_PRI_OFFSET


def parse_trace(text):
    """{"verdict": "delivered"|"dropped", "outputs": [ports], "acls": every ACL flow hit, in order
    ({"stage", "match", "priority", "action"}), "acl": the last one or None} (flows only when the
    output shows them)."""
    outputs = OUTPUT_MINIMAL.findall(text) or OUTPUT_DETAILED.findall(text)
    lines = text.splitlines()
    acls = []
    for index, line in enumerate(lines):
        flow = ACL_FLOW.match(line)
        if flow:
            action = lines[index + 1].strip().rstrip(";") if index + 1 < len(lines) else ""
            acls.append({"stage": flow.group(1), "match": flow.group(2),
                         "priority": int(flow.group(3)) - ACL_PRIORITY_OFFSET, "action": action or "next"})
    return {"verdict": "delivered" if outputs else "dropped", "outputs": outputs, "acls": acls,
            "acl": acls[-1] if acls else None}


def deciding_acl(trace, acls):
    """The ACL (as policy_map describes them) whose match and priority the trace's last ACL flow
    shows, or None."""
    flow = trace.get("acl")
    if not flow:
        return None
    for acl in acls:
        if acl["match"] == flow["match"] and acl["priority"] == flow["priority"]:
            return acl
    return None
