"""Schema-based fuzzing of both APIs from their OpenAPI documents (schemathesis): no 500s.

The gateway runs as a process; schemathesis generates requests from the served documents
(valid and broken bodies, paths, queries) and every answer must be something other than a
server error. The checked-in copies under docs/ must equal what the gateway serves.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings

from .harness import OPERATOR_KEY, running_simulator
from .process import GatewayProcess

DOCS = Path(__file__).parents[2] / "docs"


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[GatewayProcess, str]]:
    directory = tmp_path_factory.mktemp("fuzz")
    loop = asyncio.new_event_loop()
    simulator_cm = running_simulator()
    simulator = loop.run_until_complete(simulator_cm.__aenter__())
    # The simulator lives on this loop; the gateway process binds to it, and the loop runs
    # in a thread so the simulator keeps answering while the tests call the APIs.
    import threading

    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    process = GatewayProcess(
        directory, simulator.port, '[[tenants]]\nname = "paybank"\ncamara = true\n'
    )
    asyncio.run(process.start())
    status, body = asyncio.run(process.api("POST", "/v1/tenants/paybank/keys"))
    assert status == 201
    try:
        yield process, body["key"]
    finally:
        process.stop()
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)


def _fuzz(base_url: str, key: str, examples: int) -> tuple[list[str], int]:
    raw = requests.get(f"{base_url}/openapi.json", timeout=10).json()
    schema = schemathesis.openapi.from_dict(raw)
    headers = {"Authorization": f"Bearer {key}"}
    failures: list[str] = []
    calls = [0]
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def check(case: schemathesis.Case) -> None:
            response = case.call(base_url=base_url, headers=headers, timeout=10)
            calls[0] += 1
            if response.status_code >= 500:
                failures.append(
                    f"{case.method} {case.formatted_path} {case.body!r:.200} -> {response.status_code}"
                )

        check()
    return failures, calls[0]


def test_operator_api_answers_no_500(gateway: tuple[GatewayProcess, str]) -> None:
    process, _ = gateway
    failures, calls = _fuzz(f"http://127.0.0.1:{process.api_port}", OPERATOR_KEY, 25)
    assert failures == [] and calls > 100


def test_tenant_api_answers_no_500(gateway: tuple[GatewayProcess, str]) -> None:
    process, key = gateway
    failures, calls = _fuzz(f"http://127.0.0.1:{process.tenant_port}", key, 25)
    assert failures == [] and calls > 100


def test_checked_in_documents_match_what_is_served(gateway: tuple[GatewayProcess, str]) -> None:
    process, _ = gateway
    for port, name in ((process.api_port, "operator"), (process.tenant_port, "tenant")):
        served = requests.get(f"http://127.0.0.1:{port}/openapi.json", timeout=10).json()
        assert served == json.loads((DOCS / f"openapi-{name}.json").read_text())
