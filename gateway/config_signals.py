"""The [signals] table of the configuration: the risk index's settings, the operator's MQTT
broker, and when a silent feed counts as an outage."""

from __future__ import annotations

from dataclasses import dataclass, field

import phonenumbers

from .config_reader import ConfigError, Section
from .signals.risk_index import RiskConfig


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


def parse_signals(section: Section, node_id: str) -> SignalsConfig:
    """The [signals] table: the risk settings, the broker, when a silent feed is an outage."""
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
