"""Configuration: the documented example loads, and every mistake names the file and the key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gateway.accounts import hash_password, verify_password
from gateway.config import ConfigError, load_config, parse_config

EXAMPLE = Path(__file__).parents[2] / "deploy" / "gateway.example.toml"
HASH = "scrypt$16384$8$1$c2FsdA==$aGFzaA=="


def test_documented_example_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTPGATE_UPSTREAM_PASSWORD", "secret")
    monkeypatch.setenv("OTPGATE_OPERATOR_KEY", "key")
    monkeypatch.setenv("OTPGATE_MQTT_PASSWORD", "mqtt-secret")
    monkeypatch.setenv("OTPGATE_HOLD_KEY", "A" * 43 + "=")
    monkeypatch.setenv("OTPGATE_KEY_PEPPER", "pepper")
    config = load_config(EXAMPLE)
    assert config.smpp.routes[0].hosts == (("smsc1.operator.example", 2775),)
    assert config.smpp.routes[0].password == "secret"
    assert config.api.operator_key == "key"
    assert config.smpp.accounts[0].allowed_ips == ("10.20.0.0/24",)
    assert config.signals.mqtt is not None and config.signals.mqtt.password == "mqtt-secret"
    assert config.signals.default_region == "GB"
    assert config.retention.location_h == 48
    assert config.holds.keys == ("A" * 43 + "=",) and config.holds.over_limit == "deliver"
    assert [t.name for t in config.tenants] == ["paybank", "otherbank"]
    assert config.tenants[1].senders == {"paybank": ("OTHERBNK",)}
    assert config.api.tenant_port == 8081 and config.camara.max_age_h == 2400


def test_a_file_without_an_operator_key_is_refused_naming_the_key() -> None:
    # Started anyway, every operator call and /metrics would answer 401 without a word.
    with pytest.raises(ConfigError, match=r"^gw.toml: api.operator_key_env: required"):
        parse_config(_minimal(), source="gw.toml")


@pytest.mark.parametrize(
    ("signals", "message"),
    [
        ({"default_region": "XX"}, "signals.default_region: unknown region"),
        ({"risk": {"watch_networks": ["23415"]}}, "signals.risk.watch_networks"),
        ({"risk": {"min_travel_s": -1}}, "signals.risk.min_travel_s"),
        ({"mqtt": {"host": "broker", "password": "in-the-file"}}, "signals.mqtt.password: secrets"),
        (
            {"mqtt": {"host": "broker", "cert_file": "c.pem"}},
            "signals.mqtt.cert_file: needs key_file",
        ),
        ({"mqtt": {"hostname": "broker"}}, "signals.mqtt.hostname: unknown key"),
        ({"max_silence_s": 0}, "signals.max_silence_s: must be greater than 0"),
    ],
)
def test_signal_settings_errors_name_the_key(signals: dict, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config({**_minimal(), "signals": signals}, source="gw.toml")
    assert str(caught.value).startswith("gw.toml: ") and message in str(caught.value)


def _minimal(**smpp: object) -> dict:
    return {"smpp": {"upstream": {"simulator": True}, **smpp}}


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"nodes": {}}, "f.toml: nodes: unknown key"),
        ({"node": {"id": 5}}, "f.toml: node.id: expected a string, got 5"),
        ({"smpp": {}}, "f.toml: smpp.upstream: no route"),
        (
            {"smpp": {"upstream": {"host": "h", "bind_mode": "tx"}}},
            "f.toml: smpp.upstream.bind_mode: expected one of trx, tx+rx",
        ),
        (
            {"smpp": {"upstream": {"simulator": True, "password": "x"}}},
            "f.toml: smpp.upstream.password: secrets are never written",
        ),
        (
            {"smpp": {"upstream": {"simulator": True, "password_env": "OTPGATE_TEST_UNSET"}}},
            "OTPGATE_TEST_UNSET is not set",
        ),
        (
            {"smpp": {"upstream": {"simulator": True, "window": 0}}},
            "smpp.upstream.window: must be greater than 0",
        ),
        (
            {"smpp": {"upstream": {"hosts": ["nohost"]}}},
            "smpp.upstream.hosts[0]: expected 'host:port'",
        ),
        (_minimal(accounts=[{"system_id": "a"}]), "smpp.accounts[0].password_hash: required"),
        (
            _minimal(accounts=[{"system_id": "a", "password_hash": "plain"}]),
            "expected the output of 'otpgate hash-password'",
        ),
        (
            _minimal(accounts=[{"system_id": "a", "password_hash": HASH, "route": "x"}]),
            "smpp.accounts[0].route: no route named 'x'",
        ),
        (
            _minimal(accounts=[{"system_id": "a", "password_hash": HASH, "colour": 1}]),
            "smpp.accounts[0].colour: unknown key",
        ),
        (
            _minimal(accounts=[{"system_id": "a" * 16, "password_hash": HASH}]),
            "smpp.accounts[0].system_id: required, 1 to 15",
        ),
        (_minimal(mo_account="nobody"), "smpp.mo_account: no account 'nobody'"),
        (
            _minimal(message_id_format="uuid"),
            "smpp.message_id_format: expected one of decimal, hex",
        ),
        ({"logging": {"level": "loud"}, **_minimal()}, "logging.level: expected one of"),
    ],
)
def test_errors_name_file_and_key(data: dict, expected: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_config(data, source="f.toml")
    assert expected in str(error.value)


def test_both_route_forms_refused() -> None:
    data = {"smpp": {"upstream": {"host": "h", "routes": [{"name": "r", "simulator": True}]}}}
    with pytest.raises(ConfigError, match="either one route"):
        parse_config(data, source="f.toml")


def test_unreadable_and_invalid_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[node\n")
    with pytest.raises(ConfigError, match=r"bad\.toml: not valid TOML"):
        load_config(bad)


def test_password_hash_round_trip() -> None:
    stored = hash_password("s3cret")
    assert stored.startswith("scrypt$") and "s3cret" not in stored
    assert verify_password("s3cret", stored)
    assert not verify_password("s3creT", stored)
    assert not verify_password("s3cret", "scrypt$garbage")


@pytest.mark.parametrize(
    ("data", "names"),
    [
        ({"tenant_api": {"port": 9443}}, "[api] tenant_host and tenant_port"),
        ({"mqtt": {"url": "mqtt://broker:1883"}}, "[signals.mqtt] host, port"),
        (
            {"tenants": [{"name": "a", "accounts": ["bank"]}]},
            "tenant = ... in its [[smpp.accounts]]",
        ),
        ({"tenants": [{"name": "a", "sender_ids": ["A"]}]}, "senders = {"),
        ({"webhooks": {"allow_private_addresses": ["127.0.0.1"]}}, "use allow_networks"),
    ],
)
def test_one_form_per_key_the_others_name_the_key_to_use(data: dict, names: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(names)):
        parse_config({**_minimal(), **data}, source="gw.toml")


def test_the_documented_forms_of_the_shared_interfaces(monkeypatch: pytest.MonkeyPatch) -> None:
    """[api] tenant_host/tenant_port, [signals.mqtt], [[tenants]] senders with an account's
    tenant, [webhooks] allow_networks: DESIGN.md's names, and the only ones."""
    monkeypatch.setenv("MQTT_PASSWORD", "secret")
    monkeypatch.setenv("OPERATOR_KEY", "key")
    config = parse_config(
        {
            **_minimal(
                accounts=[
                    {"system_id": "agg", "password_hash": HASH},
                    {"system_id": "bank", "password_hash": HASH, "tenant": "bank"},
                ]
            ),
            "api": {
                "tenant_host": "0.0.0.0",
                "tenant_port": 9443,
                "operator_key_env": "OPERATOR_KEY",
            },
            "signals": {
                "mqtt": {
                    "host": "broker.example",
                    "port": 8884,
                    "tls": True,
                    "prefix": "op/otp",
                    "client_id": "gw-1",
                    "username": "otpgate",
                    "password_env": "MQTT_PASSWORD",
                }
            },
            "tenants": [
                {"name": "bank-a", "senders": {"agg": ["BankA"]}, "camara": True},
                {"name": "bank"},
            ],
            "webhooks": {"allow_http_hosts": ["127.0.0.1"], "allow_networks": ["127.0.0.1"]},
        },
        source="gw.toml",
    )
    assert (config.api.tenant_host, config.api.tenant_port) == ("0.0.0.0", 9443)
    mqtt = config.signals.mqtt
    assert mqtt is not None and (mqtt.host, mqtt.port, mqtt.tls) == ("broker.example", 8884, True)
    assert (mqtt.prefix, mqtt.client_id, mqtt.username, mqtt.password) == (
        "op/otp",
        "gw-1",
        "otpgate",
        "secret",
    )
    a, _ = config.tenants
    assert a.senders == {"agg": ("BankA",)} and a.camara
    assert [str(n) for n in config.webhooks.allow_networks] == ["127.0.0.1/32"]
    from gateway.tenants.directory import TenantDirectory

    directory = TenantDirectory(config.tenants, config.smpp.accounts)
    assert directory.tenant_of("agg", "BankA") == "bank-a"
    assert directory.tenant_of("agg", "Other") is None
    assert directory.tenant_of("bank", "Anything") == "bank"


