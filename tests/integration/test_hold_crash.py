"""Holds across SIGKILL: nothing acknowledged is lost, expiries that passed apply on start."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import pytest

from smpp_adapters.smpp_time import relative_time

from .esme import AsyncEsme
from .harness import HOLD_AFTER_SWAP, PASSWORD, running_simulator, until, until_async
from .process import GatewayProcess

pytestmark = pytest.mark.asyncio

OTP = b"Your PayBank verification code is 482913. Never share it."
HOLD_POLICY = """
[policy]
file = "{path}"
"""


def number(i: int) -> str:
    return f"4474001{i:05d}"


async def swap_all(gateway: GatewayProcess, count: int) -> None:
    occurred = datetime.fromtimestamp(datetime.now(UTC).timestamp() - 60, UTC).isoformat()
    batch = [
        {"kind": "sim_swap", "msisdn": "+" + number(i), "occurred_at": occurred}
        for i in range(count)
    ]
    status, body = await gateway.api("POST", "/v1/signals", batch)
    assert (status, body["accepted"]) == (200, count)


def gateway_process(tmp_path, sim_port: int) -> GatewayProcess:
    policy = tmp_path / "policy.toml"
    policy.write_text(HOLD_AFTER_SWAP)
    return GatewayProcess(tmp_path, sim_port, HOLD_POLICY.format(path=policy))


async def test_500_holds_survive_sigkill_and_release_exactly_once(tmp_path):
    async with running_simulator(keep_records=True) as sim:
        gateway = gateway_process(tmp_path, sim.port)
        await gateway.start()
        try:
            await swap_all(gateway, 500)
            esme = await AsyncEsme.bind(gateway.smpp_port, "bank", PASSWORD, window=50)
            short = relative_time(2)  # 100 of them expire while the gateway is down
            window = asyncio.Semaphore(40)
            expired_by = 0.0  # when the last of the 100 validity periods has surely ended

            async def submit(i: int):
                nonlocal expired_by
                extra = {"validity_period": short} if i < 100 else {}
                async with window:
                    response = await esme.submit(destination=number(i), text=OTP, **extra)
                if extra:  # the gateway read "2 s from now" before it answered
                    expired_by = max(expired_by, time.time() + 2.0)
                return response

            responses = await asyncio.gather(*(submit(i) for i in range(500)))
            assert all(r.command_status == 0 for r in responses)
            esme.close()
            gateway.kill()
            # Down until those validity periods end (wall clock, as the process reads it).
            await asyncio.sleep(max(0.0, expired_by - time.time()))

            await gateway.start()
            holds = await gateway.all_holds()
            assert len(holds) == 500
            by_state: dict[str, list[str]] = {}
            for hold in holds:
                by_state.setdefault(hold["state"], []).append(hold["destination"])
            assert len(by_state["expired"]) == 100 and len(by_state["held"]) == 400
            assert sim.records == []

            # The expiry receipts waited on disk for the ESME.
            esme = await AsyncEsme.bind(gateway.smpp_port, "bank", PASSWORD)
            assert await esme.wait_for(lambda: len(esme.receipts) == 100, timeout_s=15)
            assert all(b"stat:EXPIRED" in bytes(r.params["short_message"]) for r in esme.receipts)

            held = [h["id"] for h in holds if h["state"] == "held"]
            results = await asyncio.gather(
                *(gateway.api("POST", f"/v1/holds/{hold_id}/release") for hold_id in held)
            )
            assert all(status == 200 for status, _ in results)
            assert await esme.wait_for(lambda: len(sim.records) >= 400, timeout_s=20)

            async def all_released() -> bool:  # each one sent and answered: nothing more to send
                return len(await gateway.all_holds("&state=released")) == 400

            assert await until_async(all_released)
            destinations = [r.destination_addr for r in sim.records]
            assert len(destinations) == 400 and len(set(destinations)) == 400
            expected = {number(i) for i in range(100, 500)}
            assert set(destinations) == expected
            esme.close()
        finally:
            gateway.stop()


async def test_kill_during_a_stream_loses_no_acknowledged_submit(tmp_path):
    async with running_simulator(keep_records=True) as sim:
        gateway = gateway_process(tmp_path, sim.port)
        await gateway.start()
        try:
            await swap_all(gateway, 5000)  # even numbers get held, odd ones are not OTPs
            esme = await AsyncEsme.bind(gateway.smpp_port, "bank", PASSWORD, window=20)
            acknowledged: list[str] = []

            async def stream(start: int) -> None:
                for i in range(start, 5000, 4):
                    text = OTP if i % 2 == 0 else b"Your statement is ready"
                    try:
                        response = await esme.submit(destination=number(i), text=text)
                    except Exception:  # the connection died with the gateway
                        return
                    if response is not None and response.command_status == 0:
                        acknowledged.append(number(i))

            streams = asyncio.gather(*(stream(k) for k in range(4)))
            assert await until(lambda: len(acknowledged) >= 200)  # killed mid-stream
            gateway.kill()
            await asyncio.wait_for(streams, 20)
            assert 20 < len(acknowledged) < 5000, len(acknowledged)

            await gateway.start()
            held = {"".join(h["destination"].lstrip("+")) for h in await gateway.all_holds()}
            forwarded = {r.destination_addr for r in sim.records}
            lost = set(acknowledged) - held - forwarded
            assert not lost, f"{len(lost)} acknowledged messages lost"
            esme.close()
        finally:
            gateway.stop()


async def test_holds_and_cancels_acknowledged_together_survive_a_kill_right_after(tmp_path):
    """Holds share commits (a few milliseconds' worth in one transaction): an ESME_ROK or a
    200 may go out only once the commit that holds it is done, and a cancel made while
    other holds wait in the window reaches the disk after its own hold, never before."""
    async with running_simulator() as sim:
        gateway = gateway_process(tmp_path, sim.port)
        await gateway.start()
        try:
            await swap_all(gateway, 400)
            esme = await AsyncEsme.bind(gateway.smpp_port, "bank", PASSWORD, window=100)
            window = asyncio.Semaphore(80)  # under the account's window of 100
            cancelled: list[str] = []

            async def hold_then_cancel(i: int) -> str:
                async with window:
                    response = await esme.submit(destination=number(i), text=OTP)
                assert response is not None and response.command_status == 0
                hold_id = str(response.params["message_id"])
                if i % 4 == 0:  # while the other holds of the burst still wait for commits
                    status, _ = await gateway.api("POST", f"/v1/holds/{hold_id}/cancel")
                    assert status == 200
                    cancelled.append(hold_id)
                return hold_id

            acknowledged = await asyncio.gather(*(hold_then_cancel(i) for i in range(400)))
            gateway.kill()  # the moment the last answer is in
            esme.close()

            await gateway.start()
            states = {h["id"]: h["state"] for h in await gateway.all_holds()}
            assert set(states) == set(acknowledged)
            assert sorted(i for i, s in states.items() if s == "cancelled") == sorted(cancelled)
            assert len(cancelled) == 100
            for hold_id in cancelled[:20]:
                _, hold = await gateway.api("GET", f"/v1/holds/{hold_id}")
                assert [e["state"] for e in hold["history"]] == ["held", "cancelled"]
        finally:
            gateway.stop()
