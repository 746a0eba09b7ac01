"""The policy on the live path: every submit_sm classified and decided, reload without loss."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import aiohttp
import pytest
from structlog.testing import capture_logs

from gateway.signals.model import parse_signal
from smpp_adapters.constants import CommandStatus

from .esme import AsyncEsme, SmpplibEsme
from .harness import (
    OPERATOR_KEY,
    PASSWORD,
    gateway_config,
    route,
    running_gateway,
    running_simulator,
)

pytestmark = pytest.mark.asyncio

SWAPPED = "447400123123"
CLEAN = "447400999888"
OTP = b"Your PayBank verification code is 482913. Never share it."

REJECT_POLICY = """
[thresholds]
recent = "24h"
[[rules]]
name = "reject-after-swap"
when = { is_otp = true, sim_swap_age_lt = "recent" }
action = "reject"
notify = ["otp.held"]
[[rules]]
name = "rest"
action = "deliver"
"""


def swap_a_minute_ago(gateway) -> None:
    now = gateway.clock.now()
    from datetime import UTC, datetime

    occurred = datetime.fromtimestamp(now - 60, UTC).isoformat()
    gateway.risk_index.apply(
        parse_signal(
            {"kind": "sim_swap", "msisdn": "+" + SWAPPED, "occurred_at": occurred},
            default_region=None,
        )
    )


async def test_reject_rule_answers_0x66_through_smpplib(tmp_path):
    policy = tmp_path / "reject.toml"
    policy.write_text(REJECT_POLICY)
    async with running_simulator(keep_records=True) as simulator:
        config = replace(
            gateway_config(tmp_path, (route("r1", simulator.port),)), policy_file=policy
        )
        async with running_gateway(config) as gateway:
            swap_a_minute_ago(gateway)
            esme = SmpplibEsme("127.0.0.1", gateway.smpp_port, "bank", PASSWORD)
            await asyncio.to_thread(esme.bind)
            esme.start_reading()
            try:
                await asyncio.to_thread(esme.submit, SWAPPED, OTP)
                await asyncio.to_thread(esme.submit, SWAPPED, b"Your statement is ready")
                await asyncio.to_thread(esme.submit, CLEAN, OTP)
                assert await asyncio.to_thread(esme.wait, lambda: len(esme.responses) >= 3)
            finally:
                await asyncio.to_thread(esme.close)
    # smpplib reports an error response as a PDUError(message, status) rather than a PDU.
    statuses = [r.status if hasattr(r, "status") else r.args[1] for r in esme.responses]
    assert statuses == [CommandStatus.ESME_RX_R_APPN, 0, 0]
    assert sorted(r.destination_addr for r in simulator.records) == sorted([SWAPPED, CLEAN])


async def test_default_policy_hold_is_logged_without_the_code(tmp_path):
    """The hold itself is tested in test_holds; here: the decision's log line."""
    async with (
        running_simulator(keep_records=True) as simulator,
        running_gateway(gateway_config(tmp_path, (route("r1", simulator.port),))) as gateway,
    ):
        swap_a_minute_ago(gateway)
        esme = await AsyncEsme.bind(gateway.smpp_port, "bank", PASSWORD)
        with capture_logs() as logs:
            response = await esme.submit(destination=SWAPPED, text=OTP)
        assert response.command_status == CommandStatus.ESME_ROK
        held = [entry for entry in logs if entry["event"] == "hold"]
        assert len(held) == 1
        assert held[0]["rule"] == "hold-after-sim-swap" and held[0]["notify"] == ["otp.held"]
        assert "482913" not in repr(logs)
        esme.close()


async def test_policy_reloaded_under_load_loses_nothing(tmp_path):
    policy = tmp_path / "live.toml"
    policy.write_text('[[rules]]\nname = "all"\naction = "deliver"\n')
    async with running_simulator() as simulator:
        config = replace(
            gateway_config(tmp_path, (route("r1", simulator.port),)), policy_file=policy
        )
        async with running_gateway(config) as gateway:
            swap_a_minute_ago(gateway)
            esme = await AsyncEsme.bind(gateway.smpp_port, "bank", PASSWORD, window=50)
            headers = {"Authorization": f"Bearer {OPERATOR_KEY}"}
            url = f"http://127.0.0.1:{gateway.api_port}/v1/policy/reload"

            reloaded = asyncio.Event()

            async def load() -> list[int]:
                statuses: list[int] = []
                waves_after_reload = 0
                while waves_after_reload < 3:
                    if reloaded.is_set():
                        waves_after_reload += 1
                    answers = await asyncio.gather(
                        *(esme.submit(destination=SWAPPED, text=OTP) for _ in range(30))
                    )
                    statuses += [a.command_status for a in answers]
                return statuses

            loader = asyncio.ensure_future(load())
            await asyncio.sleep(0.05)
            policy.write_text(REJECT_POLICY)
            async with aiohttp.ClientSession() as http:
                async with http.post(url, headers=headers) as reply:
                    assert reply.status == 200
                    assert (await reply.json())["rules"] == ["reject-after-swap", "rest"]
                reloaded.set()
                statuses = await loader
                assert len(statuses) % 30 == 0 and all(
                    s is not None for s in statuses
                )  # every submit answered
                assert statuses[0] == CommandStatus.ESME_ROK
                assert set(statuses) <= {CommandStatus.ESME_ROK, CommandStatus.ESME_RX_R_APPN}
                assert statuses[-1] == CommandStatus.ESME_RX_R_APPN
                policy.write_text("[[rules]]\nname = 'broken'\naction = 'explode'\n")
                async with http.post(url, headers=headers) as reply:
                    assert reply.status == 422
                    body = await reply.json()
                    assert body["code"] == "INVALID_POLICY" and "field 'action'" in body["message"]
                async with http.post(url) as reply:
                    assert reply.status == 401
            still = await esme.submit(destination=SWAPPED, text=OTP)
            assert still.command_status == CommandStatus.ESME_RX_R_APPN  # the old policy stayed
            esme.close()
