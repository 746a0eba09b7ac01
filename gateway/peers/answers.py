"""A peer's CAMARA answers read into facts, and those facts as the risk index gives them.

SIM Swap v2 ``retrieve-date`` answers ``latestSimChange`` (RFC 3339, or null when no
change is known in the peer's monitored period); Call Forwarding Signal's
``unconditional-call-forwardings`` answers ``active``. Neither tells when forwarding
started, so ``cfu_changed_age_s`` stays unknown for a peer's number.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from policies.facts import RiskFacts

from ..signals.risk_index import new_risk_facts


class BadAnswer(ValueError):
    """The peer's answer is not what the CAMARA document says it is."""


@dataclass(frozen=True, slots=True)
class PeerFacts:
    """What one peer told of one number: when its SIM last changed, and forwarding."""

    sim_changed_at: float | None = None
    cf_unconditional_active: bool = False

    def risk(self, now: float) -> RiskFacts:
        changed = self.sim_changed_at
        # The index's own constructor: a cached decision costs what a local one does.
        return new_risk_facts(
            None if changed is None else max(0.0, now - changed),
            None,
            self.cf_unconditional_active,
            None,
            (),
        )

    def merged(self, other: PeerFacts) -> PeerFacts:
        """These facts with what ``other`` knows besides (a cached kind and a pulled one)."""
        return PeerFacts(
            self.sim_changed_at if self.sim_changed_at is not None else other.sim_changed_at,
            self.cf_unconditional_active or other.cf_unconditional_active,
        )


def latest_sim_change(body: Any) -> float | None:
    """The instant of ``latestSimChange``; None when the peer knows of no change."""
    if not isinstance(body, dict) or "latestSimChange" not in body:
        raise BadAnswer("retrieve-date: no latestSimChange")
    value = body["latestSimChange"]
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadAnswer("retrieve-date: latestSimChange is not a date-time")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadAnswer("retrieve-date: latestSimChange is not a date-time") from None
    if moment.tzinfo is None:
        raise BadAnswer("retrieve-date: latestSimChange has no offset")
    return moment.timestamp()


def unconditional_active(body: Any) -> bool:
    if not isinstance(body, dict) or not isinstance(body.get("active"), bool):
        raise BadAnswer("unconditional-call-forwardings: no boolean 'active'")
    return bool(body["active"])


def describe(facts: PeerFacts, kinds: frozenset[str], now: float) -> str:
    """The answer for the audit: ages and flags, nothing else of the number."""
    parts = []
    if "sim_swap" in kinds:
        changed = facts.sim_changed_at
        parts.append(
            "sim_swap_age_s=none" if changed is None else f"sim_swap_age_s={now - changed:.0f}"
        )
    if "call_forwarding" in kinds:
        parts.append(f"cf_unconditional_active={str(facts.cf_unconditional_active).lower()}")
    return " ".join(parts)
