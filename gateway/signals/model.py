"""Signals from the operator's network: the five kinds, their validation, and their stored form.

``parse_signal`` turns one decoded JSON object into a frozen dataclass or raises
``SignalRejected`` with a reason an operator can act on. It is strict: unknown fields are
typos until proven otherwise, times carry a zone, numbers are valid.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from operator import attrgetter
from typing import Any, Final, TypeAlias

from gateway.signals.countries import country_of_e164, country_of_mcc
from gateway.signals.msisdn import InvalidNumber, normalize_gt, normalize_number

__all__ = [
    "CF_SERVICES",
    "CLEARANCE_SCOPES",
    "KINDS",
    "SIM_SWAP_REASONS",
    "CallForwarding",
    "Clearance",
    "LocationUpdate",
    "Signal",
    "SignalRejected",
    "SignallingAlert",
    "SimSwap",
    "parse_signal",
    "signal_from_record",
    "signal_to_record",
]

SIM_SWAP_REASONS: Final = (
    "esim_download",
    "new_subscription",
    "number_recycled",
    "port_in",
    "swap",
)
CF_SERVICES: Final = ("cfb", "cfnrc", "cfnry", "cfu")
CLEARANCE_SCOPES: Final = ("all", "call_forwarding", "routing", "sim_swap")


class SignalRejected(ValueError):
    """A signal that failed validation; ``reason`` says which field and why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True, kw_only=True)
class SimSwap:
    """The SIM behind the number changed (CRM, eSIM platform, porting)."""

    kind: str = field(default="sim_swap", init=False)
    msisdn: str
    occurred_at: float
    event_id: str | None = None
    source: str | None = None
    imsi: str | None = None
    previous_imsi: str | None = None
    iccid: str | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CallForwarding:
    """A call forwarding service was set or cleared (HLR/HSS provisioning, IMS TAS)."""

    kind: str = field(default="call_forwarding", init=False)
    msisdn: str
    occurred_at: float
    event_id: str | None = None
    source: str | None = None
    service: str
    active: bool
    forwarded_to: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class LocationUpdate:
    """The subscriber registered with a serving network.

    ``country`` is derived when the signal is parsed (from the MCC, or without one from the
    GT's calling code; None for MCC 901 and unknown codes). The GTs are kept on the signal
    only until it is stored: the stored record has the country, not the GTs.
    """

    kind: str = field(default="location_update", init=False)
    msisdn: str
    occurred_at: float
    event_id: str | None = None
    source: str | None = None
    serving_mcc_mnc: str | None = None
    vlr_gt: str | None = None
    msc_gt: str | None = None
    imsi: str | None = None
    country: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SignallingAlert:
    """The SS7/Diameter firewall saw something hostile aimed at the number."""

    kind: str = field(default="signalling_alert", init=False)
    msisdn: str
    occurred_at: float
    event_id: str | None = None
    source: str | None = None
    category: str | None = None
    source_gt: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Clearance:
    """The operator vouches for the changes of ``scope`` that occurred before it."""

    kind: str = field(default="clearance", init=False)
    msisdn: str
    occurred_at: float
    event_id: str | None = None
    source: str | None = None
    scope: str


Signal: TypeAlias = SimSwap | CallForwarding | LocationUpdate | SignallingAlert | Clearance

_CLASSES: Final[dict[str, type[Signal]]] = {
    "call_forwarding": CallForwarding,
    "clearance": Clearance,
    "location_update": LocationUpdate,
    "signalling_alert": SignallingAlert,
    "sim_swap": SimSwap,
}
KINDS: Final = tuple(sorted(_CLASSES))
_COMMON: Final = frozenset({"kind", "msisdn", "occurred_at", "event_id", "source"})
_FIELDS: Final = {
    "sim_swap": _COMMON | {"imsi", "previous_imsi", "iccid", "reason"},
    "call_forwarding": _COMMON | {"service", "active", "forwarded_to"},
    "location_update": _COMMON | {"serving_mcc_mnc", "vlr_gt", "msc_gt", "imsi"},
    "signalling_alert": _COMMON | {"category", "source_gt"},
    "clearance": _COMMON | {"scope"},
}

