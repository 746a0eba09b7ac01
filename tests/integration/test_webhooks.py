"""Tenants and webhooks: signed CloudEvents from the outbox to a real receiver, isolation, retries."""

from __future__ import annotations

import asyncio
import ipaddress
import re
from dataclasses import replace
from datetime import UTC, datetime

import aiohttp
import pytest
from aiohttp import web
from standardwebhooks.webhooks import Webhook as Verifier

from gateway.config_tenants import TenantConfig, WebhooksConfig
from gateway.signals.model import parse_signal

from .esme import AsyncEsme
from .harness import (
    OPERATOR_KEY,
    PASSWORD,
    account,
    call,
    gateway_config,
    outbox_settled,
    pending_receipts,
    route,
    running_gateway,
    running_simulator,
    until,
    until_async,
)

RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")

pytestmark = pytest.mark.asyncio

SWAPPED = "447400123123"
CODE = "482913"
OTP = f"Your PayBank verification code is {CODE}. Never share it.".encode()
POLICY = """
[[rules]]
name = "hold-after-swap"
when = { is_otp = true, sim_swap_age_lt = "1d" }
action = "hold"
ttl = "10m"
on_expiry = "drop"
notify = ["otp.held"]
[[rules]]
name = "rest"
action = "deliver"
"""


