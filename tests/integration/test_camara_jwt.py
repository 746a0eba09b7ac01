"""Tokens that name the number (3-legged): JWTs of an authorization server whose JWKS is served
on loopback, verified by a real gateway beside its own client-credentials tokens."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from joserfc.jwk import ECKey, RSAKey
from structlog.testing import capture_logs

from gateway.config_camara_jwt import CamaraJwtConfig
from gateway.config_tenants import CamaraConfig

from .harness import OPERATOR_KEY, ShiftedClock, call, running_gateway, running_simulator
from .harness import until_async as until
from .jwks_server import AUDIENCE, CLIENT_ID, ISSUER, Jwks, running_jwks
from .test_camara import FORWARDED, QUIET, STRANGER, SWAPPED, config, post, setup

pytestmark = pytest.mark.asyncio

CHECK = "/sim-swap/v2/check"
UNCONDITIONAL = "/call-forwarding-signal/v0.4/unconditional-call-forwardings"


def jwt_config(jwks: Jwks, **changes: Any) -> CamaraJwtConfig:
    return replace(
        CamaraJwtConfig(ISSUER, AUDIENCE, jwks.url, clients={CLIENT_ID: "paybank"}), **changes
    )


def gateway_config(tmp_path: Any, port: int, jwks: Jwks, **changes: Any) -> Any:
    base = config(tmp_path, port)
    # A quota that the tests' requests do not reach: rate limits have their own tests.
    tenants = (replace(base.tenants[0], camara_quota_per_minute=1000), *base.tenants[1:])
    return replace(base, tenants=tenants,
                   camara=CamaraConfig(jwt=jwt_config(jwks, **changes)))  # fmt: skip


async def ask(gw: Any, token: str, body: Any = None, path: str = CHECK) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    return await post(gw.tenant_api_port, path, {} if body is None else body, headers=headers)


async def readyz(gw: Any) -> dict[str, Any]:
    _, details = await call(gw.api_port, "GET", "/readyz", OPERATOR_KEY)
    return details["camara_jwt"]


async def test_a_token_that_names_the_number_is_answered_for_that_number(tmp_path):
    async with (
        running_jwks(Jwks()) as jwks,
        running_simulator() as sim,
        running_gateway(gateway_config(tmp_path, sim.port, jwks)) as gw,
    ):
        opaque = await setup(gw)
        for_swapped = jwks.token(sub=f"tel:{SWAPPED}")
        # The number comes from the token, the answer from the index.
        assert await ask(gw, for_swapped) == (200, {"swapped": True})
        assert await ask(gw, jwks.token(sub=f"tel:{QUIET}")) == (200, {"swapped": False})
        assert await ask(gw, jwks.token(sub=FORWARDED), {}, UNCONDITIONAL) == (
            200, {"active": True})  # fmt: skip
        # A number in the body beside one in the token: refused as the APIs say, the same
        # number included; a malformed one is still a malformed body.
        for number in (QUIET, SWAPPED):
            status, body = await ask(gw, for_swapped, {"phoneNumber": number})
            assert (status, body["code"]) == (422, "UNNECESSARY_IDENTIFIER")
        status, body = await ask(gw, for_swapped, {"phoneNumber": "07400"})
        assert (status, body["code"]) == (400, "INVALID_ARGUMENT")
        # A token of the same server that names no number (an opaque subject): as 2-legged.
        opaque_subject = jwks.token(sub="a1b2c3-pairwise")
        status, body = await ask(gw, opaque_subject)
        assert (status, body["code"]) == (422, "MISSING_IDENTIFIER")
        assert await ask(gw, opaque_subject, {"phoneNumber": SWAPPED}) == (200, {"swapped": True})
        # The tenant's relations still guard the number a token names.
        status, body = await ask(gw, jwks.token(sub=f"tel:{STRANGER}"))
        assert (status, body["code"]) == (403, "PERMISSION_DENIED")
        # Client credentials keep working beside JWTs.
        assert await ask(gw, opaque, {"phoneNumber": SWAPPED}) == (200, {"swapped": True})


async def test_refused_tokens_and_no_token_in_any_log(tmp_path):
    async with (
        running_jwks(Jwks()) as jwks,
        running_simulator() as sim,
        running_gateway(gateway_config(tmp_path, sim.port, jwks)) as gw,
    ):
        await setup(gw)
        other_key = RSAKey.generate_key(2048, parameters={"kid": jwks.key.kid})
        refused = {
            "expired": jwks.token(sub=f"tel:{SWAPPED}", exp=int(gw.clock.now()) - 120),
            "audience": jwks.token(sub=f"tel:{SWAPPED}", aud="https://elsewhere.example"),
            "issuer": jwks.token(sub=f"tel:{SWAPPED}", iss="https://evil.example"),
            "signature": jwks.token(other_key, sub=f"tel:{SWAPPED}"),
        }
        no_scope = jwks.token(sub=f"tel:{SWAPPED}", scope="openid sim-swap:retrieve-date")
        stranger_client = jwks.token(sub=f"tel:{SWAPPED}", client_id="unknown-client")
        accepted = jwks.token(sub=f"tel:{SWAPPED}")
        with capture_logs() as logs:
            for what, token in refused.items():
                status, body = await ask(gw, token)
                assert (status, body["code"]) == (401, "UNAUTHENTICATED"), what
            status, body = await ask(gw, no_scope)
            assert (status, body["code"]) == (403, "PERMISSION_DENIED")
            status, body = await ask(gw, stranger_client)
            assert (status, body["code"]) == (403, "PERMISSION_DENIED")
            assert (await ask(gw, accepted))[0] == 200
        assert logs, "the queries are logged"
        text = repr(logs)
        for token in (*refused.values(), no_scope, stranger_client, accepted):
            assert token not in text and token.split(".")[2] not in text


async def test_a_new_key_fetches_the_jwks_once_and_made_up_kids_do_not_hammer_it(tmp_path):
    async with (
        running_jwks(Jwks()) as jwks,
        running_simulator() as sim,
        running_gateway(gateway_config(tmp_path, sim.port, jwks, kid_refetch_min_s=60)) as gw,
    ):
        await setup(gw)
        assert jwks.fetches == 1
        old = jwks.key
        new = ECKey.generate_key("P-256", parameters={"kid": "ec-2"})
        jwks.keys = [new, old]  # the authorization server rotates: the new key first
        assert await ask(gw, jwks.token(new, sub=f"tel:{SWAPPED}")) == (200, {"swapped": True})
        assert jwks.fetches == 2
        assert (await ask(gw, jwks.token(old, sub=f"tel:{SWAPPED}")))[0] == 200
        # Made-up kids: within kid_refetch_min_s none of them fetches again.
        fakes = [RSAKey.generate_key(2048, parameters={"kid": f"made-up-{n}"}) for n in range(2)]
        for n in range(20):
            fake_token = jwks.token(fakes[n % 2], sub=f"tel:{SWAPPED}", jti=str(n))
            status, body = await ask(gw, fake_token)
            assert (status, body["code"]) == (401, "UNAUTHENTICATED")
        assert jwks.fetches == 2


async def test_jwks_down_at_start_then_up(tmp_path):
    jwks = Jwks()
    jwks.down = True
    async with (
        running_jwks(jwks),
        running_simulator() as sim,
        running_gateway(gateway_config(tmp_path, sim.port, jwks)) as gw,
    ):
        opaque = await setup(gw)
        # The gateway starts; JWTs answer 401 (not 500), client credentials work, and
        # /readyz says why without calling the gateway unready.
        token = jwks.token(sub=f"tel:{SWAPPED}")
        status, body = await ask(gw, token)
        assert (status, body["code"]) == (401, "UNAUTHENTICATED") and "keys" in body["message"]
        assert await ask(gw, opaque, {"phoneNumber": SWAPPED}) == (200, {"swapped": True})
        details = await readyz(gw)
        assert details["keys_usable"] is False and details["last_error"] == "HTTP 503"
        # Back up: the background retry (backing off from 2 s) takes the keys.
        jwks.down = False

        async def accepted() -> bool:
            return (await ask(gw, token))[0] == 200

        assert await until(accepted, timeout_s=15)
        assert (await readyz(gw))["keys_usable"] is True


async def test_jwks_down_later_keeps_the_keys_until_they_expire(tmp_path):
    clock = ShiftedClock()
    async with (
        running_jwks(Jwks()) as jwks,
        running_simulator() as sim,
        running_gateway(
            gateway_config(tmp_path, sim.port, jwks, jwks_refresh_s=60, jwks_expire_s=600),
            clock=clock,
        ) as gw,
    ):
        await setup(gw)
        token = jwks.token(sub=f"tel:{SWAPPED}", exp=int(clock.now()) + 86400)
        assert (await ask(gw, token))[0] == 200
        jwks.down = True
        fetches = jwks.fetches
        clock.advance(120)  # past jwks_refresh_s: the refresher tries, and fails
        await ask(gw, token)  # a request notices the set is due (no wait for the timer)

        async def failed() -> bool:
            return jwks.fetches > fetches and (await readyz(gw))["last_error"] == "HTTP 503"

        assert await until(failed)
        # The cached keys still verify, a token never seen before included.
        assert (await ask(gw, jwks.token(sub=f"tel:{QUIET}", exp=int(clock.now()) + 60)))[0] == 200
        assert (await ask(gw, token))[0] == 200
        clock.advance(600)  # past jwks_expire_s since the last good fetch
        status, body = await ask(gw, token)
        assert (status, body["code"]) == (401, "UNAUTHENTICATED")
        assert (await readyz(gw))["keys_usable"] is False