_RFC3339 = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)(\.\d{1,9})?([Zz]|[+-]\d\d:\d\d)?"
)
_IMSI = re.compile(r"[0-9]{14,15}")
_ICCID = re.compile(r"[0-9]{18,21}[Ff]?")
_MCC_MNC = re.compile(r"([0-9]{3})-[0-9]{2,3}")
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:/-]{0,63}")
_MAX_TEXT = 200


def parse_signal(obj: object, *, default_region: str | None) -> Signal:
    """Validate one decoded JSON object and return the signal it describes.

    ``default_region`` (ISO alpha-2) reads national forms of ``msisdn`` and
    ``forwarded_to``. Raises SignalRejected; never anything else for bad input.
    """
    if not isinstance(obj, Mapping):
        raise SignalRejected(f"signal: expected a JSON object, got {_json_type(obj)}")
    kind = obj.get("kind")
    if kind is None:
        raise SignalRejected(f"kind: required (one of {', '.join(KINDS)})")
    if not isinstance(kind, str):
        raise SignalRejected(f"kind: expected a string, got {_json_type(kind)}")
    if kind not in _CLASSES:
        raise SignalRejected(
            f"kind: unknown kind {_clip(kind)!r} (expected one of {', '.join(KINDS)})"
        )
    allowed = _FIELDS[kind]
    unknown = [] if obj.keys() <= allowed else sorted(str(k) for k in obj if k not in allowed)
    if unknown:
        names = ", ".join(repr(_clip(k)) for k in unknown)
        noun = "field" if len(unknown) == 1 else "fields"
        raise SignalRejected(
            f"{kind}: unknown {noun} {names} (allowed: {', '.join(sorted(allowed - {'kind'}))})"
        )
    values = _Reader(obj)
    common: dict[str, Any] = {
        "msisdn": values.required("msisdn", lambda v: _number(v, default_region, valid=True)),
        "occurred_at": values.required("occurred_at", _time),
        "event_id": values.optional("event_id", _text),
        "source": values.optional("source", _text),
    }
    return _PARSERS[kind](values, common, default_region)


def _parse_sim_swap(values: _Reader, common: dict[str, Any], region: str | None) -> Signal:
    return SimSwap(
        **common,
        imsi=values.optional("imsi", _imsi),
        previous_imsi=values.optional("previous_imsi", _imsi),
        iccid=values.optional("iccid", _iccid),
        reason=values.optional("reason", lambda v: _choice(v, SIM_SWAP_REASONS)),
    )


def _parse_call_forwarding(values: _Reader, common: dict[str, Any], region: str | None) -> Signal:
    service = values.required("service", lambda v: _choice(v, CF_SERVICES))
    active = values.required("active", _bool)
    forwarded_to = values.optional("forwarded_to", lambda v: _number(v, region, valid=False))
    if active and forwarded_to is None:
        raise SignalRejected("call_forwarding: forwarded_to required when active is true")
    return CallForwarding(**common, service=service, active=active, forwarded_to=forwarded_to)


def _parse_location_update(values: _Reader, common: dict[str, Any], region: str | None) -> Signal:
    mcc_mnc = values.optional("serving_mcc_mnc", _mcc_mnc)
    vlr_gt = values.optional("vlr_gt", _gt)
    msc_gt = values.optional("msc_gt", _gt)
    if mcc_mnc is None and vlr_gt is None and msc_gt is None:
        raise SignalRejected(
            "location_update: at least one of serving_mcc_mnc, vlr_gt, msc_gt required"
        )
    return LocationUpdate(
        **common,
        serving_mcc_mnc=mcc_mnc,
        vlr_gt=vlr_gt,
        msc_gt=msc_gt,
        imsi=values.optional("imsi", _imsi),
        country=location_country(mcc_mnc, vlr_gt or msc_gt),
    )


def _parse_signalling_alert(values: _Reader, common: dict[str, Any], region: str | None) -> Signal:
    return SignallingAlert(
        **common,
        category=values.optional("category", _token),
        source_gt=values.optional("source_gt", _gt),
    )


