"""What the engine decides for one message: Deliver, Hold or Reject, and why."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ESME_RX_R_APPN = 0x66


@dataclass(frozen=True, slots=True)
class Deliver:
    pass


@dataclass(frozen=True, slots=True)
class Hold:
    ttl_s: float
    on_expiry: str  # "drop" | "deliver"


@dataclass(frozen=True, slots=True)
class Reject:
    command_status: int = ESME_RX_R_APPN


Action = Deliver | Hold | Reject
DELIVER = Deliver()


@dataclass(frozen=True, slots=True)
class Reason:
    """One fact that made a rule match, with the limit it was held against."""

    fact: str
    value: Any = None
    limit: Any = None
    threshold: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"fact": self.fact}
        if self.value is not None:
            out["age_s" if self.fact.endswith("_age") else "value"] = self.value
        if self.threshold is not None:
            out["threshold"] = self.threshold
        if self.limit is not None:
            out["limit_s"] = self.limit
        return out


@dataclass(frozen=True, slots=True)
class ShadowMatch:
    rule: str
    action: Action


@dataclass(frozen=True, slots=True)
class Verdict:
    """The decision and its explanation (the rule, the reasons, the events to send)."""

    action: Action
    rule: str | None
    rules: tuple[str, ...] = ()
    reasons: tuple[Reason, ...] = ()
    notify: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    shadow: tuple[ShadowMatch, ...] = field(default=())

    @property
    def decision(self) -> str:
        return type(self.action).__name__.lower()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "decision": self.decision,
            "rule": self.rule,
            "rules": list(self.rules),
            "reasons": [r.to_json() for r in self.reasons],
            "notify": list(self.notify),
        }
        if isinstance(self.action, Hold):
            out["ttl_s"] = self.action.ttl_s
            out["on_expiry"] = self.action.on_expiry
        if isinstance(self.action, Reject):
            out["command_status"] = self.action.command_status
        if self.tags:
            out["tags"] = list(self.tags)
        if self.shadow:
            out["shadow"] = [
                {"rule": s.rule, "decision": type(s.action).__name__.lower()} for s in self.shadow
            ]
        return out


DEFAULT_VERDICT = Verdict(DELIVER, None)
