"""Numbers of another operator: two real gateways, the second one serving as that operator's
CAMARA API (its own tenant, OAuth2 client credentials, signals posted to it over HTTP)."""

from __future__ import annotations

import asyncio
import ipaddress
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from jsonschema import Draft202012Validator

from gateway.api.openapi import operator_document
from gateway.app import Gateway
from gateway.audit import pull_rows, rows
from gateway.clock import Clock
from gateway.config_reader import Section
from gateway.config_tenants import CamaraConfig, TenantConfig, WebhooksConfig
from gateway.peers.config import parse_number_ranges, parse_peers
from smpp_adapters.simulator import SmscSimulator

from .esme import AsyncEsme
from .harness import (
    OPERATOR_KEY,
    PASSWORD,
    ShiftedClock,
    account,
    call,
    gateway_config,
    route,
    running_gateway,
    running_simulator,
    until,
    until_async,
)

pytestmark = pytest.mark.asyncio

OTP = b"Your PayBank verification code is 482913. Never share it."
NOT_OTP = b"Your statement is ready"
# The peer operator's numbers (prefix +49151), and one of the home network's.
SWAPPED = "+4915100000001"
CLEAN = "+4915100000002"
FORWARDED = "+4915100000003"
ALSO_CLEAN = "+4915100000004"
ON_NET = "+447400123123"


@dataclass
class Operators:
    home: Gateway
    home_smsc: SmscSimulator
    peer: Gateway
    esme: AsyncEsme

    @property
    def stats(self) -> Any:
        assert self.home.peers is not None
        return self.home.peers.stats

    def peer_queries(self, endpoint: str) -> int:
        return sum(n for (path, _), n in self.peer.stats.camara.items() if path.endswith(endpoint))

    async def audit(self) -> list[dict[str, Any]]:
        return await self.home.id_map.writer.call(lambda conn: rows(conn, 0))

    async def pulls(self) -> list[dict[str, Any]]:
        return await self.home.id_map.writer.call(lambda conn: pull_rows(conn, 0))


async def stop_once(gateway: Gateway) -> None:
    """A gateway a test may stop early (the peer going down) is stopped once."""
    if not getattr(gateway, "stopped", False):
        gateway.stopped = True  # type: ignore[attr-defined]
        await gateway.stop()


def _ago(gateway: Gateway, hours: float) -> str:
    return datetime.fromtimestamp(gateway.clock.now() - hours * 3600, UTC).isoformat()


def peer_section(tmp_path: Path, peer_port: int, key: str, **extra: Any) -> Section:
    """The home gateway's [[camara_peers]], read as from a file (secret by client_secret_file)."""
    secret = tmp_path / "opb.secret"
    secret.write_text(key + "\n")
    entry = {
        "name": "opb",
        "base_url": f"http://127.0.0.1:{peer_port}",
        "client_id": key[:13],
        "client_secret_file": str(secret),
        "networks": ["262-01"],
        "timeout_ms": 2000,
        **extra,
    }
    return Section("<test>", "", {"camara_peers": [entry], "number_ranges": {"262-01": ["+49151"]}})


def peers_from(section: Section) -> Any:
    peers = parse_peers(
        section.tables("camara_peers"), parse_number_ranges(section.table("number_ranges"))
    )
    section.check()
    return peers


async def start_peer_operator(
    stack: Any, tmp_path: Path, token_lifetime_s: float, clock: Clock | None = None
) -> tuple[Gateway, str]:
    """The other operator: its signals over HTTP, and a CAMARA client key for the home
    operator, a tenant that may ask about any of its subscribers (no traffic to them)."""
    smsc = await stack.enter_async_context(running_simulator())
    config = gateway_config(tmp_path / "peer", (route("main", smsc.port),))
    config = replace(
        config,
        tenants=(
            TenantConfig(
                "opa", camara=True, camara_quota_per_minute=100_000, camara_all_subscribers=True
            ),
        ),
        camara=CamaraConfig(token_lifetime_s=token_lifetime_s),
    )
    peer = Gateway(config, clock=clock)
    await peer.start()
    await peer.wait_upstream()
    stack.push_async_callback(stop_once, peer)
    signals = [
        {"kind": "sim_swap", "msisdn": SWAPPED, "occurred_at": _ago(peer, 2)},
        {
            "kind": "call_forwarding",
            "msisdn": FORWARDED,
            "occurred_at": _ago(peer, 1),
            "service": "cfu",
            "active": True,
            "forwarded_to": "+447700900123",
        },
    ]
    status, _ = await call(peer.api_port, "POST", "/v1/signals", OPERATOR_KEY, signals)
    assert status in (200, 202)
    status, body = await call(peer.api_port, "POST", "/v1/tenants/opa/keys", OPERATOR_KEY)
    assert status in (200, 201)
    return peer, body["key"]


