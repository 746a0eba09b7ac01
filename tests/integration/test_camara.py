"""CAMARA-compatible endpoints: OAuth2 client credentials, relations, quotas, answers from the index."""

from __future__ import annotations

import asyncio
import base64
import time
from dataclasses import replace
from datetime import UTC, datetime

import aiohttp
import pytest

from gateway.config_tenants import CamaraConfig, TenantConfig
from gateway.signals.model import parse_signal

from .esme import AsyncEsme
from .harness import (
    OPERATOR_KEY,
    PASSWORD,
    ShiftedClock,
    account,
    call,
    gateway_config,
    outbox_settled,
    route,
    running_gateway,
    running_simulator,
    until_async,
)

pytestmark = pytest.mark.asyncio

SWAPPED = "+447400123123"
FORWARDED = "+447400123124"
QUIET = "+447400123125"
CONDITIONAL = "+447400123129"  # conditional forwarding only
STRANGER = "+447400999999"


def config(tmp_path, port, **camara):
    accounts = (account("bank", tenant="paybank"), account("other", tenant="closed"))
    base = gateway_config(tmp_path, (route("main", port),), accounts)
    return replace(
        base,
        tenants=(
            TenantConfig("paybank", camara=True, camara_quota_per_minute=8),
            TenantConfig("closed", camara=False),
        ),
        camara=CamaraConfig(**camara),
    )


def signal(gateway, number: str, hours_ago: float, **fields) -> None:
    occurred = datetime.fromtimestamp(gateway.clock.now() - hours_ago * 3600, UTC).isoformat()
    gateway.risk_index.apply(
        parse_signal({"msisdn": number, "occurred_at": occurred, **fields}, default_region=None)
    )


async def post(port: int, path: str, body=None, *, headers=None, form=None):
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"http://127.0.0.1:{port}{path}", json=body, data=form, headers=headers or {}
        ) as r,
    ):
        return r.status, await r.json()


async def key_for(gw, tenant: str) -> str:
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"http://127.0.0.1:{gw.api_port}/v1/tenants/{tenant}/keys",
            headers={"Authorization": f"Bearer {OPERATOR_KEY}"},
        ) as r,
    ):
        return (await r.json())["key"]


async def token(gw, key: str, scope: str | None = None) -> tuple[int, dict]:
    client_id = key[:13]
    form = {"grant_type": "client_credentials"}
    if scope:
        form["scope"] = scope
    basic = base64.b64encode(f"{client_id}:{key}".encode()).decode()
    return await post(
        gw.tenant_api_port, "/oauth2/token", headers={"Authorization": f"Basic {basic}"}, form=form
    )


async def setup(gw) -> str:
    """Signals, and traffic from paybank to three numbers (the relation); returns a token."""
    signal(gw, SWAPPED, 30, kind="sim_swap")
    signal(
        gw,
        FORWARDED,
        2,
        kind="call_forwarding",
        service="cfu",
        active=True,
        forwarded_to="+447700900123",
    )
    esme = await AsyncEsme.bind(gw.smpp_port, "bank", PASSWORD)
    for number in (SWAPPED, FORWARDED, QUIET):
        await esme.submit(destination=number[1:], text=b"Your statement is ready")
    esme.close()
    status, body = await token(gw, await key_for(gw, "paybank"))
    assert status == 200 and body["token_type"] == "Bearer"
    return body["access_token"]


async def test_sim_swap_check_and_retrieve_date(tmp_path):
    async with running_simulator() as sim, running_gateway(config(tmp_path, sim.port)) as gw:
        access = await setup(gw)
        auth = {"Authorization": f"Bearer {access}"}
        port = gw.tenant_api_port
        assert await post(
            port, "/sim-swap/v2/check", {"phoneNumber": SWAPPED, "maxAge": 48}, headers=auth
        ) == (200, {"swapped": True})
        assert await post(
            port, "/sim-swap/v2/check", {"phoneNumber": SWAPPED, "maxAge": 24}, headers=auth
        ) == (200, {"swapped": False})
        assert await post(port, "/sim-swap/v2/check", {"phoneNumber": QUIET}, headers=auth) == (
            200,
            {"swapped": False},
        )
        status, body = await post(
            port, "/sim-swap/v2/retrieve-date", {"phoneNumber": SWAPPED}, headers=auth
        )
        changed = datetime.fromisoformat(body["latestSimChange"].replace("Z", "+00:00")).timestamp()
        assert status == 200 and abs(changed - (gw.clock.now() - 30 * 3600)) < 5
        status, body = await post(
            port, "/sim-swap/v2/retrieve-date", {"phoneNumber": QUIET}, headers=auth
        )
        assert body == {"latestSimChange": None, "monitoredPeriod": 30}
        status, body = await post(
            port, "/sim-swap/v2/check", {"phoneNumber": SWAPPED, "maxAge": 2401}, headers=auth
        )
        assert (status, body["code"]) == (400, "OUT_OF_RANGE")
        status, body = await post(
            port, "/sim-swap/v2/check", {"phoneNumber": "07400123123"}, headers=auth
        )
        assert (status, body["code"]) == (400, "INVALID_ARGUMENT")
        # Counted for otpgate_camara_queries_total{endpoint, status}.
        counted = gw.stats.camara
        assert counted[("/sim-swap/v2/check", 200)] == 3
        assert counted[("/sim-swap/v2/retrieve-date", 200)] == 2


