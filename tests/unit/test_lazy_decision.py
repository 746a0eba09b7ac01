"""The classifier is asked only when a rule that needs ``is_otp`` could still match."""

from __future__ import annotations

from gateway.signals.risk_index import RiskIndex
from gateway.traffic.decider import Decider, PolicyHolder
from policies.engine import evaluate, verdict_without_risk
from policies.facts import NO_RISK, MessageFacts, RiskFacts
from policies.policy_file import load_default_policy, parse_policy

DEFAULT = load_default_policy()
MESSAGE = MessageFacts("bank", "Bank", "+447400123123")
OTP_ONLY = parse_policy(
    '[[rules]]\nname = "otp"\nwhen = { is_otp = true }\naction = "deliver"\ntag = "otp"\n'
    '[[rules]]\nname = "rest"\naction = "deliver"\n',
    source="otp-only.toml",
)
OWN_THRESHOLD = parse_policy(
    '[[rules]]\nname = "sure"\nwhen = { otp_min_score = 0.9, sim_swap_age_lt = "1d" }\n'
    'action = "hold"\nttl = "10m"\n[[rules]]\nname = "rest"\naction = "deliver"\n',
    source="threshold.toml",
)


class Counting:
    def __init__(self, score: float) -> None:
        self.score, self.calls = score, 0

    def __call__(self) -> float:
        self.calls += 1
        return self.score


def test_a_clean_number_is_not_classified_under_the_default_policy() -> None:
    judge = Counting(1.0)
    assert evaluate(DEFAULT, MESSAGE, NO_RISK, otp_score=judge).rule == "deliver"
    assert judge.calls == 0


def test_a_risky_number_is_classified_once() -> None:
    judge = Counting(1.0)
    verdict = evaluate(DEFAULT, MESSAGE, RiskFacts(sim_swap_age_s=60.0), otp_score=judge)
    assert verdict.rule == "hold-after-sim-swap" and judge.calls == 1


def test_an_is_otp_rule_without_a_risk_condition_classifies_every_message() -> None:
    judge = Counting(0.0)
    assert evaluate(OTP_ONLY, MESSAGE, NO_RISK, otp_score=judge).rule == "rest"
    assert judge.calls == 1


def test_the_outage_fallback_asks_the_classifier() -> None:
    judge = Counting(1.0)
    verdict = evaluate(DEFAULT, MESSAGE, NO_RISK, signal_outage=True, otp_score=judge)
    assert verdict.rule == "on_signal_outage" and judge.calls == 1


def test_a_rule_decides_with_its_own_threshold() -> None:
    risk = RiskFacts(sim_swap_age_s=60.0)
    assert evaluate(OWN_THRESHOLD, MESSAGE, risk, otp_score=Counting(0.95)).rule == "sure"
    assert evaluate(OWN_THRESHOLD, MESSAGE, risk, otp_score=Counting(0.6)).rule == "rest"


def test_the_verdict_without_risk_is_known_when_no_rule_reads_the_message() -> None:
    assert verdict_without_risk(DEFAULT).rule == "deliver"
    assert verdict_without_risk(OTP_ONLY) is None


def test_the_decider_skips_the_classifier_for_a_clean_number() -> None:
    text = "Your PayBank verification code is 482913."

    def classification(policy: object) -> object:
        decider = Decider(PolicyHolder(policy), RiskIndex())
        return decider.decide(
            account="bank", source_addr="Bank", destination_addr="447400123123", text=text, now=0.0
        ).classification

    assert classification(DEFAULT) is None
    assert classification(OTP_ONLY).is_otp
