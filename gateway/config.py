"""The configuration tree: read one TOML file, validate every key once, fail with file and key.

Nothing else in otpgate reads configuration files or environment variables: secrets named
by ``*_env`` and ``*_file`` keys are resolved here, at start-up.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import phonenumbers

from .config_camara_jwt import check_clients
from .config_reader import ConfigError, Section
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
from .signals.risk_index import RiskConfig


@dataclass(frozen=True, slots=True)
class AccountConfig:
    system_id: str
    password_hash: str
    tenant: str | None = None
    max_binds: int = 4
    window: int = 100
    max_tps: float | None = None
    allowed_ips: tuple[str, ...] = ()
    route: str | None = None
    upstream_system_id: str | None = None
    upstream_password: str | None = None
    otp_only: bool = False  # a dedicated OTP bind: any code is an OTP, wording or not
    gsm7_packed: bool = False
    default_alphabet: str = "gsm7"  # what data_coding 0 means for this account
    # The receipt mapping is on disk before the ESME learns the gateway's id, so no receipt
    # is lost to a crash; false answers first and writes within 10 ms (faster, less safe).
    map_before_ack: bool = True


@dataclass(frozen=True, slots=True)
class RouteConfig:
    name: str
    hosts: tuple[tuple[str, int], ...] = ()
    system_id: str = ""
    password: str = ""
    system_type: str = ""
    bind_mode: str = "trx"  # "trx" or "tx+rx"
    binds: int = 1
    window: int = 100
    queue: int = 1000
    response_timeout_s: float = 10.0
    enquire_link_interval_s: float = 30.0
    reconnect_min_s: float = 0.5
    reconnect_max_s: float = 30.0
    simulator: bool = False


@dataclass(frozen=True, slots=True)
class SmppConfig:
    host: str = "127.0.0.1"
    port: int = 2775
    tls_port: int | None = None
    tls_cert_file: str | None = None
    tls_key_file: str | None = None
    accounts: tuple[AccountConfig, ...] = ()
    routes: tuple[RouteConfig, ...] = ()
    message_id_format: str = "decimal"
    mo_account: str | None = None
    max_pdu_bytes: int = 64 * 1024
    enquire_link_interval_s: float = 30.0
    inactivity_timeout_s: float = 300.0
    bind_failures_before_lockout: int = 5  # per peer address
    bind_failures_per_account: int = 20  # per system_id, whatever the address
    lockout_s: float = 60.0
    # Connections in all and per peer address; past either, a connection is closed at once.
    max_connections: int = 5000
    max_connections_per_address: int = 200
    bind_timeout_s: float = 10.0  # an unbound connection is closed this long after it opened
    # Output buffered for a peer that does not read: past a quarter, its requests wait;
    # past all of it, or paused this long, it is disconnected.
    max_output_bytes: int = 1024 * 1024
    slow_reader_timeout_s: float = 30.0
    protocol_error_log_lines: int = 10  # per connection; then one line a minute with a count
    receipt_buffer_s: float = 30.0
    reassembly_timeout_s: float = 5.0  # parts of a concatenated message wait this long


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
class MqttConfig:
    """The operator's broker; signals arrive on ``<prefix>/signals/<kind>``."""

    host: str
    port: int = 1883
    prefix: str = "otpgate"
    client_id: str = "otpgate"
    username: str | None = None
    password: str | None = None
    tls: bool = False
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    keepalive_s: int = 30
    reconnect_min_s: float = 0.5
    reconnect_max_s: float = 30.0


@dataclass(frozen=True, slots=True)
class SignalsConfig:
    default_region: str | None = None  # ISO alpha-2 for national forms of MSISDNs
    risk: RiskConfig = field(default_factory=RiskConfig)
    mqtt: MqttConfig | None = None
    # A feed silent this long, or a broker unreachable this long, is a signal outage.
    max_silence_s: float | None = None
    outage_after_s: float = 60.0


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


def _host_port(section: Section, key: str, text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"{section._where(key)}: expected 'host:port', got {text!r}")
    return host, int(port)


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

    smpp = _parse_smpp(root.table("smpp"))

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
    signals = _parse_signals(root.table("signals"), node_id)
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