async def test_operator_maximum_for_max_age(tmp_path):
    async with (
        running_simulator() as sim,
        running_gateway(config(tmp_path, sim.port, max_age_h=72)) as gw,
    ):
        access = await setup(gw)
        auth = {"Authorization": f"Bearer {access}"}
        status, body = await post(
            gw.tenant_api_port,
            "/sim-swap/v2/check",
            {"phoneNumber": SWAPPED, "maxAge": 100},
            headers=auth,
        )
        assert (status, body["code"]) == (400, "OUT_OF_RANGE")


async def test_call_forwarding_signal(tmp_path):
    async with running_simulator() as sim, running_gateway(config(tmp_path, sim.port)) as gw:
        auth = {"Authorization": f"Bearer {await setup(gw)}"}
        port = gw.tenant_api_port
        base = "/call-forwarding-signal/v0.4"
        assert await post(
            port, f"{base}/unconditional-call-forwardings", {"phoneNumber": FORWARDED}, headers=auth
        ) == (200, {"active": True})
        assert await post(
            port, f"{base}/unconditional-call-forwardings", {"phoneNumber": QUIET}, headers=auth
        ) == (200, {"active": False})
        assert await post(
            port, f"{base}/call-forwardings", {"phoneNumber": FORWARDED}, headers=auth
        ) == (200, ["unconditional"])


async def test_call_forwardings_names_conditional_forwarding(tmp_path):
    """Only conditional forwarding: named in CAMARA's words, no hold, and kept across a restart."""
    occurred = datetime.fromtimestamp(time.time() - 3600, UTC).isoformat()
    signals = [
        {"kind": "call_forwarding", "msisdn": number, "occurred_at": occurred, "service": service,
         "active": True, "forwarded_to": "+447700900999"}
        for number, service in ((CONDITIONAL, "cfb"), (CONDITIONAL, "cfnry"), (FORWARDED, "cfnrc"))
    ]  # fmt: skip
    base = "/call-forwarding-signal/v0.4"
    otp = b"Your verification code is 482913. Do not share it."
    async with running_simulator() as sim:
        async with running_gateway(config(tmp_path, sim.port)) as gw:
            auth = {"Authorization": f"Bearer {await setup(gw)}"}
            port = gw.tenant_api_port
            status, answer = await call(gw.api_port, "POST", "/v1/signals", OPERATOR_KEY, signals)
            assert (status, answer["accepted"]) == (200, 3)
            esme = await AsyncEsme.bind(gw.smpp_port, "bank", PASSWORD)
            before = sim.submitted
            await esme.submit(destination=CONDITIONAL[1:], text=otp)
            assert sim.submitted == before + 1  # delivered: the default policy's decision
            await esme.submit(destination=FORWARDED[1:], text=otp)
            assert sim.submitted == before + 1  # held: unconditional forwarding, 2 hours old
            esme.close()
            assert await post(
                port, f"{base}/call-forwardings", {"phoneNumber": CONDITIONAL}, headers=auth
            ) == (200, ["conditional_busy", "conditional_no_answer"])
            assert await post(
                port, f"{base}/unconditional-call-forwardings", {"phoneNumber": CONDITIONAL},
                headers=auth,
            ) == (200, {"active": False})  # fmt: skip
            assert await post(
                port, f"{base}/call-forwardings", {"phoneNumber": FORWARDED}, headers=auth
            ) == (200, ["unconditional", "conditional_not_reachable"])
            off = {**signals[0], "active": False, "occurred_at": datetime.now(UTC).isoformat()}
            del off["forwarded_to"]
            assert (await call(gw.api_port, "POST", "/v1/signals", OPERATOR_KEY, off))[0] == 200
        async with running_gateway(config(tmp_path, sim.port)) as gw:
            status, body = await token(gw, await key_for(gw, "paybank"))
            auth = {"Authorization": f"Bearer {body['access_token']}"}
            assert await post(
                gw.tenant_api_port, f"{base}/call-forwardings", {"phoneNumber": CONDITIONAL},
                headers=auth,
            ) == (200, ["conditional_no_answer"])  # fmt: skip


