"""JWT access tokens of the operator's authorization server, verified without I/O: claims,
algorithms, key rotation and the refetch limit, the cache, the JWKS's life; the subject of a
3-legged request; the ``[camara.jwt]`` table. Keys are generated here, tokens signed by
joserfc: no socket, no sleep, the clock passed in."""

from __future__ import annotations

import base64
import json
import re
from dataclasses import replace
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, OctKey, RSAKey

from gateway.camara.jwt_tokens import JwtVerifier, Rejected, phone_number_of
from gateway.camara.requests import phone_number
from gateway.camara.tokens import CHECK_SCOPE, SIM_SWAP_SCOPE, Token
from gateway.config import ConfigError, parse_config
from gateway.config_camara_jwt import CamaraJwtConfig

NOW = 1_800_000_000.0
ISSUER, AUDIENCE = "https://as.operator.example", "https://otpgate.operator.example"
NUMBER = "+447400123123"
CONFIG = CamaraJwtConfig(
    issuer=ISSUER,
    audience=AUDIENCE,
    jwks_url="https://as.operator.example/jwks",
    clients={"client-1": "paybank"},
)
RSA = RSAKey.generate_key(2048, parameters={"kid": "rsa-1"})
EC = ECKey.generate_key("P-256", parameters={"kid": "ec-1"})


def jwks(*keys: Any) -> dict[str, Any]:
    return {"keys": [k.as_dict(private=False) for k in keys]}


def claims(**changes: Any) -> dict[str, Any]:
    base = {"iss": ISSUER, "aud": AUDIENCE, "exp": NOW + 300, "iat": NOW - 10,
            "client_id": "client-1", "scope": "openid sim-swap:check dpv:FraudPreventionAndDetection",
            "sub": f"tel:{NUMBER}"}  # fmt: skip
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def sign(
    key: Any = RSA, alg: str = "RS256", header: dict[str, Any] | None = None, **changes: Any
) -> str:
    header = {"alg": alg, "kid": key.kid, **(header or {})}
    return jwt.encode(header, claims(**changes), key, algorithms=[alg])


def verifier(config: CamaraJwtConfig = CONFIG, *keys: Any) -> JwtVerifier:
    v = JwtVerifier(config)
    assert v.load(jwks(*(keys or (RSA, EC))), NOW) is None
    return v


def test_a_valid_token_names_its_tenant_scopes_and_number() -> None:
    token = verifier().verify(sign(), NOW)
    assert token == Token("paybank", frozenset({CHECK_SCOPE}), NOW + 300 + 60, NUMBER)
    assert verifier().verify(sign(EC, "ES256"), NOW) == token


def _claims_swapped(token: str, other: dict[str, Any]) -> str:
    """The token with other claims under the same signature: a forgery."""
    header, _, signature = token.split(".")
    return f"{header}.{_b64(other)}.{signature}"


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


@pytest.mark.parametrize(
    ("token", "status", "reason"),
    [
        (lambda: sign(iss="https://evil.example"), 401, "another authorization server"),
        (lambda: sign(iss=None), 401, "another authorization server"),
        (lambda: sign(aud="https://other.example"), 401, "another audience"),
        (lambda: sign(aud=["x", "y"]), 401, "another audience"),
        (lambda: sign(aud=None), 401, "another audience"),
        (lambda: sign(exp=NOW - 61), 401, "expired"),
        (lambda: sign(exp=None), 401, "expired"),
        (lambda: sign(exp="soon"), 401, "expired"),
        (lambda: sign(nbf=NOW + 61), 401, "not valid yet"),
        (lambda: sign(iat=NOW + 61), 401, "not valid yet"),
        (lambda: sign(client_id="stranger"), 403, "not enabled"),
        (lambda: sign(client_id=None), 403, "not enabled"),
        (lambda: sign(sub="tel:07400123123"), 401, "not E.164"),
        (lambda: sign(sub="+0123"), 401, "not E.164"),
        # Algorithms: RS384 is not allowed by default; "none" and HS256 never are, above all
        # an HMAC keyed with the public key, the classic forgery.
        (lambda: sign(alg="RS384"), 401, "signature, algorithm"),
        (lambda: f"{_b64({'alg': 'none', 'kid': 'rsa-1'})}.{_b64(claims())}.", 401, "signature"),
        (
            lambda: jwt.encode(
                {"alg": "HS256", "kid": "rsa-1"},
                claims(),
                OctKey.import_key(json.dumps(RSA.as_dict(private=False)).encode()),
            ),
            401,
            "signature",
        ),
        (lambda: sign()[:-4] + "AAAA", 401, "signature"),  # the signature tampered with
        (lambda: _claims_swapped(sign(), claims(sub="tel:+447400999999")), 401, "signature"),
        (lambda: sign(RSA, "RS256", header={"kid": "ec-1"}), 401, "signature"),  # not EC's alg
        (lambda: "a.b.c", 401, "signature"),
        (lambda: sign(header={"kid": "rsa-2"}), 401, "does not list"),
    ],
)
def test_refused_tokens(token: Any, status: int, reason: str) -> None:
    got = verifier().verify(token(), NOW)
    assert isinstance(got, Rejected) and got.status == status and reason in got.message, got


