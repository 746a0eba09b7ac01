"""Kill soak (issue 12): SIGKILL the gateway again and again under mixed load, then prove
nothing acknowledged was lost, no hold vanished, nothing was sent twice beyond what a crash
allows, and every receipt came (DESIGN.md, "Rules of the path" and "Holds").

A real gateway process in front of the SMSC simulator, a real mosquitto, a policy holding
OTPs to numbers with a recent SIM swap. Scale: OTPGATE_SOAK_KILLS (scale.py).
"""

from __future__ import annotations

import random
import time

import pytest

from ..integration.harness import HOLD_AFTER_SWAP, running_simulator
from ..integration.process import GatewayProcess
from .kill_soak import KillSoak, soak_toml
from .scale import SCALE


@pytest.mark.timeout(180 + 20 * SCALE.kills)
async def test_sigkill_under_load_loses_nothing_acknowledged(tmp_path, mosquitto):
    policy = tmp_path / "policy.toml"
    policy.write_text(HOLD_AFTER_SWAP)
    started = time.perf_counter()
    async with running_simulator(keep_records=True, receipt_delay_s=0.05) as simulator:
        gateway = GatewayProcess(tmp_path, simulator.port, soak_toml(str(policy), mosquitto))
        soak = KillSoak(gateway, simulator, mosquitto, random.Random(SCALE.seed))
        try:
            await soak.run(SCALE.kills)
            await soak.settle()
            verdict = await soak.verdict()
            if verdict.violations:
                soak.dump(tmp_path / "soak-dump.json")
        finally:
            await soak.traffic.close()
            gateway.stop()
    print(
        f"\nkill soak ({SCALE.label}), {time.perf_counter() - started:.0f} s:\n{verdict.report()}"
        + (f"\n  the books: {tmp_path / 'soak-dump.json'}" if verdict.violations else "")
    )
    assert not verdict.violations, verdict.report()
    assert soak.rss.peak_mb < SCALE.max_rss_mb
