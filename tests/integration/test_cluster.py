"""Two gateway processes on one real mosquitto: shared signals, holds served by their owner."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import aiomqtt
import pytest

from .esme import AsyncEsme
from .harness import HOLD_AFTER_SWAP, PASSWORD, running_simulator, until
from .process import GatewayProcess

pytestmark = pytest.mark.asyncio

NUMBER = "+447400123123"
OTP = b"Your PayBank verification code is 482913. Never share it."


def node(tmp_path, sim_port: int, broker, node_id: str, *, user: bool = False) -> GatewayProcess:
    directory = tmp_path / node_id
    directory.mkdir(exist_ok=True)
    policy = directory / "policy.toml"
    policy.write_text(HOLD_AFTER_SWAP)
    login = 'username = "otpgate"\npassword_env = "OTPGATE_TEST_MQTT_PASSWORD"\n' if user else ""
    extra = f"""
[policy]
file = "{policy}"

[signals.mqtt]
host = "{broker.host}"
port = {broker.port}
client_id = "otpgate-{node_id}"
{login}
[cluster]
nodes = ["node-1", "node-2"]
secret_env = "OTPGATE_TEST_CLUSTER_SECRET"
"""
    return GatewayProcess(directory, sim_port, extra, node_id=node_id)


def subscribed(broker, *nodes: str) -> bool:
    """Each node's signal feed and cluster link hold their subscriptions at the broker."""
    return all(
        broker.subscribed(f"otpgate-{n}", "otpgate/signals/sim_swap")
        and broker.subscribed(f"otpgate-{n}-cluster", f"otpgate/nodes/{n}/commands")
        and broker.subscribed(f"otpgate-{n}-cluster", f"otpgate/nodes/{n}/replies")
        for n in nodes
    )


async def until_ok(check, timeout_s: float = 10.0):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        result = await check()
        if result or loop.time() > deadline:
            return result
        await asyncio.sleep(0.1)


async def test_two_nodes_share_signals_and_serve_each_others_holds(
    tmp_path, mosquitto, monkeypatch
):
    monkeypatch.setenv("OTPGATE_TEST_CLUSTER_SECRET", "cluster-secret-for-tests")
    async with running_simulator(keep_records=True) as sim:
        one, two = (
            node(tmp_path, sim.port, mosquitto, "node-1"),
            node(tmp_path, sim.port, mosquitto, "node-2"),
        )
        await one.start()
        await two.start()
        try:
            # A signal published once reaches both indexes.
            swap = {
                "msisdn": NUMBER,
                "occurred_at": datetime.fromtimestamp(
                    datetime.now(UTC).timestamp() - 60, UTC
                ).isoformat(),
            }
            assert await until(lambda: subscribed(mosquitto, "node-1", "node-2"))
            async with aiomqtt.Client(mosquitto.host, mosquitto.port, identifier="feed") as feed:
                await feed.publish("otpgate/signals/sim_swap", json.dumps(swap), qos=1)

            async def swapped_on(gateway: GatewayProcess) -> bool:
                _, risk = await gateway.api("POST", "/v1/subscribers/risk", {"msisdn": NUMBER})
                return risk["sim_swap"] is not None

            assert await until_ok(lambda: swapped_on(one)) and await until_ok(
                lambda: swapped_on(two)
            )

            esme = await AsyncEsme.bind(one.smpp_port, "bank", PASSWORD)
            first = str((await esme.submit(destination=NUMBER[1:], text=OTP)).params["message_id"])
            second = str((await esme.submit(destination=NUMBER[1:], text=OTP)).params["message_id"])
            esme.close()

            status, shown = await two.api("GET", f"/v1/holds/{first}")
            assert status == 200 and shown["state"] == "held"
            status, listing = await two.api("GET", "/v1/holds")
            assert {first, second} <= {h["id"] for h in listing["holds"]}
            status, _ = await two.api("POST", f"/v1/holds/{first}/release")
            assert status == 200
            for _ in range(50):
                if sim.records:
                    break
                await asyncio.sleep(0.1)
            assert [r.destination_addr for r in sim.records] == [NUMBER[1:]]
            status, again = await two.api("POST", f"/v1/holds/{first}/release")
            assert status == 409 and again["state"] == "released"

            # A forged, unsigned command is ignored.
            async with aiomqtt.Client(
                mosquitto.host, mosquitto.port, identifier="forger"
            ) as forger:
                forged = {
                    "id": "x1",
                    "from": "node-2",
                    "ts": datetime.now(UTC).timestamp(),
                    "op": "cancel",
                    "args": {"id": second},
                }
                await forger.publish("otpgate/nodes/node-1/commands", json.dumps(forged), qos=1)
            assert await until(
                lambda: one.logged("cluster_message_dropped", why="bad signature")
            ), one.log_path.read_text()[-2000:]
            status, shown = await one.api("GET", f"/v1/holds/{second}")
            assert shown["state"] == "held"

            # Node 1 down: its holds are safe, node 2 says 503; back up, the release works.
            one.kill()
            status, _ = await two.api("GET", f"/v1/holds/{second}")
            assert status == 503
            await one.start()

            async def released_through_two() -> bool:
                status, _ = await two.api("POST", f"/v1/holds/{second}/release")
                return status == 200

            assert await until_ok(released_through_two)
            for _ in range(50):
                if len(sim.records) == 2:
                    break
                await asyncio.sleep(0.1)
            assert len(sim.records) == 2
        finally:
            one.stop()
            two.stop()


