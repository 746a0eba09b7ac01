"""The kill soak's books, and the rules of the path checked against them (DESIGN.md).

Every submit_sm an ESME sent is a ``Part``, with the answer it got; every logical message
goes to a destination of its own, so (destination, short_message) names one part wherever it
shows up: in the simulator's records, in the hold listing, in a receipt (by message id).
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from smpp_adapters.constants import CommandStatus

PLAIN = "plain"  # one part, not an OTP: passes through
MULTIPART = "multipart"  # two or three parts with a UDH, not an OTP: parked, then forwarded
OTP_HELD = "otp_held"  # an OTP to a number swapped before the run: held
MULTIPART_HELD = "multipart_held"  # the same in parts: held as one message
OTP_MQTT = "otp_mqtt"  # an OTP to a number swapped over MQTT during the run: held or not
HOLD_KINDS = frozenset({OTP_HELD, MULTIPART_HELD})
FINAL_UNDELIVERED = frozenset({"cancelled", "expired", "failed"})
EXAMPLES = 5  # per violated rule, in the report

Key = tuple[str, bytes]


@dataclass(slots=True)
class Part:
    kind: str
    destination: str
    short_message: bytes
    message: int  # the logical message this part belongs to
    total: int  # its number of parts
    status: int | None = None  # None: never answered (the gateway died first)
    message_id: str | None = None

    @property
    def key(self) -> Key:
        return (self.destination, self.short_message)

    @property
    def acked(self) -> bool:
        return self.status == CommandStatus.ESME_ROK


@dataclass(frozen=True, slots=True)
class Delivery:
    """One submit_sm the simulator accepted."""

    destination: str
    short_message: bytes
    at: float  # seconds since the epoch

    @property
    def key(self) -> Key:
        return (self.destination, self.short_message)


@dataclass
class Ledger:
    parts: list[Part] = field(default_factory=list)
    # (SIGKILL sent, ready again) per kill, time.time(): the simulator may read bytes the
    # gateway wrote before its death a little after it, so a kill is a span, not a moment.
    kills: list[tuple[float, float]] = field(default_factory=list)
    holds_seen: set[str] = field(default_factory=set)  # ids some listing showed
    lost_holds: list[str] = field(default_factory=list)  # listed once, missing after a restart
    holds_checked: int = 0  # hold ids found again in the listings after the restarts
    hold_actions: Counter[str] = field(default_factory=Counter)  # "release 200", ...
    signals_published: list[str] = field(default_factory=list)  # acknowledged by the broker
    signals_missing: list[str] = field(default_factory=list)
    receipts: dict[str, str] = field(default_factory=dict)  # message id -> stat, at an ESME
    receipts_total: int = 0
    messages: int = 0

    def new_message(self) -> int:
        self.messages += 1
        return self.messages

    @property
    def acked(self) -> list[Part]:
        return [p for p in self.parts if p.acked]


def hold_state_by_destination(holds: list[dict[str, Any]]) -> dict[str, str]:
    return {h["destination"].lstrip("+"): h["state"] for h in holds}


def unaccounted(ledger: Ledger, delivered: set[Key], holds: list[dict[str, Any]]) -> list[Part]:
    """Acknowledged parts neither at the simulator nor in a hold that ended undelivered."""
    states = hold_state_by_destination(holds)
    return [
        p
        for p in ledger.acked
        if p.key not in delivered and states.get(p.destination) not in FINAL_UNDELIVERED
    ]


def missing_receipts(ledger: Ledger) -> list[Part]:
    return [p for p in ledger.acked if p.message_id not in ledger.receipts]


def not_held(ledger: Ledger, holds: list[dict[str, Any]]) -> list[Part]:
    """Acknowledged OTPs to numbers swapped before the run that have no hold: the swap or the
    hold did not survive. A multipart message counts only when every part was acknowledged
    (a kill between parts leaves a fragment, which may hold no code)."""
    states = hold_state_by_destination(holds)
    acked_parts = Counter(p.message for p in ledger.acked)
    return [
        p
        for p in ledger.acked
        if p.kind in HOLD_KINDS
        and acked_parts[p.message] == p.total
        and p.destination not in states
    ]


def unexpected(ledger: Ledger, deliveries: list[Delivery]) -> list[Delivery]:
    """Deliveries of bytes no ESME sent: a part altered on its way (or made up)."""
    sent = {p.key for p in ledger.parts}
    return [d for d in deliveries if d.key not in sent]


@dataclass
class Duplicates:
    resent_after_crash: int = 0  # allowed: "at least once across a crash" (DESIGN.md, Holds)
    violations: list[str] = field(default_factory=list)


def duplicates(
    ledger: Ledger,
    deliveries: list[Delivery],
    holds: list[dict[str, Any]],
    released_at: dict[str, float],
) -> Duplicates:
    """Parts the simulator got more than once, judged by DESIGN.md's rules.

    A held or parked part may be sent again after a crash (the store still said "releasing"
    or "parked"), never otherwise: a second delivery with no kill since the first, or after
    the hold was committed ``released`` (``released_at``, by destination), or of a message
    that passed straight through (nothing on disk to resend it from), is a violation.
    """
    held = hold_state_by_destination(holds)
    kind_of = {
        p.key: PLAIN if p.kind == OTP_MQTT and p.destination not in held else p.kind
        for p in ledger.parts
    }
    by_key: defaultdict[Key, list[float]] = defaultdict(list)
    for delivery in deliveries:
        by_key[delivery.key].append(delivery.at)
    found = Duplicates()
    for key, times in by_key.items():
        times.sort()
        for first, again in itertools.pairwise(times):
            crashed = any(first <= ready and killed <= again for killed, ready in ledger.kills)
            committed = released_at.get(key[0])
            why = None
            if kind_of.get(key) == PLAIN:
                why = "a pass-through message"
            elif not crashed:
                why = "no kill between the two"
            elif committed is not None and any(committed <= k < again for k, _ in ledger.kills):
                # Sent again by a later life although the commit said released (the gateway's
                # clock and ours may differ by milliseconds; lives last a good part of a second).
                why = "after its hold was committed released and a restart"
            if why is None:
                found.resent_after_crash += 1
            else:
                found.violations.append(f"{key[0]} {key[1][:30]!r} delivered twice: {why}")
    return found


def rfc3339(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def first_released_at(hold: dict[str, Any]) -> float | None:
    """When the hold's ``released`` state was committed, from its history."""
    for event in hold.get("history", []):
        if event["state"] == "released":
            return rfc3339(event["at"])
    return None


@dataclass
class Verdict:
    """The counts printed with the test, and every rule that was broken with examples."""

    counts: dict[str, Any] = field(default_factory=dict)
    violations: dict[str, list[str]] = field(default_factory=dict)

    def add(self, rule: str, examples: list[Any]) -> None:
        if examples:
            self.violations[rule] = [str(e) for e in examples[:EXAMPLES]] + (
                [f"... {len(examples)} in all"] if len(examples) > EXAMPLES else []
            )

    def report(self) -> str:
        lines = [f"  {name}: {value}" for name, value in self.counts.items()]
        for rule, examples in self.violations.items():
            lines.append(f"  VIOLATED {rule}:")
            lines += [f"    {e}" for e in examples]
        return "\n".join(lines)
