"""OVN-Kubernetes emulation for localnet secondary networks (pure, no I/O).

From a snapshot of the cluster (NetworkAttachmentDefinitions, pods, MultiNetworkPolicies and the
`useMultiNetworkPolicy` flag of the Network `cluster`) compute, for one node, the Northbound
content OVN-Kubernetes' secondary localnet network controllers write into that node's zone
(OpenShift 4.14+ runs one OVN zone per node: a zone holds only its local pods' ports).
`ovnk_sync.py` writes it with ovn-nbctl.

Written from ovn-org/ovn-kubernetes at commit dad2fde5a (2023-12-15, the code OpenShift 4.15
ships), `go-controller/`:
- pkg/ovn/secondary_localnet_network_controller.go (Init: switch and localnet port),
  pkg/ovn/base_secondary_layer2_network_controller.go (initializeLogicalSwitch),
  pkg/ovn/base_network_controller_secondary.go (addLogicalPortToNetworkForNAD: local pods only),
  pkg/ovn/base_network_controller_pods.go (addLogicalPortToNetwork: addresses, external_ids),
  pkg/allocator/pod/pod_annotation.go (MAC: requested, else from the first IP, else random);
- pkg/ovn/base_network_controller_multipolicy.go (shouldApplyMultiPolicy,
  convertMultiNetPolicyToNetPolicy: policy-for, `endPort` dropped, IPAM-less refusal),
  pkg/ovn/base_network_controller_policy.go (createNetworkPolicy, default deny port groups,
  getNetworkPolicyPGName), pkg/ovn/gress_policy.go (buildLocalPodACLs, matches, ACL IDs);
- pkg/libovsdb/util/acl.go (BuildACL, GetACLName, GetACLMatch),
  pkg/libovsdb/ops/db_object_ids.go and db_object_types.go (external_ids, k8s.ovn.org/id),
  pkg/util/util.go (HashForOVN, GetSecondaryNetworkLogicalPortName),
  pkg/util/multi_network.go (GetSecondaryNetworkPrefix), pkg/types/const.go (priorities, keys).
"""
import ipaddress
import json
from typing import NamedTuple

CNI_TYPE = "ovn-k8s-cni-overlay"
LOCALNET = "localnet"
NETWORK_STATUS_ANNOTATION = "k8s.v1.cni.cncf.io/network-status"
POLICY_FOR_ANNOTATION = "k8s.v1.cni.cncf.io/policy-for"

# pkg/types/const.go
PREFIX = "k8s.ovn.org"
NETWORK_KEY = PREFIX + "/network"
NAD_KEY = PREFIX + "/nad"
TOPOLOGY_KEY = PREFIX + "/topology"
TOPOLOGY_VERSION_KEY = "k8s-ovn-topo-version"
TOPOLOGY_VERSION = "5"  # OvnCurrentTopologyVersion
DEFAULT_ALLOW_PRIORITY = 1001
DEFAULT_DENY_PRIORITY = 1000
ACL_LOGGING_METER = "acl-logging"
DEFAULT_ACL_TIER = 2
# pkg/libovsdb/ops/db_object_ids.go, db_object_types.go
OWNER_CONTROLLER_KEY = PREFIX + "/owner-controller"
OWNER_TYPE_KEY = PREFIX + "/owner-type"
OBJECT_NAME_KEY = PREFIX + "/name"
PRIMARY_ID_KEY = PREFIX + "/id"
# pkg/ovn/base_network_controller_policy.go
INGRESS_DENY_SUFFIX = "ingressDefaultDeny"
EGRESS_DENY_SUFFIX = "egressDefaultDeny"
ARP_ALLOW_MATCH = "(arp || nd)"
NONE = "None"  # gress_policy.go noneMatch / emptyProtocol
SUPPORTED_PROTOCOLS = ("TCP", "UDP", "SCTP")
INGRESS, EGRESS = "Ingress", "Egress"


class Network(NamedTuple):
    """One OVN-K secondary localnet network: the NADs that share its `name`."""
    name: str
    nads: frozenset          # "<namespace>/<name>"
    subnets: tuple           # IPAM when non-empty
    exclude_subnets: tuple
    vlan: int

    @property
    def requires_ipam(self):  # util.DoesNetworkRequireIPAM
        return bool(self.subnets)

    @property
    def controller(self):  # NewSecondaryLocalnetNetworkController: controllerName
        return self.name + "-network-controller"


class Snapshot(NamedTuple):
    nads: list
    pods: list
    policies: list           # MultiNetworkPolicy objects
    multi_network_policy: bool