class Receiver:
    """A real aiohttp server that records what arrives; answers what the test tells it to."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.answers: list[int] = []  # consumed in order; then 200
        self.runner: web.AppRunner | None = None
        self.port = 0

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append((dict(request.headers), await request.read()))
        status = self.answers.pop(0) if self.answers else 200
        return web.Response(status=status)

    async def start(self, port: int = 0) -> None:
        app = web.Application()
        app.router.add_post("/hook", self.handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"


def config(tmp_path, port):
    policy = tmp_path / "policy.toml"
    policy.write_text(POLICY)
    accounts = (account("bank", tenant="paybank"), account("agg"))
    base = gateway_config(tmp_path, (route("main", port),), accounts)
    return replace(
        base,
        policy_file=policy,
        tenants=(
            TenantConfig("paybank"),
            TenantConfig("bank-a", senders={"agg": ("BankA",)}),
            TenantConfig("bank-b", senders={"agg": ("BankB",)}),
        ),
        webhooks=WebhooksConfig(
            allow_http_hosts=frozenset({"127.0.0.1"}),
            allow_networks=(ipaddress.ip_network("127.0.0.1/32"),),
        ),
    )


def swap(gateway, number: str = SWAPPED) -> None:
    occurred = datetime.fromtimestamp(gateway.clock.now() - 60, UTC).isoformat()
    signal = {"kind": "sim_swap", "msisdn": "+" + number, "occurred_at": occurred}
    gateway.risk_index.apply(parse_signal(signal, default_region=None))


async def tenant_key(gw, tenant: str) -> str:
    status, body = await call(gw.api_port, "POST", f"/v1/tenants/{tenant}/keys", OPERATOR_KEY)
    assert status == 201 and body["key"].startswith(body["id"])
    assert RFC3339.fullmatch(body["created_at"]), body
    return body["key"]


async def subscribe(gw, key: str, url: str, types=None) -> dict:
    body = {"url": url, "description": "test"}
    if types:
        body["event_types"] = types
    status, hook = await call(gw.tenant_api_port, "POST", "/v1/webhooks", key, body)
    assert status == 201, hook
    return hook


async def test_held_otp_arrives_signed_verifiable_and_without_the_code(tmp_path):
    receiver = Receiver()
    await receiver.start()
    try:
        async with running_simulator() as sim, running_gateway(config(tmp_path, sim.port)) as gw:
            swap(gw)
            key = await tenant_key(gw, "paybank")
            hook = await subscribe(gw, key, receiver.url)
            esme = await AsyncEsme.bind(gw.smpp_port, "bank", PASSWORD)
            response = await esme.submit(destination=SWAPPED, text=OTP, source_addr="PayBank")
            held_id = str(response.params["message_id"])
            assert await until(lambda: receiver.requests)
            headers, body = receiver.requests[0]
            event = Verifier(hook["secret"]).verify(body, headers)
            assert event["specversion"] == "1.0" and event["type"] == "otp.held"
            assert {"id", "source", "time", "datacontenttype", "data"} <= set(event)
            data = event["data"]
            assert data["hold_id"] == held_id and data["destination"] == "+" + SWAPPED
            assert (
                data["rule"] == "hold-after-swap" and data["reasons"][0]["fact"] == "sim_swap_age"
            )
            assert data["links"]["release"].endswith(f"/v1/holds/{held_id}/release")
            assert CODE.encode() not in body and b"verification" not in body
            # Release through the tenant API: otp.released follows, in order.
            status, _ = await call(gw.tenant_api_port, "POST", f"/v1/holds/{held_id}/release", key)
            assert status == 200
            assert await until(lambda: len(receiver.requests) == 2)
            second = Verifier(hook["secret"]).verify(*reversed(receiver.requests[1]))
            assert second["type"] == "otp.released"
            status, deliveries = await call(
                gw.tenant_api_port, "GET", f"/v1/webhooks/{hook['id']}/deliveries", key
            )
            assert [d["state"] for d in deliveries["deliveries"]] == ["delivered", "delivered"]
            # Times are RFC 3339 UTC everywhere, as in the holds and the events.
            first = deliveries["deliveries"][0]
            assert RFC3339.fullmatch(first["created_at"]), first
            assert RFC3339.fullmatch(first["attempts"][0]["at"]), first
            assert RFC3339.fullmatch(hook["created_at"]), hook
            esme.close()
    finally:
        await receiver.stop()


async def test_receiver_failing_then_recovering_gets_the_same_webhook_id(tmp_path):
    receiver = Receiver()
    receiver.answers = [500, 503]
    await receiver.start()
    try:
        async with running_simulator() as sim, running_gateway(config(tmp_path, sim.port)) as gw:
            swap(gw)
            key = await tenant_key(gw, "paybank")
            hook = await subscribe(gw, key, receiver.url, ["otp.held"])
            esme = await AsyncEsme.bind(gw.smpp_port, "bank", PASSWORD)
            await esme.submit(destination=SWAPPED, text=OTP)
            assert await until(lambda: len(receiver.requests) == 3, 20)
            ids = {headers["webhook-id"] for headers, _ in receiver.requests}
            assert len(ids) == 1
            stamps = [int(h["webhook-timestamp"]) for h, _ in receiver.requests]
            assert stamps == sorted(stamps)
            Verifier(hook["secret"]).verify(receiver.requests[-1][1], receiver.requests[-1][0])
            assert await until_async(lambda: outbox_settled(gw))
            assert len(receiver.requests) == 3  # delivered: no more attempts
            esme.close()
    finally:
        await receiver.stop()


async def test_410_disables_the_endpoint(tmp_path):
    receiver = Receiver()
    receiver.answers = [410]
    await receiver.start()
    try:
        async with running_simulator() as sim, running_gateway(config(tmp_path, sim.port)) as gw:
            swap(gw)
            key = await tenant_key(gw, "paybank")
            hook = await subscribe(gw, key, receiver.url)
            esme = await AsyncEsme.bind(gw.smpp_port, "bank", PASSWORD)
            await esme.submit(destination=SWAPPED, text=OTP)
            assert await until(lambda: receiver.requests)
            assert await until(lambda: not gw.subscriptions.by_id[hook["id"]].enabled)
            _, shown = await call(gw.tenant_api_port, "GET", f"/v1/webhooks/{hook['id']}", key)
            assert shown["enabled"] is False and "410" in shown["disabled_reason"]
            await esme.submit(destination=SWAPPED, text=OTP)
            # The second hold (and any event it wrote) committed, and no event waits to go.
            assert await until(lambda: len(gw.holds.open) == 2)
            assert await until_async(lambda: outbox_settled(gw))
            assert len(receiver.requests) == 1
            esme.close()
    finally:
        await receiver.stop()


async def test_secret_rotation_sends_both_signatures(tmp_path):
    receiver = Receiver()
    await receiver.start()
    try:
        async with running_simulator() as sim, running_gateway(config(tmp_path, sim.port)) as gw:
            swap(gw)
            key = await tenant_key(gw, "paybank")
            hook = await subscribe(gw, key, receiver.url)
            status, rotated = await call(
                gw.tenant_api_port, "POST", f"/v1/webhooks/{hook['id']}/rotate-secret", key
            )
            assert status == 200 and rotated["secret"] != hook["secret"]
            esme = await AsyncEsme.bind(gw.smpp_port, "bank", PASSWORD)
            await esme.submit(destination=SWAPPED, text=OTP)
            assert await until(lambda: receiver.requests)
            headers, body = receiver.requests[0]
            assert len(headers["webhook-signature"].split()) == 2
            Verifier(hook["secret"]).verify(body, headers)
            Verifier(rotated["secret"]).verify(body, headers)
            esme.close()
    finally:
        await receiver.stop()


async def test_tenants_sharing_an_account_see_only_their_own(tmp_path):
    receiver_a, receiver_b = Receiver(), Receiver()
    await receiver_a.start()
    await receiver_b.start()
    try:
        async with running_simulator() as sim, running_gateway(config(tmp_path, sim.port)) as gw:
            swap(gw)
            key_a, key_b = await tenant_key(gw, "bank-a"), await tenant_key(gw, "bank-b")
            await subscribe(gw, key_a, receiver_a.url)
            await subscribe(gw, key_b, receiver_b.url)
            esme = await AsyncEsme.bind(gw.smpp_port, "agg", PASSWORD)
            a_id = str(
                (await esme.submit(destination=SWAPPED, text=OTP, source_addr="BankA")).params[
                    "message_id"
                ]
            )
            b_id = str(
                (await esme.submit(destination=SWAPPED, text=OTP, source_addr="BankB")).params[
                    "message_id"
                ]
            )
            port = gw.tenant_api_port
            status, listing = await call(port, "GET", "/v1/holds", key_b)
            assert [h["id"] for h in listing["holds"]] == [b_id]
            for method, path in (
                ("GET", f"/v1/holds/{a_id}"),
                ("POST", f"/v1/holds/{a_id}/release"),
                ("POST", f"/v1/holds/{a_id}/cancel"),
            ):
                status, body = await call(port, method, path, key_b)
                assert status == 404, (method, path, body)
            assert a_id in gw.holds.open  # B's attempts changed nothing
            assert await until(lambda: receiver_a.requests and receiver_b.requests)
            assert await until_async(lambda: outbox_settled(gw))
            assert len(receiver_a.requests) == len(receiver_b.requests) == 1
            assert (
                a_id.encode() in receiver_a.requests[0][1]
                and a_id.encode() not in receiver_b.requests[0][1]
            )

            status, keys = await call(gw.api_port, "GET", "/v1/tenants/bank-b/keys", OPERATOR_KEY)
            key_id = keys["keys"][0]["id"]
            status, _ = await call(
                gw.api_port, "DELETE", f"/v1/tenants/bank-b/keys/{key_id}", OPERATOR_KEY
            )
            assert status == 204
            status, body = await call(port, "GET", "/v1/holds", key_b)
            assert status == 401
            status, body = await call(port, "GET", "/v1/holds", "otpk_00000000_wrong")
            assert status == 401
            esme.close()
    finally:
        await receiver_a.stop()
        await receiver_b.stop()


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://10.1.2.3/hook",
        "https://[::1]/hook",
        "http://example.com/hook",
        "https://user:pw@example.com/hook",
    ],
)
async def test_webhook_urls_the_ssrf_guard_refuses(tmp_path, url):
    async with running_simulator() as sim:
        base = config(tmp_path, sim.port)
        cfg = replace(base, webhooks=WebhooksConfig())  # nothing allowed
        async with running_gateway(cfg) as gw:
            key = await tenant_key(gw, "paybank")
            status, body = await call(gw.tenant_api_port, "POST", "/v1/webhooks", key, {"url": url})
            assert status == 422 and body["message"].startswith("url:")
            assert gw.subscriptions.of_tenant("paybank") == []


async def test_metrics_count_traffic_without_numbers_or_text(tmp_path):
    async with running_simulator() as sim, running_gateway(config(tmp_path, sim.port)) as gw:
        swap(gw)
        esme = await AsyncEsme.bind(gw.smpp_port, "bank", PASSWORD)
        await esme.submit(destination=SWAPPED, text=OTP)
        await esme.submit(destination="447400999888", text=b"hello")
        async with (
            aiohttp.ClientSession() as http,
            http.get(
                f"http://127.0.0.1:{gw.api_port}/metrics",
                headers={"Authorization": f"Bearer {OPERATOR_KEY}"},
            ) as response,
        ):
            text = await response.text()
        assert 'otpgate_submit_sm_received_total{account="bank"} 2.0' in text
        assert (
            'otpgate_decisions_total{decision="hold",rule="hold-after-swap",shadow="false"} 1.0'
            in text
        )
        assert 'otpgate_holds_open{state="held"} 1.0' in text
        assert "otpgate_submit_latency_seconds_bucket" in text
        assert SWAPPED not in text and "447400999888" not in text and CODE not in text
        esme.close()


def stored_forms(digits: str) -> list[bytes]:
    """Every way a number may sit in a file: text with and without "+", SQLite's integers."""
    value = int(digits)
    return [
        digits.encode(),
        ("+" + digits).encode(),
        value.to_bytes(6, "big"),
        value.to_bytes(8, "big"),
    ]


