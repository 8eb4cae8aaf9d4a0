# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ocpvirt.multinet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The smallest exact set of ipBlocks for a set of addresses.

Pure: no Ansible, no I/O. ``exact_cover`` takes ipBlocks (a CIDR minus its excepts, as
OVN-Kubernetes reads them: one ACL per ipBlock matching ``ip4.src == CIDR && ip4.src != {excepts}``,
go-controller/pkg/ovn/gress_policy.go getMatchFromIPBlock) and returns ipBlocks matching exactly
the addresses of their union: never one address more, never one fewer.

What is minimised, per IP family: the number of CIDRs written (ipBlocks plus except entries),
then the number of ipBlocks. Each ipBlock is an ACL, so fewer blocks is the aim; counting the
excepts too keeps ``except`` to where it pays: a block with one except deep inside it (a /24
without one address: 1 block and 1 except instead of 8 blocks) is taken, while one block over
two distant addresses with the whole gap excepted (1 block and ~30 excepts instead of 2 blocks)
is not, because ovn-controller expands every except into OpenFlow alternatives (one per prefix
bit below the block's), so such a block would only move the cost from the ACLs to the flows.
Hence the result never has more ipBlocks than ``ipaddress.collapse_addresses`` gives.

How: a dynamic programme over the binary prefix tree, visiting only prefixes that are partly
in the set (at most the address bits times the set's intervals). Per prefix, the cheapest
cover with nothing above it, and the cheapest given that a block above already matches the
whole prefix (only excepts, and blocks inside those excepts, are left to choose).
"""

import bisect
import ipaddress

_BITS = {4: 32, 6: 128}


def exact_cover(blocks):
    """[(cidr, excepts)] -> [(cidr, excepts tuple)]: the union of ``blocks``, exactly.

    Each input block is a CIDR string and an iterable of except CIDR strings (of its family,
    inside it). The output is IPv4 blocks first, then IPv6, each family by address; excepts are
    sorted by address. The same set of addresses always gives the same output.
    """
    intervals = {4: [], 6: []}
    for cidr, excepts in blocks:
        network = ipaddress.ip_network(cidr)
        holes = [ipaddress.ip_network(text) for text in excepts]
        intervals[network.version].extend(_subtract(_span(network), sorted(_span(hole) for hole in holes)))
    cover = []
    for version in (4, 6):
        merged = _merge(intervals[version])
        if merged:
            cover.extend(_Cover(version, merged).blocks())
    return cover


def _span(network):
    return int(network.network_address), int(network.broadcast_address)


def _subtract(interval, holes):
    """``interval`` minus the sorted ``holes``, as intervals."""
    first, last = interval
    left = []
    for hole_first, hole_last in holes:
        if hole_first > first:
            left.append((first, min(last, hole_first - 1)))
        first = max(first, hole_last + 1)
        if first > last:
            return left
    left.append((first, last))
    return left


def _merge(intervals):
    merged = []
    for first, last in sorted(intervals):
        if merged and first <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], last))
        else:
            merged.append((first, last))
    return merged


# A plan's cost: (CIDRs written, ipBlocks), compared as a tuple.
_NOTHING = (0, 0)
_ONE_BLOCK = (1, 1)
_ONE_EXCEPT = (1, 0)


def _add(left, right):
    return left[0] + right[0], left[1] + right[1]


class _Cover:
    """The programme for one family: ``free`` and ``inside`` per prefix, with their plans.

    A free plan is a list of blocks ``(prefix, [except prefixes])``; an inside plan (the prefix is
    matched by a block above) is ``(except prefixes, blocks inside those excepts)``. A prefix is
    ``(first address, prefix length)``.
    """

    def __init__(self, version, intervals):
        self.version = version
        self.bits = _BITS[version]
        self.firsts = [first for first, _last in intervals]
        self.intervals = intervals

    def blocks(self):
        # Above the smallest prefix holding the whole set, one half of each prefix is empty, so
        # the cheapest cover there is that of the other half: start below them.
        first, last = self.intervals[0][0], self.intervals[-1][1]
        length = self.bits - (first ^ last).bit_length()
        _cost, plan = self._solve(first >> (self.bits - length) << (self.bits - length), length)[0]
        return [(self._text(prefix), tuple(self._text(hole) for hole in sorted(holes)))
                for prefix, holes in sorted(plan)]

    def _text(self, prefix):
        first, length = prefix
        return "{0}/{1}".format(ipaddress.ip_address(first) if self.version == 4
                                else ipaddress.IPv6Address(first), length)

    def _overlap(self, first, last):
        """'all', 'none' or 'some': how much of [first, last] the set holds."""
        index = bisect.bisect_right(self.firsts, last) - 1
        if index < 0 or self.intervals[index][1] < first:
            return "none"
        interval_first, interval_last = self.intervals[index]
        return "all" if interval_first <= first and interval_last >= last else "some"

    def _solve(self, first, length):
        """((cost, free plan), (cost, inside plan)) for the prefix ``first/length``."""
        last = first + (1 << (self.bits - length)) - 1
        held = self._overlap(first, last)
        prefix = (first, length)
        if held == "all":
            return (_ONE_BLOCK, [(prefix, [])]), (_NOTHING, ([], []))
        if held == "none":
            return (_NOTHING, []), (_ONE_EXCEPT, ([prefix], []))
        half = 1 << (self.bits - length - 1)
        (low_free, low_inside), (high_free, high_inside) = (self._solve(first, length + 1),
                                                            self._solve(first + half, length + 1))
        split_free = (_add(low_free[0], high_free[0]), low_free[1] + high_free[1])
        split_inside = (_add(low_inside[0], high_inside[0]),
                        (low_inside[1][0] + high_inside[1][0], low_inside[1][1] + high_inside[1][1]))
        # A block here: the prefix less what its excepts cut out, plus the blocks inside them.
        holes, nested = split_inside[1]
        block_here = (_add(_ONE_BLOCK, split_inside[0]), [(prefix, holes)] + nested)
        # Under a block above: this whole prefix excepted, and covered afresh inside.
        except_here = (_add(_ONE_EXCEPT, split_free[0]), ([prefix], split_free[1]))
        # Ties keep the plan without except (narrower blocks, same count).
        free = split_free if split_free[0] <= block_here[0] else block_here
        inside = split_inside if split_inside[0] <= except_here[0] else except_here
        return free, inside
