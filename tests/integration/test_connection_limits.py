"""An outsider cannot take the SMPP listener down: idle floods, slow readers, garbage, guessing.

Each case runs at a scale this machine allows and asserts that a well-behaved ESME, from
another address, still binds, submits and gets its receipts while the attack goes on.
"""

from __future__ import annotations

import asyncio
import struct

import aiohttp
import pytest
from structlog.testing import capture_logs

from smpp_adapters.client import BindFailed
from smpp_adapters.constants import CommandStatus

from .esme import AsyncEsme
from .harness import (
    PASSWORD,
    account,
    gateway_config,
    route,
    running_gateway,
    running_simulator,
    until,
)

pytestmark = pytest.mark.asyncio

ENQUIRE_LINK = struct.pack(">IIII", 16, 0x00000015, 0, 1)
GARBAGE = struct.pack(">IIII", 16, 0x0BADC0DE, 0, 7)  # an unknown command id


async def well_behaved(gw, sim, source: str = "127.0.0.9") -> None:
    """Bind from ``source``, submit three messages, get their three receipts."""
    esme = await AsyncEsme.bind(gw.smpp_port, "bank", PASSWORD, source=source)
    try:
        for n in range(3):
            answer = await esme.submit(destination=f"44740012312{n}")
            assert answer is not None and answer.command_status == 0
        assert await esme.wait_for(lambda: len(esme.receipts) == 3)
    finally:
        esme.close()
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{gw.api_port}/healthz") as r,
    ):
        assert r.status == 200


async def idle(port: int, source: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))


async def closed_by_peer(reader: asyncio.StreamReader, timeout_s: float = 5.0) -> bool:
    try:
        async with asyncio.timeout(timeout_s):
            while await reader.read(4096):
                pass
        return True
    except (TimeoutError, ConnectionError):
        return False


async def test_idle_connections_beyond_the_caps_are_closed_and_others_still_bind(tmp_path):
    config = gateway_config(
        tmp_path, (), max_connections=40, max_connections_per_address=20, bind_timeout_s=60
    )
    async with running_simulator() as sim:
        config = gateway_config(
            tmp_path,
            (route("r1", sim.port),),
            max_connections=40,
            max_connections_per_address=20,
            bind_timeout_s=60,
        )
        async with running_gateway(config) as gw:
            held = [await idle(gw.smpp_port, "127.0.0.2") for _ in range(20)]
            over = [await idle(gw.smpp_port, "127.0.0.2") for _ in range(5)]
            assert all([await closed_by_peer(r) for r, _ in over])  # per-address cap
            assert gw.admission.open == 20 and gw.admission.refused == 5
            await well_behaved(gw, sim)  # another address: room under the total cap
            held += [await idle(gw.smpp_port, "127.0.0.3") for _ in range(20)]
            late_reader, _ = await idle(gw.smpp_port, "127.0.0.4")
            assert await closed_by_peer(late_reader)  # the total cap
            for _, writer in held[:10]:
                writer.close()
            assert await until(lambda: gw.admission.open <= 30)
            await well_behaved(gw, sim)  # freed slots are reused
            for _, writer in held[10:]:
                writer.close()


async def test_an_unbound_connection_is_closed_at_the_bind_timeout_despite_enquire_link(tmp_path):
    async with running_simulator() as sim:
        config = gateway_config(tmp_path, (route("r1", sim.port),), bind_timeout_s=1.0)
        async with running_gateway(config) as gw:
            reader, writer = await idle(gw.smpp_port, "127.0.0.2")
            started = asyncio.get_running_loop().time()

            async def keep_alive() -> None:
                while not writer.is_closing():
                    writer.write(ENQUIRE_LINK)
                    # Pacing, not waiting: about five enquire_links inside the 1 s bind timeout.
                    await asyncio.sleep(0.2)

            pinger = asyncio.create_task(keep_alive())
            try:
                assert await closed_by_peer(reader, 5.0)
                assert asyncio.get_running_loop().time() - started >= 0.9
            finally:
                pinger.cancel()
                writer.close()
            await well_behaved(gw, sim)


