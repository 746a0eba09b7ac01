"""The policy on the operator API: the rules in force, and the decision a message would get
now for a number, with its reasons — from the live risk facts, never echoing the text."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

from gateway.signals.model import parse_signal

from .harness import (
    HOLD_AFTER_SWAP,
    OPERATOR_KEY,
    call,
    gateway_config,
    route,
    running_gateway,
    running_simulator,
)

SWAPPED = "+447400123777"
OTP = "Your PayBank code is 482913. Never share it."


async def test_the_rules_in_force_and_an_explained_decision(tmp_path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(HOLD_AFTER_SWAP)
    async with running_simulator() as sim:
        config = replace(gateway_config(tmp_path, (route("main", sim.port),)), policy_file=policy)
        async with running_gateway(config) as gw:
            status, answer = await call(gw.api_port, "GET", "/v1/policy", OPERATOR_KEY)
            rules = answer["rules"]
            assert status == 200 and [r["name"] for r in rules] == ["hold-after-swap", "rest"]
            assert rules[0]["action"] == "hold" and rules[0]["when"]["is_otp"] is True
            assert rules[0]["when"]["sim_swap_age_lt"]["seconds"] == 86400

            # Before the swap: delivered, and the classifier still says it is an OTP.
            status, answer = await call(
                gw.api_port,
                "POST",
                "/v1/policy/explain",
                OPERATOR_KEY,
                {"msisdn": SWAPPED, "text": OTP},
            )
            assert (status, answer["decision"], answer["rule"]) == (200, "deliver", "rest")
            assert answer["is_otp"] is True and answer["classified_live"] is False

            occurred = datetime.fromtimestamp(gw.clock.now() - 60, UTC).isoformat()
            swap = {"kind": "sim_swap", "msisdn": SWAPPED, "occurred_at": occurred}
            gw.risk_index.apply(parse_signal(swap, default_region=None))
            status, answer = await call(
                gw.api_port,
                "POST",
                "/v1/policy/explain",
                OPERATOR_KEY,
                {"msisdn": SWAPPED, "text": OTP},
            )
            text = json.dumps(answer)
            assert (answer["decision"], answer["rule"]) == ("hold", "hold-after-swap")
            assert answer["reasons"][0]["fact"] == "sim_swap_age"
            assert "482913" not in text and "PayBank" not in text

            status, answer = await call(
                gw.api_port,
                "POST",
                "/v1/policy/explain",
                OPERATOR_KEY,
                {"msisdn": "12", "text": OTP},
            )
            assert status == 422 and "msisdn" in answer["message"]
