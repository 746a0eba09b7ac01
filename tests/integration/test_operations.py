"""Operations: /metrics parses and moves with traffic, /readyz follows the upstream, logs redact."""

from __future__ import annotations

import asyncio
import io
import json
from importlib.metadata import version

import aiohttp
import structlog
from prometheus_client.parser import text_string_to_metric_families

from gateway.logs import logging_processors, pseudonym

from .esme import AsyncEsme
from .harness import (
    OPERATOR_KEY,
    PASSWORD,
    gateway_config,
    route,
    running_gateway,
    running_simulator,
)

AUTH = {"Authorization": f"Bearer {OPERATOR_KEY}"}


async def get(port: int, path: str) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{port}{path}", headers=AUTH) as r,
    ):
        return r.status, await r.text()


def sample(text: str, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    return 0.0


async def test_metrics_parse_and_move_with_traffic(tmp_path):
    async with (
        running_simulator() as sim,
        running_gateway(gateway_config(tmp_path, (route("main", sim.port),))) as gw,
    ):
        _, before = await get(gw.api_port, "/metrics")
        esme = await AsyncEsme.bind(gw.smpp_port, "bank", PASSWORD)
        for _ in range(5):
            await esme.submit(text=b"hello")
        _, after = await get(gw.api_port, "/metrics")
        name = "otpgate_submit_sm_received_total"
        assert sample(after, name, account="bank") - sample(before, name, account="bank") == 5
        answered = "otpgate_submit_sm_answered_total"
        assert sample(after, answered, account="bank", status="ESME_ROK") == 5
        assert sample(after, "otpgate_esme_binds", account="bank") == 1
        assert sample(after, "otpgate_upstream_binds", route="main") >= 1
        assert sample(after, "otpgate_submit_latency_seconds_count") == 5
        assert await esme.wait_for(lambda: len(esme.receipts) == 5, 10)
        _, after = await get(gw.api_port, "/metrics")
        assert sample(after, "otpgate_receipts_total", outcome="to_esme") == 5
        # The standard collectors and the build, as any Python exporter has them.
        assert sample(after, "process_resident_memory_bytes") > 0
        assert sample(after, "python_info", implementation="CPython") == 1
        assert sample(after, "python_gc_collections_total", generation="0") >= 0
        assert sample(after, "otpgate_build_info", version=version("otpgate")) == 1
        esme.close()


async def test_readyz_follows_the_upstream(tmp_path):
    async with running_simulator() as sim:
        port = sim.port
        async with running_gateway(gateway_config(tmp_path, (route("main", port),))) as gw:
            status, body = await get(gw.api_port, "/readyz")
            assert status == 200 and json.loads(body)["upstream"] == {"main": True}
            await sim.stop()
            for _ in range(100):
                status, body = await get(gw.api_port, "/readyz")
                if status == 503:
                    break
                await asyncio.sleep(0.05)
            assert status == 503 and json.loads(body)["upstream"] == {"main": False}
            async with running_simulator(port=port):
                for _ in range(100):
                    status, _ = await get(gw.api_port, "/readyz")
                    if status == 200:
                        break
                    await asyncio.sleep(0.05)
                assert status == 200


def test_redaction_processor_drops_text_and_codes_and_pseudonymises_numbers() -> None:
    # The gateway's own processor chain, on a private logger: configuring structlog globally
    # here would cache loggers other tests capture.
    out = io.StringIO()
    chain = logging_processors("json")
    log = structlog.wrap_logger(structlog.PrintLogger(out), processors=chain)
    log.info(
        "oops",
        text="Your code is 482913",
        short_message=b"Your code is 482913",
        destination="+447400123123",
        error="could not reach +447400123123",
        nested={"body": "code 482913", "msisdn": "447400123123"},
    )
    line = out.getvalue().strip()
    assert "482913" not in line and "Your code" not in line
    assert "447400123123" not in line
    event = json.loads(line)
    assert event["destination"] == pseudonym("+447400123123")
    assert event["nested"]["msisdn"] == pseudonym("447400123123")
    assert event["text"] == "[REDACTED]"
