"""One message's decision, shared by the live path and ``otpgate simulate``.

Classify the decoded text, read the destination's risk facts from the in-memory index,
evaluate the policy. No I/O and no clock of its own: ``now`` is passed in.
"""

from __future__ import annotations

from dataclasses import dataclass

from policies.classifier import NOT_OTP, Classification, classify
from policies.engine import Verdict, evaluate
from policies.facts import MessageFacts
from policies.policy_file import Policy

from ..signals.countries import country_of_e164
from ..signals.feed_health import FeedHealth
from ..signals.risk_index import RiskIndex


@dataclass(frozen=True, slots=True)
class Decision:
    verdict: Verdict
    classification: Classification
    message: MessageFacts


class PolicyHolder:
    """The policy in force; a reload swaps it in one assignment, so a message sees one or the other."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy


class Decider:
    def __init__(
        self, policies: PolicyHolder, index: RiskIndex, health: FeedHealth | None = None
    ) -> None:
        self.policies = policies
        self.index = index
        self.health = health

    def decide(
        self,
        *,
        account: str,
        source_addr: str,
        destination_addr: str,
        text: str | None,
        now: float,
        tenant: str | None = None,
        otp_only: bool = False,
        signal_outage: bool | None = None,
    ) -> Decision:
        """``destination_addr`` in E.164 ("+" optional); ``text`` None when it could not be decoded.

        ``signal_outage`` None: ask the feed health, if there is one.
        """
        if signal_outage is None:
            signal_outage = self.health is not None and self.health.outage(now)
        classification = classify(text, otp_only=otp_only) if text else NOT_OTP
        destination = (
            destination_addr if destination_addr.startswith("+") else "+" + destination_addr
        )
        message = MessageFacts(
            account=account,
            source_addr=source_addr,
            destination_addr=destination,
            is_otp=classification.is_otp,
            tenant=tenant,
            destination_country=country_of_e164(destination),
        )
        risk = self.index.facts(destination, now)
        verdict = evaluate(self.policies.policy, message, risk, signal_outage=signal_outage)
        return Decision(verdict, classification, message)
