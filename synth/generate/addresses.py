"""Client addresses: visitors on their region's ISP blocks, services on their published ranges.

Faker draws the networks and numpy the hosts within them, so a large population costs a few
thousand Faker calls.
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from typing import TYPE_CHECKING

import numpy as np

from synth.generate import catalog

if TYPE_CHECKING:
    from faker import Faker  # annotations only: the caller passes its Faker (importing it is costly)


def ipv6_text(hextets: list[int]) -> str:
    """RFC 5952 text of eight 16-bit groups: lower-case hex, the longest run of two or more
    zero groups (the first, on a tie) written ``::``."""
    best_at, best_len, at, run = -1, 1, -1, 0
    for i, h in enumerate(hextets):
        if h == 0:
            at, run = (i, 1) if run == 0 else (at, run + 1)
            if run > best_len:
                best_at, best_len = at, run
        else:
            run = 0
    groups = [f"{h:x}" for h in hextets]
    if best_at < 0:
        return ":".join(groups)
    return ":".join(groups[:best_at]) + "::" + ":".join(groups[best_at + best_len:])


def client_addresses(fake: Faker, rng: np.random.Generator, offsets_minutes: np.ndarray,
                      v6: np.ndarray) -> list[str]:
    """Visitors' addresses, clustered the way ISPs hand them out.

    Faker draws the networks (public IPv4 /24s; IPv6 /64s under the prefixes of the visitor's
    regional registry) and numpy the hosts within them, so a population of 50,000 costs a few
    thousand Faker calls, and neighbours on one network look like neighbours.
    """
    n = len(v6)
    n_nets = max(16, n // 50)
    regions4 = [catalog.region_of(int(m)) for m in offsets_minutes.tolist()]
    in_region = Counter(r for r, six in zip(regions4, v6.tolist()) if not six)
    # Each region's own ISP networks, about fifty visitors to a /24 as on an ISP's block: a
    # visitor of the American evening comes from Comcast or a Brazilian ISP, not from a block
    # nobody browses from.
    regions = sorted(catalog.ISP_NETWORKS)
    region_nets = {r: [network_in(catalog.ISP_NETWORKS[r], fake, 24).rsplit(".", 1)[0]
                       for _ in range(max(4, -(-in_region[r] // 50)))] for r in regions}
    prefixes = {"america": (0x2600, 0x2601, 0x2603, 0x2607, 0x2804),
                "europe": (0x2A01, 0x2A02, 0x2A00, 0x2001, 0x2A0A),
                "asia": (0x2400, 0x2401, 0x2404, 0x240E, 0x2001)}
    nets6 = {region: [[heads[fake.random_int(0, 4)], *(fake.random_int(0, 0xFFFF) for _ in range(3))]
                      for _ in range(max(4, n_nets // 4))] for region, heads in prefixes.items()}
    for nets in nets6.values():  # 2001:0000::/23 is the IETF's special space: registries start at 2001:0400::
        for net in nets:
            if net[0] == 0x2001 and net[1] < 0x0400:
                net[1] += 0x0400
    net = rng.integers(0, 1 << 30, n).tolist()
    host4 = rng.integers(0, 254, n).tolist()
    host6 = rng.integers(0, 2**16, (n, 4)).tolist()
    # Two visitors on one /24 get two hosts (a shared address is an office's, made on purpose
    # elsewhere): the k-th visitor of a network is 97 hosts on from the first, which cycles
    # through all 254 before any repeats (97 and 254 share no factor).
    first_host: dict[str, int] = {}
    members: Counter[str] = Counter()
    addresses = []
    for i in range(n):
        if v6[i]:
            minutes = int(offsets_minutes[i])
            region = "america" if minutes < -120 else ("europe" if minutes <= 180 else "asia")
            pool = nets6[region]
            addresses.append(ipv6_text(pool[net[i] % len(pool)] + host6[i]))
        else:
            nets4 = region_nets[regions4[i]]
            block = nets4[net[i] % len(nets4)]
            start = first_host.setdefault(block, host4[i])
            addresses.append(f"{block}.{(start + 97 * members[block]) % 254 + 1}")
            members[block] += 1
    return addresses


def network_in(networks: tuple[str, ...] | list[str], fake: Faker, prefix: int = 32) -> str:
    """An address (prefix 32) or the first address of a block of ``prefix`` bits, drawn inside
    one of ``networks`` (the network and broadcast addresses of a block never)."""
    net = ipaddress.ip_network(networks[fake.random_int(0, len(networks) - 1)])
    size = 2 ** (32 - max(prefix, net.prefixlen))
    blocks = net.num_addresses // size
    base = int(net.network_address) + fake.random_int(0, blocks - 1) * size
    if prefix >= 32:
        base = int(net.network_address) + fake.random_int(1, net.num_addresses - 2)
    return str(ipaddress.ip_address(base))


def service_address(agent: str, fake: Faker) -> str:
    """A bot's address: from the service's published ranges, else a hosting provider's."""
    return network_in(catalog.published_networks(agent) or catalog.CLOUD_NETWORKS, fake)


def address_in(network: str, fake: Faker) -> str:
    net = ipaddress.ip_network(network)
    return str(net.network_address + fake.random_int(1, net.num_addresses - 2))
