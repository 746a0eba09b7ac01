"""The shipped policy means exactly DESIGN.md's table, on both sides of each threshold and on it."""

from __future__ import annotations

import pytest

from policies.decisions import Deliver, Hold
from policies.engine import evaluate
from policies.facts import MessageFacts, RiskFacts, RoutingAnomaly
from policies.policy_file import load_default_policy

POLICY = load_default_policy()
OTP = MessageFacts("bank", "Bank", "+447400123123", True)
PLAIN = MessageFacts("bank", "Bank", "+447400123123", False)
H, D = 3600.0, 86400.0
HOLD_10M_DROP = Hold(600.0, "drop")


@pytest.mark.parametrize(
    ("risk", "rule", "action", "notify"),
    [
        (RiskFacts(sim_swap_age_s=D - 1), "hold-after-sim-swap", HOLD_10M_DROP, ("otp.held",)),
        (RiskFacts(sim_swap_age_s=D), "warn-sim-swap-this-week", Deliver(), ("risk.sim_swap",)),
        (RiskFacts(sim_swap_age_s=D + 1), "warn-sim-swap-this-week", Deliver(), ("risk.sim_swap",)),
        (
            RiskFacts(sim_swap_age_s=7 * D - 1),
            "warn-sim-swap-this-week",
            Deliver(),
            ("risk.sim_swap",),
        ),
        (RiskFacts(sim_swap_age_s=7 * D), "deliver", Deliver(), ()),
        (RiskFacts(sim_swap_age_s=7 * D + 1), "deliver", Deliver(), ()),
        (
            RiskFacts(cf_unconditional_active=True, cfu_changed_age_s=D - 1),
            "hold-after-call-forwarding",
            HOLD_10M_DROP,
            ("otp.held",),
        ),
        (
            RiskFacts(cf_unconditional_active=True, cfu_changed_age_s=D),
            "warn-call-forwarding",
            Deliver(),
            ("risk.call_forwarding",),
        ),
        (
            RiskFacts(cf_unconditional_active=True, cfu_changed_age_s=D + 1),
            "warn-call-forwarding",
            Deliver(),
            ("risk.call_forwarding",),
        ),
        (
            RiskFacts(cf_unconditional_active=True),
            "warn-call-forwarding",
            Deliver(),
            ("risk.call_forwarding",),
        ),
        (RiskFacts(cf_unconditional_active=False, cfu_changed_age_s=10), "deliver", Deliver(), ()),
        (
            RiskFacts(routing_anomalies=(RoutingAnomaly("impossible_travel", H - 1),)),
            "hold-on-routing-anomaly",
            HOLD_10M_DROP,
            ("otp.held",),
        ),
        (
            RiskFacts(routing_anomalies=(RoutingAnomaly("signalling_alert", H),)),
            "deliver",
            Deliver(),
            (),
        ),
        (
            RiskFacts(routing_anomalies=(RoutingAnomaly("untrusted_network", H + 1),)),
            "deliver",
            Deliver(),
            (),
        ),
        (RiskFacts(), "deliver", Deliver(), ()),
    ],
)
def test_otp_rules_at_their_edges(
    risk: RiskFacts, rule: str, action: object, notify: tuple[str, ...]
) -> None:
    verdict = evaluate(POLICY, OTP, risk)
    assert (verdict.rule, verdict.action, verdict.notify) == (rule, action, notify)


@pytest.mark.parametrize(
    "risk",
    [
        RiskFacts(sim_swap_age_s=1),
        RiskFacts(cf_unconditional_active=True, cfu_changed_age_s=1),
        RiskFacts(routing_anomalies=(RoutingAnomaly("impossible_travel", 1),)),
    ],
)
def test_a_non_otp_is_delivered_whatever_the_risk(risk: RiskFacts) -> None:
    verdict = evaluate(POLICY, PLAIN, risk)
    assert (verdict.action, verdict.notify) == (Deliver(), ())


def test_the_swap_hold_explains_itself() -> None:
    verdict = evaluate(POLICY, OTP, RiskFacts(sim_swap_age_s=1800, sim_swap_reason="imsi_mismatch"))
    assert verdict.to_json()["reasons"] == [
        {"fact": "sim_swap_age", "age_s": 1800, "threshold": "sim_swap_recent", "limit_s": 86400.0},
        {"fact": "sim_swap_reason", "value": "imsi_mismatch"},
    ]


def test_signal_outage_uses_the_policy_fallback() -> None:
    verdict = evaluate(POLICY, OTP, RiskFacts(), signal_outage=True)
    assert (verdict.rule, verdict.action) == ("on_signal_outage", Deliver())
    assert evaluate(POLICY, PLAIN, RiskFacts(), signal_outage=True).rule == "deliver"
