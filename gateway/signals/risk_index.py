"""The in-memory risk index: per MSISDN, exactly what the risk facts need, answered in microseconds.

Every number's state is a pure function of the *set* of its signals, so applying the stored
signals in any order gives the same index (the rebuild after a restart), a duplicate changes
nothing, and a late signal lands where its ``occurred_at`` puts it: it never overrides a newer
state. The state is packed into one ``bytes`` per number (no object per subscriber, nothing
for the garbage collector to walk); numbers with something to report also have a small tuple
in a second dict, the only one ``facts()`` reads.
"""

from __future__ import annotations

import re
import struct
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from functools import lru_cache
from itertools import pairwise
from typing import Final

from gateway.signals.countries import are_neighbours
from gateway.signals.model import (
    SIM_SWAP_REASONS,
    CallForwarding,
    Clearance,
    LocationUpdate,
    Signal,
    SignallingAlert,
    SimSwap,
)
from policies.facts import NO_RISK, RiskFacts, RoutingAnomaly

__all__ = ["RiskConfig", "RiskIndex", "oldest_place"]

_NETWORK = re.compile(r"[0-9]{3}(?:-[0-9]{2,3})?")

SIM_SWAP: Final = "sim_swap"
IMSI_MISMATCH: Final = "imsi_mismatch"
IMPOSSIBLE_TRAVEL: Final = "impossible_travel"
UNTRUSTED_NETWORK: Final = "untrusted_network"
SIGNALLING_ALERT: Final = "signalling_alert"


@dataclass(frozen=True, slots=True)
class RiskConfig:
    """What the index is told by the operator; validated once, at construction.

    Networks are MCC-MNC strings ("234-15") or a bare MCC ("901") meaning every network of it.
    ``roaming_partners`` None means "no partner list": only the watch list makes a network
    untrusted. ``anomaly_horizon_s``: routing anomalies older than this are not reported.
    """

    min_travel_s: float = 7200.0
    anomaly_horizon_s: float = 86400.0
    imsi_allow_prefixes: tuple[str, ...] = ()
    watch_networks: frozenset[str] = frozenset()
    roaming_partners: frozenset[str] | None = None
    home_networks: frozenset[str] = frozenset()
    # Event ids remembered to ignore repeats; the store is the real guard.
    recent_event_ids: int = 100_000
    # Bounds on what one number keeps (see _State); generous for real traffic.
    max_imsis: int = 32
    max_cfu_states: int = 8
    max_locations: int = 16
    max_anomaly_times: int = 8

    def __post_init__(self) -> None:
        if not self.min_travel_s >= 0:
            raise ValueError(f"min_travel_s: expected >= 0, got {self.min_travel_s!r}")
        if not self.anomaly_horizon_s > 0:
            raise ValueError(f"anomaly_horizon_s: expected > 0, got {self.anomaly_horizon_s!r}")
        for prefix in self.imsi_allow_prefixes:
            if not (isinstance(prefix, str) and prefix.isdigit() and len(prefix) <= 15):
                raise ValueError(f"imsi_allow_prefixes: expected digits, got {prefix!r}")
        groups = {
            "watch_networks": self.watch_networks,
            "roaming_partners": self.roaming_partners or frozenset(),
            "home_networks": self.home_networks,
        }
        for name, networks in groups.items():
            for network in networks:
                if not (isinstance(network, str) and _NETWORK.fullmatch(network)):
                    raise ValueError(
                        f"{name}: expected 'ddd', 'ddd-dd' or 'ddd-ddd', got {network!r}"
                    )
        for name in (
            "recent_event_ids",
            "max_imsis",
            "max_cfu_states",
            "max_locations",
            "max_anomaly_times",
        ):
            value = getattr(self, name)
            # Counts live in one byte each; the call forwarding bound keeps one state more.
            if not 1 <= value <= (254 if name != "recent_event_ids" else 10**8):
                raise ValueError(f"{name}: out of range: {value!r}")

    def untrusted(self, mcc_mnc: str) -> bool:
        """Whether a serving network is on the watch list or, with a partner list, not on it."""
        mcc = mcc_mnc[:3]
        if mcc_mnc in self.watch_networks or mcc in self.watch_networks:
            return True
        partners = self.roaming_partners
        if partners is None:
            return False
        trusted = (mcc_mnc, mcc)
        return not any(n in partners or n in self.home_networks for n in trusted)


