"""A SIM swap subscription request's checks as a table: what is accepted, and each refusal's code."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from gateway.camara.requests import Refusal
from gateway.camara.subscription_request import SubscriptionRequest, subscription_request

NOW = 1_800_000_000.0
SWAPPED = "org.camaraproject.sim-swap-subscriptions.v0.swapped"
GOOD: dict[str, Any] = {
    "protocol": "HTTP",
    "sink": "https://example.com/sink",
    "types": [SWAPPED],
    "config": {"subscriptionDetail": {"phoneNumber": "+447400123123"}},
}
BEARER = {"credentialType": "ACCESSTOKEN", "accessToken": "tok", "accessTokenType": "bearer",
          "accessTokenExpiresUtc": "2027-01-15T09:00:00Z"}  # fmt: skip


def _with(**changes: Any) -> dict[str, Any]:
    return {**GOOD, **changes}


def _config(**changes: Any) -> dict[str, Any]:
    return {**GOOD, "config": {**GOOD["config"], **changes}}


def test_a_full_request_is_taken_whole() -> None:
    config = {**GOOD["config"], "subscriptionExpireTime": "2027-02-01T00:00:00+01:00",
              "subscriptionMaxEvents": 3}  # fmt: skip
    got = subscription_request(_with(sinkCredential=BEARER, config=config), NOW)
    expires = datetime(2027, 1, 31, 23, 0, tzinfo=UTC).timestamp()
    assert got == SubscriptionRequest("https://example.com/sink", expires, 3, "tok", NOW + 3600)
    assert subscription_request(GOOD, NOW) == SubscriptionRequest(
        "https://example.com/sink", None, None, None, None
    )


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({k: v for k, v in GOOD.items() if k != "protocol"}, "INVALID_ARGUMENT"),
        (_with(protocol="KAFKA"), "INVALID_PROTOCOL"),
        (_with(sink=""), "INVALID_ARGUMENT"),
        (_with(types=[]), "INVALID_ARGUMENT"),
        (_with(types=[SWAPPED, SWAPPED]), "INVALID_ARGUMENT"),
        (_with(sinkCredential="tok"), "INVALID_CREDENTIAL"),
        (
            _with(sinkCredential={"credentialType": "PLAIN", "identifier": "a", "secret": "b"}),
            "INVALID_CREDENTIAL",
        ),
        (_with(sinkCredential={**BEARER, "accessTokenType": "mac"}), "INVALID_TOKEN"),
        (_with(sinkCredential={**BEARER, "accessToken": "with\nnewline"}), "INVALID_CREDENTIAL"),
        (
            _with(sinkCredential={**BEARER, "accessTokenExpiresUtc": "2020-01-01T00:00:00Z"}),
            "INVALID_CREDENTIAL",
        ),
        (_config(subscriptionExpireTime="2020-01-01T00:00:00Z"), "INVALID_ARGUMENT"),
        (_config(subscriptionExpireTime="2027-01-01T00:00:00"), "INVALID_ARGUMENT"),  # no offset
        (_config(subscriptionExpireTime="2027-01-01"), "INVALID_ARGUMENT"),
        (_config(subscriptionMaxEvents=0), "INVALID_ARGUMENT"),
        (_config(subscriptionMaxEvents=True), "INVALID_ARGUMENT"),
        (_config(subscriptionMaxEvents=2.5), "INVALID_ARGUMENT"),
    ],
)
def test_refusals(body: dict[str, Any], code: str) -> None:
    got = subscription_request(body, NOW)
    assert isinstance(got, Refusal) and (got.status, got.code) == (400, code)