def _parse_signals(section: Section, node_id: str) -> SignalsConfig:
    region = section.get("default_region", str)
    if region is not None and region.upper() not in phonenumbers.SUPPORTED_REGIONS:
        raise ConfigError(f"{section._where('default_region')}: unknown region {region!r}")
    risk = section.table("risk")
    partners = risk.get("roaming_partners", list)
    values = {
        "min_travel_s": risk.get("min_travel_s", float, 7200.0),
        "anomaly_horizon_s": risk.get("anomaly_horizon_s", float, 86400.0),
        "imsi_allow_prefixes": tuple(risk.get("imsi_allow_prefixes", list, [])),
        "watch_networks": frozenset(risk.get("watch_networks", list, [])),
        "roaming_partners": None if partners is None else frozenset(partners),
        "home_networks": frozenset(risk.get("home_networks", list, [])),
    }
    risk.done()
    try:
        risk_config = RiskConfig(**values)
    except (TypeError, ValueError) as error:  # RiskConfig's messages start with the field
        raise ConfigError(f"{risk._where(str(error))}") from None
    mqtt = None
    if "mqtt" in section.data:
        m = section.table("mqtt")
        tls = m.get("tls", bool, False)
        mqtt = MqttConfig(
            host=m.get("host", str, "127.0.0.1"),
            port=m.get("port", int, 8883 if tls else 1883),
            prefix=m.get("prefix", str, "otpgate").strip("/"),
            client_id=m.get("client_id", str, f"otpgate-{node_id}"),
            username=m.get("username", str),
            password=m.secret("password"),
            tls=tls,
            ca_file=m.get("ca_file", str),
            cert_file=m.get("cert_file", str),
            key_file=m.get("key_file", str),
            keepalive_s=m.positive("keepalive_s", int, 30),
            reconnect_min_s=m.positive("reconnect_min_s", float, 0.5),
            reconnect_max_s=m.positive("reconnect_max_s", float, 30.0),
        )
        if mqtt.cert_file and not mqtt.key_file:
            raise ConfigError(f"{m._where('cert_file')}: needs key_file")
        m.done()
    signals = SignalsConfig(
        default_region=region.upper() if region else None,
        risk=risk_config,
        mqtt=mqtt,
        max_silence_s=section.positive("max_silence_s", float, None),
        outage_after_s=section.positive("outage_after_s", float, 60.0),
    )
    section.done()
    return signals


def _parse_smpp(smpp: Section) -> SmppConfig:
    listen = smpp.table("listen")
    host = listen.get("host", str, "127.0.0.1")
    port = listen.get("port", int, 2775)
    tls_port = listen.get("tls_port", int)
    tls_cert = listen.get("tls_cert_file", str)
    tls_key = listen.get("tls_key_file", str)
    if tls_port is not None and not (tls_cert and tls_key):
        raise ConfigError(f"{listen._where('tls_port')}: needs tls_cert_file and tls_key_file")
    listen.done()

    routes = _parse_routes(smpp)
    route_names = {r.name for r in routes}
    accounts = []
    for section in smpp.tables("accounts"):
        accounts.append(_parse_account(section, route_names))
    names = [a.system_id for a in accounts]
    for name in names:
        if names.count(name) > 1:
            raise ConfigError(f"{smpp.source}: smpp.accounts: system_id {name!r} appears twice")
    mo_account = smpp.get("mo_account", str)
    if mo_account is not None and mo_account not in names:
        raise ConfigError(f"{smpp._where('mo_account')}: no account {mo_account!r}")
    config = SmppConfig(
        host=host,
        port=port,
        tls_port=tls_port,
        tls_cert_file=tls_cert,
        tls_key_file=tls_key,
        accounts=tuple(accounts),
        routes=routes,
        message_id_format=smpp.choice("message_id_format", ("decimal", "hex"), "decimal"),
        mo_account=mo_account,
        max_pdu_bytes=smpp.positive("max_pdu_bytes", int, 64 * 1024),
        enquire_link_interval_s=smpp.positive("enquire_link_interval_s", float, 30.0),
        inactivity_timeout_s=smpp.positive("inactivity_timeout_s", float, 300.0),
        bind_failures_before_lockout=smpp.positive("bind_failures_before_lockout", int, 5),
        bind_failures_per_account=smpp.positive("bind_failures_per_account", int, 20),
        lockout_s=smpp.positive("lockout_s", float, 60.0),
        max_connections=smpp.positive("max_connections", int, 5000),
        max_connections_per_address=smpp.positive("max_connections_per_address", int, 200),
        bind_timeout_s=smpp.positive("bind_timeout_s", float, 10.0),
        max_output_bytes=smpp.positive("max_output_bytes", int, 1024 * 1024),
        slow_reader_timeout_s=smpp.positive("slow_reader_timeout_s", float, 30.0),
        protocol_error_log_lines=smpp.positive("protocol_error_log_lines", int, 10),
        receipt_buffer_s=smpp.positive("receipt_buffer_s", float, 30.0),
        reassembly_timeout_s=smpp.positive("reassembly_timeout_s", float, 5.0),
    )
    smpp.done()
    return config


