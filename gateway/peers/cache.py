"""Answers of peers per number and fact kind, each kept for its TTL (positive or negative).

A positive answer (a SIM change reported, forwarding active) and a negative one (nothing to
report) live for different times: the configured ``positive_ttl_s`` and ``negative_ttl_s``.
The SIM change is kept as the instant it happened, so the age a rule reads is always
counted at the decision's own ``now``.
"""

from __future__ import annotations

from collections.abc import Iterable

from policies.engine import CALL_FORWARDING, SIM_SWAP

from .answers import PeerFacts

# Per (number, kind): the value (SIM change instant or None; forwarding active) and expiry.
_Entry = tuple[float | bool | None, float]


class FactCache:
    def __init__(self, max_entries: int = 1_000_000) -> None:
        self.max_entries = max_entries
        self._entries: dict[tuple[int, str], _Entry] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def get(
        self, msisdn_key: int, kinds: Iterable[str], now: float
    ) -> tuple[PeerFacts, frozenset[str]]:
        """What is known of ``kinds`` for the number, and the kinds not (or no longer) known."""
        entries = self._entries
        changed_at: float | None = None
        forwarding = False
        missing: list[str] = []
        for kind in kinds:
            entry = entries.get((msisdn_key, kind))
            if entry is None or entry[1] <= now:
                missing.append(kind)
            elif kind == SIM_SWAP:
                changed_at = entry[0]
            else:
                forwarding = bool(entry[0])
        return PeerFacts(changed_at, forwarding), frozenset(missing)

    def put(
        self,
        msisdn_key: int,
        facts: PeerFacts,
        kinds: Iterable[str],
        now: float,
        positive_ttl_s: float,
        negative_ttl_s: float,
    ) -> None:
        if len(self._entries) >= self.max_entries:
            self._make_room(now)
        entries = self._entries
        for kind in kinds:
            if kind == SIM_SWAP:
                value: float | bool | None = facts.sim_changed_at
                positive = value is not None
            elif kind == CALL_FORWARDING:
                value = positive = facts.cf_unconditional_active
            else:
                continue
            ttl = positive_ttl_s if positive else negative_ttl_s
            entries.pop((msisdn_key, kind), None)  # re-inserted last: the newest
            entries[(msisdn_key, kind)] = (value, now + ttl)

    def forget(self, msisdn_key: int) -> None:
        """An erasure: nothing kept about the number."""
        for kind in (SIM_SWAP, CALL_FORWARDING):
            self._entries.pop((msisdn_key, kind), None)

    def _make_room(self, now: float) -> None:
        """Expired entries go first; if that is not a tenth of the room, the oldest entries."""
        entries = self._entries
        live = {k: e for k, e in entries.items() if e[1] > now}
        excess = len(live) - int(self.max_entries * 0.9)
        if excess > 0:
            for key in list(live)[:excess]:
                del live[key]
        self._entries = live
