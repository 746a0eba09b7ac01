"""The SSRF guard: a tenant's webhook URL must not make the gateway call into the operator.

The host is resolved once; every address it resolves to is vetted; the request then goes
to those vetted addresses (``sender.py``), so a DNS answer that changes between the check
and the connection (DNS rebinding) cannot slip an internal address in.

The URL is parsed with yarl, the parser aiohttp itself uses: the host vetted here is the
host the client connects to, with no room for two parsers reading one URL differently.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Sequence
from dataclasses import dataclass

from yarl import URL

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# Named so that a refusal says which rule it broke. Ranges that embed an IPv4 address
# (IPv4-compatible, mapped, translated, NAT64, 6to4, Teredo) are also vetted by what they
# embed, see vet_address, and refused whatever they embed: no resolver hands them out.
_FORBIDDEN: tuple[tuple[str, Network], ...] = tuple(
    (name, ipaddress.ip_network(net))
    for name, net in (
        ("'this' network", "0.0.0.0/8"),
        ("private", "10.0.0.0/8"),
        ("carrier-grade NAT", "100.64.0.0/10"),
        ("loopback", "127.0.0.0/8"),
        ("link-local", "169.254.0.0/16"),
        ("private", "172.16.0.0/12"),
        ("IETF protocol assignments", "192.0.0.0/24"),
        ("documentation", "192.0.2.0/24"),
        ("private", "192.168.0.0/16"),
        ("benchmarking", "198.18.0.0/15"),
        ("documentation", "198.51.100.0/24"),
        ("documentation", "203.0.113.0/24"),
        ("multicast", "224.0.0.0/4"),
        ("reserved", "240.0.0.0/4"),  # holds the broadcast address too
        ("unspecified", "::/128"),
        ("loopback", "::1/128"),
        ("IPv4-compatible", "::/96"),
        ("IPv4-mapped", "::ffff:0:0/96"),
        ("IPv4-translated", "::ffff:0:0:0/96"),
        ("NAT64", "64:ff9b::/96"),
        ("local-use NAT64", "64:ff9b:1::/48"),
        ("discard-only", "100::/64"),
        ("documentation", "2001:db8::/32"),
        ("unique local", "fc00::/7"),
        ("link-local", "fe80::/10"),
        ("site-local", "fec0::/10"),
        ("multicast", "ff00::/8"),
    )
)


class UnsafeTarget(ValueError):
    """The URL may not be called; the message names the rule."""


@dataclass(frozen=True, slots=True)
class Target:
    scheme: str
    host: str  # as aiohttp will see it: lower case, IDNA-encoded, IPv6 without brackets
    port: int
    path_qs: str
    address: str  # the first vetted address, the one a client should prefer
    addresses: tuple[str, ...] = ()  # every vetted address, in the resolver's order


def vet_address(address: Address, allow_networks: Sequence[Network] = ()) -> None:
    """Raise UnsafeTarget unless the address is public or explicitly allowed."""
    if any(address in net for net in allow_networks if net.version == address.version):
        return
    if isinstance(address, ipaddress.IPv6Address):
        # What the packet really reaches first: an allowed or public IPv4 address inside
        # still leaves the embedding form refused below.
        for embedded in _embedded_ipv4(address):
            vet_address(embedded, allow_networks)
    for name, net in _FORBIDDEN:
        if net.version == address.version and address in net:
            raise UnsafeTarget(f"{address} is a {name} address")
    if isinstance(address, ipaddress.IPv6Address) and address.scope_id:
        raise UnsafeTarget(f"{address} names a network interface")
    # The table above names the ranges; the standard library's registry catches the ones it
    # does not (Teredo, ORCHID...), at the price of a vaguer message.
    if not address.is_global:
        raise UnsafeTarget(f"{address} is not a globally reachable address")


def _embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """Every IPv4 address an IPv6 address carries: mapped (::ffff:a.b.c.d), compatible
    (::a.b.c.d), translated (::ffff:0:a.b.c.d), NAT64 (64:ff9b::a.b.c.d), 6to4. (Teredo is
    refused by the standard library's registry whatever it carries.)"""
    found = []
    if address.ipv4_mapped is not None:
        found.append(address.ipv4_mapped)
    if address.sixtofour is not None:
        found.append(address.sixtofour)
    value = int(address)
    low = ipaddress.IPv4Address(value & 0xFFFFFFFF)
    high = value >> 32
    compatible = high == 0 and int(low) > 1  # not :: or ::1, which have names of their own
    if compatible or high == 0xFFFF_0000 or address in _NAT64:  # translated, NAT64
        found.append(low)
    return found


_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _parse(url: str, allow_http_hosts: frozenset[str] = frozenset()) -> tuple[URL, str, int]:
    """The URL, its host and its port, if its form is acceptable; no resolution yet."""
    try:
        parsed = URL(url)
        port = parsed.port
    except (TypeError, ValueError) as error:
        raise UnsafeTarget(f"not a URL: {error}") from None
    host = (parsed.raw_host or "").lower()
    if not parsed.is_absolute() or not host:
        raise UnsafeTarget("no host in the URL")
    if parsed.raw_user is not None or parsed.raw_password is not None:
        raise UnsafeTarget("credentials in the URL are not allowed")
    scheme = parsed.scheme
    if scheme != "https" and not (scheme == "http" and host in allow_http_hosts):
        raise UnsafeTarget(f"{scheme or 'no'} scheme: https only (http for allowed hosts)")
    if not port:
        raise UnsafeTarget("port 0 cannot be called")
    return parsed, host, port


async def resolve_and_vet(
    url: str,
    *,
    allow_http_hosts: frozenset[str] = frozenset(),
    allow_networks: Sequence[Network] = (),
) -> Target:
    """Resolve the URL's host once and vet every address; raise UnsafeTarget naming the rule."""
    parsed, host, port = _parse(url, allow_http_hosts)
    try:
        literal: Address | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [literal]
    else:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM
            )
        # UnicodeError: the idna codec refuses the name (an empty or over-long label).
        except (OSError, UnicodeError) as error:
            raise UnsafeTarget(f"{host} does not resolve: {error}") from None
        addresses = list(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in infos))
        if not addresses:
            raise UnsafeTarget(f"{host} does not resolve")
    for address in addresses:
        vet_address(address, allow_networks)  # all of them: the client might pick any
    vetted = tuple(str(a) for a in addresses)
    return Target(parsed.scheme, host, port, parsed.raw_path_qs, vetted[0], vetted)
