# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the modules reading OVN from the ovnkube-node pods share, pure: the check of the names
the doc fragment ocpvirt.multinet.ovn_access takes, and what is read from each node's zone and
how it is parsed. ``k8s.ovn_reader`` does the reading; this says what to run and reads its output.
"""
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.names import check_names, network_checks
from ansible_collections.ocpvirt.multinet.plugins.module_utils.ovn import ovsdb, policy_map


def check_access_names(params, *containers):
    """The names of the ovn_access options (and the module's ``containers`` options, when set) go
    into API paths: each is checked by its kind's rule before the first request."""
    check_names(network_checks("network", params["network"])
                + [("ovn_namespace", params["ovn_namespace"], "namespace"),
                   ("container", params["container"], "container")]
                + [(option, params[option], "container") for option in containers if params[option]])


def policy_zone(run):
    """One node's zone for ovn_policy_info: its NB tables and its bridge mappings. ``run`` runs an
    argv in the node's ovnkube-node pod and returns its stdout."""
    return {"nb": ovsdb.parse_nb_output(run(ovsdb.NB_COMMAND)),
            "bridge_mappings": ovsdb.bridge_mappings(run(ovsdb.OVS_COMMAND))}


def trace_zone(network_name):
    """A reader of one node's zone for ovn_trace: the objects of OVN network ``network_name`` in
    its NB, and every ACL."""
    def zone(run):
        nb = ovsdb.parse_nb_output(run(ovsdb.NB_COMMAND))
        return dict(policy_map.zone_objects(nb, network_name), acls=nb["ACL"])

    return zone


def unreadable(errors):
    """The findings of the nodes whose OVN databases could not be read, from {node: why}."""
    return ["node {0}: its OVN databases could not be read: {1}".format(node, why) for node, why in errors.items()]


def none_readable(errors):
    """ovn_trace's failure when no node could be read, from {node: why}."""
    return "no ovnkube-node pod could be read: " + "; ".join(
        "{0}: {1}".format(node, why) for node, why in sorted(errors.items()))
