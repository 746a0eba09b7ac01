"""PDU fuzz (issue 12): mutated PDUs against the codec, the sans-I/O session and a live gateway.

In process, every input goes to ``decode`` and, with a second input after it half of the
time, to a ``Session`` in random chunks; over TCP a smaller share goes to a gateway process,
which must stay alive, answer /healthz, keep its memory bounded and still serve a
well-behaved ESME afterwards. Scale: OTPGATE_FUZZ_PDUS, OTPGATE_FUZZ_TCP_PDUS (scale.py).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter

import pytest

from smpp_adapters.constants import CommandStatus

from ..integration.esme import AsyncEsme
from ..integration.harness import PASSWORD, running_simulator
from ..integration.process import GatewayProcess
from .failures import save_failures
from .memory import RssTracker
from .pdu_corpus import seeds
from .pdu_mutations import PduMutator
from .scale import SCALE
from .session_fuzz import check_decode, check_session
from .tcp_fuzz import TcpFuzzer

# The fuzz sends thousands of garbled binds from one address and account: the bind lockout
# (a defence tested in tests/unit/test_lockout.py) would lock the well-behaved ESME out too.
# GatewayProcess's file ends inside [holds]; the tables below follow it. Fuzzed UDH parts
# stay parked until their reassembly timeout, and a SIGTERM waits for them: keep it short.
FUZZ_TOML = """
[smpp]
bind_failures_before_lockout = 1000000000
bind_failures_per_account = 1000000000
reassembly_timeout_s = 1
"""
PDUS_PER_CONNECTION = 10
PARALLEL_CONNECTIONS = 3  # under the account's max_binds (4), with room for one closing
HEALTH_EVERY_WAVES = 25


@pytest.mark.timeout(120 + SCALE.pdus // 2_000)
def test_codec_and_session_take_any_bytes(tmp_path):
    rng = random.Random(SCALE.seed)
    mutator = PduMutator(seeds(), rng)
    failures: list[str] = []
    kinds: Counter[str] = Counter()
    decoded = ended = 0
    started = time.perf_counter()
    for _ in range(SCALE.pdus):
        data = mutator.mutate()
        problem = check_decode(data)
        decoded += problem is None and _decodes(data)
        if problem is not None:
            failures.append(f"{problem} | {data.hex()}")
        stream = data + mutator.mutate() if rng.random() < 0.5 else data
        run = check_session(stream, rng)
        kinds.update(run.kinds)
        ended += run.ended
        if run.failure is not None:
            failures.append(f"{run.failure} | {stream.hex()}")
    elapsed = time.perf_counter() - started
    saved = save_failures(tmp_path, "pdu-fuzz-failures.txt", failures)
    print(
        f"\nPDU fuzz in process: {SCALE.pdus} inputs in {elapsed:.1f} s, {decoded} decoded "
        f"as valid PDUs, {ended} sessions ended, {len(failures)} failures"
        + (f" (saved to {saved})" if saved else "")
        + f"\nsession events: {dict(kinds.most_common())}"
    )
    assert not failures, failures[:5]


def _decodes(data: bytes) -> bool:
    from smpp_adapters.errors import PduError
    from smpp_adapters.pdu import decode

    try:
        decode(data)
    except PduError:
        return False
    return True


@pytest.mark.timeout(120 + SCALE.tcp_pdus // 200)
async def test_gateway_survives_mutated_pdus_over_tcp(tmp_path):
    rng = random.Random(SCALE.seed + 1)
    rss = RssTracker()
    async with running_simulator() as sim:
        gateway = GatewayProcess(tmp_path, sim.port, FUZZ_TOML)
        await gateway.start()
        try:
            pid = gateway.process.pid
            fuzzer = TcpFuzzer(gateway.smpp_port, PduMutator(seeds(), rng), rng)
            waves = 0

            async def between() -> None:
                nonlocal waves
                waves += 1
                assert gateway.process.poll() is None, _tail(gateway)
                rss.sample(pid)
                if waves % HEALTH_EVERY_WAVES == 0:
                    assert (await gateway.api("GET", "/healthz"))[0] == 200

            started = time.perf_counter()
            await fuzzer.run(SCALE.tcp_pdus, PDUS_PER_CONNECTION, PARALLEL_CONNECTIONS, between)
            elapsed = time.perf_counter() - started
            assert (await gateway.api("GET", "/healthz"))[0] == 200
            await _well_behaved_esme_is_served(gateway)
            rss.sample(pid)
        finally:
            gateway.stop()
    report = fuzzer.report
    saved = save_failures(tmp_path, "tcp-fuzz-failures.txt", report.failures)
    print(
        f"\nPDU fuzz over TCP: {report.pdus} inputs on {report.connections} connections in "
        f"{elapsed:.1f} s, {report.bytes_back} bytes answered, {dict(report.outcomes)}, "
        f"{len(report.failures)} failures"
        + (f" (saved to {saved})" if saved else "")
        + f"\ngateway {rss.summary()}"
    )
    assert not report.failures, report.failures[:3]
    assert rss.peak_mb < SCALE.max_rss_mb


async def _well_behaved_esme_is_served(gateway: GatewayProcess) -> None:
    esme = await AsyncEsme.bind(gateway.smpp_port, "bank", PASSWORD)
    try:
        response = await esme.submit(destination="447410000001", text=b"Your statement is ready")
        assert response is not None and response.command_status == CommandStatus.ESME_ROK
        message_id = str(response.params["message_id"])
        assert await esme.wait_for(
            lambda: any(message_id.encode() in bytes(r["short_message"]) for r in esme.receipts)
        )
    finally:
        esme.close()
        # Closed for real before the caller blocks in GatewayProcess.stop(): the gateway's
        # graceful stop would otherwise wait for an unbind_resp this loop cannot send.
        await asyncio.wait_for(esme.connection.closed.wait(), 5)


def _tail(gateway: GatewayProcess) -> str:
    return "gateway exited: " + gateway.log_path.read_text(errors="replace")[-3000:]