async def swap_a_minute_ago(gw) -> None:
    """The operator reports a SIM swap of SWAPPED a minute ago, through the API."""
    signal = {
        "kind": "sim_swap",
        "msisdn": "+" + SWAPPED,
        "occurred_at": datetime.fromtimestamp(gw.clock.now() - 60, UTC).isoformat(),
    }
    status, _ = await call(gw.api_port, "POST", "/v1/signals", OPERATOR_KEY, signal)
    assert status == 200


def assert_number_in_no_file(root, digits: str) -> None:
    for path in (p for p in root.rglob("*") if p.is_file()):
        data = path.read_bytes()
        for form in stored_forms(digits):
            assert form not in data, (path, form)


async def test_erasure_removes_everything_about_a_number(tmp_path):
    receiver = Receiver()
    await receiver.start()
    receiver.answers = [503] * 50  # the tenant's receiver is down: events stay queued
    try:
        async with running_simulator() as sim, running_gateway(config(tmp_path, sim.port)) as gw:
            key = await tenant_key(gw, "paybank")
            await subscribe(gw, key, receiver.url)
            await swap_a_minute_ago(gw)
            esme = await AsyncEsme.bind(gw.smpp_port, "bank", PASSWORD)
            await esme.submit(destination=SWAPPED, text=OTP)  # held
            await esme.submit(destination=SWAPPED, text=b"Your statement is ready")  # delivered
            esme.close()  # no receiver bound: its receipts wait on disk
            assert await until(lambda: gw.holds.open and gw.id_map._pending_rows == [])
            # The delivered message's receipt arrives and waits on disk.
            assert await until_async(lambda: pending_receipts(gw))
            status, body = await call(
                gw.api_port, "POST", "/v1/erasure", OPERATOR_KEY, {"msisdn": "+" + SWAPPED}
            )
            assert status == 200
            removed = body["removed"]
            assert removed["holds_cancelled"] == 1 and removed["holds"] == 1
            assert removed["signals"] == 1 and removed["subscriber_state"] == 1
            assert removed["audit"] >= 1 and removed["webhook_events"] >= 1
            assert removed["pending_receipts"] == 1  # the delivery's (the cancellation's has none)
            status, risk = await call(
                gw.api_port, "POST", "/v1/subscribers/risk", OPERATOR_KEY, {"msisdn": "+" + SWAPPED}
            )
            assert risk["tracked"] is False and risk["sim_swap"] is None and risk["sources"] == []
            assert any(path.name.endswith("-wal") for path in tmp_path.rglob("*"))
            assert_number_in_no_file(tmp_path, SWAPPED)
            # The receipts still owed reach the ESME when it binds, without the number.
            esme = await AsyncEsme.bind(gw.smpp_port, "bank", PASSWORD)
            assert await esme.wait_for(lambda: len(esme.receipts) >= 2)
            assert all(r.params["source_addr"] == "" for r in esme.receipts)
            esme.close()
    finally:
        await receiver.stop()