def test_every_mistake_of_a_file_is_named_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # A typo must not hide behind another mistake: one start names them all, a line each.
    monkeypatch.setenv("OPERATOR_KEY", "key")
    data = {
        "smpp": {"upstream": {"simulator": True}, "enquire_link_intervall_s": 30},
        "api": {"port": "8080", "operator_key_env": "OPERATOR_KEY"},
        "logging": {"level": "loud"},
    }
    with pytest.raises(ConfigError) as caught:
        parse_config(data, source="gw.toml")
    lines = str(caught.value).splitlines()
    assert len(lines) == 3 and all(line.startswith("gw.toml: ") for line in lines)
    text = str(caught.value)
    assert "smpp.enquire_link_intervall_s: unknown key" in text
    assert "api.port: expected an integer, got '8080'" in text
    assert "logging.level: expected one of" in text


def test_the_documented_peers_load(monkeypatch: pytest.MonkeyPatch) -> None:
    """The commented [[camara_peers]] example of the example file, uncommented, is valid."""
    import tomllib

    from gateway.config_reader import Section
    from gateway.peers.config import parse_number_ranges, parse_peers

    text = EXAMPLE.read_text()
    block = text[text.index("# [number_ranges]") : text.index("\n[logging]")]
    data = tomllib.loads("\n".join(line[2:] for line in block.splitlines()))
    monkeypatch.setenv("OTPGATE_PEER_DTAG_SECRET", "s3cret")
    root = Section("gateway.example.toml", "", data)
    (peer,) = parse_peers(
        root.tables("camara_peers"), parse_number_ranges(root.table("number_ranges"))
    )
    root.check()
    assert peer.prefixes[0] == "+4915" and "+49151" in peer.prefixes
    assert peer.client_secret == "s3cret" and peer.timeout_s == 0.5


