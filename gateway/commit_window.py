"""Writes that wait a few milliseconds on the event loop, then commit as one transaction.

A paced stream of holds finds the durable writer idle each time, so the writer's own group
commit (whatever is queued when it is free) gives each hold a commit, an fsync and two
thread hand-offs of its own; on a small machine those hand-offs, not the disk, slow the
traffic beside them. Here the writes of ``window_s`` go to the writer thread as one
operation: one wake-up of the thread, one commit, one callback on the loop for all.

Each write still gets its own outcome: the group runs in one savepoint and, should any
write fail, runs again one savepoint per write, so a bad write fails alone. Every
``on_commit`` runs only after the COMMIT, as with ``SqliteWriter.write_fn``.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable

from .store import CommitCallback, SqliteWriter, StoreError, tell

Write = Callable[[sqlite3.Connection], None]

# A write waits at most this long for company. At 1,000 holds a second, this and the commit
# in progress gather 6-13 of them a commit (against 2 without the window).
WINDOW_S = 0.003
# A burst goes on at once when this many are waiting (one transaction stays short).
_MAX_WRITES = 500


class CommitWindow:
    def __init__(self, writer: SqliteWriter, *, window_s: float = WINDOW_S) -> None:
        self.writer = writer
        self.window_s = window_s
        self._writes: list[Write] = []
        self._callbacks: list[CommitCallback | None] = []
        self._timer: asyncio.TimerHandle | None = None

    def write_fn(self, fn: Write, on_commit: CommitCallback | None = None) -> None:
        """Queue ``fn`` for the next group; ``on_commit`` runs on the loop once it is durable.

        Writes reach the writer in the order they were queued here."""
        self._writes.append(fn)
        self._callbacks.append(on_commit)
        if len(self._writes) >= _MAX_WRITES:
            self.flush()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self.window_s, self.flush)

    def flush(self) -> None:
        """Hand what waits to the writer now (the timer, a full group, or shutting down)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._writes:
            return
        writes, callbacks = self._writes, self._callbacks
        self._writes, self._callbacks = [], []
        errors: list[Exception | None] = []

        def write(conn: sqlite3.Connection) -> None:
            errors.extend(_run(conn, writes))

        def committed(error: Exception | None) -> None:
            # ``errors`` was filled on the writer thread before this callback was scheduled;
            # it stays empty when the group itself could not run.
            for callback, own in zip(callbacks, errors or [error] * len(callbacks), strict=True):
                if callback is not None:
                    tell(callback, error or own)

        self.writer.write_fn(write, committed)


def _run(conn: sqlite3.Connection, writes: list[Write]) -> list[Exception | None]:
    """Every write in one savepoint; after a failure, each in its own."""
    conn.execute("SAVEPOINT window")
    try:
        for write in writes:
            write(conn)
    except Exception:
        conn.execute("ROLLBACK TO window")
        conn.execute("RELEASE window")
        return [_alone(conn, write) for write in writes]
    conn.execute("RELEASE window")
    return [None] * len(writes)


def _alone(conn: sqlite3.Connection, write: Write) -> Exception | None:
    conn.execute("SAVEPOINT one")
    try:
        write(conn)
    except Exception as error:
        conn.execute("ROLLBACK TO one")
        conn.execute("RELEASE one")
        return StoreError(f"{type(error).__name__}: {error}")
    conn.execute("RELEASE one")
    return None
