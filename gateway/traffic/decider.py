"""One message's decision, shared by the live path and ``otpgate simulate``.

Read the destination's risk facts from the in-memory index, evaluate the policy, and
classify the text only when a rule that needs ``is_otp`` could still match: a message to a
number with no recent swap, forwarding or anomaly is never decoded nor classified under the
default policy. No I/O and no clock of its own: ``now`` is passed in.

A number of another operator (a ``[[camara_peers]]`` prefix) has no local facts: its OTPs
are decided with the peer's facts from the cache, or the decision comes back with a
``Lookup`` for the caller to pull and hand to ``complete``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from policies.classifier import NOT_OTP, Classification, classify
from policies.decisions import Reason, Verdict
from policies.engine import (
    evaluate,
    facts_wanted,
    lookup_failed,
    policy_peer_kinds,
    verdict_without_risk,
)
from policies.facts import NO_RISK, MessageFacts
from policies.policy_file import Policy

from ..peers.answers import PeerFacts
from ..peers.lookup import Lookup, PeerLookups, PullFailure
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
    # Not None: the verdict is the one without the destination's peer facts, which must be
    # pulled (and the decision completed) first.
    lookup: Lookup | None = None


class PolicyHolder:
    """The policy in force; a reload swaps it in one assignment, so a message sees one or the other.

    With it, the verdict for a number with no risk facts when that verdict cannot depend on
    the message: most traffic is decided by one look-up in the index.
    """

    def __init__(self, policy: Policy) -> None:
        self.policy = policy

    @property
    def policy(self) -> Policy:
        return self._current[0]

    @policy.setter
    def policy(self, policy: Policy) -> None:
        self._current = (policy, verdict_without_risk(policy))
        # The facts any rule could use from a peer (one event loop: read with the policy).
        self.peer_kinds = policy_peer_kinds(policy)

    @property
    def current(self) -> tuple[Policy, Verdict | None]:
        """The policy and its verdict without risk, read together."""
        return self._current


class Decider:
    def __init__(
        self,
        policies: PolicyHolder,
        index: RiskIndex,
        health: FeedHealth | None = None,
        peers: PeerLookups | None = None,
    ) -> None:
        self.policies = policies
        self.index = index
        self.health = health
        self.peers = peers if peers is not None and peers.directory else None

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
        peers = self.peers
        peer = peers.peer_for(destination) if risk is NO_RISK and peers is not None else None
        if risk is NO_RISK and clean is not None and not signal_outage and peer is None:
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

        kinds = self.policies.peer_kinds if peer is not None else frozenset()
        if not kinds:
            verdict = evaluate(
                policy, message, risk, signal_outage=signal_outage, otp_score=otp_score
            )
            return _decision(verdict, classified, message)
        assert peers is not None and peer is not None
        from_peer: str = peer

        def on_peer_facts(known: PeerFacts) -> Verdict:
            verdict = evaluate(
                policy, message, known.risk(now), signal_outage=signal_outage, otp_score=otp_score
            )
            return _sourced(verdict, from_peer)

        known, missing = peers.cached(peer, destination, kinds, now)
        if not missing:  # every fact a rule could use is in the cache: one evaluation
            return _decision(on_peer_facts(known), classified, message)
        verdict = evaluate(policy, message, risk, signal_outage=signal_outage, otp_score=otp_score)
        wanted = facts_wanted(policy, message, verdict, otp_score) & peers.kinds[peer]
        if wanted:
            known, missing = peers.cached(peer, destination, wanted, now)
            if missing:
                lookup = Lookup(peer, destination, missing, known, verdict)
                return _decision(verdict, classified, message, lookup)
            verdict = on_peer_facts(known)
        return _decision(verdict, classified, message)

    def complete(self, decision: Decision, answer: PeerFacts | PullFailure, now: float) -> Decision:
        """The final decision once the peer answered (or failed to, in time)."""
        lookup = decision.lookup
        assert lookup is not None
        policy = self.policies.policy
        if isinstance(answer, PullFailure):
            reason = Reason("peer_lookup_failed", f"{answer.peer}:{answer.reason}")
            verdict = lookup_failed(policy, lookup.without, reason)
        else:
            risk = answer.merged(lookup.known).risk(now)
            verdict = _sourced(evaluate(policy, decision.message, risk), lookup.peer)
        return Decision(verdict, decision.classification, decision.message)


def _decision(
    verdict: Verdict,
    classified: list[Classification],
    message: MessageFacts,
    lookup: Lookup | None = None,
) -> Decision:
    if not classified:
        return Decision(verdict, None, message, lookup)
    classification = classified[0]
    message = replace(message, is_otp=classification.is_otp, otp_score=classification.score)
    return Decision(verdict, classification, message, lookup)


def _sourced(verdict: Verdict, peer: str) -> Verdict:
    """A verdict on a peer's facts names them as the source of its reasons."""
    if not verdict.reasons:
        return verdict
    source = Reason("facts_source", f"peer:{peer}")
    return replace(verdict, reasons=(*verdict.reasons, source))