def _with_key() -> dict:
    return {**_minimal(), "api": {"operator_key_env": "OPERATOR_KEY"}}


def test_camara_number_ranges_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPERATOR_KEY", "key")
    camara = {"own_ranges": ["+4474", "+4475"], "not_applicable_ranges": ["+447499"]}
    config = parse_config({**_with_key(), "camara": camara}, source="gw.toml")
    assert config.camara.own_ranges == ("+4474", "+4475")
    assert config.camara.not_applicable_ranges == ("+447499",)
    assert parse_config(_with_key(), source="gw.toml").camara.own_ranges == ()


@pytest.mark.parametrize(
    ("camara", "message"),
    [
        ({"own_ranges": ["4474"]}, "gw.toml: camara.own_ranges: expected E.164 prefixes"),
        ({"own_ranges": ["+0744"]}, "gw.toml: camara.own_ranges: expected E.164 prefixes"),
        ({"own_ranges": [4474]}, "gw.toml: camara.own_ranges: expected E.164 prefixes"),
        ({"own_ranges": "+4474"}, "gw.toml: camara.own_ranges: expected a list"),
        ({"not_applicable_ranges": ["+44 74"]}, "gw.toml: camara.not_applicable_ranges: expected"),
        (
            {"own_ranges": ["+4474"], "not_applicable_ranges": ["+4475"]},
            "gw.toml: camara.not_applicable_ranges: '+4475' is outside own_ranges",
        ),
    ],
)
def test_camara_number_range_errors_name_the_file_and_the_field(
    camara: dict, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPERATOR_KEY", "key")
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse_config({**_with_key(), "camara": camara}, source="gw.toml")


def test_camara_server_rate_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPERATOR_KEY", "key")
    read = parse_config({**_with_key(), "camara": {"server_rate_per_s": 2500}}, source="gw.toml")
    assert (read.camara.server_rate_per_s, read.camara.server_burst) == (2500.0, 2500)
    both = {"server_rate_per_s": 0.5, "server_burst": 10}
    read = parse_config({**_with_key(), "camara": both}, source="gw.toml")
    assert (read.camara.server_rate_per_s, read.camara.server_burst) == (0.5, 10)
    assert parse_config(_with_key(), source="gw.toml").camara.server_rate_per_s is None
    for camara, message in (
        ({"server_rate_per_s": 0}, "gw.toml: camara.server_rate_per_s: must be greater than 0"),
        ({"server_burst": 5}, "gw.toml: camara.server_burst: needs server_rate_per_s"),
        ({"server_rate_per_s": 5, "server_burst": 0}, "gw.toml: camara.server_burst: must be"),
    ):
        with pytest.raises(ConfigError, match=re.escape(message)):
            parse_config({**_with_key(), "camara": camara}, source="gw.toml")


def test_a_tenant_may_ask_about_all_subscribers_only_with_camara(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Another operator asking about this network's subscribers: said in the file, checked here.
    monkeypatch.setenv("OPERATOR_KEY", "key")
    minimal = {**_minimal(), "api": {"operator_key_env": "OPERATOR_KEY"}}
    partner = {"name": "opb", "camara": True, "camara_all_subscribers": True}
    config = parse_config({**minimal, "tenants": [partner, {"name": "bank"}]}, source="gw.toml")
    assert [t.camara_all_subscribers for t in config.tenants] == [True, False]
    without = {"name": "opb", "camara_all_subscribers": True}
    with pytest.raises(ConfigError, match=r"tenants\[0\]\.camara_all_subscribers: needs camara"):
        parse_config({**minimal, "tenants": [without]}, source="gw.toml")
    wrong = {"name": "opb", "camara": True, "camara_all_subscribers": "yes"}
    with pytest.raises(ConfigError, match=r"camara_all_subscribers: expected a boolean"):
        parse_config({**minimal, "tenants": [wrong]}, source="gw.toml")