# One number's state, packed. Layout (little-endian):
#   header  flags, n_imsi, n_cfu, n_untrusted, n_alert, n_location    6 x u8
#   times   swap_at, cleared sim_swap/call_forwarding/routing at      f64 each, when the flag says
#   imsis   (imsi as int, first seen at)                              n x (i64, f64)
#   cfu     (at, active, forwarded_to as int or 0)                    n x (f64, u8, i64)
#   times   untrusted-network location updates, signalling alerts    n x f64 each
#   places  (at, country as two ASCII bytes)                          n x (f64, 2s)
# Locations come last so that the common update (one more place) appends to the tail.
_SWAP, _CLEAR_SS, _CLEAR_CF, _CLEAR_RT, _CFU_TRUNCATED = 1, 2, 4, 8, 16
# The announced swap's reason lives in the flags' top three bits: 0 for none given, else
# 1 + its place in SIM_SWAP_REASONS. States packed before reasons were kept read as none.
_REASON_SHIFT: Final = 5
_SWAP_REASONS: Final = (None, *SIM_SWAP_REASONS)
assert len(_SWAP_REASONS) <= 8
_OPTIONAL_BITS: Final = (_SWAP, _CLEAR_SS, _CLEAR_CF, _CLEAR_RT)
_OPTIONAL_COUNT: Final = tuple(bin(flags & 15).count("1") for flags in range(256))
_PLACE: Final = struct.Struct("<d2s")
_IMSI: Final = struct.Struct("<qd")


@lru_cache(maxsize=4096)
def _layout(n_optional: int, n_imsi: int, n_cfu: int, n_times: int, n_place: int) -> struct.Struct:
    return struct.Struct(
        "<6B" + "d" * n_optional + "qd" * n_imsi + "d?q" * n_cfu + "d" * n_times + "d2s" * n_place
    )


def oldest_place(blob: bytes) -> float | None:
    """The time of the oldest location kept in a packed state (the retention job's index)."""
    places = _State.unpack(blob).places if blob[5] else ()
    return places[0][0] if places else None


class _State:
    """One number's state, unpacked for an update. Lists are kept sorted by time."""

    __slots__ = (
        "alerts",
        "cfu",
        "cfu_truncated",
        "cleared_cf",
        "cleared_rt",
        "cleared_ss",
        "imsis",
        "places",
        "swap_at",
        "swap_reason",
        "untrusted",
    )

    def __init__(self) -> None:
        self.swap_at: float | None = None
        self.swap_reason = 0  # index into _SWAP_REASONS
        self.cleared_ss: float | None = None
        self.cleared_cf: float | None = None
        self.cleared_rt: float | None = None
        self.cfu_truncated = False
        self.imsis: dict[int, float] = {}
        self.cfu: list[tuple[float, bool, int]] = []
        self.untrusted: list[float] = []
        self.alerts: list[float] = []
        self.places: list[tuple[float, bytes]] = []

    @classmethod
    def unpack(cls, blob: bytes) -> _State:
        st = cls()
        flags, n_imsi, n_cfu, n_untrusted, n_alert, n_place = blob[:6]
        n_optional = _OPTIONAL_COUNT[flags]
        layout = _layout(n_optional, n_imsi, n_cfu, n_untrusted + n_alert, n_place)
        values = layout.unpack(blob)
        i = 6
        if n_optional:
            optional: list[float | None] = []
            for bit in _OPTIONAL_BITS:
                if flags & bit:
                    optional.append(values[i])
                    i += 1
                else:
                    optional.append(None)
            st.swap_at, st.cleared_ss, st.cleared_cf, st.cleared_rt = optional
        st.cfu_truncated = bool(flags & _CFU_TRUNCATED)
        st.swap_reason = flags >> _REASON_SHIFT
        if n_imsi:
            end = i + 2 * n_imsi
            st.imsis = dict(zip(values[i:end:2], values[i + 1 : end : 2], strict=True))
            i = end
        if n_cfu:
            end = i + 3 * n_cfu
            st.cfu = list(
                zip(values[i:end:3], values[i + 1 : end : 3], values[i + 2 : end : 3], strict=True)
            )
            i = end
        if n_untrusted:
            st.untrusted = list(values[i : i + n_untrusted])
            i += n_untrusted
        if n_alert:
            st.alerts = list(values[i : i + n_alert])
            i += n_alert
        if n_place:
            st.places = list(zip(values[i::2], values[i + 1 :: 2], strict=True))
        return st

    def pack(self) -> bytes:
        flags = (_CFU_TRUNCATED if self.cfu_truncated else 0) | self.swap_reason << _REASON_SHIFT
        values: list[object] = [0, len(self.imsis), len(self.cfu), len(self.untrusted)]
        values += (len(self.alerts), len(self.places))
        optional = (self.swap_at, self.cleared_ss, self.cleared_cf, self.cleared_rt)
        for bit, value in zip(_OPTIONAL_BITS, optional, strict=True):
            if value is not None:
                flags |= bit
                values.append(value)
        values[0] = flags
        for pair in self.imsis.items():
            values += pair
        for point in self.cfu:
            values += point
        values += self.untrusted
        values += self.alerts
        for place in self.places:
            values += place
        layout = _layout(
            _OPTIONAL_COUNT[flags],
            len(self.imsis),
            len(self.cfu),
            len(self.untrusted) + len(self.alerts),
            len(self.places),
        )
        return layout.pack(*values)


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
_routing_anomaly: Callable[[str, float], RoutingAnomaly] = (
    _fast_routing_anomaly
    if tuple(f.name for f in fields(RoutingAnomaly)) == _ANOMALY_FIELDS
    else RoutingAnomaly
)