async def test_erasure_takes_a_hold_still_waiting_for_its_commit(tmp_path):
    """A hold made a moment before the erasure, its insert still waiting in the holds'
    commit window: the erasure's cancel waits for that group's commit, and every row of the
    hold goes with the DELETE after it; the ESME still gets its answer."""
    async with running_simulator() as sim, running_gateway(config(tmp_path, sim.port)) as gw:
        gw.holds.store.window.window_s = 1.0  # the hold's rows wait here a while
        await swap_a_minute_ago(gw)
        esme = await AsyncEsme.bind(gw.smpp_port, "bank", PASSWORD)
        answer = asyncio.get_running_loop().create_task(esme.submit(SWAPPED, OTP))
        assert await until(lambda: gw.holds.open)
        assert gw.holds.store.window._writes, "the hold's insert is no longer in the window"
        status, body = await call(
            gw.api_port, "POST", "/v1/erasure", OPERATOR_KEY, {"msisdn": "+" + SWAPPED}
        )
        assert status == 200, body
        assert body["removed"]["holds_cancelled"] == 1 and body["removed"]["holds"] == 1
        assert (await asyncio.wait_for(answer, 10)).params["message_id"]  # acknowledged
        assert_number_in_no_file(tmp_path, SWAPPED)
        esme.close()