@asynccontextmanager
async def operators(
    tmp_path: Path,
    *,
    token_lifetime_s: float = 3600.0,
    policy: str | None = None,
    extra_peers: tuple[Any, ...] = (),
    clock: Clock | None = None,
    webhooks: WebhooksConfig | None = None,
    **peer_options: Any,
) -> AsyncIterator[Operators]:
    from contextlib import AsyncExitStack

    async with AsyncExitStack() as stack:
        peer, key = await start_peer_operator(stack, tmp_path, token_lifetime_s, clock)
        smsc = await stack.enter_async_context(running_simulator())
        config = gateway_config(
            tmp_path / "home", (route("main", smsc.port),), (account("bank", tenant="paybank"),)
        )
        peers = peers_from(peer_section(tmp_path, peer.tenant_api_port, key, **peer_options))
        policy_file = None
        if policy is not None:
            policy_file = tmp_path / "policy.toml"
            policy_file.write_text(policy)
        config = replace(config, camara_peers=peers + extra_peers, policy_file=policy_file)
        if webhooks is not None:  # the home operator's tenant, told of risk by webhook
            config = replace(config, tenants=(TenantConfig("paybank"),), webhooks=webhooks)
        home = await stack.enter_async_context(running_gateway(config, clock=clock))
        esme = await AsyncEsme.bind(home.smpp_port, "bank", PASSWORD)
        stack.callback(esme.close)
        assert home.peers is not None
        client = home.peers.clients["opb"]
        assert await until(lambda: client.token_valid_s > 0)
        yield Operators(home, smsc, peer, esme)


async def submit(ops: Operators, number: str, text: bytes = OTP) -> int:
    response = await ops.esme.submit(destination=number[1:], text=text)
    return int(response.command_status)


async def held_for(ops: Operators, number: str) -> list[Any]:
    return [r for r in ops.home.holds.open.values() if r.destination == number]


async def test_an_otp_to_the_peers_swapped_number_is_held_and_to_its_clean_number_delivered(
    tmp_path: Path,
) -> None:
    async with operators(tmp_path) as ops:
        assert await submit(ops, SWAPPED) == 0
        held = await held_for(ops, SWAPPED)
        assert len(held) == 1 and held[0].rule == "hold-after-sim-swap"
        assert ops.home_smsc.submitted == 0

        assert await submit(ops, CLEAN) == 0
        assert await until(lambda: ops.home_smsc.submitted == 1)
        assert await held_for(ops, CLEAN) == []
        assert ops.stats.calls[("opb", "ok")] == 2
        assert ops.peer_queries("/retrieve-date") == 2

        # Not an OTP, and a home number: no call to the peer.
        assert await submit(ops, ALSO_CLEAN, NOT_OTP) == 0
        assert await submit(ops, ON_NET) == 0
        assert await until(lambda: ops.home_smsc.submitted == 3)
        assert ops.stats.calls[("opb", "ok")] == 2

        # The decision names the peer as the source of its facts; audit rows of each pull
        # carry the number's pseudonym, never its digits.
        assert await until_async(lambda: _has_audit(ops, "hold-after-sim-swap"))
        decision = next(r for r in await ops.audit() if r["rule"] == "hold-after-sim-swap")
        reasons = json.loads(decision["reasons"])
        assert {"fact": "facts_source", "value": "peer:opb"} in reasons
        age = next(r for r in reasons if r["fact"] == "sim_swap_age")["age_s"]
        assert 7100 < age < 7300
        assert await until_async(lambda: _count_pulls(ops, 2))
        pulls = await ops.pulls()
        assert {p["peer"] for p in pulls} == {"opb"}
        assert all(p["subscriber"].startswith("msisdn:") for p in pulls)
        assert not any(SWAPPED[1:] in json.dumps(p) or CLEAN[1:] in json.dumps(p) for p in pulls)
        assert any(p["answer"].startswith("sim_swap_age_s=72") for p in pulls)

        # The operator's view: peer health in /readyz, metrics per peer.
        status, ready = await call(ops.home.api_port, "GET", "/readyz", OPERATOR_KEY)
        assert status == 200 and ready["peers"]["opb"]["breaker"] == "closed"
        assert ready["peers"]["opb"]["calls_ok"] == 2
        metrics = await _metrics(ops.home)
        assert 'otpgate_peer_calls_total{outcome="ok",peer="opb"} 2.0' in metrics
        assert 'otpgate_peer_breaker_state{peer="opb",state="closed"} 1.0' in metrics
        assert "otpgate_peer_latency_seconds_bucket" in metrics
        assert "482913" not in metrics


