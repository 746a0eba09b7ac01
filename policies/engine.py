"""The policy engine: evaluate the rules of a policy against one message, first match wins.

Pure and total: it never raises for a message, it returns a Verdict with the rule, the
reasons (each fact against its limit) and the events to notify. Shadow rules are evaluated
and reported but never enforced. "Less than" is strict everywhere.

The OTP test comes last in every rule and is asked of a callable only when the rule's other
conditions hold, so a message to a number with no risk facts is never classified under a
policy whose OTP rules all need a risk fact. A rule decides with its own score threshold
(``otp_min_score``) or the policy's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from .decisions import (
    DEFAULT_VERDICT,
    DELIVER,
    Action,
    Deliver,
    Hold,
    Reason,
    ShadowMatch,
    Verdict,
)
from .facts import NO_RISK, MessageFacts, RiskFacts
from .policy_file import Policy, Rule

OUTAGE_RULE = "on_signal_outage"
LOOKUP_FAILURE_RULE = "on_lookup_failure"
# The facts another operator's CAMARA APIs can tell: SIM Swap's latest change, and whether
# unconditional forwarding is active (Call Forwarding Signal says nothing of since when).
SIM_SWAP = "sim_swap"
CALL_FORWARDING = "call_forwarding"


class _OtpScore:
    """The message's OTP score, computed the first time a rule needs it."""

    __slots__ = ("_score", "_score_of")

    def __init__(self, message: MessageFacts, score_of: Callable[[], float] | None) -> None:
        self._score_of = score_of
        self._score = None if score_of is not None else message.score

    def at_least(self, threshold: float) -> bool:
        score = self._score
        if score is None:
            score = self._score = self._score_of()  # type: ignore[misc]
        return score >= threshold


def _message_matches(rule: Rule, message: MessageFacts) -> bool:
    """The rule's conditions on the message itself (not its text, not the risk facts) hold."""
    if rule.accounts is not None and message.account not in rule.accounts:
        return False
    if rule.tenants is not None and message.tenant not in rule.tenants:
        return False
    if rule.source_patterns is not None and not rule.source_patterns.match(message.source_addr):
        return False
    return (
        rule.destination_countries is None
        or message.destination_country in rule.destination_countries
    )


def _matches(
    rule: Rule, message: MessageFacts, risk: RiskFacts, otp: _OtpScore, threshold: float
) -> tuple[Reason, ...] | None:
    """The reasons the rule matches, or None when it does not."""
    if not _message_matches(rule, message):
        return None
    reasons: list[Reason] = []
    limit = rule.sim_swap_age_lt
    if limit is not None:
        age = risk.sim_swap_age_s
        if age is None or not age < limit.seconds:
            return None
        reasons.append(Reason("sim_swap_age", age, limit.seconds, limit.name))
        if risk.sim_swap_reason:
            reasons.append(Reason("sim_swap_reason", risk.sim_swap_reason))
    if rule.cf_unconditional_active is not None:
        if risk.cf_unconditional_active != rule.cf_unconditional_active:
            return None
        reasons.append(Reason("cf_unconditional_active", risk.cf_unconditional_active))
    limit = rule.cfu_changed_age_lt
    if limit is not None:
        age = risk.cfu_changed_age_s
        if age is None or not age < limit.seconds:
            return None
        reasons.append(Reason("cfu_changed_age", age, limit.seconds, limit.name))
    limit = rule.routing_anomaly_age_lt
    wanted = rule.routing_anomaly_reasons
    if limit is not None or wanted is not None:
        anomaly = next(
            (
                a
                for a in risk.routing_anomalies
                if (wanted is None or a.reason in wanted)
                and (limit is None or a.age_s < limit.seconds)
            ),
            None,
        )
        if anomaly is None:
            return None
        reasons.append(Reason("routing_anomaly", anomaly.reason))
        reasons.append(
            Reason(
                "routing_anomaly_age",
                anomaly.age_s,
                limit.seconds if limit else None,
                limit.name if limit else None,
            )
        )
    if rule.is_otp is not None:
        wanted_threshold = threshold if rule.otp_min_score is None else rule.otp_min_score
        if otp.at_least(wanted_threshold) != rule.is_otp:
            return None
    return tuple(reasons)


def evaluate(
    policy: Policy,
    message: MessageFacts,
    risk: RiskFacts,
    *,
    signal_outage: bool = False,
    otp_score: Callable[[], float] | None = None,
) -> Verdict:
    """The verdict for one message (never raises).

    ``otp_score``: the classifier, asked only when a rule (or the outage fallback) needs
    the answer; without it, the message's own ``is_otp`` and ``otp_score`` are read.
    """
    matched: list[str] = []
    shadow: list[ShadowMatch] = []
    otp = _OtpScore(message, otp_score)
    threshold = policy.otp_threshold
    for rule in policy.rules:
        reasons = _matches(rule, message, risk, otp, threshold)
        if reasons is None:
            continue
        matched.append(rule.name)
        if rule.shadow:
            shadow.append(ShadowMatch(rule.name, rule.action))
            continue
        verdict = Verdict(
            rule.action, rule.name, tuple(matched), reasons, rule.notify, rule.tags, tuple(shadow)
        )
        if (
            signal_outage
            and isinstance(rule.action, Deliver)
            and not reasons
            and otp.at_least(threshold)
        ):
            return _outage(policy, matched, shadow)
        return verdict
    if signal_outage and otp.at_least(threshold):
        return _outage(policy, matched, shadow)
    if not matched:
        return DEFAULT_VERDICT
    return Verdict(DELIVER, None, tuple(matched), (), (), (), tuple(shadow))


