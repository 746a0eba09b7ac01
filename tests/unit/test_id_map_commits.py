"""The receipt mapping's commits: an ESME's id goes out only once its row is on disk. The loop
commits the rows itself; when the database is busy they go to the writer thread, and the rows
that arrive while a group is with the writer follow as one group, not one each; the log the
loop appends to stays bounded although the loop never checkpoints."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import pytest

from gateway.traffic.id_map import IdMap, MappedMessage
from gateway.traffic.message_ids import MessageIdGenerator

pytestmark = pytest.mark.asyncio


def _opened_id_map(path: Path) -> IdMap:
    """An id map on ``path``, open on the running loop."""
    id_map = IdMap(path, MessageIdGenerator(1, lambda: int(time.time() * 1000)))
    id_map.open(asyncio.get_running_loop())
    return id_map


def _message(id_map: IdMap, n: int) -> MappedMessage:
    return MappedMessage("main", f"up-{n}", id_map.ids.next(), "bank", 1, time.time())


def _on_disk(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:  # a connection of its own: what is committed
        return {row[0] for row in conn.execute("SELECT upstream_id FROM message_map")}


def _callbacks(path: Path, expected: int) -> tuple[dict[str, bool], asyncio.Event, object]:
    """Callbacks that note whether their row was on disk when they ran."""
    seen_on_disk: dict[str, bool] = {}
    done = asyncio.Event()

    def callback(name: str):
        def on_commit(error: Exception | None) -> None:
            assert error is None
            seen_on_disk[name] = name in _on_disk(path)
            if len(seen_on_disk) == expected:
                done.set()

        return on_commit

    return seen_on_disk, done, callback


def _count_hand_offs(id_map: IdMap) -> list[int]:
    hand_offs = [0]
    write_fn = id_map.writer.write_fn

    def counted_write_fn(*args, **kwargs) -> None:
        hand_offs[0] += 1
        write_fn(*args, **kwargs)

    id_map.writer.write_fn = counted_write_fn  # type: ignore[method-assign]
    return hand_offs


async def test_each_callback_runs_after_its_row_is_committed(tmp_path: Path) -> None:
    path = tmp_path / "map.sqlite"
    id_map = _opened_id_map(path)
    seen_on_disk, done, callback = _callbacks(path, 300)
    hand_offs = _count_hand_offs(id_map)
    try:
        for burst in range(3):
            for n in range(burst * 100, burst * 100 + 100):
                id_map.record(_message(id_map, n), callback(f"up-{n}"))  # type: ignore[operator]
            await asyncio.sleep(0)
        await asyncio.wait_for(done.wait(), 10)
        assert all(seen_on_disk.values()) and len(seen_on_disk) == 300
        assert hand_offs == [0]  # the loop committed them: no thread hand-off
        # The commit-time metric covers the loop's commits, which the writer never saw.
        assert id_map.writer.last_commit_s == 0.0 and id_map.last_commit_s > 0.0
    finally:
        id_map.close()


async def test_a_busy_database_hands_the_rows_to_the_writer(tmp_path: Path) -> None:
    path = tmp_path / "map.sqlite"
    id_map = _opened_id_map(path)
    seen_on_disk, done, callback = _callbacks(path, 300)
    hand_offs = _count_hand_offs(id_map)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # holds the write lock, as a purge on the writer would
    try:
        # Three bursts: the second and third arrive while the first group is with the writer.
        for burst in range(3):
            for n in range(burst * 100, burst * 100 + 100):
                id_map.record(_message(id_map, n), callback(f"up-{n}"))  # type: ignore[operator]
            await asyncio.sleep(0)
        assert hand_offs == [1] and not seen_on_disk  # the writer waits for the lock
        other.execute("ROLLBACK")
        await asyncio.wait_for(done.wait(), 10)
        assert all(seen_on_disk.values()) and len(seen_on_disk) == 300
        # The first burst through the writer; what came while it waited, on the loop again.
        assert hand_offs == [1]
    finally:
        other.close()
        id_map.close()


async def test_the_log_stays_bounded(tmp_path: Path) -> None:
    path = tmp_path / "map.sqlite"
    id_map = _opened_id_map(path)
    hand_offs = _count_hand_offs(id_map)
    folds = [0]
    fold_log = id_map.writer.fold_log

    def counted_fold_log(on_done) -> None:  # type: ignore[no-untyped-def]
        folds[0] += 1
        fold_log(on_done)

    id_map.writer.fold_log = counted_fold_log  # type: ignore[method-assign]
    try:
        for n in range(2500):  # ~2 pages each: 5,000 pages in the log without a checkpoint
            committed = asyncio.Event()
            id_map.record(_message(id_map, n), lambda error, done=committed: done.set())
            await asyncio.wait_for(committed.wait(), 5)
        wal_pages = (path.with_name(path.name + "-wal").stat().st_size - 32) // (4096 + 24)
        assert wal_pages < 3000
        assert len(_on_disk(path)) == 2500
        # Two folds; the loop's rows waited for the writer only for the group closing each.
        assert folds == [2] and hand_offs == [2]
    finally:
        id_map.close()


async def test_rows_still_waiting_are_written_at_close(tmp_path: Path) -> None:
    path = tmp_path / "map.sqlite"
    id_map = _opened_id_map(path)
    id_map.record(_message(id_map, 1), lambda error: None)  # waits for the next pass
    id_map.record(_message(id_map, 2), lambda error: None)
    id_map.record(_message(id_map, 3))  # waits for its 10 ms of company
    id_map.close()
    assert _on_disk(path) == {"up-1", "up-2", "up-3"}


async def test_a_broken_callback_does_not_silence_the_others(tmp_path: Path) -> None:
    id_map = _opened_id_map(tmp_path / "map.sqlite")
    called = asyncio.Event()

    def broken(error: Exception | None) -> None:
        raise RuntimeError("a waiter that went away")

    try:
        id_map.record(_message(id_map, 1), broken)
        id_map.record(_message(id_map, 2), lambda error: called.set())
        await asyncio.wait_for(called.wait(), 5)
    finally:
        id_map.close()