async def test_event_survives_a_gateway_crash_while_the_receiver_is_down(tmp_path):
    """The outbox row commits with the hold; SIGKILL and a restart later it is delivered."""
    from .harness import free_port
    from .process import GatewayProcess

    policy = tmp_path / "policy.toml"
    policy.write_text(POLICY)
    receiver_port = free_port()
    async with running_simulator() as sim:
        gateway = GatewayProcess(
            tmp_path,
            sim.port,
            f"""
[policy]
file = "{policy}"

[[tenants]]
name = "paybank"
senders = {{ bank = ["PayBank"] }}

[webhooks]
allow_http_hosts = ["127.0.0.1"]
allow_networks = ["127.0.0.1/32"]
""",
        )
        await gateway.start()
        receiver = Receiver()
        try:
            status, created = await gateway.api("POST", "/v1/tenants/paybank/keys")
            key = created["key"]
            url = f"http://127.0.0.1:{receiver_port}/hook"  # nobody listens yet
            status, hook = await call(
                gateway.tenant_port, "POST", "/v1/webhooks", key, {"url": url}
            )
            assert status == 201
            occurred = datetime.fromtimestamp(datetime.now(UTC).timestamp() - 60, UTC).isoformat()
            await gateway.api(
                "POST",
                "/v1/signals",
                {"kind": "sim_swap", "msisdn": "+" + SWAPPED, "occurred_at": occurred},
            )
            esme = await AsyncEsme.bind(gateway.smpp_port, "bank", PASSWORD)
            response = await esme.submit(destination=SWAPPED, text=OTP, source_addr="PayBank")
            held_id = str(response.params["message_id"])
            esme.close()

            async def attempted() -> bool:  # a first attempt fails: connection refused
                _, shown = await call(
                    gateway.tenant_port, "GET", f"/v1/webhooks/{hook['id']}/deliveries", key
                )
                return any(d["attempts"] for d in shown["deliveries"])

            assert await until_async(attempted)
            gateway.kill()

            await receiver.start(receiver_port)
            await gateway.start()
            assert await until(lambda: receiver.requests, 20)
            headers, body = receiver.requests[0]
            event = Verifier(hook["secret"]).verify(body, headers)
            assert event["type"] == "otp.held" and event["data"]["hold_id"] == held_id
        finally:
            gateway.stop()
            await receiver.stop()


