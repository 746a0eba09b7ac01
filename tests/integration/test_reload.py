"""Reload without dropping binds: accounts added and removed under traffic, bad files refused."""

from __future__ import annotations

import asyncio

import pytest

from .esme import AsyncEsme
from .harness import _HASH, PASSWORD, running_simulator, until
from .process import GatewayProcess

pytestmark = pytest.mark.asyncio


def account_block(system_id: str) -> str:
    return f'\n[[smpp.accounts]]\nsystem_id = "{system_id}"\npassword_hash = "{_HASH}"\n'


async def test_accounts_added_and_removed_under_traffic_lose_nothing(tmp_path):
    async with running_simulator(keep_records=True) as sim:
        gateway = GatewayProcess(tmp_path, sim.port, account_block("leaving"))
        await gateway.start()
        try:
            steady = await AsyncEsme.bind(gateway.smpp_port, "bank", PASSWORD, window=10)
            leaving = await AsyncEsme.bind(gateway.smpp_port, "leaving", PASSWORD)
            answers: list[int] = []
            stop = asyncio.Event()

            async def traffic() -> None:
                i = 0
                while not stop.is_set():
                    response = await steady.submit(destination=f"4474002{i:05d}", text=b"hello")
                    answers.append(response.command_status)
                    i += 1

            stream = asyncio.create_task(traffic())
            assert await until(lambda: len(answers) >= 10)  # the reload comes under traffic

            text = gateway.config_path.read_text()
            gateway.config_path.write_text(
                text.replace(account_block("leaving"), "") + account_block("joining")
            )
            status, summary = await gateway.api("POST", "/v1/config/reload")
            assert status == 200, summary
            assert summary["removed_accounts"] == ["leaving"] and summary["binds_closed"] == 1
            assert await leaving.wait_for(lambda: leaving.ended, 5)
            joining = await AsyncEsme.bind(gateway.smpp_port, "joining", PASSWORD)
            assert (await joining.submit(text=b"first")).command_status == 0

            # A broken file is refused whole; the running configuration stays.
            gateway.config_path.write_text(gateway.config_path.read_text() + "\n[bogus]\nkey = 1\n")
            status, refused = await gateway.api("POST", "/v1/config/reload")
            assert status == 422 and "bogus" in refused["message"]
            assert (await joining.submit(text=b"still here")).command_status == 0

            after = len(answers)
            assert await until(lambda: len(answers) >= after + 10)  # and traffic goes on after
            stop.set()
            await stream
            assert len(answers) > 20 and set(answers) == {0}
            assert sum(1 for r in sim.records if r.system_id == "gw") >= len(answers)
            steady.close()
            joining.close()
        finally:
            gateway.stop()