async def test_numbers_outside_the_own_ranges_or_the_service(tmp_path):
    """404 for a number the network does not know, 422 where the service does not apply,
    before the relation check (they tell the number plan only), audited like any query."""
    ranges = {"own_ranges": ("+447400",), "not_applicable_ranges": ("+4474009",)}
    unknown, not_served = "+33612345678", "+447400900001"
    async with running_simulator() as sim:
        base = config(tmp_path, sim.port, **ranges)
        roomy = TenantConfig("paybank", camara=True, camara_quota_per_minute=100)
        async with running_gateway(replace(base, tenants=(roomy, *base.tenants[1:]))) as gw:
            await _outside_ranges(gw, unknown, not_served)


async def _outside_ranges(gw, unknown: str, not_served: str) -> None:
    auth = {"Authorization": f"Bearer {await setup(gw)}"}
    port = gw.tenant_api_port
    paths = ("/sim-swap/v2/check", "/sim-swap/v2/retrieve-date",
             "/call-forwarding-signal/v0.4/unconditional-call-forwardings",
             "/call-forwarding-signal/v0.4/call-forwardings")  # fmt: skip
    for path in paths:
        status, body = await post(port, path, {"phoneNumber": unknown}, headers=auth)
        assert (status, body["status"], body["code"]) == (404, 404, "IDENTIFIER_NOT_FOUND")
        status, body = await post(port, path, {"phoneNumber": not_served}, headers=auth)
        assert (status, body["code"]) == (422, "SERVICE_NOT_APPLICABLE")
        status, _ = await post(port, path, {"phoneNumber": QUIET}, headers=auth)
        assert status == 200
    subscribe = {"config": {"subscriptionDetail": {"phoneNumber": unknown}}}
    status, body = await post(
        port, "/sim-swap-subscriptions/v0.3/subscriptions", subscribe, headers=auth
    )
    assert (status, body["code"]) == (404, "IDENTIFIER_NOT_FOUND")

    def audited(conn):
        return conn.execute(
            "SELECT count(*) FROM camara_audit WHERE status IN (404, 422)"
        ).fetchone()[0]

    async def nine_audited() -> bool:
        return await gw.durable.call(audited) == 9

    assert await until_async(nine_audited)


async def test_no_oracle_for_numbers_without_a_relation(tmp_path):
    async with running_simulator() as sim, running_gateway(config(tmp_path, sim.port)) as gw:
        auth = {"Authorization": f"Bearer {await setup(gw)}"}
        signal(gw, STRANGER, 1, kind="sim_swap")
        status, body = await post(
            gw.tenant_api_port, "/sim-swap/v2/check", {"phoneNumber": STRANGER}, headers=auth
        )
        assert (status, body["code"]) == (403, "PERMISSION_DENIED")
        assert "swapped" not in body


