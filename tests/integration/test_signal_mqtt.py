"""Signals over MQTT through a real mosquitto: into the index, acknowledged only after commit."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime

import aiomqtt
import pytest

from gateway.config import MqttConfig, SignalsConfig

from .esme import AsyncEsme
from .harness import PASSWORD, gateway_config, route, running_gateway, running_simulator, until
from .process import GatewayProcess

pytestmark = pytest.mark.asyncio

NUMBER = "+447400123123"
OTP = b"Your PayBank verification code is 482913. Never share it."


def occurred(seconds_ago: float = 60) -> str:
    return datetime.fromtimestamp(datetime.now(UTC).timestamp() - seconds_ago, UTC).isoformat()


def swap(number: str = NUMBER, **extra) -> bytes:
    return json.dumps({"msisdn": number, "occurred_at": occurred(), **extra}).encode()


def config(tmp_path, sim_port: int, broker, client_id: str = "otpgate-test"):
    mqtt = MqttConfig(
        host=broker.host,
        port=broker.port,
        client_id=client_id,
        reconnect_min_s=0.1,
        reconnect_max_s=0.5,
    )
    base = gateway_config(tmp_path, (route("main", sim_port),))
    return replace(base, signals=SignalsConfig(mqtt=mqtt))


def mqtt_table(broker, client_id: str) -> str:
    """The ``[signals.mqtt]`` table of a gateway process on ``broker``, quick to reconnect."""
    return f"""