def _parse_clearance(values: _Reader, common: dict[str, Any], region: str | None) -> Signal:
    # Required although DESIGN.md does not say so: a clearance without a scope would either
    # clear everything or nothing, and neither is what a typo deserves.
    return Clearance(
        **common, scope=values.required("scope", lambda v: _choice(v, CLEARANCE_SCOPES))
    )


_PARSERS: Final[dict[str, Callable[[_Reader, dict[str, Any], str | None], Signal]]] = {
    "sim_swap": _parse_sim_swap,
    "call_forwarding": _parse_call_forwarding,
    "location_update": _parse_location_update,
    "signalling_alert": _parse_signalling_alert,
    "clearance": _parse_clearance,
}


def location_country(mcc_mnc: str | None, gt: str | None) -> str | None:
    """The country a location update places the subscriber in, or None when it cannot say.

    The MCC decides when there is one (MCC 901 and unknown MCCs give None, never the GT's
    country: an in-flight network's GT says nothing about where the aircraft is).
    """
    if mcc_mnc is not None:
        return country_of_mcc(mcc_mnc[:3])
    if gt is not None:
        return country_of_e164(gt)
    return None


class _Reader:
    """Reads fields of one object, turning a validator's complaint into a field-named reason."""

    __slots__ = ("_obj",)

    def __init__(self, obj: Mapping[str, Any]) -> None:
        self._obj = obj

    def required(self, name: str, check: Callable[[Any], Any]) -> Any:
        value = self._obj.get(name)
        if value is None:
            got = " (got null)" if name in self._obj else ""
            raise SignalRejected(f"{name}: required{got}")
        return self._check(name, value, check)

    def optional(self, name: str, check: Callable[[Any], Any]) -> Any:
        value = self._obj.get(name)
        return None if value is None else self._check(name, value, check)

    @staticmethod
    def _check(name: str, value: Any, check: Callable[[Any], Any]) -> Any:
        try:
            return check(value)
        except (_Invalid, InvalidNumber) as exc:
            raise SignalRejected(f"{name}: {exc}") from None


class _Invalid(ValueError):
    pass


def _number(value: Any, region: str | None, *, valid: bool) -> str:
    if not isinstance(value, str):
        raise _Invalid(f"expected a string, got {_json_type(value)}")
    return normalize_number(value, region, require_valid=valid)


def _time(value: Any) -> float:
    if not isinstance(value, str):
        raise _Invalid(
            f"expected an RFC 3339 time string such as '2026-03-01T10:00:00Z', got {_json_type(value)}"
        )
    match = _RFC3339.fullmatch(value)
    if match is None:
        raise _Invalid(
            f"expected an RFC 3339 time such as '2026-03-01T10:00:00Z', got {_clip(value)!r}"
        )
    fraction, zone = match.group(7, 8)
    if zone is None:
        raise _Invalid(f"time without a zone: {value!r} (add 'Z' or an offset such as '+01:00')")
    # A feed's times crowd into the last few seconds: the whole seconds of one are computed
    # (and validated) once, the fraction added each time. The first 19 characters are the
    # date and time to the second (each \d is one character).
    key = value[:19] + zone
    seconds = _WHOLE_SECONDS.get(key)
    if seconds is None:
        seconds = _whole_seconds(value, match)
        if len(_WHOLE_SECONDS) >= _WHOLE_SECONDS_KEPT:
            _WHOLE_SECONDS.clear()
        _WHOLE_SECONDS[key] = seconds
    return seconds + float(fraction) if fraction else seconds


_WHOLE_SECONDS: dict[str, float] = {}
_WHOLE_SECONDS_KEPT = 4096


