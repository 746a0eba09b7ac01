"""Configuration of payment platforms: tenants, their sender IDs, webhooks and CAMARA access."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

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


def parse_camara(section: Section) -> CamaraConfig:
    config = CamaraConfig(
        max_age_h=section.positive("max_age_h", int, 2400),
        monitored_days=section.positive("monitored_days", int, 30),
        token_lifetime_s=section.positive("token_lifetime_s", float, 3600.0),
    )
    if config.max_age_h > 2400:
        raise ConfigError(f"{section._where('max_age_h')}: at most 2400 (CAMARA's limit)")
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
        tenants.append(
            TenantConfig(
                name=name,
                senders=senders,
                camara=section.get("camara", bool, False),
                camara_quota_per_minute=section.positive("camara_quota_per_minute", int, 60),
                relation_days=section.positive("relation_days", float, 30.0),
            )
        )
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