async def test_a_partner_asks_about_any_subscriber_others_keep_the_relation_rule(tmp_path):
    """camara_all_subscribers: another operator may ask about a number it never sent to; a
    tenant without it is refused the same number; the partner's queries are audited, and
    its quota holds, all the same."""
    async with running_simulator() as sim:
        base = config(tmp_path, sim.port)
        partner = TenantConfig(
            "opb", camara=True, camara_quota_per_minute=3, camara_all_subscribers=True
        )
        async with running_gateway(replace(base, tenants=(*base.tenants, partner))) as gw:
            access = await setup(gw)  # paybank: a relation with SWAPPED, FORWARDED, QUIET only
            signal(gw, STRANGER, 1, kind="sim_swap")
            port = gw.tenant_api_port
            status, body = await post(
                port,
                "/sim-swap/v2/check",
                {"phoneNumber": STRANGER},
                headers={"Authorization": f"Bearer {access}"},
            )
            assert (status, body["code"]) == (403, "PERMISSION_DENIED")

            _, issued = await token(gw, await key_for(gw, "opb"))
            auth = {"Authorization": f"Bearer {issued['access_token']}"}
            status, body = await post(
                port, "/sim-swap/v2/check", {"phoneNumber": STRANGER}, headers=auth
            )
            assert (status, body) == (200, {"swapped": True})
            status, body = await post(
                port, "/sim-swap/v2/retrieve-date", {"phoneNumber": QUIET}, headers=auth
            )
            assert status == 200 and body["latestSimChange"] is None
            status, body = await post(
                port, "/sim-swap/v2/check", {"phoneNumber": QUIET}, headers=auth
            )
            assert status == 200
            status, body = await post(
                port, "/sim-swap/v2/check", {"phoneNumber": QUIET}, headers=auth
            )
            assert (status, body["code"]) == (429, "QUOTA_EXCEEDED")

            def partner_rows(conn):
                return conn.execute(
                    "SELECT number, status FROM camara_audit WHERE tenant = 'opb'"
                ).fetchall()

            async def three_audited() -> bool:
                return len(await gw.durable.call(partner_rows)) == 3

            # The refusal past the quota comes before the body is read: not a query.
            assert await until_async(three_audited)
            rows = await gw.durable.call(partner_rows)
            assert [status for _, status in rows] == [200, 200, 200]
            assert all(number.startswith("msisdn:") for number, _ in rows)
            # The operator sees who may ask about every subscriber.
            _, listing = await call(gw.api_port, "GET", "/v1/tenants", OPERATOR_KEY)
            flags = {t["name"]: t["camara_all_subscribers"] for t in listing["tenants"]}
            assert flags == {"paybank": False, "closed": False, "opb": True}


async def test_tenant_not_allowed_expired_token_scope_and_quota(tmp_path):
    clock = ShiftedClock()
    async with (
        running_simulator() as sim,
        running_gateway(config(tmp_path, sim.port, token_lifetime_s=1.0), clock=clock) as gw,
    ):
        status, body = await token(gw, await key_for(gw, "closed"))
        assert (status, body["error"]) == (400, "unauthorized_client")
        status, body = await token(gw, "otpk_deadbeef_wrong")
        assert (status, body["error"]) == (401, "invalid_client")

        access = await setup(gw)
        port = gw.tenant_api_port
        auth = {"Authorization": f"Bearer {access}"}
        # Quota: 8 per minute for paybank (the token request is not counted).
        statuses = [
            (await post(port, "/sim-swap/v2/check", {"phoneNumber": QUIET}, headers=auth))[0]
            for _ in range(9)
        ]
        assert statuses[:8] == [200] * 8 and statuses[8] == 429
        # The tenant's business quota (CAMARA's QUOTA_EXCEEDED, not the server's limit).
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                f"http://127.0.0.1:{port}/sim-swap/v2/check",
                json={"phoneNumber": QUIET},
                headers={**auth, "x-correlator": "quota-1"},
            ) as r,
        ):
            body = await r.json()
            assert (r.status, body["status"], body["code"]) == (429, 429, "QUOTA_EXCEEDED")
            # 8 a minute come back at one per 7.5 s.
            assert r.headers["Retry-After"] in {"7", "8"} and r.headers["x-correlator"] == "quota-1"
        clock.advance(1.1)  # past the token's 1 s lifetime
        status, body = await post(port, "/sim-swap/v2/check", {"phoneNumber": QUIET}, headers=auth)
        assert (status, body["code"]) == (401, "UNAUTHENTICATED")

        status, narrow = await token(gw, await key_for(gw, "paybank"), scope="sim-swap:check")
        assert narrow["scope"] == "sim-swap:check"
        status, body = await post(
            port,
            "/sim-swap/v2/retrieve-date",
            {"phoneNumber": QUIET},
            headers={"Authorization": f"Bearer {narrow['access_token']}"},
        )
        assert (status, body["code"]) == (403, "PERMISSION_DENIED")


async def test_server_wide_rate_limit_over_every_client(tmp_path):
    clock = ShiftedClock()
    async with running_simulator() as sim:
        # One request per 100 s: a slow machine cannot refill the bucket during the test.
        base = config(tmp_path, sim.port, server_rate_per_s=0.01, server_burst=3)
        tenants = (*base.tenants, TenantConfig("second", camara=True))
        async with running_gateway(replace(base, tenants=tenants), clock=clock) as gw:
            auth = {"Authorization": f"Bearer {await setup(gw)}"}
            status, second = await token(gw, await key_for(gw, "second"))
            other = {"Authorization": f"Bearer {second['access_token']}"}
            port, check = gw.tenant_api_port, "/sim-swap/v2/check"
            for _ in range(3):  # paybank spends the server's burst; its own quota is 8
                assert (await post(port, check, {"phoneNumber": QUIET}, headers=auth))[0] == 200
            async with (
                aiohttp.ClientSession() as http,
                http.post(
                    f"http://127.0.0.1:{port}{check}",
                    json={"phoneNumber": QUIET},
                    headers={**other, "x-correlator": "busy-1"},
                ) as r,
            ):
                body = await r.json()
                assert (r.status, body["status"], body["code"]) == (429, 429, "TOO_MANY_REQUESTS")
                assert body["message"] and r.headers["x-correlator"] == "busy-1"
                retry_after = int(r.headers["Retry-After"])
                assert 90 <= retry_after <= 100
            clock.advance(retry_after)
            assert (await post(port, check, {"phoneNumber": QUIET}, headers=auth))[0] == 200
            status, body = await post(port, check, {"phoneNumber": QUIET}, headers=auth)
            assert (status, body["code"]) == (429, "TOO_MANY_REQUESTS")


