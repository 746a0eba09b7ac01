"""The configuration tree: read one TOML file, validate every key once, fail with file and key.

Nothing else in otpgate reads configuration files or environment variables: secrets named
by ``*_env`` and ``*_file`` keys are resolved here, at start-up. The larger tables are read
beside this file: ``config_smpp.py`` ([smpp]), ``config_signals.py`` ([signals]),
``config_tenants.py`` ([[tenants]], [webhooks], [camara]), ``config_camara_jwt.py``.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .config_camara_jwt import check_clients
from .config_reader import ConfigError, Section
from .config_signals import MqttConfig, SignalsConfig, parse_signals
from .config_smpp import AccountConfig, RouteConfig, SmppConfig, parse_smpp
from .config_tenants import (
    CamaraConfig,
    TenantConfig,
    WebhooksConfig,
    parse_camara,
    parse_tenants,
    parse_webhooks,
)
from .holds.sealing import parse_key
from .peers.config import PeerConfig, parse_number_ranges, parse_peers

# The sections parsed in modules of their own are named here too: the whole tree is one import.
__all__ = [
    "AccountConfig",
    "ApiConfig",
    "ClusterConfig",
    "Config",
    "ConfigError",
    "HoldsConfig",
    "MqttConfig",
    "RetentionConfig",
    "RouteConfig",
    "SignalsConfig",
    "SimulatorSettings",
    "SmppConfig",
    "load_config",
    "parse_config",
]


@dataclass(frozen=True, slots=True)
class SimulatorSettings:
    """The in-process SMSC simulator used when a route says ``simulator = true``."""

    receipt_delay_s: float = 0.2
    port: int = 0


@dataclass(frozen=True, slots=True)
class ApiConfig:
    host: str = "127.0.0.1"
    port: int = 8080
    operator_key: str | None = None
    # The tenant API (payment platforms) listens apart from the operator's.
    tenant_host: str = "127.0.0.1"
    tenant_port: int = 8081
    # Pepper of the tenant API keys' SHA-256; None: a file in data_dir (trials only).
    key_pepper: str | None = None


@dataclass(frozen=True, slots=True)
class RetentionConfig:
    message_map_h: float = 72.0
    pending_receipts_h: float = 72.0  # receipts waiting for an ESME that never binds
    location_h: float = 48.0
    signals_days: float = 30.0
    holds_days: float = 90.0  # holds in a final state, with their history
    webhook_days: float = 30.0  # delivered and dead-lettered webhook events, with attempts
    audit_days: float = 365.0  # decision and CAMARA query audit
    purge_interval_s: float = 3600.0


@dataclass(frozen=True, slots=True)
class HoldsConfig:
    # AES-256 keys as base64; the first seals, all open (rotation). None: a key file is
    # created in data_dir on first start (fine for a trial, not for production).
    keys: tuple[str, ...] | None = None
    max_per_account: int = 10_000
    max_total: int = 100_000
    over_limit: str = "deliver"
    retry_max_s: float = 30.0


@dataclass(frozen=True, slots=True)
class ClusterConfig:
    """Nodes sharing one broker: every node id, and the secret that signs their commands."""

    nodes: tuple[str, ...] = ()
    secret: str | None = None


@dataclass(frozen=True, slots=True)
class Config:
    source: str = "<embedded defaults>"
    node_id: str = "node-1"
    data_dir: Path = Path("otpgate-data")
    smpp: SmppConfig = field(default_factory=SmppConfig)
    api: ApiConfig = field(default_factory=ApiConfig)
    simulator: SimulatorSettings = field(default_factory=SimulatorSettings)
    log_level: str = "info"
    log_format: str = "json"
    retention: RetentionConfig = field(default_factory=RetentionConfig)
    signals: SignalsConfig = field(default_factory=SignalsConfig)
    holds: HoldsConfig = field(default_factory=HoldsConfig)
    tenants: tuple[TenantConfig, ...] = ()
    webhooks: WebhooksConfig = field(default_factory=WebhooksConfig)
    camara: CamaraConfig = field(default_factory=CamaraConfig)
    cluster: ClusterConfig = field(default_factory=ClusterConfig)
    policy_file: Path | None = None  # None: the shipped policies/default.toml
    policy_enabled: bool = True  # False: pure pass-through, no message is classified
    # Other operators' CAMARA APIs, asked about their numbers at decision time.
    camara_peers: tuple[PeerConfig, ...] = ()


_SECTIONS = frozenset(
    {
        "node",
        "smpp",
        "api",
        "simulator",
        "logging",
        "retention",
        "policy",
        "signals",
        "holds",
        "tenants",
        "webhooks",
        "camara",
        "cluster",
        "camara_peers",
        "number_ranges",
    }
)
# Forms other configurations (and earlier versions) use, with the one this file takes.
_USE_INSTEAD = {
    "tenant_api": "[api] tenant_host and tenant_port",
    "mqtt": "[signals.mqtt] host, port, prefix, client_id, username, password_env",
}


def load_config(path: str | Path) -> Config:
    """Read and validate a configuration file."""
    source = str(path)
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except OSError as error:
        raise ConfigError(f"{source}: cannot read: {error.strerror}") from error
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{source}: not valid TOML: {error}") from error
    return parse_config(data, source=source)


def parse_config(data: dict[str, Any], *, source: str = "<config>") -> Config:
    """The configuration, or one ConfigError naming every mistake found (one per line): the
    typing and range mistakes and unknown keys of the whole file, then the first mistake
    that stops the reading."""
    root = Section(source, "", data)
    try:
        config = _parse(root, data, source)
    except ConfigError as error:
        root.problems.append(str(error))
    root.check()
    return config


def _parse(root: Section, data: dict[str, Any], source: str) -> Config:
    # Unknown top-level tables first: a misspelt section explains the errors that would follow.
    for key in data:
        if key in _USE_INSTEAD:
            raise ConfigError(
                f"{source}: [{key}]: not a section of this file; use {_USE_INSTEAD[key]}"
            )
        if key not in _SECTIONS:
            raise ConfigError(f"{source}: {key}: unknown key")
    node = root.table("node")
    node_id = node.get("id", str, "node-1")
    data_dir = Path(node.get("data_dir", str, "otpgate-data"))
    node.done()

    smpp = parse_smpp(root.table("smpp"))

    api = root.table("api")
    api_config = ApiConfig(
        host=api.get("host", str, "127.0.0.1"),
        port=api.get("port", int, 8080),
        operator_key=api.secret("operator_key"),
        tenant_host=api.get("tenant_host", str, "127.0.0.1"),
        tenant_port=api.get("tenant_port", int, 8081),
        key_pepper=api.secret("key_pepper"),
    )
    api.done()
    account_ids = {a.system_id for a in smpp.accounts}
    tenants = parse_tenants(root.tables("tenants"), account_ids)
    if tenants:
        defined = {t.name for t in tenants}
        for index, account in enumerate(smpp.accounts):
            if account.tenant is not None and account.tenant not in defined:
                raise ConfigError(
                    f"{source}: smpp.accounts[{index}].tenant: no [[tenants]] named {account.tenant!r}"
                )
    else:  # tenants named by accounts only: defined implicitly, with defaults
        names = sorted({a.tenant for a in smpp.accounts if a.tenant})
        tenants = tuple(TenantConfig(name) for name in names)
    webhooks = parse_webhooks(root.table("webhooks"))
    camara = parse_camara(root.table("camara"))
    if camara.jwt is not None:
        where = f"{source}: camara.jwt"
        root.problems.extend(check_clients(where, camara.jwt, {t.name for t in tenants}))
    peers = parse_peers(
        root.tables("camara_peers"), parse_number_ranges(root.table("number_ranges"))
    )
    section = root.table("cluster")
    cluster = ClusterConfig(
        nodes=tuple(section.get("nodes", list, [])), secret=section.secret("secret")
    )
    if cluster.nodes:
        if node_id not in cluster.nodes:
            raise ConfigError(f"{section._where('nodes')}: must list this node, {node_id!r}")
        if cluster.secret is None:
            raise ConfigError(f"{section._where('secret_env')}: required for a cluster")
        # The node's number is in every gateway id: two nodes with one number would issue
        # the same ids and send each other's holds' commands to the wrong owner.
        from .traffic.message_ids import node_number

        numbers: dict[int, str] = {}
        for name in cluster.nodes:
            other = numbers.setdefault(node_number(name), name)
            if other != name:
                raise ConfigError(
                    f"{section._where('nodes')}: node ids {other!r} and {name!r} share the node "
                    f"number {node_number(name)} in message ids: rename one"
                )
    cluster_where = section._where("nodes")
    section.done()

    sim = root.table("simulator")
    simulator = SimulatorSettings(
        receipt_delay_s=sim.get("receipt_delay_s", float, 0.2), port=sim.get("port", int, 0)
    )
    sim.done()

    logging = root.table("logging")
    level = logging.choice("level", ("debug", "info", "warning", "error"), "info")
    log_format = logging.choice("format", ("json", "console"), "json")
    logging.done()

    section = root.table("retention")
    retention = RetentionConfig(
        message_map_h=section.positive("message_map_h", float, 72.0),
        pending_receipts_h=section.positive("pending_receipts_h", float, 72.0),
        location_h=section.positive("location_h", float, 48.0),
        signals_days=section.positive("signals_days", float, 30.0),
        holds_days=section.positive("holds_days", float, 90.0),
        webhook_days=section.positive("webhook_days", float, 30.0),
        audit_days=section.positive("audit_days", float, 365.0),
        purge_interval_s=section.positive("purge_interval_s", float, 3600.0),
    )
    section.done()
    signals = parse_signals(root.table("signals"), node_id)
    if cluster.nodes and signals.mqtt is None:
        raise ConfigError(f"{cluster_where}: a cluster needs [signals.mqtt] (the broker)")
    holds = _parse_holds(root.table("holds"))

    policy = root.table("policy")
    policy_file = policy.get("file", str)
    policy_enabled = policy.get("enabled", bool, True)
    policy.done()
    root.done()
    if api_config.operator_key is None:
        # Checked last, so that a file's other mistakes are named first. Without a key every
        # operator call, /metrics included, would answer 401: refuse to start instead.
        raise ConfigError(
            f"{source}: api.operator_key_env: required (operator_key_env or "
            "operator_key_file): the operator API and /metrics need a key"
        )
    return Config(
        source=source,
        node_id=node_id,
        data_dir=data_dir,
        smpp=smpp,
        api=api_config,
        simulator=simulator,
        log_level=level,
        log_format=log_format,
        retention=retention,
        signals=signals,
        holds=holds,
        tenants=tenants,
        webhooks=webhooks,
        camara=camara,
        cluster=cluster,
        policy_file=Path(policy_file) if policy_file else None,
        policy_enabled=policy_enabled,
        camara_peers=peers,
    )


def _parse_holds(section: Section) -> HoldsConfig:
    key = section.secret("key")
    previous = section.secret("previous_keys")
    keys = None
    if key is not None:
        keys = (key, *(k.strip() for k in (previous or "").split(",") if k.strip()))
        for name, text in zip(("key", *["previous_keys"] * (len(keys) - 1)), keys, strict=True):
            try:
                parse_key(text)
            except ValueError as error:
                raise ConfigError(f"{section._where(name)}: {error}") from None
    elif previous is not None:
        raise ConfigError(f"{section._where('previous_keys_env')}: needs key_env or key_file")
    holds = HoldsConfig(
        keys=keys,
        max_per_account=section.positive("max_per_account", int, 10_000),
        max_total=section.positive("max_total", int, 100_000),
        over_limit=section.choice("over_limit", ("deliver", "reject"), "deliver"),
        retry_max_s=section.positive("retry_max_s", float, 30.0),
    )
    section.done()
    return holds
