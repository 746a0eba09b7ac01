"""The commit window on a real SQLite file: writes of one window share a commit, each is told
only once it is on disk, in the order it was queued, and a bad write fails alone."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import sqlite_utils

from gateway.commit_window import CommitWindow
from gateway.store import SqliteWriter, StoreError

HOUR_S = 3600.0  # a window that never closes by itself: the test flushes it


def _schema(db: sqlite_utils.Database) -> None:
    db.execute("CREATE TABLE rows (id INTEGER PRIMARY KEY, state TEXT NOT NULL)")


@pytest.fixture
async def writer(tmp_path: Path) -> AsyncIterator[SqliteWriter]:
    writer = SqliteWriter(tmp_path / "window.sqlite", schema=_schema)
    writer.open(asyncio.get_running_loop())
    try:
        yield writer
    finally:
        writer.close()


def _insert(row_id: int, state: str = "held") -> Callable[[sqlite3.Connection], None]:
    def write(conn: sqlite3.Connection) -> None:
        conn.execute("INSERT INTO rows VALUES (?, ?)", (row_id, state))

    return write


def _on_disk(path: Path) -> dict[int, str]:
    """What another connection reads: only what was committed."""
    with sqlite3.connect(path) as conn:
        return dict(conn.execute("SELECT id, state FROM rows").fetchall())


async def test_each_write_is_told_only_once_its_row_is_committed(writer) -> None:
    window = CommitWindow(writer, window_s=HOUR_S)
    seen: dict[int, bool] = {}
    done: list[asyncio.Future[Exception | None]] = []
    commits_before = writer.commits
    for row_id in range(200):
        future: asyncio.Future[Exception | None] = asyncio.get_running_loop().create_future()

        def committed(error: Exception | None, row_id: int = row_id, future=future) -> None:
            # Read from a connection of its own: the row must be there when we are told.
            seen[row_id] = row_id in _on_disk(writer.path)
            future.set_result(error)

        window.write_fn(_insert(row_id), committed)
        done.append(future)
    assert _on_disk(writer.path) == {}  # nothing reaches the writer before the window closes
    window.flush()
    errors = await asyncio.wait_for(asyncio.gather(*done), 10)
    assert errors == [None] * 200
    assert all(seen.values()) and len(seen) == 200
    assert writer.commits == commits_before + 1


async def test_a_bad_write_fails_alone_and_its_neighbours_commit(writer) -> None:
    window = CommitWindow(writer, window_s=HOUR_S)
    loop = asyncio.get_running_loop()
    futures = [loop.create_future() for _ in range(3)]
    window.write_fn(_insert(1), futures[0].set_result)
    window.write_fn(_insert(1, "twice"), futures[1].set_result)  # the same primary key
    window.write_fn(_insert(2), futures[2].set_result)
    window.flush()
    first, duplicate, third = await asyncio.wait_for(asyncio.gather(*futures), 10)
    assert first is None and third is None
    assert isinstance(duplicate, StoreError) and "IntegrityError" in str(duplicate)
    assert _on_disk(writer.path) == {1: "held", 2: "held"}


async def test_writes_reach_the_disk_in_the_order_they_were_queued(writer) -> None:
    window = CommitWindow(writer, window_s=HOUR_S)
    loop = asyncio.get_running_loop()
    futures = [loop.create_future() for _ in range(3)]

    def update(state: str) -> Callable[[sqlite3.Connection], None]:
        def write(conn: sqlite3.Connection) -> None:
            conn.execute("UPDATE rows SET state = ? WHERE id = 7", (state,))

        return write

    # A hold and its transitions made within one window: the insert must come first.
    window.write_fn(_insert(7), futures[0].set_result)
    window.write_fn(update("releasing"), futures[1].set_result)
    window.write_fn(update("released"), futures[2].set_result)
    window.flush()
    assert await asyncio.wait_for(asyncio.gather(*futures), 10) == [None] * 3
    assert _on_disk(writer.path) == {7: "released"}


async def test_the_window_closes_by_itself(writer) -> None:
    window = CommitWindow(writer, window_s=0.001)
    future: asyncio.Future[Exception | None] = asyncio.get_running_loop().create_future()
    window.write_fn(_insert(3), future.set_result)
    assert await asyncio.wait_for(future, 10) is None
    assert _on_disk(writer.path) == {3: "held"}


async def test_a_flush_puts_the_window_ahead_of_a_later_direct_write(writer) -> None:
    # What an erasure relies on: a hold still waiting in the window is written before the
    # erasure's DELETE, so the DELETE finds it.
    window = CommitWindow(writer, window_s=HOUR_S)
    told: asyncio.Future[Exception | None] = asyncio.get_running_loop().create_future()
    window.write_fn(_insert(7), told.set_result)
    window.flush()

    def erase(conn: sqlite3.Connection) -> int:
        return conn.execute("DELETE FROM rows WHERE id = 7").rowcount

    assert await writer.call(erase) == 1
    assert await told is None
    assert _on_disk(writer.path) == {}


async def test_a_callback_that_raises_does_not_silence_the_others(writer) -> None:
    window = CommitWindow(writer, window_s=HOUR_S)
    told: list[Exception | None] = []

    def broken(error: Exception | None) -> None:
        raise RuntimeError("a waiter that went away")

    last: asyncio.Future[Exception | None] = asyncio.get_running_loop().create_future()
    window.write_fn(_insert(1), told.append)
    window.write_fn(_insert(2), broken)
    window.write_fn(_insert(3), last.set_result)
    window.flush()

    assert await asyncio.wait_for(last, 10) is None  # a hang, not a pass, if it were silenced
    assert told == [None]
    assert _on_disk(writer.path) == {1: "held", 2: "held", 3: "held"}
