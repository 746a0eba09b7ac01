"""The in-memory risk index: per MSISDN, exactly what the risk facts need, answered in microseconds.

Every number's state is a pure function of the *set* of its signals, so applying the stored
signals in any order gives the same index (the rebuild after a restart), a duplicate changes
nothing, and a late signal lands where its ``occurred_at`` puts it: it never overrides a newer
state. The state is packed into a few dozen bytes per number, kept in a ``StateTable`` (sorted
arrays per shard: no object per subscriber, nothing for the garbage collector to walk);
numbers with something to report also have a small tuple in a dict, the only one ``facts()``
reads.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import fields
from typing import Final

from gateway.signals.model import LocationUpdate, Signal
from gateway.signals.risk_config import RiskConfig
from gateway.signals.risk_state import (
    CONDITIONAL,
    IMSI,
    OPTIONAL_COUNT,
    PLACE,
    State,
    StateRules,
    Summary,
    oldest_place,
    state_struct,
)
from gateway.signals.state_table import StateTable
from policies.facts import NO_RISK, RiskFacts, RoutingAnomaly

__all__ = ["RiskConfig", "RiskIndex", "Summary", "oldest_place"]


# The generated __init__ of a frozen dataclass sets each field through object.__setattr__,
# about 1 µs for RiskFacts: most of a risky look-up. Filling the slots through their
# descriptors is the same assignment at a third of the cost. Used only while the classes have
# exactly these fields (checked here and by a test); otherwise the classes themselves.
_RISK_FACTS_FIELDS: Final = (
    "sim_swap_age_s",
    "sim_swap_reason",
    "cf_unconditional_active",
    "cfu_changed_age_s",
    "routing_anomalies",
)
_ANOMALY_FIELDS: Final = ("reason", "age_s")
_new = object.__new__
_set_swap_age, _set_swap_reason, _set_cfu_active, _set_cfu_age, _set_routing = (
    getattr(RiskFacts, name).__set__ for name in _RISK_FACTS_FIELDS
)
_set_reason, _set_age = (getattr(RoutingAnomaly, name).__set__ for name in _ANOMALY_FIELDS)


def _fast_risk_facts(
    swap_age: float | None,
    swap_reason: str | None,
    cfu_active: bool,
    cfu_age: float | None,
    routing: tuple[RoutingAnomaly, ...],
) -> RiskFacts:
    facts: RiskFacts = _new(RiskFacts)
    _set_swap_age(facts, swap_age)
    _set_swap_reason(facts, swap_reason)
    _set_cfu_active(facts, cfu_active)
    _set_cfu_age(facts, cfu_age)
    _set_routing(facts, routing)
    return facts


def _fast_routing_anomaly(reason: str, age_s: float) -> RoutingAnomaly:
    anomaly: RoutingAnomaly = _new(RoutingAnomaly)
    _set_reason(anomaly, reason)
    _set_age(anomaly, age_s)
    return anomaly


_risk_facts: Callable[
    [float | None, str | None, bool, float | None, tuple[RoutingAnomaly, ...]], RiskFacts
] = (
    _fast_risk_facts
    if tuple(f.name for f in fields(RiskFacts)) == _RISK_FACTS_FIELDS
    else RiskFacts
)
# For other makers of facts on the hot path (a peer's cached answer): the same constructor.
new_risk_facts = _risk_facts
_routing_anomaly: Callable[[str, float], RoutingAnomaly] = (
    _fast_routing_anomaly
    if tuple(f.name for f in fields(RoutingAnomaly)) == _ANOMALY_FIELDS
    else RoutingAnomaly
)


# Signals sorted and folded at a time by apply_all: ~100 MB of list and sort keys at most,
# a single chunk for a million subscribers' signals.
_BULK_CHUNK: Final = 2_000_000


def _msisdn_key(signal: Signal) -> int:
    return int(signal.msisdn)


def _set_summary(risky: dict[int, Summary], key: int, summary: Summary | None) -> None:
    if summary is None:
        risky.pop(key, None)
    else:
        risky[key] = summary


class RiskIndex:
    """Per-MSISDN risk state, fed by ``apply`` and read by ``facts``.

    Not thread-safe: one thread (the event loop) applies and reads.
    """

    def __init__(
        self, config: RiskConfig | None = None, *, states: StateTable | None = None
    ) -> None:
        self.config = config or RiskConfig()
        # Every tracked number's packed state; ``states`` only to choose how it is sharded.
        self._states = states if states is not None else StateTable()
        self._risky: dict[int, Summary] = {}
        # Recent event ids and the number each came for (an erasure forgets the number's).
        self._seen_ids: dict[str, str] = {}
        self._seen_order: deque[str] = deque()
        self._horizon_s = self.config.anomaly_horizon_s
        self._rules = StateRules(self.config)
        self._allowed_imsi = self._rules.allowed_imsi
        cfg = self.config
        self._checks_networks = bool(cfg.watch_networks) or cfg.roaming_partners is not None
        self._place_window_s = self._rules.place_window_s

    def __len__(self) -> int:
        """Numbers tracked (with any state at all)."""
        return len(self._states)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RiskIndex):
            return NotImplemented
        return (
            self.config == other.config
            and self._states == other._states
            and self._risky == other._risky
        )

    __hash__ = None  # type: ignore[assignment]

    @property
    def risky_count(self) -> int:
        """Numbers with something facts() may report."""
        return len(self._risky)

    def facts(self, msisdn: str, now: float) -> RiskFacts:
        """The risk facts of ``msisdn`` (E.164, "+" optional) at ``now``; ``NO_RISK`` when none.

        Ages count from each signal's ``occurred_at`` and are never negative (a signal dated
        after ``now`` has age 0).
        """
        try:
            summary = self._risky.get(int(msisdn))
        except (TypeError, ValueError):
            return NO_RISK
        if summary is None:
            return NO_RISK
        swap_at, swap_reason, cfu_active, cfu_changed_at, anomalies = summary
        routing: tuple[RoutingAnomaly, ...] = ()
        if anomalies:
            oldest = now - self._horizon_s
            routing = tuple(
                _routing_anomaly(reason, now - at if at < now else 0.0)
                for at, reason in anomalies
                if at >= oldest
            )
            if not routing and swap_at is None and cfu_changed_at is None and not cfu_active:
                return NO_RISK
        return _risk_facts(
            None if swap_at is None else (now - swap_at if swap_at < now else 0.0),
            swap_reason,
            cfu_active,
            None
            if cfu_changed_at is None
            else (now - cfu_changed_at if cfu_changed_at < now else 0.0),
            routing,
        )

    def forwarding(self, msisdn: str) -> tuple[str, ...]:
        """The forwarding services active for ``msisdn``, "cfu" first (CAMARA's call-forwardings);
        facts() has only "cfu", the one risk fact."""
        try:
            key = int(msisdn)
        except (TypeError, ValueError):
            return ()
        summary = self._risky.get(key)
        cfu = ("cfu",) if summary is not None and summary[2] else ()
        blob = self._states.get(key)
        if blob is None or not blob[2] & CONDITIONAL:
            return cfu
        return cfu + self._rules.conditional_active(State.unpack(blob))

    def apply(self, signal: Signal) -> bool:
        """Take one validated signal into the index; True when the number's state changed.

        A repeat of a recently seen ``event_id`` is ignored. Applying the same signal twice,
        with or without an id, changes nothing the second time.
        """
        event_id = signal.event_id
        if event_id is not None:
            if event_id in self._seen_ids:
                return False
            self._remember(event_id, signal.msisdn)
        key = int(signal.msisdn)
        old = self._states.get(key)
        if type(signal) is LocationUpdate:
            appended = self._append_place(old, signal)
            if appended is not None:
                self._states.put(key, appended)
                return True
        state = State.unpack(old) if old is not None else State()
        if not self._rules.merge(state, signal):
            return False
        self._rules.bound(state)
        new = state.pack()
        if new == old:
            return False
        self._states.put(key, new)
        summary = self._rules.summarise(state)
        if summary is None:
            self._risky.pop(key, None)
        else:
            self._risky[key] = summary
        return True

    def apply_all(self, signals: Iterable[Signal], *, chunk: int = _BULK_CHUNK) -> int:
        """Apply many signals (a rebuild from the store, in any order); returns how many changed state.

        The same index, and the same count, as ``apply`` one signal at a time, but each number
        is written once per chunk: the signals are sorted by number, each number's are folded
        in a local ``bytes``, and the shards receive their numbers in key order (appends into
        an empty table, no garbage). One by one, in shuffled order, every number landed between
        others in its shard and every later change left garbage to compact: twice the time.
        ``chunk`` bounds the signals held at once (a list and one int per signal, released
        after each chunk).
        """
        batch: list[Signal] = []
        changed = 0
        seen = self._seen_ids
        for signal in signals:
            # Repeated ids are dropped in arrival order, as apply() would drop them.
            event_id = signal.event_id
            if event_id is not None:
                if event_id in seen:
                    continue
                self._remember(event_id, signal.msisdn)
            batch.append(signal)
            if len(batch) >= chunk:
                changed += self._apply_sorted(batch)
                batch = []
        if batch:
            changed += self._apply_sorted(batch)
        return changed

    def _apply_sorted(self, batch: list[Signal]) -> int:
        # A stable sort: one number's signals keep their order (which cannot matter anyway).
        batch.sort(key=_msisdn_key)
        table, risky = self._states, self._risky
        append_place, merge, bound = self._append_place, self._rules.merge, self._rules.bound
        summarise, unpack = self._rules.summarise, State.unpack
        changed = 0
        key = -1
        old = blob = None
        last: State | None = None  # the state of the last change apply() would summarise
        for signal in batch:
            next_key = int(signal.msisdn)
            if next_key != key:
                if blob is not None and blob != old:
                    table.put(key, blob)
                if last is not None:
                    _set_summary(risky, key, summarise(last))
                key, last = next_key, None
                old = blob = table.get(key)
            # apply() without the table: the same two paths, in the same order.
            if type(signal) is LocationUpdate:
                appended = append_place(blob, signal)
                if appended is not None:
                    blob = appended
                    changed += 1
                    continue
            state = unpack(blob) if blob is not None else State()
            if not merge(state, signal):
                continue
            bound(state)
            new = state.pack()
            if new != blob:
                blob, last = new, state
                changed += 1
        if blob is not None and blob != old:
            table.put(key, blob)
        if last is not None:
            _set_summary(risky, key, summarise(last))
        batch.clear()
        return changed

    def summary(self, key: int) -> Summary | None:
        """What facts() reads for a number, or None: compared before and after a signal to
        tell what changed (swap time, forwarding, newest anomaly)."""
        return self._risky.get(key)

    def state_of(self, key: int) -> bytes | None:
        """The packed state of one number (``msisdn_key``), as the store keeps it."""
        return self._states.get(key)

    def load_state(self, key: int, blob: bytes) -> None:
        """Take a stored state back (the rebuild on start): no replay of the signals."""
        self._states.put(key, blob)
        summary = self._rules.summarise(State.unpack(blob))
        if summary is None:
            self._risky.pop(key, None)
        else:
            self._risky[key] = summary

    def forget(self, key: int) -> bool:
        """Drop everything about one number (an erasure); True when there was something.

        Its recent event ids go too: the store forgets them, so a signal delivered again
        after the erasure is stored again, and the index must take it as the store did.
        """
        self._risky.pop(key, None)
        forms = {str(key), f"+{key}"}
        mine = {event_id for event_id, msisdn in self._seen_ids.items() if msisdn in forms}
        if mine:
            for event_id in mine:
                del self._seen_ids[event_id]
            self._seen_order = deque(e for e in self._seen_order if e not in mine)
        return self._states.pop(key)

    def drop_places_before(self, key: int, cutoff: float) -> bytes | None:
        """Retention of location data: forget the places older than ``cutoff``.

        Returns the new packed state, or None when nothing changed. A place that old is
        beyond the anomaly horizon, so no fact changes.
        """
        old = self._states.get(key)
        if old is None:
            return None
        state = State.unpack(old)
        kept = [place for place in state.places if place[0] >= cutoff]
        if len(kept) == len(state.places):
            return None
        state.places = kept
        new = state.pack()
        self.load_state(key, new)
        return new

    def clear(self) -> None:
        """Forget everything (before a rebuild)."""
        self._states.clear()
        self._risky.clear()
        self._seen_ids.clear()
        self._seen_order.clear()

    def _append_place(self, old: bytes | None, signal: LocationUpdate) -> bytes | None:
        """The new state for the common location update, or None when the general path must decide.

        Common: a first sighting, or a place in the same country as the newest one, later
        than it, with a known IMSI, within the window and the bound. Then no fact changes and
        the packed state gains one place at its tail (the same bytes the general path makes).
        """
        country = signal.country
        if country is None:
            return None
        mcc_mnc = signal.serving_mcc_mnc
        if self._checks_networks and mcc_mnc is not None and self.config.untrusted(mcc_mnc):
            return None
        at = signal.occurred_at
        code = country.encode("ascii")
        imsi = signal.imsi
        if (
            imsi is not None
            and self._allowed_imsi is not None
            and imsi.startswith(self._allowed_imsi)
        ):
            imsi = None
        if old is None:
            if imsi is None:
                return state_struct(0, 0, 0, 0, 1).pack(0, 0, 0, 0, 0, 1, at, code)
            return state_struct(0, 1, 0, 0, 1).pack(0, 1, 0, 0, 0, 1, int(imsi), at, at, code)
        flags, n_imsi, n_cfu, n_untrusted, n_alert, n_place = old[:6]
        if not 0 < n_place < self.config.max_locations:
            return None
        last_at, last_code = PLACE.unpack_from(old, len(old) - PLACE.size)
        if at <= last_at or code != last_code:
            return None
        first_at = PLACE.unpack_from(old, len(old) - n_place * PLACE.size)[0]
        if first_at < at - self._place_window_s:
            return None
        if imsi is not None:
            wanted = int(imsi)
            off = 6 + 8 * OPTIONAL_COUNT[flags]
            for _ in range(n_imsi):
                known, first_seen = IMSI.unpack_from(old, off)
                if known == wanted:
                    if first_seen > at:
                        return None
                    break
                off += IMSI.size
            else:
                return None
        header = bytes((flags, n_imsi, n_cfu, n_untrusted, n_alert, n_place + 1))
        return header + old[6:] + PLACE.pack(at, code)

    def _remember(self, event_id: str, msisdn: str) -> None:
        self._seen_ids[event_id] = msisdn
        self._seen_order.append(event_id)
        if len(self._seen_order) > self.config.recent_event_ids:
            self._seen_ids.pop(self._seen_order.popleft(), None)