async def test_every_query_is_audited_with_a_pseudonym(tmp_path):
    async with running_simulator() as sim, running_gateway(config(tmp_path, sim.port)) as gw:
        auth = {"Authorization": f"Bearer {await setup(gw)}"}
        await post(gw.tenant_api_port, "/sim-swap/v2/check", {"phoneNumber": SWAPPED}, headers=auth)
        await post(
            gw.tenant_api_port, "/sim-swap/v2/check", {"phoneNumber": STRANGER}, headers=auth
        )
        rows = await gw.durable.call(
            lambda conn: conn.execute(
                "SELECT tenant, endpoint, number, status FROM camara_audit"
            ).fetchall()
        )
        assert [(r[0], r[1], r[3]) for r in rows] == [
            ("paybank", "/sim-swap/v2/check", 200),
            ("paybank", "/sim-swap/v2/check", 403),
        ]
        assert all(r[2].startswith("msisdn:") and "447400" not in r[2] for r in rows)


async def test_a_sim_swap_subscription_receives_the_swapped_event(tmp_path):
    import ipaddress

    from standardwebhooks.webhooks import Webhook as Verifier

    from gateway.config_tenants import WebhooksConfig

    from .test_webhooks import Receiver

    receiver = Receiver()
    await receiver.start()
    try:
        async with running_simulator() as sim:
            base = config(tmp_path, sim.port)
            cfg = replace(
                base,
                webhooks=WebhooksConfig(
                    allow_http_hosts=frozenset({"127.0.0.1"}),
                    allow_networks=(ipaddress.ip_network("127.0.0.1/32"),),
                ),
            )
            async with running_gateway(cfg) as gw:
                auth = {"Authorization": f"Bearer {await setup(gw)}"}
                port = gw.tenant_api_port
                path = "/sim-swap-subscriptions/v0.3/subscriptions"
                body = {
                    "protocol": "HTTP",
                    "sink": receiver.url,
                    "types": ["org.camaraproject.sim-swap-subscriptions.v0.swapped"],
                    "config": {"subscriptionDetail": {"phoneNumber": QUIET}},
                }
                status, created = await post(port, path, body, headers=auth)
                assert status == 201 and created["status"] == "ACTIVE"
                stranger = {**body, "config": {"subscriptionDetail": {"phoneNumber": STRANGER}}}
                status, refused = await post(port, path, stranger, headers=auth)
                assert (status, refused["code"]) == (403, "PERMISSION_DENIED")

                occurred = datetime.fromtimestamp(gw.clock.now() - 10, UTC).isoformat()
                signals = [
                    {"kind": "sim_swap", "msisdn": SWAPPED, "occurred_at": occurred},
                    {"kind": "sim_swap", "msisdn": QUIET, "occurred_at": occurred},
                ]
                async with (
                    aiohttp.ClientSession() as http,
                    http.post(
                        f"http://127.0.0.1:{gw.api_port}/v1/signals",
                        json=signals,
                        headers={"Authorization": f"Bearer {OPERATOR_KEY}"},
                    ) as r,
                ):
                    assert (await r.json())["accepted"] == 2
                for _ in range(100):
                    if receiver.requests:
                        break
                    await asyncio.sleep(0.05)
                assert await until_async(lambda: outbox_settled(gw))
                assert len(receiver.requests) == 1
                headers, raw = receiver.requests[0]
                secret = gw.subscriptions.by_id[created["id"]].secret
                event = Verifier(secret).verify(raw, headers)
                assert event["type"] == "org.camaraproject.sim-swap-subscriptions.v0.swapped"
                assert event["data"]["phoneNumber"] == QUIET
                assert event["data"]["subscriptionId"] == created["id"]
    finally:
        await receiver.stop()
