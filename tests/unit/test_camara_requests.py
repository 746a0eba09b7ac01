"""The CAMARA request checks as tables: the subject of a 2-legged request, maxAge, x-correlator."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.camara.correlator import PATTERN
from gateway.camara.ranges import NumberRanges
from gateway.camara.requests import Refusal, max_age, phone_number

NUMBER = "+447400123123"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"phoneNumber": NUMBER}, NUMBER),
        ({}, (422, "MISSING_IDENTIFIER")),
        ({"maxAge": 24}, (422, "MISSING_IDENTIFIER")),
        ({"phoneNumber": None}, (400, "INVALID_ARGUMENT")),
        ({"phoneNumber": ""}, (400, "INVALID_ARGUMENT")),
        ({"phoneNumber": "447400123123"}, (400, "INVALID_ARGUMENT")),
        ({"phoneNumber": "+0447400123"}, (400, "INVALID_ARGUMENT")),
        ({"phoneNumber": "+1234567890123456"}, (400, "INVALID_ARGUMENT")),
        ([NUMBER], (400, "INVALID_ARGUMENT")),
        ("x", (400, "INVALID_ARGUMENT")),
    ],
)
def test_phone_number(body: Any, expected: Any) -> None:
    got = phone_number(body)
    assert (got if isinstance(got, str) else (got.status, got.code)) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"config": {"subscriptionDetail": {"phoneNumber": NUMBER}}}, NUMBER),
        ({"config": {"subscriptionDetail": {}}}, (422, "MISSING_IDENTIFIER")),
        ({"config": {"subscriptionDetail": {"phoneNumber": "1"}}}, (400, "INVALID_ARGUMENT")),
        ({"config": {"subscriptionDetail": None}}, (400, "INVALID_ARGUMENT")),
        ({"config": {}}, (400, "INVALID_ARGUMENT")),
        ({}, (400, "INVALID_ARGUMENT")),
    ],
)
def test_phone_number_of_a_subscription(body: Any, expected: Any) -> None:
    got = phone_number(body, in_subscription=True)
    assert (got if isinstance(got, str) else (got.status, got.code)) == expected


@pytest.mark.parametrize(
    ("value", "limit", "expected"),
    [
        (None, 2400, 240),  # absent: the API's default
        (1, 2400, 1),
        (2400, 2400, 2400),
        (48.0, 2400, 48),
        ("24", 2400, "INVALID_ARGUMENT"),
        (12.5, 2400, "INVALID_ARGUMENT"),
        (True, 2400, "INVALID_ARGUMENT"),
        ([1], 2400, "INVALID_ARGUMENT"),
        (0, 2400, "OUT_OF_RANGE"),
        (2401, 2400, "OUT_OF_RANGE"),
        (-5, 2400, "OUT_OF_RANGE"),
        (73, 72, "OUT_OF_RANGE"),
        (None, 72, "OUT_OF_RANGE"),  # the default asks more than the operator allows
    ],
)
def test_max_age(value: Any, limit: int, expected: Any) -> None:
    got = max_age({} if value is None else {"maxAge": value}, limit)
    assert (got.code if isinstance(got, Refusal) else got) == expected
    if isinstance(got, Refusal):
        assert got.status == 400


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("", True),
        ("b4333c46-49c0-4f62-80d7-f0ef930f1c46", True),
        ("a_b:c;d.e/f<g>{h}", True),
        ("a" * 256, True),
        ("a" * 257, False),
        ("with space", False),
        ("tab\t", False),
        ("ünïcode", False),
        ('quote"', False),
        ("back\\slash", False),
    ],
)
def test_x_correlator_pattern(value: str, ok: bool) -> None:
    assert bool(PATTERN.fullmatch(value)) is ok


@pytest.mark.parametrize(
    ("own", "not_applicable", "number", "expected"),
    [
        ((), (), "+33612345678", None),  # no ranges: every number is the network's
        (("+4474",), (), "+447400123123", None),
        (("+4474",), (), "+33612345678", (404, "IDENTIFIER_NOT_FOUND")),
        (("+4474",), (), "+4475", (404, "IDENTIFIER_NOT_FOUND")),
        (("+4474", "+4475"), (), "+447512345678", None),
        (("+4474",), ("+447499",), "+447499000001", (422, "SERVICE_NOT_APPLICABLE")),
        (("+4474",), ("+447499",), "+447498000001", None),
        (("+4474",), ("+447499",), "+33612345678", (404, "IDENTIFIER_NOT_FOUND")),
        ((), ("+447499",), "+447499000001", (422, "SERVICE_NOT_APPLICABLE")),
    ],
)
def test_number_ranges(
    own: tuple[str, ...], not_applicable: tuple[str, ...], number: str, expected: Any
) -> None:
    refusal = NumberRanges(own, not_applicable).refusal(number)
    assert (refusal if refusal is None else (refusal.status, refusal.code)) == expected