def test_leeway_is_the_clock_skew_allowed_and_no_more() -> None:
    v = verifier()
    assert isinstance(v.verify(sign(exp=NOW - 59), NOW), Token)
    assert isinstance(v.verify(sign(nbf=NOW + 59), NOW), Token)
    strict = verifier(replace(CONFIG, leeway_s=0))
    assert isinstance(strict.verify(sign(exp=NOW), NOW), Rejected)
    assert isinstance(strict.verify(sign(exp=NOW + 1), NOW), Token)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (f"tel:{NUMBER}", NUMBER),
        (NUMBER, NUMBER),
        ("a1b2-opaque-pairwise-id", None),  # the subject is not a number: none named
        (None, None),
        (12345, None),
        ("tel:447400123123", "refused"),
    ],
)
def test_the_number_a_token_names(value: Any, expected: Any) -> None:
    got = phone_number_of(value)
    assert ("refused" if isinstance(got, Rejected) else got) == expected


def test_client_and_number_claims_are_configurable() -> None:
    config = replace(CONFIG, client_claim="cid", phone_number_claim="phone_number")
    token = verifier(config).verify(sign(cid="client-1", client_id=None, phone_number=NUMBER,
                                         sub="pairwise-7"), NOW)  # fmt: skip
    assert isinstance(token, Token) and token.tenant == "paybank" and token.phone_number == NUMBER
    # azp names the client when the configured claim is absent (OIDC's authorized party).
    token = verifier().verify(sign(client_id=None, azp="client-1", sub=None), NOW)
    assert isinstance(token, Token) and token.tenant == "paybank" and token.phone_number is None


def test_scopes_are_the_camara_ones_of_the_scope_claim() -> None:
    v = verifier()
    got = v.verify(sign(scope=f"openid {SIM_SWAP_SCOPE} unknown:scope"), NOW)
    assert isinstance(got, Token) and got.scopes == frozenset({SIM_SWAP_SCOPE})
    got = v.verify(sign(scope=[CHECK_SCOPE, 7]), NOW)
    assert isinstance(got, Token) and got.scopes == frozenset({CHECK_SCOPE})
    got = v.verify(sign(scope=None), NOW)
    assert isinstance(got, Token) and got.scopes == frozenset()


def test_key_rotation_a_new_kid_after_a_fetch_and_the_refetch_limit() -> None:
    new = RSAKey.generate_key(2048, parameters={"kid": "rsa-2"})
    v = verifier(CONFIG, RSA)
    rotated = sign(new)
    got = v.verify(rotated, NOW)
    assert isinstance(got, Rejected) and got.unknown_kid
    # The first unknown kid may fetch; more within kid_refetch_min_s may not (a flood of
    # made-up kids fetches at most once per that period).
    assert v.fetch_for_kid(NOW) and not v.fetch_for_kid(NOW + 9.9)
    assert v.fetch_for_kid(NOW + 10)
    assert v.load(jwks(RSA, new), NOW + 10) is None
    assert isinstance(v.verify(rotated, NOW + 10), Token)
    # The old key withdrawn: its tokens go, cached ones too.
    old = sign(RSA)
    assert isinstance(v.verify(old, NOW + 10), Token)
    assert v.load(jwks(new), NOW + 11) is None
    assert isinstance(v.verify(old, NOW + 11), Rejected)