def _whole_seconds(value: str, match: re.Match[str]) -> float:
    year, month, day, hour, minute, second, _, zone = match.groups()
    if zone in ("Z", "z"):
        tz = UTC
    else:
        hours, minutes = int(zone[1:3]), int(zone[4:6])
        if hours > 23 or minutes > 59:
            raise _Invalid(f"not a valid zone offset: {value!r}")
        sign = -1 if zone[0] == "-" else 1
        tz = timezone(sign * timedelta(hours=hours, minutes=minutes))
    try:
        instant = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), tzinfo=tz
        )
    except ValueError:
        raise _Invalid(f"not a valid date and time: {value!r}") from None
    return instant.timestamp()


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise _Invalid(f"expected a string, got {_json_type(value)}")
    if not value or len(value) > _MAX_TEXT or not value.isprintable():
        raise _Invalid(f"expected 1-{_MAX_TEXT} printable characters")
    return value


def _token(value: Any) -> str:
    if not isinstance(value, str):
        raise _Invalid(f"expected a string, got {_json_type(value)}")
    if not _TOKEN.fullmatch(value):
        raise _Invalid(f"expected up to 64 letters, digits and _.:/-, got {_clip(value)!r}")
    return value


def _choice(value: Any, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str):
        raise _Invalid(f"expected a string, got {_json_type(value)}")
    if value not in choices:
        raise _Invalid(f"expected one of {', '.join(choices)}, got {_clip(value)!r}")
    return value


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _Invalid(f"expected true or false, got {_json_type(value)}")
    return value


# IMSIs and ICCIDs are never echoed in a reason: reasons reach logs and the rejected topic.
def _imsi(value: Any) -> str:
    if not isinstance(value, str):
        raise _Invalid(f"expected a string of 14-15 digits, got {_json_type(value)}")
    if not _IMSI.fullmatch(value):
        raise _Invalid(f"expected 14-15 digits, got {_shape(value)}")
    return value


def _iccid(value: Any) -> str:
    if not isinstance(value, str):
        raise _Invalid(f"expected a string of 18-22 digits, got {_json_type(value)}")
    if not _ICCID.fullmatch(value):
        raise _Invalid(f"expected 18-22 digits (a final 'F' allowed), got {_shape(value)}")
    return value.upper()


def _mcc_mnc(value: Any) -> str:
    if not isinstance(value, str):
        raise _Invalid(f"expected a string 'ddd-dd' or 'ddd-ddd', got {_json_type(value)}")
    if not _MCC_MNC.fullmatch(value):
        raise _Invalid(f"expected 'ddd-dd' or 'ddd-ddd' (MCC-MNC), got {_clip(value)!r}")
    return value


def _gt(value: Any) -> str:
    if not isinstance(value, str):
        raise _Invalid(f"expected a string of E.164 digits, got {_json_type(value)}")
    return normalize_gt(value)


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "an array"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


def _shape(value: str) -> str:
    digits = sum(c.isdigit() for c in value)
    return f"{len(value)} characters ({digits} digits)"


def _clip(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


# The stored form. A location update's record keeps its country, serving network and IMSI
# (the index needs them to rebuild) and drops the GTs: data minimisation.
_DROPPED: Final = {"location_update": frozenset({"vlr_gt", "msc_gt"})}


# Per kind, the stored field names and one getter for all of them (every signal is stored:
# this runs once per signal on the ingest path).
_RECORD_FIELDS: Final = {
    kind: (names, attrgetter(*names))
    for kind, cls in _CLASSES.items()
    for names in [tuple(n for n in cls.__dataclass_fields__ if n not in _DROPPED.get(kind, ()))]
}


def signal_to_record(signal: Signal) -> dict[str, Any]:
    """A JSON-ready dict for the signal store; a location update's GTs are left out."""
    names, values = _RECORD_FIELDS[signal.kind]
    return dict(zip(names, values(signal), strict=True))


def signal_from_record(record: Mapping[str, Any]) -> Signal:
    """The signal of a stored record (trusted: written by signal_to_record)."""
    kind = record.get("kind")
    cls = _CLASSES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise SignalRejected(f"record: unknown kind {kind!r}")
    names = cls.__dataclass_fields__
    try:
        return cls(**{k: v for k, v in record.items() if k != "kind" and k in names})
    except TypeError as exc:
        raise SignalRejected(f"record: {exc}") from None
