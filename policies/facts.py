"""What the policy engine reads: the facts about one message and the risk facts about its destination."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RoutingAnomaly:
    """A sign that the destination's traffic is being routed somewhere it should not be.

    reason is one of ``impossible_travel``, ``untrusted_network``, ``signalling_alert``;
    age_s counts from the anomaly's ``occurred_at``.
    """

    reason: str
    age_s: float


@dataclass(frozen=True, slots=True)
class RiskFacts:
    """Facts the risk index derives for one MSISDN at one instant; every age is in seconds.

    ``None`` means "no such event is known" (or it was hidden by a clearance).
    """

    sim_swap_age_s: float | None = None
    # "sim_swap" when announced, "imsi_mismatch" when inferred from an unseen IMSI.
    sim_swap_reason: str | None = None
    cf_unconditional_active: bool = False
    cfu_changed_age_s: float | None = None
    # Every anomaly still visible, youngest first.
    routing_anomalies: tuple[RoutingAnomaly, ...] = ()

    @property
    def routing_anomaly(self) -> RoutingAnomaly | None:
        """The youngest routing anomaly, if any."""
        return self.routing_anomalies[0] if self.routing_anomalies else None


NO_RISK = RiskFacts()


@dataclass(frozen=True, slots=True)
class MessageFacts:
    """What the engine may read about the message itself (never its text or code).

    ``is_otp`` and ``otp_score`` are what the classifier said, when it was asked before the
    engine; the live path passes the classifier to the engine instead, to ask it only when a
    rule needs the answer.
    """

    account: str
    source_addr: str
    destination_addr: str
    is_otp: bool = False
    tenant: str | None = None
    # ISO 3166 alpha-2 of the destination number, or None when unknown.
    destination_country: str | None = None
    otp_score: float | None = None

    @property
    def score(self) -> float:
        """The OTP score; without one, 1.0 for an OTP and 0.0 for anything else."""
        if self.otp_score is not None:
            return self.otp_score
        return 1.0 if self.is_otp else 0.0