def test_a_key_pinned_to_an_algorithm_is_used_with_that_one_only() -> None:
    pinned = RSAKey.generate_key(2048, parameters={"kid": "pin", "alg": "RS256"})
    v = verifier(replace(CONFIG, algorithms=("RS256", "PS256")), pinned)
    assert isinstance(v.verify(sign(pinned, "RS256"), NOW), Token)
    unpinned = RSAKey.import_key(
        {k: v for k, v in pinned.as_dict(private=True).items() if k != "alg"}
    )
    assert isinstance(v.verify(sign(unpinned, "PS256", header={"kid": "pin"}), NOW), Rejected)
    assert isinstance(verifier(replace(CONFIG, algorithms=("PS256",)), unpinned).verify(
        sign(unpinned, "PS256", header={"kid": "pin"}), NOW), Token)  # fmt: skip


def test_the_jwks_life_refresh_backoff_outage_and_expiry() -> None:
    v = JwtVerifier(CONFIG)
    assert v.next_fetch_at() == float("-inf") and not v.usable(NOW)
    assert "not available" in v.verify(sign(), NOW).message  # type: ignore[union-attr]
    v.failed("connection refused", NOW)
    assert v.next_fetch_at() == NOW + 2 and v.health(NOW)["last_error"] == "connection refused"
    v.failed("connection refused", NOW + 2)
    assert v.next_fetch_at() == NOW + 2 + 4  # backing off, up to jwks_refresh_s
    assert v.load(jwks(RSA), NOW + 6) is None
    assert v.next_fetch_at() == NOW + 6 + 300 and v.usable(NOW + 6)
    # An outage: the keys stay until jwks_expire_s after the last good fetch, then 401.
    v.failed("HTTP 503", NOW + 306)
    assert isinstance(v.verify(sign(exp=NOW + 7200), NOW + 306), Token)
    assert v.usable(NOW + 6 + 3599) and not v.usable(NOW + 6 + 3600)
    got = v.verify(sign(exp=NOW + 7200), NOW + 3606)
    assert isinstance(got, Rejected) and got.status == 401
    assert v.health(NOW + 3606) == {"keys_usable": False, "keys": 0, "fetched_s_ago": 3600.0,
                                    "last_error": "HTTP 503"}  # fmt: skip


@pytest.mark.parametrize(
    ("document", "error"),
    [
        ({}, "no keys list"),
        ("nope", "no keys list"),
        ({"keys": []}, "no usable signing key"),
        ({"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "h"}]}, "no usable signing key"),
        ({"keys": [{**RSA.as_dict(private=False), "use": "enc"}]}, "no usable signing key"),
        ({"keys": [{"kty": "RSA", "kid": "broken"}]}, "no usable signing key"),
    ],
)
def test_a_bad_jwks_keeps_the_keys_held(document: Any, error: str) -> None:
    v = verifier()
    assert error in (v.load(document, NOW + 1) or "")
    assert isinstance(v.verify(sign(), NOW + 1), Token) and v.failures == 1


def test_verified_tokens_are_cached_by_hash_never_past_their_expiry() -> None:
    v = verifier()
    token = sign(exp=NOW + 100)
    assert isinstance(v.verify(token, NOW), Token)
    assert len(v._cache) == 1 and token.encode() not in str(v._cache).encode()
    assert isinstance(v.verify(token, NOW + 29), Token)  # from the cache
    assert isinstance(v.verify(token, NOW + 159), Token)  # verified again: within exp + leeway
    assert isinstance(v.verify(token, NOW + 160), Rejected)
    off = verifier(replace(CONFIG, token_cache_s=0))
    assert isinstance(off.verify(token, NOW), Token) and not off._cache


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({}, NUMBER),
        ({"maxAge": 24}, NUMBER),
        ({"phoneNumber": NUMBER}, (422, "UNNECESSARY_IDENTIFIER")),  # the same number too
        ({"phoneNumber": "+447400999999"}, (422, "UNNECESSARY_IDENTIFIER")),
        ({"phoneNumber": "07400"}, (400, "INVALID_ARGUMENT")),
        ([NUMBER], (400, "INVALID_ARGUMENT")),
    ],
)
def test_the_subject_of_a_3_legged_request(body: Any, expected: Any) -> None:
    got = phone_number(body, token_number=NUMBER)
    assert (got if isinstance(got, str) else (got.status, got.code)) == expected
    sub = phone_number({"config": {"subscriptionDetail": body}}, in_subscription=True,
                       token_number=NUMBER)  # fmt: skip
    if isinstance(body, dict):
        assert (sub if isinstance(sub, str) else (sub.status, sub.code)) == expected


