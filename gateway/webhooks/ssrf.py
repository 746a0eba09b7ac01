"""The SSRF guard: a tenant's webhook URL must not make the gateway call into the operator.

The host is resolved once; every address it resolves to is vetted; the request then goes
to that vetted address (``sender.py``), so a DNS answer that changes between the check and
the connection (DNS rebinding) cannot slip an internal address in.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

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
        ("reserved", "240.0.0.0/4"),
        ("unspecified", "::/128"),
        ("loopback", "::1/128"),
        ("IPv4-mapped", "::ffff:0:0/96"),
        ("NAT64", "64:ff9b::/96"),
        ("documentation", "2001:db8::/32"),
        ("unique local", "fc00::/7"),
        ("link-local", "fe80::/10"),
        ("multicast", "ff00::/8"),
    )
)


class UnsafeTarget(ValueError):
    """The URL may not be called; the message names the rule."""


@dataclass(frozen=True, slots=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str  # path and query
    address: str


def vet_address(address: Address, allow_networks: Sequence[Network] = ()) -> None:
    """Raise UnsafeTarget unless the address is public or explicitly allowed."""
    if any(address in net for net in allow_networks if net.version == address.version):
        return
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        vet_address(mapped, allow_networks)  # vet what it really reaches, then refuse the form
    for name, net in _FORBIDDEN:
        if net.version == address.version and address in net:
            raise UnsafeTarget(f"{address} is a {name} address")


async def resolve_and_vet(
    url: str,
    *,
    allow_http_hosts: frozenset[str] = frozenset(),
    allow_networks: Sequence[Network] = (),
) -> Target:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if not host:
        raise UnsafeTarget("no host in the URL")
    if parts.username is not None or parts.password is not None:
        raise UnsafeTarget("credentials in the URL are not allowed")
    if scheme != "https" and not (scheme == "http" and host in allow_http_hosts):
        raise UnsafeTarget(f"{scheme or 'no'} scheme: https only (http for allowed hosts)")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError as error:
        raise UnsafeTarget(f"bad port: {error}") from None
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
        except OSError as error:
            raise UnsafeTarget(f"{host} does not resolve: {error}") from None
        addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
        if not addresses:
            raise UnsafeTarget(f"{host} does not resolve")
    for address in addresses:
        vet_address(address, allow_networks)  # all of them: the client might pick any
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(scheme, host, port, path, str(addresses[0]))
