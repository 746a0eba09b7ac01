"""CAMARA conformance of the SIM Swap and Call Forwarding Signal operations (issue 17):
x-correlator, the identifier rules of a token that names no number, maxAge's type and
range, the monitored period, and the official scopes."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import aiohttp
import pytest

from gateway.config import Config
from gateway.config_tenants import TenantConfig

from .harness import running_gateway, running_simulator
from .test_camara import QUIET, SWAPPED, key_for, setup, signal, token
from .test_camara import config as quota_config

pytestmark = pytest.mark.asyncio

CHECK = "/sim-swap/v2/check"
RETRIEVE = "/sim-swap/v2/retrieve-date"
UNCONDITIONAL = "/call-forwarding-signal/v0.4/unconditional-call-forwardings"
FORWARDINGS = "/call-forwarding-signal/v0.4/call-forwardings"
SUBSCRIPTIONS = "/sim-swap-subscriptions/v0.3/subscriptions"


def config(tmp_path: Any, port: int, **camara: Any) -> Config:
    """test_camara's gateway, with a quota these tests do not run into."""
    base = quota_config(tmp_path, port, **camara)
    roomy = TenantConfig("paybank", camara=True, camara_quota_per_minute=10_000)
    return replace(base, tenants=(roomy, *base.tenants[1:]))


async def send(
    port: int, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], Any]:
    async with (
        aiohttp.ClientSession() as http,
        http.request(
            method, f"http://127.0.0.1:{port}{path}", json=body, headers=headers or {}
        ) as r,
    ):
        answer = await r.json() if r.content_type == "application/json" else None
        return r.status, dict(r.headers), answer


async def test_x_correlator_is_echoed_on_every_answer_errors_included(tmp_path) -> None:
    async with running_simulator() as sim, running_gateway(config(tmp_path, sim.port)) as gw:
        access = await setup(gw)
        port = gw.tenant_api_port
        correlator = "b4333c46-49c0-4f62-80d7-f0ef930f1c46:x;y.z/<a>{b}_"
        auth = {"Authorization": f"Bearer {access}", "x-correlator": correlator}
        cases = [
            ("POST", CHECK, {"phoneNumber": SWAPPED}, auth, 200),
            ("POST", RETRIEVE, {"phoneNumber": QUIET}, auth, 200),
            ("POST", UNCONDITIONAL, {"phoneNumber": QUIET}, auth, 200),
            ("POST", FORWARDINGS, {"phoneNumber": QUIET}, auth, 200),
            ("GET", SUBSCRIPTIONS, None, auth, 200),
            ("POST", CHECK, {"phoneNumber": "0740"}, auth, 400),
            ("POST", CHECK, {}, auth, 422),
            ("POST", CHECK, {"phoneNumber": QUIET}, {"x-correlator": correlator}, 401),
            ("GET", CHECK, None, auth, 405),
            ("DELETE", f"{SUBSCRIPTIONS}/nope", None, auth, 404),
        ]
        for method, path, body, headers, expected in cases:
            status, got, answer = await send(port, method, path, body, headers)
            assert status == expected, (method, path, answer)
            assert got.get("x-correlator") == correlator, (method, path, status)
            if status >= 400:
                assert set(answer) == {"status", "code", "message"}
        # Without the header, nothing is made up.
        status, got, _ = await send(
            port, "POST", CHECK, {"phoneNumber": QUIET}, {"Authorization": f"Bearer {access}"}
        )
        assert status == 200 and "x-correlator" not in got
        # Outside the pattern (a space, 257 characters): refused, not echoed.
        for bad in ("has space", "a" * 257, "é"):
            headers = {"Authorization": f"Bearer {access}", "x-correlator": bad}
            status, got, answer = await send(port, "POST", CHECK, {"phoneNumber": QUIET}, headers)
            assert (status, answer["code"]) == (400, "INVALID_ARGUMENT"), bad
            assert "x-correlator" not in got
        # 256 is still allowed; the OAuth2 token endpoint is not a CAMARA API and keeps its shape.
        headers = {"Authorization": f"Bearer {access}", "x-correlator": "a" * 256}
        status, got, _ = await send(port, "POST", CHECK, {"phoneNumber": QUIET}, headers)
        assert status == 200 and got["x-correlator"] == "a" * 256


async def test_a_token_naming_no_number_needs_one_in_the_body(tmp_path) -> None:
    async with running_simulator() as sim, running_gateway(config(tmp_path, sim.port)) as gw:
        auth = {"Authorization": f"Bearer {await setup(gw)}"}
        port = gw.tenant_api_port
        for path in (CHECK, RETRIEVE, UNCONDITIONAL, FORWARDINGS):
            status, _, answer = await send(port, "POST", path, {}, auth)
            assert (status, answer["code"]) == (422, "MISSING_IDENTIFIER"), path
            status, _, answer = await send(port, "POST", path, None, auth)  # no body at all
            assert (status, answer["code"]) == (400, "INVALID_ARGUMENT"), path
            for wrong in ("+44 7400 123123", 447400123123, None, "07400123123"):
                status, _, answer = await send(port, "POST", path, {"phoneNumber": wrong}, auth)
                assert (status, answer["code"]) == (400, "INVALID_ARGUMENT"), (path, wrong)
            status, _, answer = await send(port, "POST", path, [QUIET], auth)
            assert (status, answer["code"]) == (400, "INVALID_ARGUMENT"), path
        sink = {"protocol": "HTTP", "sink": "https://93.184.216.34/sink",
                "types": ["org.camaraproject.sim-swap-subscriptions.v0.swapped"]}  # fmt: skip
        for body, expected in (
            ({**sink, "config": {"subscriptionDetail": {}}}, (422, "MISSING_IDENTIFIER")),
            ({**sink, "config": {}}, (400, "INVALID_ARGUMENT")),
            (sink, (400, "INVALID_ARGUMENT")),
        ):
            status, _, answer = await send(port, "POST", SUBSCRIPTIONS, body, auth)
            assert (status, answer["code"]) == expected, body