def verdict_without_risk(policy: Policy) -> Verdict | None:
    """The verdict for every message to a number with no risk facts, while the signal feed
    is up; None when it depends on the message (a rule that could match such a number reads
    the message). The default policy's answer is its last rule: deliver."""
    for rule in policy.rules:
        needs_risk = (
            rule.sim_swap_age_lt is not None
            or rule.cfu_changed_age_lt is not None
            or rule.routing_anomaly_age_lt is not None
            or rule.routing_anomaly_reasons is not None
            or rule.cf_unconditional_active is True
        )
        if needs_risk:
            continue
        reads_message = (
            rule.is_otp is not None
            or rule.accounts is not None
            or rule.tenants is not None
            or rule.source_patterns is not None
            or rule.destination_countries is not None
        )
        if reads_message:
            return None
    return evaluate(policy, _ANY_MESSAGE, NO_RISK)


_ANY_MESSAGE = MessageFacts("", "", "")


def peer_kinds(rule: Rule) -> frozenset[str]:
    """The facts a peer would have to give for ``rule`` to match; empty when a peer's facts
    alone can never make it match (it needs a forwarding age or a routing anomaly, facts
    only the local network knows, or it needs no risk fact at all)."""
    if (
        rule.cfu_changed_age_lt is not None
        or rule.routing_anomaly_age_lt is not None
        or rule.routing_anomaly_reasons is not None
    ):
        return frozenset()
    kinds = set()
    if rule.sim_swap_age_lt is not None:
        kinds.add(SIM_SWAP)
    if rule.cf_unconditional_active is True:
        kinds.add(CALL_FORWARDING)
    return frozenset(kinds)


def policy_peer_kinds(policy: Policy) -> frozenset[str]:
    """Every fact kind some enforced rule of the policy could use from a peer."""
    kinds: frozenset[str] = frozenset()
    for rule in policy.rules:
        if not rule.shadow:
            kinds |= peer_kinds(rule)
    return kinds


def facts_wanted(
    policy: Policy,
    message: MessageFacts,
    verdict: Verdict,
    otp_score: Callable[[], float] | None = None,
) -> frozenset[str]:
    """The peer facts that could change ``verdict`` (the one without them): those of the
    enforced rules before the one that decided, whose conditions on the message hold, for
    an OTP only. Empty: asking the number's operator cannot change the decision."""
    otp = _OtpScore(message, otp_score)
    wanted: frozenset[str] = frozenset()
    for rule in policy.rules:
        if rule.name == verdict.rule:
            break
        if rule.shadow or rule.is_otp is False:
            continue
        kinds = peer_kinds(rule) - wanted
        if not kinds or not _message_matches(rule, message):
            continue
        threshold = policy.otp_threshold if rule.otp_min_score is None else rule.otp_min_score
        if otp.at_least(threshold):
            wanted |= kinds
    return wanted


def lookup_failed(policy: Policy, verdict: Verdict, reason: Reason) -> Verdict:
    """The number's operator could not be asked: the policy's ``on_lookup_failure`` decides,
    unless the rules already decided something stricter without the peer's facts."""
    action = policy.on_lookup_failure
    if isinstance(action, Deliver) and not isinstance(verdict.action, Deliver):
        return replace(verdict, reasons=(*verdict.reasons, reason))
    return _fallback(action, LOOKUP_FAILURE_RULE, verdict.rules, reason, verdict.shadow)


def _outage(policy: Policy, matched: list[str], shadow: list[ShadowMatch]) -> Verdict:
    """The signal feed is down: an OTP that no risk rule caught gets the policy's outage action."""
    reason = Reason("signal_outage", True)
    return _fallback(policy.on_signal_outage, OUTAGE_RULE, matched, reason, tuple(shadow))


def _fallback(
    action: Action,
    rule: str,
    matched: Sequence[str],
    reason: Reason,
    shadow: tuple[ShadowMatch, ...],
) -> Verdict:
    """The verdict of a policy-wide fallback (``on_signal_outage``, ``on_lookup_failure``):
    named as a rule of its own, after the rules that matched."""
    notify = ("otp.held",) if isinstance(action, Hold) else ()
    return Verdict(action, rule, (*matched, rule), (reason,), notify, (), shadow)


def explain(verdict: Verdict) -> str:
    """A person's reading of a verdict, for ``otpgate policy explain``."""
    lines = [
        f"decision: {verdict.decision}"
        + (f" (rule {verdict.rule!r})" if verdict.rule else " (no rule matched)")
    ]
    if isinstance(verdict.action, Hold):
        lines.append(f"  hold for {verdict.action.ttl_s:.0f} s, then {verdict.action.on_expiry}")
    for reason in verdict.reasons:
        text = f"  because {reason.fact}"
        if reason.value is not None:
            text += (
                f" = {reason.value:.0f} s"
                if isinstance(reason.value, float)
                else f" = {reason.value}"
            )
        if reason.limit is not None:
            text += f" < {reason.limit:.0f} s" + (
                f" ({reason.threshold})" if reason.threshold else ""
            )
        lines.append(text)
    if verdict.notify:
        lines.append("  notify: " + ", ".join(verdict.notify))
    for match in verdict.shadow:
        lines.append(
            f"  shadow rule {match.rule!r} would have decided {type(match.action).__name__.lower()}"
        )
    return "\n".join(lines)
