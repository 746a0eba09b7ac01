"""`otpgate demo` runs to the end (short mode) and tells the story it promises."""

from __future__ import annotations

import pytest

from gateway.demo import run_demo

pytestmark = pytest.mark.asyncio


async def test_demo_runs_to_the_end():
    summary = await run_demo(messages=300, quiet=True)
    result = summary.to_json()
    assert result["submitted"] == result["accepted"] == 301
    assert result["delivered_receipts"] == 301  # the released OTP's real receipt included
    assert result["held"] == 1 and result["held_rule"] == "hold-after-sim-swap"
    assert result["webhooks_verified"] == ["otp.held", "otp.released"]
    assert result["released"] is True
    assert "482913" not in str(summary.webhooks)
