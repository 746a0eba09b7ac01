"""One SQLite database, one writer thread: queued writes committed in groups, WAL mode.

The event loop never waits on disk: it queues a write with an ``on_commit`` callback and
goes on; the thread commits everything queued so far in one transaction (group commit) and
calls back on the loop. Reads that must see committed state run on the same thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import sqlite_utils
import structlog

log = structlog.get_logger("otpgate")
T = TypeVar("T")
# Called on the event loop after the commit; the argument is the error, or None on success.
CommitCallback = Callable[[Exception | None], None]

_MAX_GROUP = 5000
_CHECKPOINT = "-- checkpoint"


class StoreError(RuntimeError):
    """SQLite failed; raised at the boundary in place of sqlite3's own errors."""


class _Op:
    __slots__ = ("args", "callback", "fn", "future", "many", "sql")

    def __init__(
        self,
        sql: str | None,
        args: Any,
        many: bool,
        callback: CommitCallback | None,
        fn: Callable[[sqlite3.Connection], Any] | None = None,
        future: asyncio.Future[Any] | None = None,
    ) -> None:
        self.sql, self.args, self.many, self.callback, self.fn, self.future = (
            sql,
            args,
            many,
            callback,
            fn,
            future,
        )


class SqliteWriter:
    """The single writer of one database file."""

    def __init__(
        self,
        path: Path,
        *,
        synchronous: str = "FULL",
        schema: Callable[[sqlite_utils.Database], None] | None = None,
        secure_delete: bool = False,
    ) -> None:
        self.path = path
        self._synchronous = synchronous
        self._schema = schema
        self._secure_delete = secure_delete
        self._queue: queue.SimpleQueue[_Op | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.last_commit_s = 0.0
        self.commits = 0
        self.last_error: str | None = None  # of the last group's COMMIT; None once one succeeds

    def open(self, loop: asyncio.AbstractEventLoop) -> None:
        """Create the schema and start the writer thread."""
        self._loop = loop
        self.path.parent.mkdir(parents=True, exist_ok=True)
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            try:
                conn = self._connect()
            except BaseException as error:  # reported to open() below
                failure.append(error)
                ready.set()
                return
            ready.set()
            self._serve(conn)

        self._thread = threading.Thread(
            target=run, name=f"sqlite-writer:{self.path.name}", daemon=True
        )
        self._thread.start()
        ready.wait()
        if failure:
            raise StoreError(f"{self.path}: cannot open: {failure[0]}") from failure[0]

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={self._synchronous}")
        if self._secure_delete:
            conn.execute("PRAGMA secure_delete=ON")
        if self._schema is not None:
            self._schema(sqlite_utils.Database(conn))
        return conn

    @property
    def alive(self) -> bool:
        """The writer thread runs and its last group committed (what /readyz reports)."""
        return self._thread is not None and self._thread.is_alive() and self.last_error is None

    @property
    def queue_depth(self) -> int:
        return self._queue.qsize()

    def write(
        self, sql: str, args: Sequence[Any] = (), on_commit: CommitCallback | None = None
    ) -> None:
        """Queue one statement; ``on_commit`` runs on the loop once it is durable."""
        self._queue.put(_Op(sql, args, False, on_commit))

    def write_many(
        self, sql: str, rows: Iterable[Sequence[Any]], on_commit: CommitCallback | None = None
    ) -> None:
        self._queue.put(_Op(sql, rows, True, on_commit))

    def write_fn(
        self, fn: Callable[[sqlite3.Connection], Any], on_commit: CommitCallback | None = None
    ) -> None:
        """Queue a function that writes several statements inside the group's transaction."""
        self._queue.put(_Op(None, None, False, on_commit, fn=fn))

    async def call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn`` on the writer thread after everything queued before it; return its result."""
        assert self._loop is not None
        future: asyncio.Future[T] = self._loop.create_future()
        self._queue.put(_Op(None, None, False, None, fn=fn, future=future))
        return await future

    async def checkpoint(self) -> None:
        """Fold the write-ahead log into the database and truncate it (after an erasure:
        the log still holds old pages). Runs between groups, outside any transaction."""
        assert self._loop is not None
        future: asyncio.Future[Any] = self._loop.create_future()
        self._queue.put(_Op(_CHECKPOINT, "TRUNCATE", False, None, future=future))
        await future

    def fold_log(self, on_done: CommitCallback) -> None:
        """Copy the write-ahead log into the database without blocking other connections'
        writes (a PASSIVE checkpoint); ``on_done`` runs on the loop after it."""
        self._queue.put(_Op(_CHECKPOINT, "PASSIVE", False, on_done))

    def close(self) -> None:
        """Commit what is queued, then stop the thread."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None

    def _serve(self, conn: sqlite3.Connection) -> None:
        get = self._queue.get
        get_nowait = self._queue.get_nowait
        while True:
            op = get()
            group: list[_Op] = []
            stop = op is None
            if op is not None:
                group.append(op)
                while len(group) < _MAX_GROUP:
                    try:
                        nxt = get_nowait()
                    except queue.Empty:
                        break
                    if nxt is None:
                        stop = True
                        break
                    group.append(nxt)
            checkpoints = [op for op in group if op.sql == _CHECKPOINT]
            group = [op for op in group if op.sql != _CHECKPOINT]
            if group:
                self._commit_group(conn, group)
            if checkpoints:
                error: Exception | None = None
                try:
                    for mode in sorted({op.args for op in checkpoints}):  # PASSIVE, TRUNCATE
                        conn.execute(f"PRAGMA wal_checkpoint({mode})")
                except sqlite3.Error as failure:
                    error = StoreError(f"checkpoint failed: {failure}")
                if self._loop is not None and not self._loop.is_closed():
                    with contextlib.suppress(RuntimeError):
                        self._loop.call_soon_threadsafe(
                            _deliver, [(op, None, error) for op in checkpoints], None
                        )
            if stop:
                conn.close()
                return

    def _commit_group(self, conn: sqlite3.Connection, group: list[_Op]) -> None:
        started = time.perf_counter()
        results: list[tuple[_Op, Any, Exception | None]] = []
        conn.execute("BEGIN")
        for op in group:
            # A savepoint per operation: one that fails leaves nothing half-written, and its
            # neighbours in the group still commit.
            conn.execute("SAVEPOINT op")
            try:
                if op.fn is not None:
                    result = op.fn(conn)
                elif op.many:
                    result = conn.executemany(op.sql, op.args)  # type: ignore[arg-type]
                else:
                    result = conn.execute(op.sql, op.args)  # type: ignore[arg-type]
                conn.execute("RELEASE op")
                results.append((op, result, None))
            except Exception as error:
                conn.execute("ROLLBACK TO op")
                conn.execute("RELEASE op")
                # The type too: "InterfaceError: ..." says more to an operator than the text.
                results.append((op, None, StoreError(f"{type(error).__name__}: {error}")))
        try:
            conn.execute("COMMIT")
            commit_error: Exception | None = None
            self.last_error = None
        except sqlite3.Error as error:
            commit_error = StoreError(f"commit failed: {error}")
            self.last_error = str(error)
            conn.execute("ROLLBACK")
        self.last_commit_s = time.perf_counter() - started
        self.commits += 1
        if self._loop is not None and not self._loop.is_closed():
            # The loop may close under us at shutdown: then nobody is waiting any more.
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(_deliver, results, commit_error)


def tell(callback: CommitCallback, error: Exception | None) -> None:
    """Run one commit callback; one that raises is logged, and the rest of its group, run
    after it, are still told."""
    try:
        callback(error)
    except Exception:
        log.exception("commit_callback_failed")


def _deliver(
    results: list[tuple[_Op, Any, Exception | None]], commit_error: Exception | None
) -> None:
    for op, result, error in results:
        error = commit_error or error
        if op.future is not None:
            if op.future.done():
                continue
            if error is not None:
                op.future.set_exception(error)
            else:
                op.future.set_result(result)
        elif op.callback is not None:
            tell(op.callback, error)
