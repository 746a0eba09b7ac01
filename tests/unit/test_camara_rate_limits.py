"""CAMARA's request budgets as token buckets: per client (QUOTA_EXCEEDED) and server-wide
(TOO_MANY_REQUESTS), with the wait for Retry-After, and no calendar edge to straddle."""

from __future__ import annotations

import pytest

from gateway.camara.rate_limits import RateLimits, TokenBucket


def passed(limits: RateLimits, client: str, per_minute: int, times: list[float]) -> list[str]:
    out = []
    for now in times:
        limited = limits.take(client, per_minute, now)
        out.append("ok" if limited is None else limited.code)
    return out


@pytest.mark.parametrize("start", [0.0, 59.0, 59.99, 119.5, 1_772_323_259.9])
def test_a_ninth_request_within_a_second_is_refused_wherever_the_minute_ends(start: float) -> None:
    # A calendar minute let the 9th through when the 9 requests straddled its end.
    times = [start + i * 0.01 for i in range(9)]
    assert passed(RateLimits(), "paybank", 8, times) == ["ok"] * 8 + ["QUOTA_EXCEEDED"]


def test_the_quota_comes_back_at_its_rate_and_retry_after_says_when() -> None:
    limits = RateLimits()
    assert passed(limits, "paybank", 60, [0.0] * 60) == ["ok"] * 60
    refused = limits.take("paybank", 60, 0.2)
    assert refused is not None and (refused.code, refused.retry_after_s) == ("QUOTA_EXCEEDED", 1)
    assert limits.take("paybank", 60, 1.0) is None  # one a second at 60 a minute
    assert limits.take("paybank", 60, 1.5) is not None
    slow = RateLimits()
    assert passed(slow, "tight", 1, [0.0, 1.0]) == ["ok", "QUOTA_EXCEEDED"]
    refused = slow.take("tight", 1, 1.0)
    assert refused is not None and refused.retry_after_s == 59
    assert slow.take("tight", 1, 60.0) is None


def test_clients_have_their_own_quotas() -> None:
    limits = RateLimits()
    assert passed(limits, "a", 2, [0.0, 0.0, 0.0]) == ["ok", "ok", "QUOTA_EXCEEDED"]
    assert passed(limits, "b", 2, [0.0, 0.0]) == ["ok", "ok"]


def test_the_server_limit_counts_every_client_and_spends_no_quota_when_it_refuses() -> None:
    limits = RateLimits(server_rate_per_s=1.0, server_burst=3)
    assert passed(limits, "a", 100, [0.0, 0.0]) == ["ok", "ok"]
    assert passed(limits, "b", 2, [0.0, 0.0]) == ["ok", "TOO_MANY_REQUESTS"]
    refused = limits.take("b", 2, 0.5)
    assert refused is not None and (refused.code, refused.retry_after_s) == ("TOO_MANY_REQUESTS", 1)
    # b's second request was refused by the server: its quota still holds it.
    assert passed(limits, "b", 2, [1.0]) == ["ok"]


def test_a_changed_quota_takes_effect() -> None:
    limits = RateLimits()
    assert passed(limits, "a", 1, [0.0, 0.0]) == ["ok", "QUOTA_EXCEEDED"]
    assert passed(limits, "a", 5, [0.0]) == ["ok"]


def test_a_clock_stepping_back_refills_nothing() -> None:
    bucket = TokenBucket(1.0, 1.0, 100.0)
    assert bucket.wait_s(100.0) == 0.0
    bucket.take()
    assert bucket.wait_s(50.0) == 1.0
    assert bucket.wait_s(100.5) == 0.5
