"""Signal validation: every rejection carries a reason naming the field and what was expected."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.signals.model import (
    CallForwarding,
    Clearance,
    LocationUpdate,
    SignallingAlert,
    SignalRejected,
    SimSwap,
    parse_signal,
    signal_from_record,
    signal_to_record,
)
from gateway.signals.msisdn import (
    InvalidNumber,
    e164_from_key,
    msisdn_key,
    normalize_gt,
    normalize_msisdn,
)

T = "2026-03-01T10:00:00Z"
T_EPOCH = 1_772_359_200.0
MSISDN = "+447400123123"


def base(kind: str, **fields: Any) -> dict[str, Any]:
    return {"kind": kind, "msisdn": MSISDN, "occurred_at": T, **fields}


GOOD: dict[str, dict[str, Any]] = {
    "sim_swap": base(
        "sim_swap",
        imsi="234150000000001",
        previous_imsi="23415000000002",
        iccid="8944200000000000001F",
        reason="esim_download",
        event_id="crm-77120",
        source="crm",
    ),
    "call_forwarding": base(
        "call_forwarding", service="cfu", active=True, forwarded_to="+447700900123"
    ),
    "location_update": base(
        "location_update", serving_mcc_mnc="234-15", vlr_gt="447953000001", imsi="234150000000001"
    ),
    "signalling_alert": base("signalling_alert", category="fs11_cat3", source_gt="+79001234567"),
    "clearance": base("clearance", scope="all"),
}


def reject(obj: object, region: str | None = None) -> str:
    with pytest.raises(SignalRejected) as info:
        parse_signal(obj, default_region=region)
    assert isinstance(info.value, ValueError)
    return info.value.reason


# -- accepted -----------------------------------------------------------------------------


def test_every_kind_parses() -> None:
    swap = parse_signal(GOOD["sim_swap"], default_region=None)
    assert swap == SimSwap(
        msisdn=MSISDN,
        occurred_at=T_EPOCH,
        event_id="crm-77120",
        source="crm",
        imsi="234150000000001",
        previous_imsi="23415000000002",
        iccid="8944200000000000001F",
        reason="esim_download",
    )
    assert swap.kind == "sim_swap"
    cf = parse_signal(GOOD["call_forwarding"], default_region=None)
    assert cf == CallForwarding(
        msisdn=MSISDN, occurred_at=T_EPOCH, service="cfu", active=True, forwarded_to="+447700900123"
    )
    lu = parse_signal(GOOD["location_update"], default_region=None)
    assert isinstance(lu, LocationUpdate)
    assert (lu.serving_mcc_mnc, lu.vlr_gt, lu.country) == ("234-15", "447953000001", "GB")
    alert = parse_signal(GOOD["signalling_alert"], default_region=None)
    assert alert == SignallingAlert(
        msisdn=MSISDN, occurred_at=T_EPOCH, category="fs11_cat3", source_gt="79001234567"
    )
    assert parse_signal(GOOD["clearance"], default_region=None) == Clearance(
        msisdn=MSISDN, occurred_at=T_EPOCH, scope="all"
    )


def test_signals_are_frozen() -> None:
    swap = parse_signal(GOOD["sim_swap"], default_region=None)
    with pytest.raises(AttributeError):
        swap.msisdn = "+447400000000"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "epoch"),
    [
        ("2026-03-01T10:00:00Z", T_EPOCH),
        ("2026-03-01t10:00:00z", T_EPOCH),
        ("2026-03-01 10:00:00Z", T_EPOCH),
        ("2026-03-01T11:30:00+01:30", T_EPOCH),
        ("2026-03-01T05:00:00-05:00", T_EPOCH),
        ("2026-03-01T10:00:00.125Z", T_EPOCH + 0.125),
        ("2026-03-01T10:00:00.000000001Z", T_EPOCH + 1e-9),
    ],
)
def test_rfc3339_times_with_a_zone(text: str, epoch: float) -> None:
    assert (
        parse_signal(
            base("clearance", scope="all", occurred_at=text), default_region=None
        ).occurred_at
        == epoch
    )


def test_times_of_one_second_share_its_validation_not_their_value() -> None:
    """The whole seconds of a time are computed once per second and zone: fractions, zones
    and a bad time after a good one of the same second still come out right."""

    def at(text: str) -> float:
        signal = parse_signal(base("clearance", scope="all", occurred_at=text), default_region=None)
        return signal.occurred_at

    assert at("2026-03-01T10:00:00.5Z") == T_EPOCH + 0.5
    assert at("2026-03-01T10:00:00.25Z") == T_EPOCH + 0.25
    assert at("2026-03-01T10:00:00Z") == T_EPOCH
    assert at("2026-03-01T10:00:00+01:00") == T_EPOCH - 3600
    assert at("2026-03-01T10:00:00.5+01:00") == T_EPOCH - 3600 + 0.5
    for bad in ("2026-03-01T10:00:00+24:00", "2026-03-01T10:00:60Z"):
        with pytest.raises(SignalRejected):
            at(bad)
        with pytest.raises(SignalRejected):
            at(bad)  # a second time: nothing of a rejected time is kept


def test_national_msisdn_uses_the_default_region() -> None:
    obj = base("clearance", scope="all", msisdn="07400 123123")
    assert parse_signal(obj, default_region="GB").msisdn == MSISDN
    obj = base("clearance", scope="all", msisdn="138-0013-8001")
    assert parse_signal(obj, default_region="CN").msisdn == "+8613800138001"


def test_null_optional_fields_are_absent() -> None:
    obj = base("sim_swap", imsi=None, reason=None, event_id=None)
    swap = parse_signal(obj, default_region=None)
    assert (swap.imsi, swap.reason, swap.event_id) == (None, None, None)


def test_inactive_forward_needs_no_target() -> None:
    cf = parse_signal(base("call_forwarding", service="cfb", active=False), default_region=None)
    assert (cf.active, cf.forwarded_to) == (False, None)


def test_forwarded_to_national_form_and_merely_possible_numbers() -> None:
    obj = base("call_forwarding", service="cfu", active=True, forwarded_to="07700 900123")
    assert parse_signal(obj, default_region="GB").forwarded_to == "+447700900123"


@pytest.mark.parametrize(
    ("fields", "country"),
    [
        ({"serving_mcc_mnc": "310-410"}, "US"),
        ({"serving_mcc_mnc": "316-010"}, "US"),
        ({"serving_mcc_mnc": "454-00"}, "HK"),
        ({"serving_mcc_mnc": "901-18", "vlr_gt": "+447953000001"}, None),
        ({"serving_mcc_mnc": "999-99"}, None),
        ({"msc_gt": "+447953000001"}, "GB"),
        ({"vlr_gt": "14165550000"}, "CA"),
        ({"vlr_gt": "77012345678", "msc_gt": "79001234567"}, "KZ"),
        ({"vlr_gt": "88213000000"}, None),
    ],
)
def test_location_country(fields: dict[str, str], country: str | None) -> None:
    assert parse_signal(base("location_update", **fields), default_region=None).country == country


# -- rejected -----------------------------------------------------------------------------

KINDS = "call_forwarding, clearance, location_update, signalling_alert, sim_swap"


@pytest.mark.parametrize(
    ("obj", "region", "reason"),
    [
        # the object and its kind
        ([1, 2], None, "signal: expected a JSON object, got an array"),
        ("sim_swap", None, "signal: expected a JSON object, got a string"),
        ({"msisdn": MSISDN, "occurred_at": T}, None, f"kind: required (one of {KINDS})"),
        (base("x") | {"kind": 3}, None, "kind: expected a string, got a number"),
        (base("foo"), None, f"kind: unknown kind 'foo' (expected one of {KINDS})"),
        (
            base("clearance", scope="all", scop="all"),
            None,
            "clearance: unknown field 'scop' (allowed: event_id, msisdn, occurred_at, scope, source)",
        ),
        (
            base("clearance", scope="all", b=1, a=2),
            None,
            "clearance: unknown fields 'a', 'b' (allowed: event_id, msisdn, occurred_at, scope, source)",
        ),
        (
            base("location_update", serving_mcc_mnc="234-15", imei="35"),
            None,
            "location_update: unknown field 'imei' (allowed: event_id, imsi, msc_gt, msisdn,"
            " occurred_at, serving_mcc_mnc, source, vlr_gt)",
        ),
        # msisdn
        ({"kind": "clearance", "occurred_at": T, "scope": "all"}, None, "msisdn: required"),
        (base("clearance", scope="all", msisdn=None), None, "msisdn: required (got null)"),
        (
            base("clearance", scope="all", msisdn=447400123123),
            None,
            "msisdn: expected a string, got a number",
        ),
        (
            base("clearance", scope="all", msisdn="07400"),
            "GB",
            "msisdn: not a valid number for region GB: '07400'",
        ),
        (
            base("clearance", scope="all", msisdn="+4474001"),
            None,
            "msisdn: not a valid number: '+4474001'",
        ),
        (
            base("clearance", scope="all", msisdn="+44 7400 1"),
            None,
            "msisdn: not a valid number: '+44 7400 1'",
        ),
        (
            base("clearance", scope="all", msisdn="07400123123"),
            None,
            "msisdn: '07400123123' is not in E.164 form ('+' and digits) and no default region is configured",
        ),
        (
            base("clearance", scope="all", msisdn="1-800-FLOWERS"),
            "US",
            "msisdn: expected '+' and digits (E.164) or a national number, got '1-800-FLOWERS'",
        ),
        (base("clearance", scope="all", msisdn=" "), "GB", "msisdn: empty"),
        # occurred_at
        ({"kind": "clearance", "msisdn": MSISDN, "scope": "all"}, None, "occurred_at: required"),
        (
            base("clearance", scope="all", occurred_at="2026-03-01T10:00:00"),
            None,
            "occurred_at: time without a zone: '2026-03-01T10:00:00' (add 'Z' or an offset such as '+01:00')",
        ),
        (
            base("clearance", scope="all", occurred_at="2026-03-01"),
            None,
            "occurred_at: expected an RFC 3339 time such as '2026-03-01T10:00:00Z', got '2026-03-01'",
        ),
        (
            base("clearance", scope="all", occurred_at=1772359200),
            None,
            "occurred_at: expected an RFC 3339 time string such as '2026-03-01T10:00:00Z', got a number",
        ),
        (
            base("clearance", scope="all", occurred_at="2026-02-30T10:00:00Z"),
            None,
            "occurred_at: not a valid date and time: '2026-02-30T10:00:00Z'",
        ),
        (
            base("clearance", scope="all", occurred_at="2026-03-01T10:00:00+25:00"),
            None,
            "occurred_at: not a valid zone offset: '2026-03-01T10:00:00+25:00'",
        ),
        # common optional fields
        (
            base("clearance", scope="all", event_id=7),
            None,
            "event_id: expected a string, got a number",
        ),
        (
            base("clearance", scope="all", event_id=""),
            None,
            "event_id: expected 1-200 printable characters",
        ),
        (
            base("clearance", scope="all", source="a\nb"),
            None,
            "source: expected 1-200 printable characters",
        ),
        # sim_swap
        (
            base("sim_swap", imsi="2341500000"),
            None,
            "imsi: expected 14-15 digits, got 10 characters (10 digits)",
        ),
        (
            base("sim_swap", imsi=234150000000001),
            None,
            "imsi: expected a string of 14-15 digits, got a number",
        ),
        (
            base("sim_swap", previous_imsi="23415000000000x"),
            None,
            "previous_imsi: expected 14-15 digits, got 15 characters (14 digits)",
        ),
        (
            base("sim_swap", iccid="8944"),
            None,
            "iccid: expected 18-22 digits (a final 'F' allowed), got 4 characters (4 digits)",
        ),
        (
            base("sim_swap", reason="stolen"),
            None,
            "reason: expected one of esim_download, new_subscription, number_recycled, port_in, swap,"
            " got 'stolen'",
        ),
        # call_forwarding
        (
            base("call_forwarding", active=True, forwarded_to="+447700900123"),
            None,
            "service: required",
        ),
        (
            base("call_forwarding", service="cfx", active=True),
            None,
            "service: expected one of cfb, cfnrc, cfnry, cfu, got 'cfx'",
        ),
        (base("call_forwarding", service="cfu"), None, "active: required"),
        (
            base("call_forwarding", service="cfu", active="true"),
            None,
            "active: expected true or false, got a string",
        ),
        (
            base("call_forwarding", service="cfu", active=1),
            None,
            "active: expected true or false, got a number",
        ),
        (
            base("call_forwarding", service="cfu", active=True),
            None,
            "call_forwarding: forwarded_to required when active is true",
        ),
        (
            base("call_forwarding", service="cfu", active=True, forwarded_to="+44"),
            None,
            "forwarded_to: not a valid number: '+44'",
        ),
        # location_update
        (
            base("location_update", imsi="234150000000001"),
            None,
            "location_update: at least one of serving_mcc_mnc, vlr_gt, msc_gt required",
        ),
        (
            base("location_update", serving_mcc_mnc="23415"),
            None,
            "serving_mcc_mnc: expected 'ddd-dd' or 'ddd-ddd' (MCC-MNC), got '23415'",
        ),
        (
            base("location_update", serving_mcc_mnc="234-1"),
            None,
            "serving_mcc_mnc: expected 'ddd-dd' or 'ddd-ddd' (MCC-MNC), got '234-1'",
        ),
        (
            base("location_update", vlr_gt="0447953000001"),
            None,
            "vlr_gt: expected E.164 digits with or without '+', got '0447953000001'",
        ),
        (
            base("location_update", msc_gt="+44 7953"),
            None,
            "msc_gt: expected E.164 digits with or without '+', got '+44 7953'",
        ),
        (
            base("location_update", msc_gt=447953000001),
            None,
            "msc_gt: expected a string of E.164 digits, got a number",
        ),
        # signalling_alert
        (
            base("signalling_alert", category="cat 3"),
            None,
            "category: expected up to 64 letters, digits and _.:/-, got 'cat 3'",
        ),
        (
            base("signalling_alert", source_gt="abc"),
            None,
            "source_gt: expected E.164 digits with or without '+', got 'abc'",
        ),
        # clearance
        (base("clearance"), None, "scope: required"),
        (
            base("clearance", scope="everything"),
            None,
            "scope: expected one of all, call_forwarding, routing, sim_swap, got 'everything'",
        ),
        (base("clearance", scope=["all"]), None, "scope: expected a string, got an array"),
    ],
)
def test_rejection_reasons(obj: object, region: str | None, reason: str) -> None:
    assert reject(obj, region) == reason


def test_imsis_are_never_echoed_in_a_reason() -> None:
    for field in ("imsi", "previous_imsi"):
        reason = reject(base("sim_swap", **{field: "2341500000000012"}))
        assert "2341500000000012" not in reason


def test_long_values_are_clipped_in_reasons() -> None:
    reason = reject(base("x" * 500))
    assert len(reason) < 200


# -- stored form ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(GOOD))
def test_record_round_trip(kind: str) -> None:
    signal = parse_signal(GOOD[kind], default_region=None)
    record = signal_to_record(signal)
    assert record["kind"] == kind
    restored = signal_from_record(record)
    if kind == "location_update":
        assert "vlr_gt" not in record and "msc_gt" not in record
        assert record["country"] == "GB"
        assert restored == LocationUpdate(
            msisdn=MSISDN,
            occurred_at=T_EPOCH,
            serving_mcc_mnc="234-15",
            imsi="234150000000001",
            country="GB",
        )
    else:
        assert restored == signal


def test_record_with_unknown_kind_is_refused() -> None:
    with pytest.raises(SignalRejected, match="record: unknown kind"):
        signal_from_record({"kind": "foo"})
    with pytest.raises(SignalRejected, match="record:"):
        signal_from_record({"kind": "clearance", "msisdn": MSISDN})


# -- msisdn helpers -----------------------------------------------------------------------


def test_msisdn_key_round_trip() -> None:
    assert msisdn_key(MSISDN) == 447400123123
    assert e164_from_key(447400123123) == MSISDN
    for bad in ("447400123123", "+44 74", "+"):
        with pytest.raises(InvalidNumber):
            msisdn_key(bad)


def test_normalize_msisdn_common_case_is_cached() -> None:
    assert normalize_msisdn("+8613800138001", None) == "+8613800138001"
    assert normalize_msisdn("+8613800138001", "GB") == "+8613800138001"
    with pytest.raises(InvalidNumber, match="not a valid number"):
        normalize_msisdn("+999123456789", None)


def test_normalize_msisdn_international_prefix_with_region() -> None:
    assert normalize_msisdn("00447400123123", "FR") == MSISDN


def test_normalize_gt() -> None:
    assert normalize_gt("+447953000001") == "447953000001"
    assert normalize_gt("447953000001") == "447953000001"
    with pytest.raises(InvalidNumber):
        normalize_gt("+0447953000001")