async def test_max_age_type_range_and_default(tmp_path) -> None:
    async with (
        running_simulator() as sim,
        running_gateway(config(tmp_path, sim.port, max_age_h=720)) as gw,
    ):
        auth = {"Authorization": f"Bearer {await setup(gw)}"}  # SWAPPED: 30 hours ago
        port = gw.tenant_api_port
        for wrong in ("24", 12.5, True, None, [24], {"hours": 24}):
            status, _, answer = await send(
                port, "POST", CHECK, {"phoneNumber": SWAPPED, "maxAge": wrong}, auth
            )
            assert (status, answer["code"]) == (400, "INVALID_ARGUMENT"), wrong
        for outside in (0, -1, 2401, 721):  # 721: within the API's range, past the operator's
            status, _, answer = await send(
                port, "POST", CHECK, {"phoneNumber": SWAPPED, "maxAge": outside}, auth
            )
            assert (status, answer["code"]) == (400, "OUT_OF_RANGE"), outside
        assert (await send(port, "POST", CHECK, {"phoneNumber": SWAPPED, "maxAge": 30.0}, auth))[
            2
        ] == {"swapped": False}
        # No maxAge: 240 hours, which covers a swap 30 hours ago.
        status, _, answer = await send(port, "POST", CHECK, {"phoneNumber": SWAPPED}, auth)
        assert (status, answer) == (200, {"swapped": True})


async def test_retrieve_date_says_nothing_about_changes_before_the_monitored_period(
    tmp_path,
) -> None:
    async with (
        running_simulator() as sim,
        running_gateway(config(tmp_path, sim.port, monitored_days=30)) as gw,
    ):
        auth = {"Authorization": f"Bearer {await setup(gw)}"}
        signal(gw, QUIET, 40 * 24, kind="sim_swap")  # 40 days ago, the index still knows it
        status, _, answer = await send(gw.tenant_api_port, "POST", RETRIEVE,
                                       {"phoneNumber": QUIET}, auth)  # fmt: skip
        assert (status, answer) == (200, {"latestSimChange": None, "monitoredPeriod": 30})
        status, _, answer = await send(gw.tenant_api_port, "POST", RETRIEVE,
                                       {"phoneNumber": SWAPPED}, auth)  # fmt: skip
        assert status == 200 and answer["latestSimChange"] is not None


async def test_official_scopes_and_403_for_a_token_without_them(tmp_path) -> None:
    async with running_simulator() as sim, running_gateway(config(tmp_path, sim.port)) as gw:
        await setup(gw)
        key = await key_for(gw, "paybank")
        port = gw.tenant_api_port
        status, issued = await token(
            gw, key, "sim-swap sim-swap-subscriptions:read sim-swap-subscriptions:delete"
        )
        assert status == 200
        assert (
            issued["scope"] == "sim-swap sim-swap-subscriptions:delete sim-swap-subscriptions:read"
        )
        wide = {"Authorization": f"Bearer {issued['access_token']}"}
        # ``sim-swap`` grants both SIM Swap operations, and nothing else.
        assert (await send(port, "POST", CHECK, {"phoneNumber": QUIET}, wide))[0] == 200
        assert (await send(port, "POST", RETRIEVE, {"phoneNumber": QUIET}, wide))[0] == 200
        status, _, answer = await send(port, "POST", UNCONDITIONAL, {"phoneNumber": QUIET}, wide)
        assert (status, answer["code"]) == (403, "PERMISSION_DENIED")
        assert (await send(port, "GET", SUBSCRIPTIONS, None, wide))[0] == 200

        for scope in (
            "sim-swap:check",
            "sim-swap:retrieve-date",
            "sim-swap-subscriptions:org.camaraproject.sim-swap-subscriptions.v0.swapped:create",
            "call-forwarding-signal:unconditional-call-forwardings:read",
            "call-forwarding-signal:call-forwardings:read",
        ):
            status, issued = await token(gw, key, scope)
            assert (status, issued["scope"]) == (200, scope)

        status, narrow = await token(gw, key, "sim-swap:check")
        auth = {"Authorization": f"Bearer {narrow['access_token']}"}
        for method, path in (("GET", SUBSCRIPTIONS), ("DELETE", f"{SUBSCRIPTIONS}/wh_0")):
            status, _, answer = await send(port, method, path, None, auth)
            assert (status, answer["code"]) == (403, "PERMISSION_DENIED"), (method, path)
            status, _, answer = await send(port, method, path, None, {})
            assert (status, answer["code"]) == (401, "UNAUTHENTICATED"), (method, path)
        status, refused = await token(gw, key, "sim-swap:everything")
        assert (status, refused["error"]) == (400, "invalid_scope")