class NodeNB(NamedTuple):
    """Desired NB content of one node: dicts keyed by name (switches, port groups) and the
    lines OVN-K would log while building it (refused policies, rejected NADs)."""
    switches: dict
    port_groups: dict
    messages: list


# --- names (pkg/util) ------------------------------------------------------------------------

def network_prefix(name):
    """util.GetSecondaryNetworkPrefix: `-` and `/` become `.`, plus `_`."""
    return name.replace("-", ".").replace("/", ".") + "_"


def logical_port_name(nad_namespace, nad_name, pod_namespace, pod_name):
    """util.GetSecondaryNetworkLogicalPortName (also the OVS iface-id of the pod's interface)."""
    return network_prefix(f"{nad_namespace}/{nad_name}") + f"{pod_namespace}_{pod_name}"


def hash_for_ovn(text):
    """util.HashForOVN: `a` + decimal FNV-1a 64-bit hash (port group and address set names)."""
    value = 0xcbf29ce484222325
    for byte in text.encode():
        value = ((value ^ byte) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return f"a{value}"


def switch_name(network):
    return network_prefix(network) + "ovn_localnet_switch"


def localnet_port_name(network):
    return network_prefix(network) + "ovn_localnet_port"


def policy_port_group_name(network, namespace, policy):
    """getNetworkPolicyPGName: (hashed name, readable name for external_ids:name)."""
    readable = f"{namespace}_{policy}"
    return hash_for_ovn(network_prefix(network) + readable), readable


def default_deny_port_group_name(network, namespace, suffix):
    """defaultDenyPortGroupName."""
    return hash_for_ovn(network_prefix(network) + namespace) + "_" + suffix


# --- networks --------------------------------------------------------------------------------

def localnet_networks(nads):
    """{network name: Network} for the localnet NADs; and log lines for NADs OVN-K rejects."""
    found, messages = {}, []
    for nad in nads:
        metadata = nad["metadata"]
        key = f"{metadata['namespace']}/{metadata['name']}"
        try:
            conf = json.loads((nad.get("spec") or {}).get("config") or "{}")
        except json.JSONDecodeError as error:
            messages.append(f"NAD {key}: spec.config is not JSON: {error}")
            continue
        if conf.get("type") != CNI_TYPE or conf.get("topology") != LOCALNET:
            continue
        if not conf.get("name"):
            messages.append(f"NAD {key}: spec.config has no network name")
            continue
        if conf.get("netAttachDefName") != key:  # util/multi_network.go ParseNetConf
            messages.append(f"net-attach-def {key} is first seen and is invalid: net-attach-def name ({key}) "
                            f"is inconsistent with config ({conf.get('netAttachDefName')})")
            continue
        network = Network(conf["name"], frozenset({key}), _split(conf.get("subnets")),
                          _split(conf.get("excludeSubnets")), int(conf.get("vlanID") or 0))
        known = found.get(network.name)
        if known and (known.subnets, known.exclude_subnets, known.vlan) != \
                (network.subnets, network.exclude_subnets, network.vlan):  # network_attach_def_controller.go
            messages.append(f"Failed to add net-attach-def {key} to network {network.name}: NAD {key} does not "
                            f"share the same CNI config with network {network.name}")
            continue
        found[network.name] = network._replace(nads=network.nads | (known.nads if known else frozenset()))
    return found, messages


def _split(value):
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


# --- pods and ports --------------------------------------------------------------------------

def pod_attachments(pod, network):
    """[(nad key, network-status entry)] of the pod on NADs of `network`."""
    raw = (pod["metadata"].get("annotations") or {}).get(NETWORK_STATUS_ANNOTATION)
    if not raw:
        return []
    try:
        entries = json.loads(raw)
    except json.JSONDecodeError:
        return []
    return [(entry["name"], entry) for entry in entries if entry.get("name") in network.nads and entry.get("mac")]


def is_local_running(pod, node):
    """Scheduled on `node` and not completed (podExpectedInLogicalCache)."""
    return (pod.get("spec") or {}).get("nodeName") == node and \
        (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed")


def logical_switch_port(pod, nad_key, entry, network):
    """addLogicalPortToNetwork: MAC plus the pod's IPs (MAC only when it has none, as a VM's
    launcher pod on an IPAM-less network), port_security = addresses, secondary external_ids.
    `iface-id-ver` is left out: the lab's veths carry no matching OVS `iface-id-ver`."""
    metadata = pod["metadata"]
    ips = [str(ipaddress.ip_interface(ip).ip) for ip in entry.get("ips") or []]
    addresses = [" ".join([entry["mac"], *ips])]
    return {"type": "", "addresses": addresses, "port_security": addresses,
            "options": {"requested-chassis": pod["spec"]["nodeName"]},
            "external_ids": {"namespace": metadata["namespace"], "pod": "true",
                             NETWORK_KEY: network.name, NAD_KEY: nad_key, TOPOLOGY_KEY: LOCALNET},
            "tag_request": []}


def local_ports(pods, network, node):
    """{port name: (pod, LSP)} for the pods of this node attached to the network."""
    ports = {}
    for pod in pods:
        if not is_local_running(pod, node):
            continue
        for nad_key, entry in pod_attachments(pod, network):
            nad_namespace, nad_name = nad_key.split("/", 1)
            name = logical_port_name(nad_namespace, nad_name, pod["metadata"]["namespace"], pod["metadata"]["name"])
            ports[name] = (pod, logical_switch_port(pod, nad_key, entry, network))
    return ports


def localnet_switch(network, ports):
    """Init + initializeLogicalSwitch: the switch, its localnet port and the pods' ports."""
    other_config = {}
    for subnet in network.subnets:
        cidr = ipaddress.ip_network(subnet, strict=False)
        other_config = {"ipv6_prefix": str(cidr.network_address)} if cidr.version == 6 else {"subnet": str(cidr)}
    localnet_port = {"type": "localnet", "addresses": ["unknown"], "port_security": [],
                     "options": {"network_name": network.name}, "external_ids": {},
                     "tag_request": [network.vlan] if network.vlan else []}
    return {"external_ids": {NETWORK_KEY: network.name, TOPOLOGY_KEY: LOCALNET,
                             TOPOLOGY_VERSION_KEY: TOPOLOGY_VERSION},
            "other_config": other_config,
            "ports": {localnet_port_name(network.name): localnet_port,
                      **{name: lsp for name, (_, lsp) in ports.items()}}}


# --- label selectors (k8s.io/apimachinery metav1.LabelSelectorAsSelector) ----------------------

def selector_matches(selector, labels):
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression["key"], expression["operator"], expression.get("values") or []
        present = key in labels
        if operator == "In" and not (present and labels[key] in values):
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True


# --- MultiNetworkPolicy -> ACLs --------------------------------------------------------------

def policy_applies(policy, network):
    """shouldApplyMultiPolicy: a `policy-for` entry (`nad` or `ns/nad`) names a NAD of the network."""
    metadata = policy["metadata"]
    annotation = (metadata.get("annotations") or {}).get(POLICY_FOR_ANNOTATION)
    if annotation is None:
        return False
    for entry in annotation.replace(" ", "").split(","):
        namespace, _, name = entry.rpartition("/")
        if f"{namespace or metadata['namespace']}/{name}" in network.nads:
            return True
    return False


def _go_selector(selector):
    """%v of a *metav1.LabelSelector (its generated String()), as OVN-K's error message prints it."""
    if selector is None:
        return "nil"
    labels = "".join(f"{k}: {v}," for k, v in sorted((selector.get("matchLabels") or {}).items()))
    expressions = "".join(
        f"LabelSelectorRequirement{{Key:{e['key']},Operator:{e['operator']},Values:[{' '.join(e.get('values') or [])}],}},"
        for e in selector.get("matchExpressions") or [])
    return (f"&LabelSelector{{MatchLabels:map[string]string{{{labels}}},"
            f"MatchExpressions:[]LabelSelectorRequirement{{{expressions}}},}}")


def _go_peer(peer):
    block = peer.get("ipBlock")
    block_text = "<nil>" if block is None else f"&{{{block['cidr']} [{' '.join(block.get('except') or [])}]}}"
    return f"{{{_go_selector(peer.get('podSelector'))} {_go_selector(peer.get('namespaceSelector'))} {block_text}}}"


def _rules(policy):
    """(direction, rule, peers key) for every ingress, then every egress rule."""
    spec = policy.get("spec") or {}
    return [(direction, rule, key) for direction, key in (("ingress", "from"), ("egress", "to"))
            for rule in spec.get(direction) or []]


def refusal(policy, network):
    """Why OVN-K never applies the policy on this network, or None.

    convertMultiNetPolicyToNetPolicy refuses the first selector peer on an IPAM-less network.
    After it, a port without `protocol` reaches gressPolicy.addPortPolicy as a nil pointer that is
    dereferenced, so such a policy is never applied either (reported here instead of a crash).
    Selector peers on an IPAM network (address sets) are not emulated and reported as such."""
    name = policy["metadata"]["name"]
    for direction, rule, peers_key in _rules(policy):
        for peer in rule.get(peers_key) or []:
            if peer.get("podSelector") is None and peer.get("namespaceSelector") is None:
                continue
            if network.requires_ipam:
                return (f"{direction} selector peer in multi-network policy {name}: address sets of "
                        f"IPAM networks are not emulated by the lab")
            return (f"invalid {direction} peer {_go_peer(peer)} in multi-network policy {name}; "
                    f"IPAM-less networks can only have `ipBlock` peers")
    for direction, rule, _ in _rules(policy):
        if any(not port.get("protocol") for port in rule.get("ports") or []):
            return (f"{direction} port without protocol in multi-network policy {name}: "
                    f"OVN-Kubernetes dereferences the nil protocol (gress_policy.go addPortPolicy)")
    return None


def build_acl(ids, owner_type, controller, name, priority, match, action, direction):
    """libovsdbutil.BuildACL: Egress -> from-lport with apply-after-lb, Ingress -> to-lport;
    external_ids from DbObjectIDs (k8s.ovn.org/id = controller:ownerType:<ids in key order>)."""
    external_ids = {OWNER_CONTROLLER_KEY: controller, OWNER_TYPE_KEY: owner_type,
                    PRIMARY_ID_KEY: ":".join([controller, owner_type, *(v for _, v in ids)]), **dict(ids)}
    return {"name": name[:63], "direction": "from-lport" if direction == EGRESS else "to-lport",
            "priority": priority, "match": match, "action": action, "log": False, "severity": None,
            "meter": ACL_LOGGING_METER, "label": 0,
            "options": {"apply-after-lb": "true"} if direction == EGRESS else {},
            "external_ids": external_ids, "tier": DEFAULT_ACL_TIER}


def _l4_match(protocol, ports):
    """getL4Match (the MultiNetworkPolicy API has no endPort: only single ports)."""
    if not ports:
        return protocol
    listed = f"{protocol}.dst=={ports[0]}" if len(ports) == 1 else f"{protocol}.dst=={{{','.join(ports)}}}"
    return f"{protocol} && {listed}"


def _protocol_ports(rule_ports):
    """getProtocolPortsMap over addPortPolicy: {protocol: [ports]}, or {None: None} when empty.
    A named port has no IntVal, so it matches the whole protocol."""
    protocols = {}
    for port in rule_ports or []:
        protocol = port.get("protocol")
        if protocol not in SUPPORTED_PROTOCOLS:
            continue
        listed = protocols.setdefault(protocol.lower(), [])
        if isinstance(port.get("port"), int) and port["port"]:
            listed.append(str(port["port"]))
    return protocols or {NONE: None}


def gress_acls(network, namespace, policy_name, direction, index, rule, port_group):
    """gressPolicy.buildLocalPodACLs for one rule (ipBlock peers, or no peer = all IPs)."""
    lport = f"outport == @{port_group}" if direction == INGRESS else f"inport == @{port_group}"
    side = "src" if direction == INGRESS else "dst"
    blocks = [peer["ipBlock"] for peer in rule.get("from" if direction == INGRESS else "to") or []
              if peer.get("ipBlock")]
    acls = []
    for protocol, ports in _protocol_ports(rule.get("ports")).items():
        l4 = NONE if ports is None else _l4_match(protocol, ports)
        l4_part = "" if l4 == NONE else f" && {l4}"
        matches = []
        for block_index, block in enumerate(blocks):
            family = "ip6" if ":" in block["cidr"] else "ip4"  # utilnet.IsIPv6CIDRString
            match = f"{family}.{side} == {block['cidr']}"
            if block.get("except"):
                match += f" && {family}.{side} != {{{', '.join(block['except'])}}}"
            matches.append((str(block_index), f"{match}{l4_part} && {lport}"))
        if not blocks:  # gp.isEmpty(): allIPsMatch, ip4 when the network has no IPv6 subnet
            matches.append(("-1", f"{_all_ips(network)}{l4_part} && {lport}"))
        for block_index, match in matches:
            ids = [(OBJECT_NAME_KEY, f"{namespace}:{policy_name}"), ("direction", direction),
                   ("gress-index", str(index)), ("port-policy-protocol", protocol),
                   ("ip-block-index", block_index)]
            acls.append(build_acl(ids, "NetworkPolicy", network.controller,
                                  f"NP:{namespace}:{policy_name}:{direction}:{index}",
                                  DEFAULT_ALLOW_PRIORITY, match, "allow-related", direction))
    return acls


def _all_ips(network):
    families = {ipaddress.ip_network(s, strict=False).version for s in network.subnets}
    if families == {4, 6}:
        return "(ip4 || ip6)"
    return "ip6" if families == {6} else "ip4"


def policy_acls(policy, network, port_group):
    """buildNetworkPolicyACLs: every ingress and every egress rule, whatever policyTypes say."""
    namespace, name = policy["metadata"]["namespace"], policy["metadata"]["name"]
    spec = policy.get("spec") or {}
    acls = []
    for direction, rules in ((INGRESS, spec.get("ingress")), (EGRESS, spec.get("egress"))):
        for index, rule in enumerate(rules or []):
            acls += gress_acls(network, namespace, name, direction, index, rule, port_group)
    return {acl["external_ids"][PRIMARY_ID_KEY]: acl for acl in acls}


def default_deny_acls(network, namespace, direction, port_group):
    """buildDenyACLs: drop at 1000 and ARP/ND allow at 1001 for one default deny port group."""
    lport = f"outport == @{port_group}" if direction == INGRESS else f"inport == @{port_group}"
    acls = []
    for kind, priority, match, action in (("defaultDeny", DEFAULT_DENY_PRIORITY, lport, "drop"),
                                          ("arpAllow", DEFAULT_ALLOW_PRIORITY, f"{lport} && {ARP_ALLOW_MATCH}", "allow")):
        ids = [(OBJECT_NAME_KEY, namespace), ("direction", direction), ("type", kind)]
        acls.append(build_acl(ids, "NetpolNamespace", network.controller, f"NP:{namespace}:{direction}",
                              priority, match, action, direction))
    return {acl["external_ids"][PRIMARY_ID_KEY]: acl for acl in acls}


def port_group(name, readable, network, ports, acls):
    """buildPortGroup for a secondary network."""
    return {"external_ids": {"name": readable, NETWORK_KEY: network.name}, "ports": sorted(ports), "acls": acls}


def policy_types(policy):
    """getPolicyType: policyTypes copied verbatim, no NetworkPolicy defaulting."""
    types = (policy.get("spec") or {}).get("policyTypes") or []
    return INGRESS in types, EGRESS in types


def network_port_groups(network, policies, ports):
    """The policy and default deny port groups of one network on one node, and refusal logs."""
    groups, messages, deny_ports = {}, [], {}
    for policy in sorted(policies, key=lambda p: (p["metadata"]["namespace"], p["metadata"]["name"])):
        if not policy_applies(policy, network):
            continue
        namespace, name = policy["metadata"]["namespace"], policy["metadata"]["name"]
        error = refusal(policy, network)
        if error:  # pkg/retry/obj_retry.go logs the add failure and retries forever
            messages.append(f"Retry add failed for *v1beta1.MultiNetworkPolicy {namespace}/{name}, "
                            f"will try again later: {error}")
            continue
        pg_name, readable = policy_port_group_name(network.name, namespace, name)
        selector = (policy.get("spec") or {}).get("podSelector") or {}
        selected = [port for port, (pod, _) in ports.items() if pod["metadata"]["namespace"] == namespace
                    and selector_matches(selector, pod["metadata"].get("labels") or {})]
        groups[pg_name] = port_group(pg_name, readable, network, selected, policy_acls(policy, network, pg_name))
        ingress, egress = policy_types(policy)
        isolated = deny_ports.setdefault(namespace, {INGRESS: set(), EGRESS: set()})
        isolated[INGRESS].update(selected if ingress else [])
        isolated[EGRESS].update(selected if egress else [])
    for namespace, isolated in deny_ports.items():  # createDefaultDenyPGAndACLs: both directions
        for direction, suffix in ((INGRESS, INGRESS_DENY_SUFFIX), (EGRESS, EGRESS_DENY_SUFFIX)):
            pg_name = default_deny_port_group_name(network.name, namespace, suffix)
            groups[pg_name] = port_group(pg_name, pg_name, network, isolated[direction],
                                         default_deny_acls(network, namespace, direction, pg_name))
    return groups, messages


def desired_nb(snapshot, node):
    """The NB content OVN-K's localnet controllers keep in `node`'s zone."""
    networks, messages = localnet_networks(snapshot.nads)
    switches, groups = {}, {}
    for network in sorted(networks.values(), key=lambda n: n.name):
        ports = local_ports(snapshot.pods, network, node)
        switches[switch_name(network.name)] = localnet_switch(network, ports)
        if snapshot.multi_network_policy:  # ovnkube runs the policy handlers only when enabled
            network_groups, refused = network_port_groups(network, snapshot.policies, ports)
            groups.update(network_groups)
            messages += refused
    return NodeNB(switches, groups, messages)


def multi_network_policy_enabled(network_cluster):
    """Network `cluster` spec.useMultiNetworkPolicy (unset = false)."""
    return bool(((network_cluster or {}).get("spec") or {}).get("useMultiNetworkPolicy"))
