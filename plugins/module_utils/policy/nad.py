# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Build the spec.config of an OVN-Kubernetes localnet NetworkAttachmentDefinition.

Pure: no Ansible import, no I/O. The same entry always gives the same string (fixed key order),
so server-side apply of the NAD is idempotent. Every check OVN-Kubernetes makes when it parses
the config is made here first, so a bad entry fails before anything is applied.
"""

import ipaddress
import json
import re

from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.cluster_version import openshift_version, release
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.errors import MultinetError
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.vocabulary import (
    dns1123_label_problem,
    dns1123_subdomain_problem,
    nad_ref,
)

CNI_TYPE = "ovn-k8s-cni-overlay"
TOPOLOGY = "localnet"
DEFAULT_CNI_VERSION = "0.3.1"
VLAN_RANGE = (1, 4094)
# 576 is the smallest MTU IPv4 guarantees; 65535 the largest an interface can carry.
MTU_RANGE = (576, 65535)

ENTRY_KEYS = frozenset(
    ["name", "namespace", "localnet", "network_name", "subnets", "exclude_subnets",
     "vlan_id", "mtu", "cni_version", "state"]
)
# Fields NADs of one network (same config "name") must agree on, as OVN-K requires.
SHARED_FIELDS = ("physicalNetworkName", "subnets", "excludeSubnets", "vlanID", "mtu")

# The first OpenShift whose OVN-Kubernetes reads physicalNetworkName. It came with
# ovn-org/ovn-kubernetes PR #4320 ("localnet alias", OCPBUGS-31679), still under review on
# 2024-10-02 (then named localnetPortAlias), so after 4.16 and 4.17 branched; 6c366bb49 (December
# 2024, 4.18's code) has it in go-controller/pkg/cni/types/types.go:53-59, 4.15's dad2fde5a has no
# such field and names the localnet port's network_name after the config's name. OpenShift
# announces it in the 4.18 release notes (openshift/openshift-docs #87995, OSDOCS-12356).
PHYSICAL_NETWORK_NAME_SINCE = (4, 18)

# ovn-bridge-mappings is "localnet:bridge,..." on the node, so these characters cannot appear.
_LOCALNET = re.compile(r"^[^:,\s]+$")
# A CNI spec version (0.3.1, 0.4.0, 1.0.0): it goes into the config Multus hands to the plugin.
_CNI_VERSION = re.compile(r"[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\Z")


def nad_config(entry, known_localnets=None, networks=None, cluster_version=None):
    """Return the spec.config JSON string for one NAD entry, after checking it.

    known_localnets: localnet names of the declared bridge mappings; empty means unknown.
    networks: all NAD entries of the run, checked for agreement with this one.
    cluster_version: the target's ClusterVersion object or its version string; None: unknown.
    """
    config = build_config(entry, known_localnets or ())
    _check_physical_network_name(config, entry, openshift_version(cluster_version))
    for other in networks or ():
        if _key(other) != _key(entry):
            _check_same_network(config, build_config(other, ()), other)
    return json.dumps(config)


def build_config(entry, known_localnets):
    """Return the config as an ordered dict-like mapping (insertion order is the output order)."""
    _check_entry(entry)
    localnet = _localnet(entry, known_localnets)
    network_name = entry.get("network_name")
    config = {
        "cniVersion": entry.get("cni_version", DEFAULT_CNI_VERSION),
        "name": _pattern(network_name, "network_name", _LOCALNET) if network_name else localnet,
        "type": CNI_TYPE,
        "topology": TOPOLOGY,
    }
    if network_name:
        config["physicalNetworkName"] = localnet
    config.update(_ipam(entry))
    config.update(_ranged(entry, "vlan_id", "vlanID", VLAN_RANGE))
    config.update(_ranged(entry, "mtu", "mtu", MTU_RANGE))
    config["netAttachDefName"] = nad_ref(entry["namespace"], entry["name"])
    return config


def _check_physical_network_name(config, entry, version):
    """A physicalNetworkName other than the network's name where OVN-Kubernetes would ignore it
    maps the network by its name instead: a silently mis-mapped network, so refused."""
    physical = config.get("physicalNetworkName")
    if physical is None or physical == config["name"]:
        return
    found = release(version)
    if found and found >= PHYSICAL_NETWORK_NAME_SINCE:
        return
    where = "OpenShift {0}'s OVN-Kubernetes ignores it".format(version) if found else (
        "the cluster's OpenShift version is unknown ({0}), and an older OVN-Kubernetes ignores it".format(
            "unreadable version {0!r}".format(version) if version else "no ClusterVersion 'version' was read"))
    raise MultinetError(
        "physicalNetworkName {0!r} (the localnet, written because network_name {1!r} differs from it) is "
        "honoured from OpenShift {2}.{3} on; {4} and would connect the network to a bridge mapping named "
        "{1!r} instead. Leave out network_name (the network is then named after its localnet), or target "
        "a {2}.{3}+ cluster".format(physical, config["name"], PHYSICAL_NETWORK_NAME_SINCE[0],
                                    PHYSICAL_NETWORK_NAME_SINCE[1], where),
        _field(entry, "network_name"), entry.get("network_name"))


def _check_entry(entry):
    if not isinstance(entry, dict):
        raise MultinetError("must be a dict", "network", entry)
    unknown = sorted(set(entry) - ENTRY_KEYS)
    if unknown:
        raise MultinetError("unknown keys, expected some of {0}".format(sorted(ENTRY_KEYS)), "network", unknown)
    _name(entry.get("name"), "name", dns1123_subdomain_problem)
    _name(entry.get("namespace"), "namespace", dns1123_label_problem)
    cni_version = entry.get("cni_version", DEFAULT_CNI_VERSION)
    if not isinstance(cni_version, str) or not _CNI_VERSION.match(cni_version):
        raise MultinetError("must be a CNI spec version like 0.3.1 or 1.0.0", _field(entry, "cni_version"), cni_version)


def _localnet(entry, known_localnets):
    localnet = _pattern(entry.get("localnet"), _field(entry, "localnet"), _LOCALNET)
    if known_localnets and localnet not in known_localnets:
        raise MultinetError(
            "no bridge mapping declares this localnet (known: {0})".format(", ".join(sorted(known_localnets))),
            _field(entry, "localnet"), localnet)
    return localnet


def _ipam(entry):
    subnets = _cidrs(entry, "subnets")
    excludes = _cidrs(entry, "exclude_subnets")
    if excludes and not subnets:
        raise MultinetError("needs subnets: OVN-K excludes addresses only from its own IPAM",
                            _field(entry, "exclude_subnets"), entry.get("exclude_subnets"))
    for exclude in excludes:
        if not any(exclude.version == s.version and exclude.subnet_of(s) for s in subnets):
            raise MultinetError("lies outside every subnet", _field(entry, "exclude_subnets"), str(exclude))
    config = {}
    if subnets:
        config["subnets"] = ",".join(str(s) for s in subnets)
    if excludes:
        config["excludeSubnets"] = ",".join(str(e) for e in excludes)
    return config


def _cidrs(entry, key):
    value = entry.get(key)
    if value in (None, "", []):
        return []
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list):
        raise MultinetError("must be a list of CIDRs or a comma-separated string", _field(entry, key), value)
    return [_cidr(item, _field(entry, key)) for item in items]


def _cidr(text, field):
    try:
        return ipaddress.ip_network(str(text).strip(), strict=True)
    except ValueError as exc:
        raise MultinetError("invalid CIDR ({0})".format(exc), field, text) from None


def _ranged(entry, key, config_key, bounds):
    value = entry.get(key)
    if value is None:
        return {}
    low, high = bounds
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise MultinetError("must be an integer from {0} to {1}".format(low, high), _field(entry, key), value)
    return {config_key: value}


def _check_same_network(config, other_config, other):
    if config["name"] != other_config["name"]:
        return
    for key in SHARED_FIELDS:
        if config.get(key) != other_config.get(key):
            raise MultinetError(
                "NADs of network {0!r} must agree on {1} ({2} has {3!r})".format(
                    config["name"], key, _key(other), other_config.get(key)),
                "network " + config["netAttachDefName"] + " " + key, config.get(key))


def _pattern(value, field, pattern):
    if not isinstance(value, str) or not pattern.match(value):
        raise MultinetError("invalid name", field, value)
    return value


def _name(value, field, problem_of):
    problem = problem_of(value) if isinstance(value, str) else "must be a string"
    if problem:
        raise MultinetError("invalid name: " + problem, field, value)


def _field(entry, key):
    return "network {0}/{1} {2}".format(entry.get("namespace"), entry.get("name"), key)


def _key(entry):
    return nad_ref(entry.get("namespace"), entry.get("name"))
