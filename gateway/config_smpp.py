"""The [smpp] table of the configuration: the ESME-side listeners, the upstream routes to the
operator's SMSC, and the accounts ESMEs bind with."""

from __future__ import annotations

from dataclasses import dataclass

from .config_reader import ConfigError, Section


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


def _host_port(section: Section, key: str, text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"{section._where(key)}: expected 'host:port', got {text!r}")
    return host, int(port)


def parse_smpp(smpp: Section) -> SmppConfig:
    """The [smpp] table: the listeners, the upstream routes and the ESME accounts."""
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