async def test_a_forwarding_peer_number_is_delivered_with_the_risk_named(tmp_path: Path) -> None:
    async with operators(tmp_path) as ops:
        assert await submit(ops, FORWARDED) == 0
        assert await until(lambda: ops.home_smsc.submitted == 1)
        assert ops.peer_queries("/unconditional-call-forwardings") == 1
        assert await until_async(lambda: _has_audit(ops, "warn-call-forwarding"))


async def test_the_cache_answers_a_second_otp_without_a_call(tmp_path: Path) -> None:
    async with operators(tmp_path) as ops:
        assert await submit(ops, SWAPPED) == 0
        assert await submit(ops, CLEAN) == 0
        calls = ops.peer_queries("/retrieve-date")
        assert calls == 2
        assert await submit(ops, SWAPPED) == 0
        assert await submit(ops, CLEAN) == 0
        assert len(await held_for(ops, SWAPPED)) == 2
        assert await until(lambda: ops.home_smsc.submitted == 2)
        assert ops.peer_queries("/retrieve-date") == calls
        assert ops.stats.cache_hits["opb"] == 2
        assert ops.stats.calls[("opb", "ok")] == 2


async def test_the_peer_down_means_on_lookup_failure(tmp_path: Path) -> None:
    async with operators(tmp_path, breaker_failures=2) as ops:
        await stop_once(ops.peer)  # the other operator's API is gone
        assert await submit(ops, CLEAN) == 0
        held = await held_for(ops, CLEAN)
        assert len(held) == 1 and held[0].rule == "on_lookup_failure"
        assert ops.home_smsc.submitted == 0
        assert await until_async(lambda: _has_audit(ops, "on_lookup_failure"))
        row = next(r for r in await ops.audit() if r["rule"] == "on_lookup_failure")
        assert json.loads(row["reasons"]) == [
            {"fact": "peer_lookup_failed", "value": "opb:unreachable"}
        ]
        # After two failures the breaker opens: the next OTP fails at once, without a call.
        assert await submit(ops, ALSO_CLEAN) == 0
        assert await submit(ops, SWAPPED) == 0
        assert ops.stats.failures[("opb", "circuit_open")] == 1
        status, ready = await call(ops.home.api_port, "GET", "/readyz", OPERATOR_KEY)
        assert status == 200 and ready["peers"]["opb"]["breaker"] == "open"
        metrics = await _metrics(ops.home)
        assert 'otpgate_peer_breaker_state{peer="opb",state="open"} 1.0' in metrics
        assert 'otpgate_peer_failures_total{peer="opb",reason="unreachable"} 2.0' in metrics
        # The console's panel reads the same, with failures by reason; numbers never appear.
        status, listed = await call(ops.home.api_port, "GET", "/v1/peers", OPERATOR_KEY)
        [peer] = listed["peers"]
        assert status == 200 and (peer["name"], peer["breaker"]) == ("opb", "open")
        assert peer["failures"] == {"circuit_open": 1, "unreachable": 2}
        assert (peer["calls_ok"], peer["calls_failed"], peer["latency_mean_ms"]) == (0, 3, None)
        assert not any(n[1:] in json.dumps(listed) for n in (CLEAN, ALSO_CLEAN, SWAPPED))
        document = operator_document()
        answer = document["paths"]["/v1/peers"]["get"]["responses"]["200"]
        schema = answer["content"]["application/json"]["schema"]
        assert list(Draft202012Validator(schema).iter_errors(listed)) == []


