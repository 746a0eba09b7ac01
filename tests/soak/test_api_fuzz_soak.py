"""API fuzz (issue 12): every route of both listeners, schemathesis plus hand-made hostile
requests; no 5xx, every error in the documented JSON shape, the gateway's memory bounded.

Scale: OTPGATE_FUZZ_API_CALLS (scale.py), split between schemathesis (generated from the
served OpenAPI documents) and the hostile catalogue (hostile_requests.py).
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings

from .api_answers import answer_problem
from .api_target import ApiTarget, running_api_target
from .failures import save_failures
from .hostile_requests import HostileRequests, routes_of
from .scale import SCALE

LISTENERS = ("operator", "tenant")
SCHEMATHESIS_SHARE = 0.6  # of the calls; the hostile catalogue makes the rest
MEMORY_EVERY_CALLS = 25
TIMEOUT_S = 120 + SCALE.api_calls // 20


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiTarget]:
    with running_api_target(tmp_path_factory.mktemp("api-fuzz")) as prepared:
        yield prepared


def _documents(target: ApiTarget) -> dict[str, dict]:
    return {
        listener: requests.get(f"{target.base_url(listener)}/openapi.json", timeout=10).json()
        for listener in LISTENERS
    }


class CallLog:
    """Counts the calls and keeps the answers that broke a rule; samples memory as it goes."""

    def __init__(self, target: ApiTarget) -> None:
        self.target = target
        self.calls = 0
        self.statuses: Counter[int] = Counter()
        self.failures: list[str] = []

    def record(
        self,
        label: str,
        template: str,
        answer: tuple[int, str, bytes],
    ) -> None:
        """One call: ``template`` is the documented path, ``answer`` (status, type, body)."""
        status, content_type, body = answer
        self.calls += 1
        self.statuses[status] += 1
        problem = answer_problem(template, status, content_type, body)
        if problem is not None:
            self.failures.append(f"{label} -> {problem}")
        if self.calls % MEMORY_EVERY_CALLS == 0:
            assert self.target.alive(), "the gateway process died"
            self.target.sample_memory()

    def summary(self) -> str:
        return f"{self.calls} calls, statuses {dict(sorted(self.statuses.items()))}"


@pytest.mark.timeout(TIMEOUT_S)
def test_schemathesis_on_every_operation_of_both_listeners(target: ApiTarget, tmp_path) -> None:
    documents = _documents(target)
    operations = sum(len(d["paths"][p]) for d in documents.values() for p in d["paths"])
    examples = max(1, round(SCALE.api_calls * SCHEMATHESIS_SHARE / operations))
    log = CallLog(target)
    for listener, document in documents.items():
        for result in schemathesis.openapi.from_dict(document).get_all_operations():
            _fuzz_operation(target, listener, result.ok(), examples, log)
    target.sample_memory()
    saved = save_failures(tmp_path, "schemathesis-failures.txt", log.failures)
    print(
        f"\nschemathesis: {operations} operations x up to {examples} examples: {log.summary()}, "
        f"{len(log.failures)} failures"
        + (f" (saved to {saved})" if saved else "")
        + f"\ngateway {target.rss.summary()}"
    )
    assert not log.failures, log.failures[:5]
    assert target.rss.peak_mb < SCALE.max_rss_mb


def _fuzz_operation(
    target: ApiTarget, listener: str, operation: Any, examples: int, log: CallLog
) -> None:
    base_url = target.base_url(listener)
    headers = target.headers(listener, operation.path)

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def check(case: schemathesis.Case) -> None:
        response = case.call(base_url=base_url, headers=headers, timeout=30)
        label = f"{listener} {case.method} {case.formatted_path} {case.body!r:.200}"
        # schemathesis' headers: lower-case names, each with a list of values.
        content_type = ",".join(response.headers.get("content-type", []))
        answer = (response.status_code, content_type, response.content)
        log.record(label, case.path, answer)

    check()


@pytest.mark.timeout(TIMEOUT_S)
def test_hostile_requests_on_every_route_of_both_listeners(target: ApiTarget, tmp_path) -> None:
    documents = _documents(target)
    routes = [r for listener, d in documents.items() for r in routes_of(listener, d)]
    budget = max(len(routes), round(SCALE.api_calls * (1 - SCHEMATHESIS_SHARE)))
    catalogue = HostileRequests(routes, target.hold_ids, random.Random(SCALE.seed + 2))
    log = CallLog(target)
    closed = 0
    with requests.Session() as http:
        for request, _ in zip(catalogue, range(budget), strict=False):
            route = request.route
            headers = target.headers(route.listener, route.template)
            if request.hostile.content_type is not None:
                headers["Content-Type"] = request.hostile.content_type
            url = f"{target.base_url(route.listener)}{request.path}{request.query}"
            label = f"{route.listener} {route.method} {request.path}{request.query:.80} [{request.hostile.name}]"
            try:
                response = http.request(
                    route.method, url, data=request.hostile.body, headers=headers, timeout=60
                )
            except requests.ConnectionError:
                # The server may answer (413) and close before a body of megabytes is all sent:
                # the answer is lost to the client, not a failure, as long as the process lives.
                closed += 1
                assert target.alive(), f"the gateway process died on {label}"
                continue
            content_type = response.headers.get("Content-Type", "")
            answer = (response.status_code, content_type, response.content)
            log.record(label, route.template, answer)
    target.sample_memory()
    saved = save_failures(tmp_path, "hostile-failures.txt", log.failures)
    print(
        f"\nhostile requests: {len(routes)} routes x {len(catalogue.bodies)} inputs: "
        f"{log.summary()}, {closed} closed before the answer, {len(log.failures)} failures"
        + (f" (saved to {saved})" if saved else "")
        + f"\ngateway {target.rss.summary()}"
    )
    assert not log.failures, log.failures[:5]
    assert target.rss.peak_mb < SCALE.max_rss_mb


def test_the_gateway_is_alive_after_the_fuzz(target: ApiTarget) -> None:
    assert target.alive()
    assert asyncio.run(target.process.api("GET", "/healthz"))[0] == 200