[signals.mqtt]
host = "{broker.host}"
port = {broker.port}
client_id = "{client_id}"
reconnect_min_s = 0.1
reconnect_max_s = 0.5
"""


async def publish(broker, topic: str, *payloads: bytes) -> None:
    async with aiomqtt.Client(broker.host, broker.port, identifier="feed-test") as feed:
        for payload in payloads:
            await feed.publish(topic, payload, qos=1)


async def connected(gateway) -> bool:
    return await until(lambda: gateway.feed_health.mqtt_connected)


async def test_published_signals_reach_the_index_and_rejects_are_echoed(tmp_path, mosquitto):
    async with (
        running_simulator() as sim,
        running_gateway(config(tmp_path, sim.port, mosquitto)) as gw,
    ):
        assert await connected(gw)
        async with aiomqtt.Client(mosquitto.host, mosquitto.port, identifier="watch") as watch:
            await watch.subscribe("otpgate/signals/rejected", qos=1)
            await publish(
                mosquitto,
                "otpgate/signals/sim_swap",
                swap(),
                b"{not json",
                json.dumps({"msisdn": "+44123", "occurred_at": occurred()}).encode(),
                json.dumps(
                    {"kind": "clearance", "msisdn": NUMBER, "occurred_at": occurred()}
                ).encode(),
            )
            rejected = []
            async with asyncio.timeout(10):
                async for message in watch.messages:
                    rejected.append(json.loads(message.payload))
                    if len(rejected) == 3:
                        break
        reasons = sorted(r["reason"] for r in rejected)  # decoding rejects need no commit: first
        assert reasons[0].startswith("kind: 'clearance'") and "sim_swap topic" in reasons[0]
        assert reasons[1].startswith("msisdn")
        assert reasons[2].startswith("payload: not JSON")
        counters = gw.feed_health.counters("mqtt")
        assert await until(lambda: counters.accepted == 1)
        assert gw.risk_index.facts(NUMBER, gw.clock.now()).sim_swap_age_s is not None
        assert (counters.accepted, counters.rejected) == (1, 3)


async def test_signals_published_while_the_gateway_is_away_arrive_when_it_returns(
    tmp_path, mosquitto
):
    async with running_simulator() as sim:
        cfg = config(tmp_path, sim.port, mosquitto)
        async with running_gateway(cfg) as gw:
            assert await connected(gw)  # the persistent session and its subscriptions exist now
        await publish(
            mosquitto, "otpgate/signals/sim_swap", swap("+447400123124"), swap("+447400123125")
        )
        async with running_gateway(cfg) as gw:
            assert await until(lambda: gw.feed_health.counters("mqtt").accepted == 2)
            assert gw.risk_index.facts("+447400123125", gw.clock.now()).sim_swap_age_s is not None


async def test_ingest_resumes_by_itself_after_the_broker_restarts(tmp_path, mosquitto):
    async with (
        running_simulator() as sim,
        running_gateway(config(tmp_path, sim.port, mosquitto)) as gw,
    ):
        assert await connected(gw)
        health = gw.feed_health
        before = health.mqtt_changed_at
        mosquitto.restart()
        # Connected again after the restart: it may take the client a keepalive (10 s) to
        # notice the old connection is gone, so a stale "connected" is not enough.
        assert await until(lambda: health.mqtt_changed_at > before and health.mqtt_connected, 30)
        await publish(mosquitto, "otpgate/signals/sim_swap", swap())
        assert await until(lambda: gw.feed_health.counters("mqtt").accepted == 1)


async def test_outage_when_the_broker_stays_away(tmp_path, mosquitto):
    async with running_simulator() as sim:
        base = config(tmp_path, sim.port, mosquitto)
        cfg = replace(base, signals=replace(base.signals, outage_after_s=0.3))
        async with running_gateway(cfg) as gw:
            assert await connected(gw)
            assert not gw.feed_health.outage(gw.clock.now())
            mosquitto.stop()
            assert await until(lambda: gw.feed_health.outage(gw.clock.now()), 5)
            mosquitto.start()
            assert await connected(gw)
            assert not gw.feed_health.outage(gw.clock.now())


async def test_an_otp_after_a_swap_published_on_mqtt_a_minute_earlier_is_held(tmp_path, mosquitto):
    async with (
        running_simulator(keep_records=True) as sim,
        running_gateway(config(tmp_path, sim.port, mosquitto)) as gw,
    ):
        assert await connected(gw)
        await publish(mosquitto, "otpgate/signals/sim_swap", swap())
        assert await until(lambda: gw.feed_health.counters("mqtt").accepted == 1)
        esme = await AsyncEsme.bind(gw.smpp_port, "bank", PASSWORD)
        held = await esme.submit(destination=NUMBER[1:], text=OTP)
        passed = await esme.submit(destination="447400999888", text=OTP)
        assert held.command_status == passed.command_status == 0
        # The passed one, submitted second on the one upstream bind, has arrived.
        assert await until(lambda: sim.records)
        assert [r.destination_addr for r in sim.records] == ["447400999888"]
        assert len(gw.holds.open) == 1
        esme.close()


async def test_a_signal_received_but_not_committed_comes_again_after_sigkill(tmp_path, mosquitto):
    """PUBACK after commit: with aiomqtt's default (acknowledge on receipt) this fails."""
    async with running_simulator() as sim:
        gateway = GatewayProcess(tmp_path, sim.port, mqtt_table(mosquitto, "otpgate-crash"))
        await gateway.start()
        try:
            store = tmp_path / "data" / "signals.sqlite"
            blocker = sqlite3.connect(store, timeout=10, isolation_level=None)
            blocker.execute("BEGIN EXCLUSIVE")  # the gateway's commit now waits
            await publish(mosquitto, "otpgate/signals/sim_swap", swap())

            async def received() -> int:
                _, health = await gateway.api("GET", "/v1/signals/health")
                return health["feeds"].get("mqtt", {}).get("received", 0)

            for _ in range(100):
                if await received() >= 1:
                    break
                await asyncio.sleep(0.05)
            _, health = await gateway.api("GET", "/v1/signals/health")
            assert health["feeds"]["mqtt"]["received"] >= 1
            assert health["feeds"]["mqtt"]["accepted"] == 0
            gateway.kill()
            blocker.execute("ROLLBACK")
            blocker.close()

            await gateway.start()
            for _ in range(100):
                _, risk = await gateway.api("POST", "/v1/subscribers/risk", {"msisdn": NUMBER})
                if risk["sim_swap"] is not None:
                    break
                await asyncio.sleep(0.05)
            assert risk["sim_swap"] is not None and risk["sim_swap"]["reason"] == "sim_swap"
        finally:
            gateway.stop()