async def test_a_swap_learned_from_the_peer_is_a_signed_risk_webhook_without_the_code(
    tmp_path: Path,
) -> None:
    """The sender of an OTP to the peer's swapped number hears ``risk.sim_swap`` (and of its
    forwarded number ``risk.call_forwarding``) with the peer named as the source, signed as
    every webhook, once per change, and without the code."""
    from standardwebhooks.webhooks import Webhook as Verifier

    from .harness import outbox_settled
    from .test_webhooks import Receiver, subscribe, tenant_key

    receiver = Receiver()
    await receiver.start()
    local = WebhooksConfig(
        allow_http_hosts=frozenset({"127.0.0.1"}),
        allow_networks=(ipaddress.ip_network("127.0.0.1/32"),),
    )
    try:
        async with operators(tmp_path, webhooks=local) as ops:
            key = await tenant_key(ops.home, "paybank")
            kinds = ["risk.sim_swap", "risk.call_forwarding"]
            hook = await subscribe(ops.home, key, receiver.url, kinds)
            assert await submit(ops, SWAPPED) == 0  # the first OTP to the number
            assert len(await held_for(ops, SWAPPED)) == 1
            assert await until(lambda: receiver.requests)
            headers, body = receiver.requests[0]
            event = Verifier(hook["secret"]).verify(body, headers)
            assert event["type"] == "risk.sim_swap"
            data = event["data"]
            assert (data["msisdn"], data["source"]) == (SWAPPED, "peer:opb")
            changed = datetime.fromisoformat(data["occurred_at"]).timestamp()
            assert abs(ops.home.clock.now() - changed - 7200) < 60  # the peer's 2 h ago
            assert b"482913" not in body and b"verification" not in body

            # Forwarding from the peer's answer; a second OTP to the swapped number is
            # answered by the cache and tells nothing new.
            assert await submit(ops, FORWARDED) == 0
            assert await submit(ops, SWAPPED) == 0
            assert await until(lambda: len(receiver.requests) == 2)
            headers, body = receiver.requests[1]
            event = Verifier(hook["secret"]).verify(body, headers)
            assert event["type"] == "risk.call_forwarding"
            assert (event["data"]["msisdn"], event["data"]["source"]) == (FORWARDED, "peer:opb")
            assert event["data"]["active"] is True and b"482913" not in body
            assert await until_async(lambda: outbox_settled(ops.home))
            assert len(receiver.requests) == 2 and ops.stats.cache_hits["opb"] == 1
    finally:
        await receiver.stop()


async def test_on_lookup_failure_deliver_delivers_and_says_why(tmp_path: Path) -> None:
    policy = """
[policy]
on_lookup_failure = "deliver"
[[rules]]
name = "hold-after-swap"
when = { is_otp = true, sim_swap_age_lt = "1d" }
action = "hold"
ttl = "1h"
[[rules]]
name = "rest"
action = "deliver"
"""
    async with operators(tmp_path, policy=policy) as ops:
        await stop_once(ops.peer)
        assert await submit(ops, SWAPPED) == 0
        assert await until(lambda: ops.home_smsc.submitted == 1)
        assert await held_for(ops, SWAPPED) == []
        assert await until_async(lambda: _has_audit(ops, "on_lookup_failure"))
        row = next(r for r in await ops.audit() if r["rule"] == "on_lookup_failure")
        assert row["decision"] == "deliver"
        assert json.loads(row["reasons"]) == [
            {"fact": "peer_lookup_failed", "value": "opb:unreachable"}
        ]


async def test_the_token_is_refreshed_before_it_expires(tmp_path: Path) -> None:
    """Tokens of two minutes, on a clock both operators share and the test moves: past the
    refresh point (90 s) and before the end (120 s), a new token is fetched in the
    background; the old one never lapses in use and no pull fails or waits for a token."""
    clock = ShiftedClock()
    async with operators(tmp_path, token_lifetime_s=120.0, clock=clock) as ops:
        assert ops.home.peers is not None
        client = ops.home.peers.clients["opb"]
        fetches = ops.stats.token_fetches
        assert fetches[("opb", "ok")] == 1
        lapsed = []

        def fetched(count: int) -> bool:
            if client.token_valid_s <= 0:
                lapsed.append(clock.now())
            return fetches[("opb", "ok")] == count

        for count, number in ((2, SWAPPED), (3, CLEAN)):
            clock.advance(95)  # past this token's refresh point, not its end
            old_expires_at = clock.now() + client.token_valid_s
            assert client.token_valid_s > 0
            assert await until(lambda count=count: fetched(count))
            assert clock.now() < old_expires_at  # replaced while it was still valid
            assert client.token_valid_s > 110
            assert await submit(ops, number) == 0
        assert lapsed == []
        assert len(await held_for(ops, SWAPPED)) == 1
        assert await until(lambda: ops.home_smsc.submitted == 1)  # CLEAN delivered
        assert ops.stats.failures == {} and ops.stats.calls[("opb", "ok")] == 2
        # The peer took each token: no 401 among its answers.
        assert all(status == 200 for (_, status) in ops.peer.stats.camara)
        assert ops.peer_queries("/retrieve-date") == 2


