"""The live decision: classified only where it can change the outcome, and the feed outage rule.

A clean number's message under the default policy is never classified (the counter says
so); a risky number's is; a policy whose OTP rule needs no risk fact classifies every
message; with the broker gone past ``outage_after_s``, ``on_signal_outage = "hold"`` holds an
OTP to a clean number on the live path.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from gateway.config import MqttConfig, SignalsConfig

from .esme import AsyncEsme
from .harness import PASSWORD, gateway_config, route, running_gateway, running_simulator, until
from .test_live_policy import CLEAN, OTP, SWAPPED, swap_a_minute_ago

pytestmark = pytest.mark.asyncio

OTP_EVERYWHERE = """
[[rules]]
name = "tag-every-otp"
when = { is_otp = true }
action = "deliver"
tag = "otp"
[[rules]]
name = "rest"
action = "deliver"
"""

HOLD_ON_OUTAGE = """
[policy]
on_signal_outage = "hold"
outage_ttl = "5m"
[thresholds]
recent = "24h"
[[rules]]
name = "hold-after-swap"
when = { is_otp = true, sim_swap_age_lt = "recent" }
action = "hold"
ttl = "10m"
[[rules]]
name = "rest"
action = "deliver"
"""


async def test_a_clean_numbers_message_is_not_classified_a_risky_ones_is(tmp_path):
    async with (
        running_simulator(keep_records=True) as sim,
        running_gateway(gateway_config(tmp_path, (route("r1", sim.port),))) as gw,
    ):
        swap_a_minute_ago(gw)
        esme = await AsyncEsme.bind(gw.smpp_port, "bank", PASSWORD)
        try:
            for _ in range(5):
                assert (await esme.submit(destination=CLEAN, text=OTP)).command_status == 0
            assert gw.stats.classified == {"skipped": 5}
            assert (await esme.submit(destination=SWAPPED, text=OTP)).command_status == 0
            assert (
                await esme.submit(destination=SWAPPED, text=b"Your bill is ready")
            ).command_status == 0
            assert gw.stats.classified == {"skipped": 5, "otp": 1, "not_otp": 1}
            assert len(gw.holds.open) == 1  # the risky number's OTP, and only it
            assert await until(lambda: len(sim.records) == 6)
        finally:
            esme.close()


async def test_a_rule_that_needs_only_is_otp_classifies_every_message(tmp_path):
    policy = tmp_path / "otp-everywhere.toml"
    policy.write_text(OTP_EVERYWHERE)
    async with running_simulator() as sim:
        config = replace(gateway_config(tmp_path, (route("r1", sim.port),)), policy_file=policy)
        async with running_gateway(config) as gw:
            esme = await AsyncEsme.bind(gw.smpp_port, "bank", PASSWORD)
            try:
                await esme.submit(destination=CLEAN, text=OTP)
                await esme.submit(destination=CLEAN, text=b"Your bill is ready")
                assert gw.stats.classified == {"otp": 1, "not_otp": 1}
                assert gw.stats.decisions[("tag-every-otp", "deliver", False)] == 1
            finally:
                esme.close()


async def test_an_otp_is_held_on_the_live_path_while_the_signal_feed_is_down(tmp_path, mosquitto):
    policy = tmp_path / "hold-on-outage.toml"
    policy.write_text(HOLD_ON_OUTAGE)
    mqtt = MqttConfig(
        host=mosquitto.host,
        port=mosquitto.port,
        client_id="otpgate-outage",
        reconnect_min_s=0.1,
        reconnect_max_s=0.5,
    )
    async with running_simulator(keep_records=True) as sim:
        base = gateway_config(tmp_path, (route("r1", sim.port),))
        config = replace(
            base,
            policy_file=policy,
            signals=replace(SignalsConfig(mqtt=mqtt), outage_after_s=0.3),
        )
        async with running_gateway(config) as gw:
            assert await until(lambda: gw.feed_health.mqtt_connected)
            esme = await AsyncEsme.bind(gw.smpp_port, "bank", PASSWORD)
            try:
                assert (await esme.submit(destination=CLEAN, text=OTP)).command_status == 0
                assert await until(lambda: len(sim.records) == 1)  # feed up: delivered
                mosquitto.stop()
                assert await until(lambda: gw.feed_health.outage(gw.clock.now()), 5)
                assert (await esme.submit(destination=CLEAN, text=OTP)).command_status == 0
                assert (
                    await esme.submit(destination=CLEAN, text=b"Your bill is ready")
                ).command_status == 0
                assert await until(lambda: len(sim.records) == 2)  # the plain message only
                assert [h.rule for h in gw.holds.open.values()] == ["on_signal_outage"]
            finally:
                esme.close()
                mosquitto.start()
