"""``[[camara_peers]]`` and ``[number_ranges]``: other operators' CAMARA APIs, validated once.

Each peer names its CAMARA base URL, its OAuth2 client credentials (the secret by
``client_secret_env`` or ``client_secret_file``, never in the file), the numbers it answers
for (E.164 prefixes, or MCC-MNC codes that ``[number_ranges]`` turns into prefixes), a
budget, a rate limit, a circuit breaker and the cache's lifetimes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ..config_reader import ConfigError, Section

_PREFIX = re.compile(r"\+[1-9][0-9]{0,14}")
_MCC_MNC = re.compile(r"[0-9]{3}-[0-9]{2,3}")
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
# What the peer is asked with unless the file says: SIM Swap's retrieve-date and Call
# Forwarding Signal's unconditional forwarding (the official scopes).
DEFAULT_SCOPES = (
    "sim-swap:retrieve-date",
    "call-forwarding-signal:unconditional-call-forwardings:read",
)


@dataclass(frozen=True, slots=True)
class PeerConfig:
    name: str
    base_url: str
    client_id: str
    client_secret: str = field(repr=False)
    token_url: str = ""
    scopes: tuple[str, ...] = DEFAULT_SCOPES
    prefixes: tuple[str, ...] = ()  # E.164 with "+", from prefixes and networks together
    networks: tuple[str, ...] = ()  # MCC-MNC, as configured (for display)
    timeout_s: float = 0.5  # the whole pull: token, calls and all
    rate_per_s: float = 100.0
    burst: int = 20
    breaker_failures: int = 5  # consecutive failures that open the breaker
    breaker_open_s: float = 30.0  # then one trial call
    positive_ttl_s: float = 600.0  # a change reported (a SIM change, forwarding active)
    negative_ttl_s: float = 60.0  # nothing to report
    sim_swap_url: str = ""  # SIM Swap v2's base; default <base_url>/sim-swap/v2
    call_forwarding_url: str = ""  # default <base_url>/call-forwarding-signal/v0.4


def _url(section: Section, key: str, value: str | None) -> str | None:
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        section.problems.append(f"{section._where(key)}: expected an http(s) URL, got {value!r}")
        return None
    return value.rstrip("/")


def parse_number_ranges(section: Section) -> dict[str, tuple[str, ...]]:
    """MCC-MNC -> the E.164 prefixes of its number ranges (the operator's numbering table)."""
    ranges: dict[str, tuple[str, ...]] = {}
    for network in list(section.data):
        where = section._where(network)
        if not _MCC_MNC.fullmatch(network):
            raise ConfigError(f"{where}: expected an MCC-MNC like '262-01' as the key")
        prefixes = section.get(network, list, [])
        if not prefixes or not all(isinstance(p, str) and _PREFIX.fullmatch(p) for p in prefixes):
            raise ConfigError(f"{where}: expected a list of E.164 prefixes like '+49151'")
        ranges[network] = tuple(prefixes)
    section.done()
    return ranges


def parse_peers(
    sections: list[Section], ranges: dict[str, tuple[str, ...]]
) -> tuple[PeerConfig, ...]:
    peers = [_parse_peer(section, ranges) for section in sections]
    owner: dict[str, str] = {}
    names: set[str] = set()
    for section, peer in zip(sections, peers, strict=True):
        if peer.name in names:
            raise ConfigError(f"{section._where('name')}: peer {peer.name!r} defined twice")
        names.add(peer.name)
        for prefix in peer.prefixes:
            other = owner.setdefault(prefix, peer.name)
            if other != peer.name:
                raise ConfigError(
                    f"{section._where('prefixes')}: {prefix} is already peer {other!r}'s"
                )
    return tuple(peers)


def _parse_peer(section: Section, ranges: dict[str, tuple[str, ...]]) -> PeerConfig:
    name = section.get("name", str)
    if not name or not _NAME.fullmatch(name):
        raise ConfigError(
            f"{section._where('name')}: required: lower-case letters, digits, '-' or '_'"
        )
    base_url = _url(section, "base_url", section.get("base_url", str))
    if base_url is None and "base_url" not in section.data:
        raise ConfigError(f"{section._where('base_url')}: required, the peer's CAMARA base URL")
    client_id = section.get("client_id", str)
    if not client_id:
        raise ConfigError(f"{section._where('client_id')}: required (OAuth2 client credentials)")
    secret = section.secret("client_secret", required=True)
    prefixes = list(section.get("prefixes", list, []))
    for i, prefix in enumerate(prefixes):
        if not isinstance(prefix, str) or not _PREFIX.fullmatch(prefix):
            raise ConfigError(
                f"{section._where(f'prefixes[{i}]')}: expected an E.164 prefix like '+49151'"
            )
    networks = list(section.get("networks", list, []))
    for i, network in enumerate(networks):
        if network not in ranges:
            raise ConfigError(
                f"{section._where(f'networks[{i}]')}: no [number_ranges] entry for {network!r}"
            )
        prefixes += [p for p in ranges[network] if p not in prefixes]
    if not prefixes:
        raise ConfigError(
            f"{section._where('prefixes')}: the peer answers for no number (prefixes or networks)"
        )
    scopes = section.get("scopes", list, list(DEFAULT_SCOPES))
    if not all(isinstance(s, str) and s and " " not in s for s in scopes):
        raise ConfigError(f"{section._where('scopes')}: expected a list of OAuth2 scopes")
    base = base_url or ""
    peer = PeerConfig(
        name=name,
        base_url=base,
        client_id=client_id,
        client_secret=secret or "",
        token_url=_url(section, "token_url", section.get("token_url", str))
        or f"{base}/oauth2/token",
        scopes=tuple(scopes),
        prefixes=tuple(prefixes),
        networks=tuple(networks),
        timeout_s=section.positive("timeout_ms", float, 500.0) / 1000,
        rate_per_s=section.positive("rate_per_s", float, 100.0),
        burst=section.positive("burst", int, 20),
        breaker_failures=section.positive("breaker_failures", int, 5),
        breaker_open_s=section.positive("breaker_open_s", float, 30.0),
        positive_ttl_s=section.positive("positive_ttl_s", float, 600.0),
        negative_ttl_s=section.positive("negative_ttl_s", float, 60.0),
        sim_swap_url=_url(section, "sim_swap_url", section.get("sim_swap_url", str))
        or f"{base}/sim-swap/v2",
        call_forwarding_url=_url(
            section, "call_forwarding_url", section.get("call_forwarding_url", str)
        )
        or f"{base}/call-forwarding-signal/v0.4",
    )
    section.done()
    return peer
