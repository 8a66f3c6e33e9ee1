"""Keep URLs chosen by remote content away from private networks (SSRF guard).

A redirect, a `next` link or a sitemap entry is chosen by whoever runs the server, so it
may not lead us to 127.0.0.1, the LAN or a cloud metadata endpoint (169.254.169.254).
The check runs on the addresses a name resolves to, and again at connect time on the
address we actually connect to, so a DNS answer that changes between the two (DNS
rebinding) cannot slip through.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[IPAddress]]]

# Ranges the ipaddress flags do not all cover (CGNAT is neither private nor global).
_EXTRA_BLOCKED = tuple(
    ipaddress.ip_network(net) for net in ("100.64.0.0/10", "192.0.0.0/24", "198.18.0.0/15", "64:ff9b:1::/48")
)


class BlockedAddress(Exception):
    """A guarded request would reach a non-public address."""

    def __init__(self, host: str, address: IPAddress) -> None:
        self.host = host
        self.address = address
        super().__init__(f"{host} resolves to non-public address {address}")


class AddressPolicy:
    """Which addresses a guarded request may reach: public unicast only.

    `allow` exists for tests, which must pretend that some loopback address is "public".
    """

    def __init__(self, allow: Iterable[str] = ()) -> None:
        self._allow = tuple(ipaddress.ip_network(net) for net in allow)

    def is_public(self, address: IPAddress) -> bool:
        """True for a unicast address on the public internet (IPv4-mapped IPv6 unwrapped)."""
        if isinstance(address, ipaddress.IPv6Address):
            mapped = address.ipv4_mapped or address.sixtofour
            if mapped is not None:
                address = mapped
            elif address in ipaddress.ip_network("64:ff9b::/96"):  # NAT64 embeds IPv4
                address = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if any(address in net for net in self._allow):
            return True
        if any(address.version == net.version and address in net for net in _EXTRA_BLOCKED):
            return False
        return address.is_global and not (
            address.is_multicast or address.is_unspecified or address.is_reserved
        )


async def resolve(host: str, port: int) -> list[IPAddress]:
    """All addresses `host` resolves to (an IP literal resolves to itself)."""
    literal = host.strip("[]")
    try:
        return [ipaddress.ip_address(literal)]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(literal, port, type=socket.SOCK_STREAM)
    addresses: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


async def check_host(host: str, port: int, policy: AddressPolicy, resolver: Resolver) -> None:
    """Raise BlockedAddress if any address of `host` is not public (one bad answer is enough)."""
    for address in await resolver(host, port):
        if not policy.is_public(address):
            raise BlockedAddress(host, address)