# What facts() reads for a number with something to report:
# (swap_at, swap_reason, cfu_active, cfu_changed_at, ((anomaly_at, reason), ...) youngest first)
Summary = tuple[float | None, str | None, bool, float | None, tuple[tuple[float, str], ...]]


class RiskIndex:
    """Per-MSISDN risk state, fed by ``apply`` and read by ``facts``.

    Not thread-safe: one thread (the event loop) applies and reads.
    """

    def __init__(self, config: RiskConfig | None = None) -> None:
        self.config = config or RiskConfig()
        self._states: dict[int, bytes] = {}
        self._risky: dict[int, Summary] = {}
        self._seen_ids: set[str] = set()
        self._seen_order: deque[str] = deque()
        self._horizon_s = self.config.anomaly_horizon_s
        allow = self.config.imsi_allow_prefixes
        self._allowed_imsi = tuple(allow) if allow else None
        cfg = self.config
        self._checks_networks = bool(cfg.watch_networks) or cfg.roaming_partners is not None
        self._place_window_s = cfg.anomaly_horizon_s + cfg.min_travel_s

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

    def apply(self, signal: Signal) -> bool:
        """Take one validated signal into the index; True when the number's state changed.

        A repeat of a recently seen ``event_id`` is ignored. Applying the same signal twice,
        with or without an id, changes nothing the second time.
        """
        event_id = signal.event_id
        if event_id is not None:
            if event_id in self._seen_ids:
                return False
            self._remember(event_id)
        key = int(signal.msisdn)
        old = self._states.get(key)
        if type(signal) is LocationUpdate:
            appended = self._append_place(old, signal)
            if appended is not None:
                self._states[key] = appended
                return True
        state = _State.unpack(old) if old is not None else _State()
        if not self._merge(state, signal):
            return False
        self._bound(state)
        new = state.pack()
        if new == old:
            return False
        self._states[key] = new
        summary = self._summarise(state)
        if summary is None:
            self._risky.pop(key, None)
        else:
            self._risky[key] = summary
        return True

    def apply_all(self, signals: Iterable[Signal]) -> int:
        """Apply many signals (a rebuild from the store, in any order); returns how many changed state."""
        apply = self.apply
        return sum(1 for signal in signals if apply(signal))

    def summary(self, key: int) -> Summary | None:
        """What facts() reads for a number, or None: compared before and after a signal to
        tell what changed (swap time, forwarding, newest anomaly)."""
        return self._risky.get(key)

    def state_of(self, key: int) -> bytes | None:
        """The packed state of one number (``msisdn_key``), as the store keeps it."""
        return self._states.get(key)

    def load_state(self, key: int, blob: bytes) -> None:
        """Take a stored state back (the rebuild on start): no replay of the signals."""
        self._states[key] = blob
        summary = self._summarise(_State.unpack(blob))
        if summary is None:
            self._risky.pop(key, None)
        else:
            self._risky[key] = summary

    def forget(self, key: int) -> bool:
        """Drop everything about one number (an erasure); True when there was something."""
        self._risky.pop(key, None)
        return self._states.pop(key, None) is not None

    def drop_places_before(self, key: int, cutoff: float) -> bytes | None:
        """Retention of location data: forget the places older than ``cutoff``.

        Returns the new packed state, or None when nothing changed. A place that old is
        beyond the anomaly horizon, so no fact changes.
        """
        old = self._states.get(key)
        if old is None:
            return None
        state = _State.unpack(old)
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
                return _layout(0, 0, 0, 0, 1).pack(0, 0, 0, 0, 0, 1, at, code)
            return _layout(0, 1, 0, 0, 1).pack(0, 1, 0, 0, 0, 1, int(imsi), at, at, code)
        flags, n_imsi, n_cfu, n_untrusted, n_alert, n_place = old[:6]
        if not 0 < n_place < self.config.max_locations:
            return None
        last_at, last_code = _PLACE.unpack_from(old, len(old) - _PLACE.size)
        if at <= last_at or code != last_code:
            return None
        first_at = _PLACE.unpack_from(old, len(old) - n_place * _PLACE.size)[0]
        if first_at < at - self._place_window_s:
            return None
        if imsi is not None:
            wanted = int(imsi)
            off = 6 + 8 * _OPTIONAL_COUNT[flags]
            for _ in range(n_imsi):
                known, first_seen = _IMSI.unpack_from(old, off)
                if known == wanted:
                    if first_seen > at:
                        return None
                    break
                off += _IMSI.size
            else:
                return None
        header = bytes((flags, n_imsi, n_cfu, n_untrusted, n_alert, n_place + 1))
        return header + old[6:] + _PLACE.pack(at, code)

    def _remember(self, event_id: str) -> None:
        self._seen_ids.add(event_id)
        self._seen_order.append(event_id)
        if len(self._seen_order) > self.config.recent_event_ids:
            self._seen_ids.discard(self._seen_order.popleft())

    # -- merging one signal -------------------------------------------------------------

    def _merge(self, st: _State, signal: Signal) -> bool:
        """Add what the signal says to the state; False when it says nothing the index keeps."""
        at = signal.occurred_at
        if isinstance(signal, LocationUpdate):
            changed = self._see_imsi(st, signal.imsi, at)
            if signal.country is not None:
                place = (at, signal.country.encode("ascii"))
                if place not in st.places:
                    st.places.append(place)
                    st.places.sort()
                    changed = True
            if signal.serving_mcc_mnc is not None and self.config.untrusted(signal.serving_mcc_mnc):
                changed = _add_time(st.untrusted, at) or changed
            return changed
        if isinstance(signal, SimSwap):
            changed = self._see_imsi(st, signal.imsi, at)
            changed = self._see_imsi(st, signal.previous_imsi, at) or changed
            reason = _SWAP_REASONS.index(signal.reason) if signal.reason else 0
            # Two swaps at one instant: the larger code wins, so the state stays a function of
            # the set of signals whatever their order.
            if (
                st.swap_at is None
                or at > st.swap_at
                or (at == st.swap_at and reason > st.swap_reason)
            ):
                st.swap_at, st.swap_reason = at, reason
                changed = True
            return changed
        if isinstance(signal, CallForwarding):
            if signal.service != "cfu":
                return False
            forwarded_to = int(signal.forwarded_to) if signal.forwarded_to else 0
            point = (at, signal.active, forwarded_to)
            if point in st.cfu:
                return False
            st.cfu.append(point)
            st.cfu.sort()
            return True
        if isinstance(signal, SignallingAlert):
            return _add_time(st.alerts, at)
        if isinstance(signal, Clearance):
            scope = signal.scope
            changed = False
            if scope in ("sim_swap", "all") and (st.cleared_ss is None or at > st.cleared_ss):
                st.cleared_ss = at
                changed = True
            if scope in ("call_forwarding", "all") and (
                st.cleared_cf is None or at > st.cleared_cf
            ):
                st.cleared_cf = at
                changed = True
            if scope in ("routing", "all") and (st.cleared_rt is None or at > st.cleared_rt):
                st.cleared_rt = at
                changed = True
            return changed
        raise TypeError(f"not a signal: {type(signal).__name__}")

    def _see_imsi(self, st: _State, imsi: str | None, at: float) -> bool:
        if imsi is None:
            return False
        if self._allowed_imsi is not None and imsi.startswith(self._allowed_imsi):
            return False  # neither a change nor a known IMSI: an allow-listed range is invisible
        key = int(imsi)
        first = st.imsis.get(key)
        if first is not None and first <= at:
            return False
        st.imsis[key] = at
        return True

    def _bound(self, st: _State) -> None:
        """Drop what can no longer change a fact, the same way whatever the arrival order."""
        cfg = self.config
        if len(st.imsis) > cfg.max_imsis:
            # Keep the first IMSI (the baseline) and the newest ones (the changes that matter).
            ordered = sorted(st.imsis.items(), key=lambda kv: (kv[1], kv[0]))
            st.imsis = dict(ordered[:1] + ordered[1 - cfg.max_imsis :])
        if len(st.cfu) > cfg.max_cfu_states + 1:
            # One state more than the bound: the oldest kept one only tells whether the next
            # was a change. Truncated, it is never taken for the first state ever.
            del st.cfu[: len(st.cfu) - cfg.max_cfu_states - 1]
            st.cfu_truncated = True
        places = st.places
        if places:
            # A place older than this before the newest can only pair with a later place into
            # an anomaly older than the horizon.
            oldest = places[-1][0] - self._place_window_s
            if places[0][0] < oldest:
                places = [p for p in places if p[0] >= oldest]
            st.places = places[-cfg.max_locations :]
        for times in (st.untrusted, st.alerts):
            if times:
                oldest = times[-1] - cfg.anomaly_horizon_s
                times[:] = [t for t in times if t >= oldest][-cfg.max_anomaly_times :]
        if len(st.imsis) > 1:
            st.imsis = dict(sorted(st.imsis.items()))

    # -- deriving the facts' inputs ------------------------------------------------------

    def _summarise(self, st: _State) -> Summary | None:
        swap_at: float | None = None
        swap_reason: str | None = None
        if len(st.imsis) > 1:
            firsts = sorted(st.imsis.values())
            if firsts[-1] > firsts[0]:
                swap_at, swap_reason = firsts[-1], IMSI_MISMATCH
        if st.swap_at is not None and (swap_at is None or st.swap_at >= swap_at):
            # The reason as the operator sent it ("esim_download"); "sim_swap" when none was.
            swap_at, swap_reason = st.swap_at, _SWAP_REASONS[st.swap_reason] or SIM_SWAP
        if swap_at is not None and st.cleared_ss is not None and swap_at < st.cleared_ss:
            swap_at = swap_reason = None

        cfu_active = False
        cfu_changed_at: float | None = None
        if st.cfu:
            previous: tuple[float, bool, int] | None = None
            for i, point in enumerate(st.cfu):
                _, active, forwarded_to = point
                if active:
                    if previous is None:
                        is_change = i == 0 and not st.cfu_truncated
                    else:
                        is_change = not previous[1] or previous[2] != forwarded_to
                    if is_change:
                        cfu_changed_at = point[0]
                previous = point
            cleared = st.cleared_cf
            last_at, last_active, _ = st.cfu[-1]
            cfu_active = last_active and (cleared is None or last_at >= cleared)
            if cfu_changed_at is not None and cleared is not None and cfu_changed_at < cleared:
                cfu_changed_at = None

        anomalies = self._anomalies(st)
        if swap_at is None and not cfu_active and cfu_changed_at is None and not anomalies:
            return None
        return (swap_at, swap_reason, cfu_active, cfu_changed_at, anomalies)

    def _anomalies(self, st: _State) -> tuple[tuple[float, str], ...]:
        if len(st.places) < 2 and not st.untrusted and not st.alerts:
            return ()
        found: list[tuple[float, str]] = []
        min_travel = self.config.min_travel_s
        places = st.places
        for (at_a, country_a), (at_b, country_b) in pairwise(places):
            if (
                country_a != country_b
                and at_b - at_a < min_travel
                and not are_neighbours(country_a.decode(), country_b.decode())
            ):
                found.append((at_b, IMPOSSIBLE_TRAVEL))
        found.extend((t, UNTRUSTED_NETWORK) for t in st.untrusted)
        found.extend((t, SIGNALLING_ALERT) for t in st.alerts)
        cleared = st.cleared_rt
        if cleared is not None:
            found = [a for a in found if a[0] >= cleared]
        found.sort(key=lambda a: (-a[0], a[1]))
        return tuple(found[: self.config.max_anomaly_times])


def _add_time(times: list[float], at: float) -> bool:
    if at in times:
        return False
    times.append(at)
    times.sort()
    return True
