"""SignalStore.states() streams the stored states in key order, a chunk at a time, from a real
SQLite file: every state once, none skipped at a chunk's edge, and the chunks bounded."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import pytest

from gateway.signals.risk_index import RiskIndex
from gateway.signals.store import SignalStore, state_row
from tests.unit.test_risk_index import _CONFIG, _random_history


async def _stored_and_streamed(
    path: Path, states: list[tuple[int, bytes]], chunk_size: int
) -> tuple[list[list[tuple[int, bytes]]], int]:
    loop = asyncio.get_running_loop()
    store = SignalStore(path)
    store.open(loop)
    try:
        done: asyncio.Future[None] = loop.create_future()

        def committed(_: object, error: Exception | None) -> None:
            if error is None:
                done.set_result(None)
            else:
                done.set_exception(error)

        store.append([], [state_row(key, blob) for key, blob in states], committed)
        await done
        chunks = [chunk async for chunk in store.states(chunk_size=chunk_size)]
        return chunks, await store.state_count()
    finally:
        store.close()


@pytest.mark.parametrize("chunk_size", [1, 4, 5, 1000])
def test_states_come_in_key_order_in_bounded_chunks(tmp_path: Path, chunk_size: int) -> None:
    signals = _random_history(random.Random(3), numbers=20, per_number=10)
    idx = RiskIndex(_CONFIG)
    idx.apply_all(signals)
    keys = sorted({int(s.msisdn) for s in signals})
    states = [(key, idx.state_of(key) or b"") for key in reversed(keys)]  # stored out of order
    chunks, count = asyncio.run(_stored_and_streamed(tmp_path / "s.sqlite", states, chunk_size))
    assert count == len(keys)
    assert all(0 < len(chunk) <= chunk_size for chunk in chunks)
    streamed = [row for chunk in chunks for row in chunk]
    assert [key for key, _ in streamed] == keys
    assert dict(streamed) == dict(states)
    # What the start-up does with them: the same index as the signals built.
    reloaded = RiskIndex(_CONFIG)
    for key, blob in streamed:
        reloaded.load_state(key, blob)
    assert reloaded == idx


def test_no_states_no_chunks(tmp_path: Path) -> None:
    chunks, count = asyncio.run(_stored_and_streamed(tmp_path / "s.sqlite", [], 10))
    assert chunks == [] and count == 0
