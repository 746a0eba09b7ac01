"""One message's decision, shared by the live path and ``otpgate simulate``.

Read the destination's risk facts from the in-memory index, evaluate the policy, and
classify the text only when a rule that needs ``is_otp`` could still match: a message to a
number with no recent swap, forwarding or anomaly is never decoded nor classified under the
default policy. No I/O and no clock of its own: ``now`` is passed in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from policies.classifier import NOT_OTP, Classification, classify
from policies.decisions import Verdict
from policies.engine import evaluate, verdict_without_risk
from policies.facts import NO_RISK, MessageFacts
from policies.policy_file import Policy

from ..signals.countries import country_of_e164
from ..signals.feed_health import FeedHealth
from ..signals.risk_index import RiskIndex

# The text, or a callable that decodes it when (and only when) the classifier is asked.
TextSource = str | None | Callable[[], str | None]


@dataclass(frozen=True, slots=True)
class Decision:
    verdict: Verdict
    # None when no rule needed to know whether the message is an OTP.
    classification: Classification | None
    message: MessageFacts


class PolicyHolder:
    """The policy in force; a reload swaps it in one assignment, so a message sees one or the other.

    With it, the verdict for a number with no risk facts when that verdict cannot depend on
    the message: most traffic is decided by one look-up in the index.
    """

    def __init__(self, policy: Policy) -> None:
        self._current = (policy, verdict_without_risk(policy))

    @property
    def policy(self) -> Policy:
        return self._current[0]

    @policy.setter
    def policy(self, policy: Policy) -> None:
        self._current = (policy, verdict_without_risk(policy))

    @property
    def current(self) -> tuple[Policy, Verdict | None]:
        """The policy and its verdict without risk, read together."""
        return self._current


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
        text: TextSource,
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
        destination = (
            destination_addr if destination_addr.startswith("+") else "+" + destination_addr
        )
        risk = self.index.facts(destination, now)
        policy, clean = self.policies.current
        if risk is NO_RISK and clean is not None and not signal_outage:
            return Decision(
                clean, None, MessageFacts(account, source_addr, destination, tenant=tenant)
            )
        message = MessageFacts(
            account=account,
            source_addr=source_addr,
            destination_addr=destination,
            tenant=tenant,
            destination_country=country_of_e164(destination),
        )
        classified: list[Classification] = []

        def otp_score() -> float:
            body = text() if callable(text) else text
            classification = classify(body, otp_only=otp_only) if body else NOT_OTP
            classified.append(classification)
            return classification.score

        verdict = evaluate(policy, message, risk, signal_outage=signal_outage, otp_score=otp_score)
        if not classified:
            return Decision(verdict, None, message)
        classification = classified[0]
        message = replace(message, is_otp=classification.is_otp, otp_score=classification.score)
        return Decision(verdict, classification, message)