async def test_risk_events_reach_only_tenants_related_to_the_number(tmp_path):
    receiver = Receiver()
    await receiver.start()
    try:
        async with running_simulator() as sim, running_gateway(config(tmp_path, sim.port)) as gw:
            key = await tenant_key(gw, "paybank")
            hook = await subscribe(gw, key, receiver.url, ["risk.sim_swap", "risk.call_forwarding"])
            esme = await AsyncEsme.bind(gw.smpp_port, "bank", PASSWORD)
            await esme.submit(destination=SWAPPED, text=b"Your statement is ready")
            esme.close()
            occurred = datetime.fromtimestamp(gw.clock.now() - 5, UTC).isoformat()
            signals = [
                {
                    "kind": "sim_swap",
                    "msisdn": "+" + SWAPPED,
                    "occurred_at": occurred,
                    "reason": "esim_download",
                },
                {"kind": "sim_swap", "msisdn": "+447400999777", "occurred_at": occurred},
                {
                    "kind": "call_forwarding",
                    "msisdn": "+" + SWAPPED,
                    "occurred_at": occurred,
                    "service": "cfu",
                    "active": True,
                    "forwarded_to": "+447700900123",
                },
            ]
            _, body = await call(gw.api_port, "POST", "/v1/signals", OPERATOR_KEY, signals)
            assert body["accepted"] == 3
            assert await until(lambda: len(receiver.requests) == 2)
            assert await until_async(lambda: outbox_settled(gw))
            events = [Verifier(hook["secret"]).verify(b, h) for h, b in receiver.requests]
            assert [e["type"] for e in events] == ["risk.sim_swap", "risk.call_forwarding"]
            assert all(e["data"]["msisdn"] == "+" + SWAPPED for e in events)
            assert events[0]["data"]["reason"] == "esim_download"  # as the operator sent it
            _, risk = await call(
                gw.api_port, "POST", "/v1/subscribers/risk", OPERATOR_KEY, {"msisdn": "+" + SWAPPED}
            )
            assert risk["sim_swap"]["reason"] == "esim_download"
            assert "voice call" in events[1]["data"]["advice"]
            assert b"imsi" not in b"".join(b for _, b in receiver.requests)
    finally:
        await receiver.stop()


async def test_a_test_event_has_its_own_type_and_reaches_only_that_endpoint(tmp_path):
    receiver, other = Receiver(), Receiver()
    await receiver.start()
    await other.start()
    try:
        async with running_simulator() as sim, running_gateway(config(tmp_path, sim.port)) as gw:
            key = await tenant_key(gw, "paybank")
            # Subscribed to releases only: a test reaches it all the same, alone.
            hook = await subscribe(gw, key, receiver.url, ["otp.released"])
            await subscribe(gw, key, other.url)
            status, body = await call(
                gw.tenant_api_port, "POST", f"/v1/webhooks/{hook['id']}/test", key
            )
            assert (status, body) == (202, {"queued": True})
            assert await until(lambda: receiver.requests)
            event = Verifier(hook["secret"]).verify(*reversed(receiver.requests[0]))
            assert event["type"] == "webhook.test"
            assert event["data"] == {"test": True, "webhook": hook["id"]}
            assert await until_async(lambda: outbox_settled(gw))
            assert other.requests == []
    finally:
        await receiver.stop()
        await other.stop()


async def test_the_operator_sees_each_tenants_endpoints_and_sends_a_failed_event_again(tmp_path):
    receiver = Receiver()
    receiver.answers = [410]  # Gone: the endpoint is disabled, the event kept as disabled
    await receiver.start()
    try:
        async with running_simulator() as sim, running_gateway(config(tmp_path, sim.port)) as gw:
            swap(gw)
            key = await tenant_key(gw, "paybank")
            hook = await subscribe(gw, key, receiver.url, ["otp.held"])
            esme = await AsyncEsme.bind(gw.smpp_port, "bank", PASSWORD)
            await esme.submit(destination=SWAPPED, text=OTP, source_addr="PayBank")
            esme.close()
            assert await until(lambda: receiver.requests)
            assert await until_async(lambda: outbox_settled(gw))
            status, listing = await call(gw.api_port, "GET", "/v1/tenants", OPERATOR_KEY)
            paybank = next(t for t in listing["tenants"] if t["name"] == "paybank")
            assert status == 200 and (paybank["webhooks"], paybank["webhooks_disabled"]) == (1, 1)
            assert paybank["accounts"] == ["bank"] and paybank["active_keys"] == 1
            status, endpoints = await call(
                gw.api_port, "GET", "/v1/tenants/paybank/webhooks", OPERATOR_KEY
            )
            [endpoint] = endpoints["webhooks"]
            assert status == 200 and endpoint["id"] == hook["id"] and "secret" not in endpoint
            assert endpoint["recent_states"] == {"disabled": 1}
            delivery = endpoint["deliveries"][0]["id"]
            status, body = await call(
                gw.api_port,
                "POST",
                f"/v1/tenants/paybank/deliveries/{delivery}/replay",
                OPERATOR_KEY,
            )
            assert (status, body) == (202, {"replayed": delivery})
            status, _ = await call(
                gw.api_port,
                "POST",
                f"/v1/tenants/nobody/deliveries/{delivery}/replay",
                OPERATOR_KEY,
            )
            assert status == 404
    finally:
        await receiver.stop()