def _with_jwt(**jwt_table: Any) -> dict[str, Any]:
    table = {"issuer": ISSUER, "audience": AUDIENCE, "jwks_url": "https://as.example/jwks",
             "clients": {"client-1": "paybank"}, **jwt_table}  # fmt: skip
    return {
        "smpp": {"upstream": {"simulator": True}},
        "api": {"operator_key_env": "OTPGATE_TEST_OPERATOR_KEY"},
        "tenants": [{"name": "paybank", "camara": True}],
        "camara": {"jwt": {k: v for k, v in table.items() if v is not None}},
    }


@pytest.fixture(autouse=True)
def _operator_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTPGATE_TEST_OPERATOR_KEY", "key")


def test_the_camara_jwt_table() -> None:
    config = parse_config(_with_jwt(algorithms=["ES256"]), source="gw.toml").camara.jwt
    assert config is not None and config.algorithms == ("ES256",)
    assert config.clients == {"client-1": "paybank"} and config.phone_number_claim == "sub"
    assert parse_config(_with_jwt(), source="gw.toml").camara.jwt == replace(
        CONFIG, jwks_url="https://as.example/jwks"
    )
    plain = {k: v for k, v in _with_jwt().items() if k != "camara"}
    assert parse_config(plain).camara.jwt is None


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"issuer": None}, "gw.toml: camara.jwt.issuer: required"),
        ({"audience": ""}, "gw.toml: camara.jwt.audience: required"),
        ({"jwks_url": "http://as.example/jwks"}, "camara.jwt.jwks_url: expected an https:// URL"),
        ({"algorithms": ["HS256"]}, "camara.jwt.algorithms: expected some of RS256"),
        ({"algorithms": ["none"]}, "never none or HS*"),
        ({"algorithms": []}, "camara.jwt.algorithms"),
        ({"clients": {}}, "camara.jwt.clients: map the authorization server's client ids"),
        (
            {"clients": {"c": "nobody"}},
            "gw.toml: camara.jwt.clients.c: no [[tenants]] named 'nobody'",
        ),
        ({"jwks_expire_s": 60}, "camara.jwt.jwks_expire_s: at least jwks_refresh_s"),
        ({"leeway_s": 3600}, "camara.jwt.leeway_s: from 0 to 300"),
        ({"kid_refetch_min_s": 0}, "camara.jwt.kid_refetch_min_s: must be greater than 0"),
        ({"typo": 1}, "camara.jwt.typo: unknown key"),
    ],
)
def test_camara_jwt_errors_name_the_file_and_the_key(table: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse_config(_with_jwt(**table), source="gw.toml")


def test_http_jwks_only_on_loopback() -> None:
    for url in ("http://127.0.0.1:8443/jwks", "http://[::1]/jwks", "http://localhost/jwks"):
        config = parse_config(_with_jwt(jwks_url=url), source="gw.toml").camara.jwt
        assert config is not None and config.jwks_url == url


def test_the_documented_example_loads_with_the_defaults_it_states() -> None:
    """The commented [camara.jwt] of deploy/gateway.example.toml, uncommented, is valid, and
    every value it shows is the default: the example and the code say the same."""
    import tomllib
    from pathlib import Path

    from gateway.config_camara_jwt import parse_camara_jwt
    from gateway.config_reader import Section

    text = (Path(__file__).parents[2] / "deploy" / "gateway.example.toml").read_text()
    block = text[text.index("# [camara.jwt]") : text.index("\n\n", text.index("# [camara.jwt]"))]
    data = tomllib.loads("\n".join(line[2:] for line in block.splitlines()))
    section = Section("gateway.example.toml", "camara.jwt", data["camara"]["jwt"])
    config = parse_camara_jwt(section)
    section.check()
    assert config is not None
    defaults = CamaraJwtConfig(
        config.issuer, config.audience, config.jwks_url, clients=config.clients
    )
    assert config == defaults and config.clients == {"a1b2c3": "paybank"}