async def test_a_peer_that_never_reads_is_dropped_and_memory_stays_bounded(tmp_path):
    async with running_simulator() as sim:
        config = gateway_config(
            tmp_path,
            (route("r1", sim.port),),
            max_output_bytes=256 * 1024,
            slow_reader_timeout_s=1.0,
        )
        async with running_gateway(config) as gw:
            loop = asyncio.get_running_loop()
            import socket

            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.bind(("127.0.0.2", 0))
            sock.setblocking(False)
            await loop.sock_connect(sock, ("127.0.0.1", gw.smpp_port))
            burst = ENQUIRE_LINK * 4096  # 64 KiB of requests, each answered with 16 bytes
            largest = 0
            dropped = False
            try:
                for _ in range(400):
                    try:
                        await asyncio.wait_for(loop.sock_sendall(sock, burst), 0.05)
                    except TimeoutError:
                        pass  # the gateway stopped reading us: our own buffer is full
                    except (ConnectionError, OSError):
                        dropped = True
                        break
                    buffered = [
                        c.transport.get_write_buffer_size()
                        for c in gw.binds._connections
                        if c.transport is not None
                    ]
                    largest = max([largest, *buffered])
                    if not buffered and gw.admission.open == 0:
                        dropped = True
                        break
                assert dropped or await until(lambda: gw.admission.open == 0, 5)
                assert largest <= 256 * 1024 + 64 * 1024  # one read's answers past the cap
                await well_behaved(gw, sim)
            finally:
                sock.close()


async def test_garbage_in_a_loop_logs_a_bounded_number_of_lines(tmp_path):
    async with running_simulator() as sim:
        config = gateway_config(
            tmp_path,
            (route("r1", sim.port),),
            (account("bank"), account("noisy")),
            protocol_error_log_lines=5,
        )
        async with running_gateway(config) as gw:
            esme = await AsyncEsme.bind(gw.smpp_port, "noisy", PASSWORD, source="127.0.0.2")
            with capture_logs() as lines:
                for _ in range(200):
                    esme.connection.transport.write(GARBAGE)
                await asyncio.sleep(0)
                await well_behaved(gw, sim)
            rejected = [line for line in lines if line["event"] == "esme_pdu_rejected"]
            assert 1 <= len(rejected) <= 6  # 5, and at most one more within the minute
            esme.close()


async def test_concurrent_guesses_reach_the_password_check_no_more_than_the_limit(tmp_path):
    async with running_simulator() as sim:
        config = gateway_config(
            tmp_path,
            (route("r1", sim.port),),
            (account("bank"), account("shop")),
            bind_failures_before_lockout=5,
            bind_failures_per_account=12,
        )
        async with running_gateway(config) as gw:
            book = gw.binds.accounts
            checked = []
            original = book.check_bind

            def counting(system_id, password, ip):
                checked.append((system_id, ip))
                return original(system_id, password, ip)

            book.check_bind = counting
            guesses = [
                AsyncEsme.bind(gw.smpp_port, "bank", f"g{n}", source="127.0.0.2") for n in range(60)
            ]
            results = await asyncio.gather(*guesses, return_exceptions=True)
            assert all(isinstance(r, BindFailed) for r in results)
            assert len(checked) <= 5  # counted before the hash, not after
            statuses = {r.command_status for r in results}
            assert statuses <= {CommandStatus.ESME_RINVPASWD, CommandStatus.ESME_RBINDFAIL}
            # Meanwhile, another account from another address binds at once.
            started = asyncio.get_running_loop().time()
            shop = await AsyncEsme.bind(gw.smpp_port, "shop", PASSWORD, source="127.0.0.3")
            assert asyncio.get_running_loop().time() - started < 2.0
            shop.close()


async def test_guesses_spread_over_many_addresses_meet_the_per_account_limit(tmp_path):
    async with running_simulator() as sim:
        config = gateway_config(
            tmp_path,
            (route("r1", sim.port),),
            bind_failures_before_lockout=5,
            bind_failures_per_account=10,
        )
        async with running_gateway(config) as gw:
            for n in range(10):
                with pytest.raises(BindFailed):
                    await AsyncEsme.bind(gw.smpp_port, "bank", "guess", source=f"127.0.1.{n + 1}")
            with pytest.raises(BindFailed) as locked:
                await AsyncEsme.bind(gw.smpp_port, "bank", PASSWORD, source="127.0.2.1")
            assert locked.value.command_status == CommandStatus.ESME_RBINDFAIL