@asynccontextmanager
async def slow_peer(release: asyncio.Event) -> AsyncIterator[int]:
    """A CAMARA API that issues tokens at once and answers retrieve-date only on ``release``."""

    async def token(request: web.Request) -> web.Response:
        return web.json_response({"access_token": "t", "token_type": "Bearer", "expires_in": 3600})

    async def retrieve_date(request: web.Request) -> web.Response:
        await release.wait()
        return web.json_response({"latestSimChange": None, "monitoredPeriod": 30})

    app = web.Application()
    app.router.add_post("/oauth2/token", token)
    app.router.add_post("/sim-swap/v2/retrieve-date", retrieve_date)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield int(runner.addresses[0][1])
    finally:
        release.set()
        await runner.cleanup()


def slow_peer_config(tmp_path: Path, port: int, timeout_ms: int) -> Any:
    secret = tmp_path / "slow.secret"
    secret.write_text("s")
    section = Section(
        "<test>",
        "",
        {
            "camara_peers": [
                {
                    "name": "slow",
                    "base_url": f"http://127.0.0.1:{port}",
                    "client_id": "c",
                    "client_secret_file": str(secret),
                    "prefixes": ["+4916"],
                    "scopes": ["sim-swap:retrieve-date"],
                    "timeout_ms": timeout_ms,
                }
            ]
        },
    )
    return peers_from(section)


async def test_a_slow_peer_never_stalls_other_numbers(tmp_path: Path) -> None:
    release = asyncio.Event()
    async with slow_peer(release) as port:
        slow = slow_peer_config(tmp_path, port, timeout_ms=30_000)
        async with operators(tmp_path, extra_peers=slow) as ops:
            assert ops.home.peers is not None
            assert await until(lambda: ops.home.peers.clients["slow"].token_valid_s > 0)
            waiting = asyncio.ensure_future(submit(ops, "+4916000000001"))
            assert await until(
                lambda: ops.stats.calls.total() == 0 and ops.home.pipeline.pulls_waiting == 1
            )
            # On the same bind, while that submit waits: home numbers, the other peer's.
            for number in (ON_NET, CLEAN, SWAPPED, "+447400123124"):
                assert await asyncio.wait_for(submit(ops, number), 5) == 0
            assert await until(lambda: ops.home_smsc.submitted == 3)
            assert len(await held_for(ops, SWAPPED)) == 1
            assert not waiting.done()
            release.set()
            assert await asyncio.wait_for(waiting, 5) == 0
            assert await until(lambda: ops.home_smsc.submitted == 4)


async def test_a_peer_past_its_budget_is_a_timeout(tmp_path: Path) -> None:
    release = asyncio.Event()
    async with slow_peer(release) as port:
        slow = slow_peer_config(tmp_path, port, timeout_ms=200)
        async with operators(tmp_path, extra_peers=slow) as ops:
            assert ops.home.peers is not None
            assert await until(lambda: ops.home.peers.clients["slow"].token_valid_s > 0)
            loop = asyncio.get_running_loop()
            started = loop.time()
            assert await submit(ops, "+4916000000002") == 0
            assert loop.time() - started < 2.0
            held = await held_for(ops, "+4916000000002")
            assert len(held) == 1 and held[0].rule == "on_lookup_failure"
            assert ops.stats.failures[("slow", "timeout")] == 1


async def _has_audit(ops: Operators, rule: str) -> bool:
    return any(r["rule"] == rule for r in await ops.audit())


async def _count_pulls(ops: Operators, count: int) -> bool:
    return len(await ops.pulls()) >= count


async def _metrics(gateway: Gateway) -> str:
    import aiohttp

    async with (
        aiohttp.ClientSession() as http,
        http.get(
            f"http://127.0.0.1:{gateway.api_port}/metrics",
            headers={"Authorization": f"Bearer {OPERATOR_KEY}"},
        ) as response,
    ):
        return await response.text()
