"""Configuration of payment platforms: tenants, their sender IDs, webhooks and CAMARA access."""

from __future__ import annotations

import ipaddress
import math
import re
from dataclasses import dataclass, field, replace

from .config_camara_jwt import CamaraJwtConfig, parse_camara_jwt
from .config_reader import ConfigError, Section


@dataclass(frozen=True, slots=True)
class TenantConfig:
    name: str
    # account -> the sender IDs (source_addr) this tenant owns on it; an account whose
    # ``tenant`` names this tenant belongs to it whole.
    senders: dict[str, tuple[str, ...]] = field(default_factory=dict)
    camara: bool = False  # may use the CAMARA-compatible endpoints
    camara_quota_per_minute: int = 60
    relation_days: float = 30.0  # a number sent to this recently may be asked about
    # May ask about any of the operator's subscribers, relation or not: for another operator
    # (or an aggregator under contract) whose OTPs to this network it decides on. A privacy
    # decision of the operator's; each query is still audited and within the quota.
    camara_all_subscribers: bool = False


@dataclass(frozen=True, slots=True)
class WebhooksConfig:
    allow_http_hosts: frozenset[str] = frozenset()
    allow_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    retry_hours: float = 24.0
    concurrency: int = 4  # requests in flight per endpoint
    timeout_s: float = 10.0
    rotation_overlap_h: float = 24.0  # both secrets sign this long after a rotation


@dataclass(frozen=True, slots=True)
class CamaraConfig:
    max_age_h: int = 2400  # the largest maxAge a SIM swap check may ask (CAMARA allows 2400)
    monitored_days: int = 30  # retrieve-date tells changes of these last days only
    token_lifetime_s: float = 3600.0
    # E.164 prefixes ("+4474"): numbers outside own_ranges answer 404 IDENTIFIER_NOT_FOUND
    # (none: every number is the network's); inside not_applicable_ranges 422.
    own_ranges: tuple[str, ...] = ()
    not_applicable_ranges: tuple[str, ...] = ()
    # The server's own limit over every client (429 TOO_MANY_REQUESTS); None: none.
    server_rate_per_s: float | None = None
    server_burst: int = 1
    # [camara.jwt]: JWT access tokens of the operator's authorization server (3-legged).
    jwt: CamaraJwtConfig | None = None


_E164_PREFIX = re.compile(r"\+[1-9][0-9]{0,14}")


def _prefixes(section: Section, key: str) -> tuple[str, ...]:
    values = section.get(key, list, [])
    for value in values:
        if not isinstance(value, str) or not _E164_PREFIX.fullmatch(value):
            section.problems.append(
                f'{section._where(key)}: expected E.164 prefixes with their + ("+4474"),'
                f" got {value!r}"
            )
            return ()
    return tuple(values)


def parse_camara(section: Section) -> CamaraConfig:
    config = CamaraConfig(
        max_age_h=section.positive("max_age_h", int, 2400),
        monitored_days=section.positive("monitored_days", int, 30),
        token_lifetime_s=section.positive("token_lifetime_s", float, 3600.0),
        own_ranges=_prefixes(section, "own_ranges"),
        not_applicable_ranges=_prefixes(section, "not_applicable_ranges"),
        server_rate_per_s=section.positive("server_rate_per_s", float, None),
        jwt=parse_camara_jwt(section.table("jwt")),
    )
    # A second's worth by default: a limit in requests per second, with no long burst.
    default_burst = math.ceil(config.server_rate_per_s or 1)
    config = replace(config, server_burst=section.positive("server_burst", int, default_burst))
    if "server_burst" in section.data and config.server_rate_per_s is None:
        section.problems.append(f"{section._where('server_burst')}: needs server_rate_per_s")
    if config.max_age_h > 2400:
        raise ConfigError(f"{section._where('max_age_h')}: at most 2400 (CAMARA's limit)")
    if config.own_ranges:
        for prefix in config.not_applicable_ranges:
            if not prefix.startswith(config.own_ranges):
                # Outside the own ranges a number already answers 404: such a line is a typo.
                section.problems.append(
                    f"{section._where('not_applicable_ranges')}: {prefix!r} is outside"
                    " own_ranges, where every number answers 404 already"
                )
    section.done()
    return config


# Forms other configurations use, with the one this file takes.
_USE_INSTEAD = {
    "accounts": "a whole account is the tenant's by tenant = ... in its [[smpp.accounts]]",
    "sender_ids": "use senders = { <account> = [sender IDs] }",
}


def parse_tenants(sections: list[Section], account_ids: set[str]) -> tuple[TenantConfig, ...]:
    tenants: list[TenantConfig] = []
    names: set[str] = set()
    owned: dict[tuple[str, str], str] = {}
    for section in sections:
        name = section.get("name", str)
        if not name:
            raise ConfigError(f"{section._where('name')}: required")
        if name in names:
            raise ConfigError(f"{section._where('name')}: tenant {name!r} defined twice")
        names.add(name)
        for old, instead in _USE_INSTEAD.items():
            if old in section.data:
                raise ConfigError(f"{section._where(old)}: not a key of [[tenants]]; {instead}")
        raw = dict(section.get("senders", dict, {}))
        senders: dict[str, tuple[str, ...]] = {}
        for account, ids in raw.items():
            where = section._where(f"senders.{account}")
            if account not in account_ids:
                raise ConfigError(f"{where}: no account {account!r} in [[smpp.accounts]]")
            if not isinstance(ids, list) or not all(isinstance(i, str) and i for i in ids):
                raise ConfigError(f"{where}: expected a list of sender IDs")
            for sender in ids:
                other = owned.setdefault((account, sender), name)
                if other != name:
                    raise ConfigError(f"{where}: sender {sender!r} already belongs to {other!r}")
            senders[account] = tuple(ids)
        tenant = TenantConfig(
            name=name,
            senders=senders,
            camara=section.get("camara", bool, False),
            camara_quota_per_minute=section.positive("camara_quota_per_minute", int, 60),
            relation_days=section.positive("relation_days", float, 30.0),
            camara_all_subscribers=section.get("camara_all_subscribers", bool, False),
        )
        if tenant.camara_all_subscribers and not tenant.camara:
            # Without camara the key would grant nothing: a forgotten line, said at start.
            raise ConfigError(f"{section._where('camara_all_subscribers')}: needs camara = true")
        tenants.append(tenant)
        section.done()
    return tuple(tenants)


def parse_webhooks(section: Section) -> WebhooksConfig:
    networks = []
    if "allow_private_addresses" in section.data:
        raise ConfigError(
            f"{section._where('allow_private_addresses')}: not a key of [webhooks]; use allow_networks"
        )
    for text in section.get("allow_networks", list, []):
        try:
            networks.append(ipaddress.ip_network(text))
        except (TypeError, ValueError):
            raise ConfigError(
                f"{section._where('allow_networks')}: not a network: {text!r}"
            ) from None
    hosts = section.get("allow_http_hosts", list, [])
    if not all(isinstance(h, str) for h in hosts):
        raise ConfigError(f"{section._where('allow_http_hosts')}: expected host names")
    config = WebhooksConfig(
        allow_http_hosts=frozenset(h.lower() for h in hosts),
        allow_networks=tuple(networks),
        retry_hours=section.positive("retry_hours", float, 24.0),
        concurrency=section.positive("concurrency", int, 4),
        timeout_s=section.positive("timeout_s", float, 10.0),
        rotation_overlap_h=section.positive("rotation_overlap_h", float, 24.0),
    )
    section.done()
    return config