async def test_a_receipt_arriving_at_the_other_node_reaches_the_esme(
    tmp_path, mosquitto, monkeypatch
):
    """The simulator spreads receipts over every bind of the account "gw": both nodes'."""
    monkeypatch.setenv("OTPGATE_TEST_CLUSTER_SECRET", "cluster-secret-for-tests")
    async with running_simulator(keep_records=True) as sim:
        one, two = (
            node(tmp_path, sim.port, mosquitto, "node-1"),
            node(tmp_path, sim.port, mosquitto, "node-2"),
        )
        await one.start()
        await two.start()
        try:
            assert await until(lambda: subscribed(mosquitto, "node-1", "node-2"))
            esme = await AsyncEsme.bind(one.smpp_port, "bank", PASSWORD)
            ids = [
                str(
                    (await esme.submit(destination=f"4474009{i:05d}", text=b"hello")).params[
                        "message_id"
                    ]
                )
                for i in range(20)
            ]
            assert await esme.wait_for(lambda: len(esme.receipts) == 20, timeout_s=20)
            from smpp_adapters.constants import Tag

            assert sorted(r.tlv_cstr(Tag.RECEIPTED_MESSAGE_ID) for r in esme.receipts) == sorted(
                ids
            )
            esme.close()
        finally:
            one.stop()
            two.stop()


async def test_a_receipt_for_a_node_that_is_down_waits_for_it_with_the_shipped_acl(
    tmp_path, mosquitto_acl, monkeypatch
):
    """Node 1 is killed after its submits; their receipts reach node 2, which cannot ask
    node 1: it keeps them (taking them from the SMSC) and hands them over once node 1 is
    back. Both nodes log in as the ACL's ``otpgate`` user."""
    monkeypatch.setenv("OTPGATE_TEST_CLUSTER_SECRET", "cluster-secret-for-tests")
    monkeypatch.setenv("OTPGATE_TEST_MQTT_PASSWORD", mosquitto_acl.users["otpgate"])
    async with running_simulator(receipt_delay_s=2.0) as sim:
        one, two = (
            node(tmp_path, sim.port, mosquitto_acl, name, user=True)
            for name in ("node-1", "node-2")
        )
        for gateway in (one, two):
            gateway.config_path.write_text(
                gateway.config_path.read_text() + "\n[smpp]\nreceipt_buffer_s = 1\n"
            )
            await gateway.start()
        try:
            esme = await AsyncEsme.bind(one.smpp_port, "bank", PASSWORD)
            answers = await asyncio.gather(
                *[esme.submit(destination=f"4474009{i:05d}", text=b"hello") for i in range(10)]
            )
            ids = sorted(str(a.params["message_id"]) for a in answers)
            one.kill()
            esme.close()
            assert await until_ok(async_log_has(two, "receipt_kept_for_node"), timeout_s=15), (
                two.log_path.read_text()[-2000:]
            )
            assert sim.receipts_waiting() == 0  # taken from the SMSC, not left there
            await one.start()
            esme = await AsyncEsme.bind(one.smpp_port, "bank", PASSWORD)
            assert await esme.wait_for(lambda: len(esme.receipts) >= 10, timeout_s=30)
            from smpp_adapters.constants import Tag

            assert sorted(r.tlv_cstr(Tag.RECEIPTED_MESSAGE_ID) for r in esme.receipts) == ids
            esme.close()
        finally:
            one.stop()
            two.stop()


def async_log_has(gateway: GatewayProcess, event: str):
    async def check() -> bool:
        return any(
            json.loads(line).get("event") == event
            for line in gateway.log_path.read_text().splitlines()
            if line.startswith("{")
        )

    return check