async def test_a_burst_with_a_bad_signal_commits_and_acknowledges_the_others(tmp_path, mosquitto):
    """Queued while the gateway is away, a burst arrives at once and is taken in batches: the
    bad one goes to the rejected topic, the others are committed, and every one is
    acknowledged (a later session gets nothing again)."""
    numbers = [f"+4474001{i:05d}" for i in range(40)]
    async with running_simulator() as sim:
        cfg = config(tmp_path, sim.port, mosquitto)
        async with running_gateway(cfg) as gw:
            assert await connected(gw)  # the persistent session and its subscriptions exist now
        burst = [swap(number, event_id=f"burst-{i}") for i, number in enumerate(numbers)]
        burst.insert(17, swap("+44123", event_id="burst-bad"))  # not a valid number
        burst.insert(30, burst[5])  # a redelivery, in the same burst
        async with aiomqtt.Client(mosquitto.host, mosquitto.port, identifier="watch") as watch:
            await watch.subscribe("otpgate/signals/rejected", qos=1)
            await publish(mosquitto, "otpgate/signals/sim_swap", *burst)
            async with running_gateway(cfg) as gw:
                counters = gw.feed_health.counters("mqtt")
                assert await until(lambda: counters.accepted == len(numbers))
                async with asyncio.timeout(10):
                    message = await anext(aiter(watch.messages))
                rejected = json.loads(message.payload)
                assert (
                    rejected["reason"].startswith("msisdn") and "burst-bad" in rejected["payload"]
                )
                assert await until(lambda: counters.duplicate == 1 and counters.rejected == 1)
                now = gw.clock.now()
                assert all(gw.risk_index.facts(n, now).sim_swap_age_s is not None for n in numbers)

        # Nothing of the burst comes again: a signal published now is the first one received.
        await publish(mosquitto, "otpgate/signals/sim_swap", swap("+447400999001"))
        async with running_gateway(cfg) as gw:
            counters = gw.feed_health.counters("mqtt")
            assert await until(lambda: counters.accepted == 1)
            assert (counters.received, counters.duplicate, counters.rejected) == (1, 0, 0)
    stored = sqlite3.connect(tmp_path / "signals.sqlite")
    assert stored.execute("SELECT count(*) FROM signals").fetchone()[0] == len(numbers) + 1


async def test_qos_0_signals_are_taken_too(tmp_path, mosquitto):
    async with (
        running_simulator() as sim,
        running_gateway(config(tmp_path, sim.port, mosquitto)) as gw,
    ):
        assert await connected(gw)
        async with aiomqtt.Client(mosquitto.host, mosquitto.port, identifier="feed-q0") as feed:
            await feed.publish("otpgate/signals/sim_swap", swap(), qos=0)
        assert await until(lambda: gw.feed_health.counters("mqtt").accepted == 1)
        assert gw.risk_index.facts(NUMBER, gw.clock.now()).sim_swap_age_s is not None


async def test_a_batch_received_but_not_committed_comes_again_after_sigkill(tmp_path, mosquitto):
    """Many signals in flight when the process dies: none was acknowledged, all come again."""
    numbers = [f"+4474002{i:05d}" for i in range(60)]
    async with running_simulator() as sim:
        gateway = GatewayProcess(tmp_path, sim.port, mqtt_table(mosquitto, "otpgate-crash-batch"))
        await gateway.start()
        try:

            async def feed() -> dict:
                _, health = await gateway.api("GET", "/v1/signals/health")
                return health["feeds"].get("mqtt", {})

            store = tmp_path / "data" / "signals.sqlite"
            blocker = sqlite3.connect(store, timeout=10, isolation_level=None)
            blocker.execute("BEGIN EXCLUSIVE")  # the gateway's commits now wait
            await publish(mosquitto, "otpgate/signals/sim_swap", *(swap(n) for n in numbers))
            for _ in range(200):
                if (await feed()).get("received", 0) >= len(numbers):
                    break
                await asyncio.sleep(0.05)
            assert (await feed())["received"] >= len(numbers)
            assert (await feed())["accepted"] == 0
            gateway.kill()
            blocker.execute("ROLLBACK")
            blocker.close()

            await gateway.start()
            for _ in range(200):
                if (await feed()).get("accepted", 0) >= len(numbers):
                    break
                await asyncio.sleep(0.05)
            assert (await feed())["accepted"] == len(numbers)
        finally:
            gateway.stop()
    stored = sqlite3.connect(tmp_path / "data" / "signals.sqlite")
    assert stored.execute("SELECT count(*) FROM signals").fetchone()[0] == len(numbers)