def _parse_routes(smpp: Section) -> tuple[RouteConfig, ...]:
    upstream = smpp.table("upstream")
    sections = upstream.tables("routes")
    single = {k: v for k, v in upstream.data.items() if k != "routes"}
    if sections and single:
        raise ConfigError(
            f"{upstream._where(sorted(single)[0])}: use either one route in [smpp.upstream] "
            "or several in [[smpp.upstream.routes]], not both"
        )
    if not sections:
        sections = [upstream] if single else []
    routes = tuple(_parse_route(s, i) for i, s in enumerate(sections))
    if not sections:
        upstream.done()
    if not routes:
        raise ConfigError(
            f"{smpp.source}: smpp.upstream: no route (set host and port, or simulator = true)"
        )
    names = [r.name for r in routes]
    if len(set(names)) != len(names):
        raise ConfigError(f"{smpp.source}: smpp.upstream.routes: route names must be unique")
    return routes


def _parse_route(section: Section, index: int) -> RouteConfig:
    simulator = section.get("simulator", bool, False)
    hosts: list[tuple[str, int]] = []
    host = section.get("host", str)
    if host is not None:
        hosts.append((host, section.get("port", int, 2775)))
    else:
        section.get("port", int)
    for i, item in enumerate(section.get("hosts", list, [])):
        if not isinstance(item, str):
            raise ConfigError(f"{section._where(f'hosts[{i}]')}: expected 'host:port'")
        hosts.append(_host_port(section, f"hosts[{i}]", item))
    if not hosts and not simulator:
        raise ConfigError(f"{section._where('host')}: required (or hosts, or simulator = true)")
    route = RouteConfig(
        name=section.get("name", str, "default" if index == 0 else f"route{index}"),
        hosts=tuple(hosts),
        system_id=section.get("system_id", str, "otpgate"),
        password=section.secret("password") or "",
        system_type=section.get("system_type", str, ""),
        bind_mode=section.choice("bind_mode", ("trx", "tx+rx"), "trx"),
        binds=section.positive("binds", int, 1),
        window=section.positive("window", int, 100),
        queue=section.get("queue", int, 1000),
        response_timeout_s=section.positive("response_timeout_s", float, 10.0),
        enquire_link_interval_s=section.positive("enquire_link_interval_s", float, 30.0),
        reconnect_min_s=section.positive("reconnect_min_s", float, 0.5),
        reconnect_max_s=section.positive("reconnect_max_s", float, 30.0),
        simulator=simulator,
    )
    section.done()
    return route


def _parse_account(section: Section, route_names: set[str]) -> AccountConfig:
    system_id = section.get("system_id", str)
    if not system_id or len(system_id) > 15:
        raise ConfigError(f"{section._where('system_id')}: required, 1 to 15 characters")
    password_hash = section.get("password_hash", str)
    if password_hash is None:
        password = section.secret("password")
        if password is None:
            raise ConfigError(
                f"{section._where('password_hash')}: required (or password_env / password_file)"
            )
        from .passwords import hash_password  # config resolves secrets once, at load

        password_hash = hash_password(password)
    elif not password_hash.startswith("scrypt$"):
        raise ConfigError(
            f"{section._where('password_hash')}: expected the output of 'otpgate hash-password'"
        )
    route = section.get("route", str)
    if route is not None and route not in route_names:
        raise ConfigError(f"{section._where('route')}: no route named {route!r}")
    upstream_system_id = section.get("upstream_system_id", str)
    upstream_password = section.secret("upstream_password")
    if upstream_system_id and upstream_password is None:
        raise ConfigError(
            f"{section._where('upstream_password_env')}: required with upstream_system_id"
        )
    allowed = section.get("allowed_ips", list, [])
    account = AccountConfig(
        system_id=system_id,
        password_hash=password_hash,
        tenant=section.get("tenant", str),
        max_binds=section.positive("max_binds", int, 4),
        window=section.positive("window", int, 100),
        max_tps=section.positive("max_tps", float, None),
        allowed_ips=tuple(str(ip) for ip in allowed),
        route=route,
        upstream_system_id=upstream_system_id,
        upstream_password=upstream_password,
        otp_only=section.get("otp_only", bool, False),
        gsm7_packed=section.get("gsm7_packed", bool, False),
        default_alphabet=section.choice("default_alphabet", ("gsm7", "latin1", "ia5"), "gsm7"),
        map_before_ack=section.get("map_before_ack", bool, True),
    )
    section.done()
    return account
