"""One number's risk state: its packed bytes, how a signal merges into it, what facts() reads.

The state is a pure function of the *set* of the number's signals (see ``StateRules``), packed
into one ``bytes`` that the signal store keeps as it is and the index keeps in memory.
"""

from __future__ import annotations

import struct
from functools import lru_cache
from itertools import pairwise
from typing import Final

from gateway.signals.countries import are_neighbours
from gateway.signals.model import (
    CF_SERVICES,
    SIM_SWAP_REASONS,
    CallForwarding,
    Clearance,
    LocationUpdate,
    Signal,
    SignallingAlert,
    SimSwap,
)
from gateway.signals.risk_config import RiskConfig

SIM_SWAP: Final = "sim_swap"
IMSI_MISMATCH: Final = "imsi_mismatch"
IMPOSSIBLE_TRAVEL: Final = "impossible_travel"
UNTRUSTED_NETWORK: Final = "untrusted_network"
SIGNALLING_ALERT: Final = "signalling_alert"


# One number's state, packed. Layout (little-endian):
#   header  flags, n_imsi, n_cfu, n_untrusted, n_alert, n_location    6 x u8
#   times   swap_at, cleared sim_swap/call_forwarding/routing at      f64 each, when the flag says
#   imsis   (imsi as int, first seen at)                              n x (i64, f64)
#   cfu     (at, active, forwarded_to as int or 0)                    n x (f64, u8, i64)
#   cond    seen/active bits, then the newest signal's time of each   u8 + k x f64, when n_cfu
#           conditional service seen (cfb, cfnrc, cfnry)              has the CONDITIONAL bit
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
# Conditional forwarding: CAMARA's call-forwardings answer names it, no risk fact reads it.
# Only the newest (time, active) per service is kept, and no target (data minimisation): at
# most 25 bytes, none for a number without it. The flag is n_cfu's top bit (the cfu bound
# stays below 128), so states packed before conditional forwarding was kept read the same.
CONDITIONAL_SERVICES: Final = tuple(s for s in CF_SERVICES if s != "cfu")
assert len(CONDITIONAL_SERVICES) == 3  # three seen bits, three active bits in one byte
CONDITIONAL: Final = 0x80
_CFU_COUNT: Final = 0x7F
_CFU_SIZE: Final = struct.calcsize("<d?q")
OPTIONAL_COUNT: Final = tuple(bin(flags & 15).count("1") for flags in range(256))
PLACE: Final = struct.Struct("<d2s")
IMSI: Final = struct.Struct("<qd")


@lru_cache(maxsize=4096)
def state_struct(
    n_optional: int, n_imsi: int, n_cfu: int, n_times: int, n_place: int, n_conditional: int = -1
) -> struct.Struct:
    """``n_conditional``: -1 without the conditional section, else the times it holds."""
    head = "<6B" + "d" * n_optional + "qd" * n_imsi + "d?q" * n_cfu
    conditional = "" if n_conditional < 0 else "B" + "d" * n_conditional
    return struct.Struct(head + conditional + "d" * n_times + "d2s" * n_place)


def oldest_place(blob: bytes) -> float | None:
    """The time of the oldest location kept in a packed state (the retention job's index)."""
    places = State.unpack(blob).places if blob[5] else ()
    return places[0][0] if places else None


class State:
    """One number's state, unpacked for an update. Lists are kept sorted by time."""

    __slots__ = (
        "alerts",
        "cfu",
        "cfu_truncated",
        "cleared_cf",
        "cleared_rt",
        "cleared_ss",
        "conditional",
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
        # Per CONDITIONAL_SERVICES: the newest signal's (occurred_at, active), or None.
        self.conditional: list[tuple[float, bool] | None] = [None] * len(CONDITIONAL_SERVICES)
        self.untrusted: list[float] = []
        self.alerts: list[float] = []
        self.places: list[tuple[float, bytes]] = []

    @classmethod
    def unpack(cls, blob: bytes) -> State:
        st = cls()
        flags, n_imsi, n_cfu, n_untrusted, n_alert, n_place = blob[:6]
        n_optional = OPTIONAL_COUNT[flags]
        n_conditional = -1
        if n_cfu & CONDITIONAL:
            n_cfu &= _CFU_COUNT
            seen = blob[6 + 8 * n_optional + IMSI.size * n_imsi + _CFU_SIZE * n_cfu]
            n_conditional = bin(seen & 7).count("1")
        layout = state_struct(
            n_optional, n_imsi, n_cfu, n_untrusted + n_alert, n_place, n_conditional
        )
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
        if n_conditional >= 0:
            bits = values[i]
            i += 1
            for slot in range(len(CONDITIONAL_SERVICES)):
                if bits >> slot & 1:
                    st.conditional[slot] = (values[i], bool(bits >> (slot + 3) & 1))
                    i += 1
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
        n_conditional = -1
        if any(self.conditional):
            bits, times = 0, []
            for slot, seen in enumerate(self.conditional):
                if seen is not None:
                    bits |= 1 << slot | seen[1] << (slot + 3)
                    times.append(seen[0])
            values[2] = len(self.cfu) | CONDITIONAL
            values.append(bits)
            values += times
            n_conditional = len(times)
        values += self.untrusted
        values += self.alerts
        for place in self.places:
            values += place
        layout = state_struct(
            OPTIONAL_COUNT[flags],
            len(self.imsis),
            len(self.cfu),
            len(self.untrusted) + len(self.alerts),
            len(self.places),
            n_conditional,
        )
        return layout.pack(*values)


# What facts() reads for a number with something to report:
# (swap_at, swap_reason, cfu_active, cfu_changed_at, ((anomaly_at, reason), ...) youngest first)
Summary = tuple[float | None, str | None, bool, float | None, tuple[tuple[float, str], ...]]


class StateRules:
    """How signals change one number's state and what facts() reads from it, under one config."""

    def __init__(self, config: RiskConfig) -> None:
        self.config = config
        allow = config.imsi_allow_prefixes
        self.allowed_imsi = tuple(allow) if allow else None
        self.place_window_s = config.anomaly_horizon_s + config.min_travel_s

    # -- merging one signal -------------------------------------------------------------

    def merge(self, st: State, signal: Signal) -> bool:
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
                slot = CONDITIONAL_SERVICES.index(signal.service)
                seen = st.conditional[slot]
                # The newest wins; at one instant "active" does: a function of the set of signals.
                if seen is not None and (at, signal.active) <= seen:
                    return False
                st.conditional[slot] = (at, signal.active)
                return True
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

    def _see_imsi(self, st: State, imsi: str | None, at: float) -> bool:
        if imsi is None:
            return False
        if self.allowed_imsi is not None and imsi.startswith(self.allowed_imsi):
            return False  # neither a change nor a known IMSI: an allow-listed range is invisible
        key = int(imsi)
        first = st.imsis.get(key)
        if first is not None and first <= at:
            return False
        st.imsis[key] = at
        return True

    def bound(self, st: State) -> None:
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
            oldest = places[-1][0] - self.place_window_s
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

    def summarise(self, st: State) -> Summary | None:
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

    def conditional_active(self, st: State) -> tuple[str, ...]:
        """The conditional forwarding services active, as their newest signals and clearance say."""
        cleared = st.cleared_cf
        return tuple(
            service
            for service, seen in zip(CONDITIONAL_SERVICES, st.conditional, strict=True)
            if seen is not None and seen[1] and (cleared is None or seen[0] >= cleared)
        )

    def _anomalies(self, st: State) -> tuple[tuple[float, str], ...]:
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
