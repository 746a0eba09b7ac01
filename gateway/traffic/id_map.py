"""The mapping (route, upstream id) -> (gateway id, account): recent rows in memory, all on disk.

Receipts and query_sm/cancel_sm need it. One row per message goes to a database of its own
at ``synchronous=NORMAL`` in WAL mode (a process crash loses nothing committed; a power
cut may lose the last rows, and with them receipts, never messages). Recent rows stay in
memory so the common receipt, seconds after its message, never touches the disk.

The ESME's submit_sm_resp waits for its row's commit, so that commit is on every message's
path. The event loop commits the rows itself, on a connection of its own: at NORMAL a
commit appends to the log without an fsync (~50 µs for a few rows), where handing them to
the writer thread and back cost two thread wake-ups, each waiting for a core and the
interpreter lock on a busy machine, and made most of the latency the gateway added (see
docs/benchmarks.md, "Tail latency"). That connection never waits for a lock and never
checkpoints (a checkpoint fsyncs): when the database is busy (the writer thread purging or
writing audit rows) the rows go to the writer thread as before. The log is kept bounded in
two steps every ``_FOLD_EVERY`` groups: the writer thread copies the log into the database
while the loop goes on committing (a PASSIVE checkpoint, ~10 ms for 1,000 groups), then
commits the next group itself, whose automatic checkpoint folds in the few pages added
meanwhile while the loop writes nothing, so the log starts over from its beginning.
Rows without a waiting ESME (``on_commit`` None) wait up to 10 ms for company; a row with
one is committed in the next pass of the loop, with the rows that came in the same pass.
"""

from __future__ import annotations

import asyncio
import functools
import sqlite3
import time
from collections import deque
from pathlib import Path
from typing import Final, NamedTuple

import sqlite_utils

from .. import audit
from ..store import CommitCallback, SqliteWriter, tell
from .message_ids import MessageIdGenerator


class MappedMessage(NamedTuple):
    """One message's mapping. A named tuple rather than a frozen dataclass: one is made for
    every message, and a tuple is built in a third of the time."""

    route: str
    upstream_id: str
    gateway_id: str
    account: str
    registered_delivery: int
    created_at: float


# A mapping as kept in memory: a plain tuple of MappedMessage's fields. The collector stops
# tracking a plain tuple of strings and numbers once it has seen it, but walks a named tuple
# for as long as it lives, here 120 s: the upkeep's full collection every 5 s walked the
# 25,000 made since its last freeze at 5,000 messages a second, 10-20 ms with the loop stopped.
_Kept = tuple[str, str, str, str, int, float]
_CREATED_AT: Final = 5


def _schema(db: sqlite_utils.Database) -> None:
    # Keyed by the gateway id's integer: ids grow with time, so inserts append to the table
    # and the retention purge is a range delete; the time of a row is read off its id.
    db.execute(
        """CREATE TABLE IF NOT EXISTS message_map (
            id INTEGER PRIMARY KEY, route TEXT NOT NULL, upstream_id TEXT NOT NULL,
            account TEXT NOT NULL, registered_delivery INTEGER NOT NULL)"""
    )
    db.table("message_map").create_index(["route", "upstream_id"], if_not_exists=True)
    audit.create_tables(db)


_ROWS_PER_STATEMENT = 1000
# Rows are batched for 10 ms: fewer, larger commits.
_FLUSH_DELAY_S = 0.01
# Every this many groups the log is folded into the database (a group adds 2-3 pages; the
# writer's connection checkpoints by itself at 1,000, SQLite's default). When the group
# after the fold was the whole checkpoint, its rows waited 10-15 ms at 5,000 messages a
# second, two or three times a second: most of the p99 the gateway added.
_FOLD_EVERY = 1000


@functools.cache
def _insert_sql(rows: int) -> str:
    # One statement for many rows: sqlite3 releases the GIL once per statement rather than
    # once per row, so the writer thread stops stealing the event loop's interpreter lock.
    return "INSERT OR REPLACE INTO message_map VALUES " + ",".join(["(?, ?, ?, ?, ?)"] * rows)


_COLUMNS = "id, route, upstream_id, account, registered_delivery"
# A message_map row as read with _COLUMNS.
_Row = tuple[int, str, str, str, int]


def _insert_rows(rows: list[tuple[object, ...]], conn: sqlite3.Connection) -> None:
    for start in range(0, len(rows), _ROWS_PER_STATEMENT):
        chunk = rows[start : start + _ROWS_PER_STATEMENT]
        conn.execute(_insert_sql(len(chunk)), [value for row in chunk for value in row])


def _loop_connection(path: Path) -> sqlite3.Connection:
    """The event loop's connection: it never waits for a lock (timeout 0: a busy database
    raises at once) and never checkpoints."""
    conn = sqlite3.connect(path, isolation_level=None, timeout=0, check_same_thread=False)
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA wal_autocheckpoint=0")
    return conn


def _commit_rows(rows: list[tuple[object, ...]], conn: sqlite3.Connection) -> None:
    """Commit ``rows`` or nothing; sqlite3.Error when the database is busy or failing."""
    if len(rows) <= _ROWS_PER_STATEMENT:
        _insert_rows(rows, conn)  # one statement outside a transaction commits itself
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        _insert_rows(rows, conn)
        conn.execute("COMMIT")
    except sqlite3.Error:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


class IdMap:
    def __init__(self, path: Path, ids: MessageIdGenerator, *, memory_s: float = 120.0) -> None:
        self.ids = ids
        self.writer = SqliteWriter(path, synchronous="NORMAL", schema=_schema)
        self._memory_s = memory_s
        self._by_upstream: dict[tuple[str, str], _Kept] = {}
        self._by_gateway: dict[str, _Kept] = {}
        self._order: deque[_Kept] = deque()
        self._pending_rows: list[tuple[object, ...]] = []
        self._waiting: list[CommitCallback] = []
        self._flush_soon = False
        self._committing = False  # a group of ours is with the writer
        self._groups = 0
        # The fold: "copying" while the writer copies the log, "closing" once the next group
        # is to go to the writer, None otherwise.
        self._fold: str | None = None
        self._loop_commit_s: float | None = None  # the last commit's, if on the loop
        self._loop: asyncio.AbstractEventLoop | None = None
        self._conn: sqlite3.Connection | None = None

    def open(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self.writer.open(loop)  # creates the schema and sets WAL mode
        self._conn = _loop_connection(self.writer.path)

    def close(self) -> None:
        self._flush(force=True)
        self.writer.close()
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def record(self, message: MappedMessage, on_commit: CommitCallback | None = None) -> None:
        """Keep the mapping; ``on_commit`` runs on the loop once its row is on disk."""
        kept = message[:]  # a plain tuple (see _Kept)
        self._by_upstream[(message.route, message.upstream_id)] = kept
        self._by_gateway[message.gateway_id] = kept
        self._order.append(kept)
        if self._loop is not None:
            if on_commit is not None:
                self._waiting.append(on_commit)
                if not self._flush_soon and not self._committing:
                    # Group commit: rows that arrive while the writer commits go in its next group.
                    self._flush_soon = True
                    self._loop.call_soon(self._flush)
            elif not self._pending_rows:
                self._loop.call_later(_FLUSH_DELAY_S, self._flush)
        self._pending_rows.append(
            (
                self.ids.parse(message.gateway_id),
                message.route,
                message.upstream_id,
                message.account,
                message.registered_delivery,
            )
        )
        cutoff = message.created_at - self._memory_s
        if self._order[0][_CREATED_AT] < cutoff:  # rarely: no call for nothing to forget
            self._forget_older_than(cutoff)

    def _flush(self, *, force: bool = False) -> None:
        self._flush_soon = False
        if not self._pending_rows or (self._committing and not force):
            return
        rows, self._pending_rows = self._pending_rows, []
        waiting, self._waiting = self._waiting, []
        if not self._committing and self._commit_here(rows):
            for callback in waiting:
                tell(callback, None)
            return
        self._committing = True
        self.writer.write_fn(
            functools.partial(_insert_rows, rows),
            on_commit=functools.partial(self._committed, waiting),
        )

    def _commit_here(self, rows: list[tuple[object, ...]]) -> bool:
        """Commit on the loop; False leaves the rows to the writer thread."""
        self._groups += 1
        if self._conn is None or self._fold == "closing":
            self._fold = None
            return False
        if self._groups % _FOLD_EVERY == 0 and self._fold is None:
            self._fold = "copying"
            self.writer.fold_log(self._copied)
        started = time.perf_counter()
        try:
            _commit_rows(rows, self._conn)
            self._loop_commit_s = time.perf_counter() - started
        except sqlite3.Error:
            # Busy (the writer thread holds the lock), or failing: the writer waits for the
            # lock, and reports a failure to the callbacks and to /readyz.
            return False
        return True

    def _copied(self, error: Exception | None) -> None:
        # A failed fold is retried at the next one; the writer's own commits checkpoint too.
        self._fold = "closing" if error is None else None

    @property
    def last_commit_s(self) -> float:
        """How long the last commit of mapping rows took, on the loop or in the writer."""
        on_loop = self._loop_commit_s
        return self.writer.last_commit_s if on_loop is None else on_loop

    def _committed(self, waiting: list[CommitCallback], error: Exception | None) -> None:
        self._committing = False
        self._loop_commit_s = None
        for callback in waiting:
            tell(callback, error)
        self._flush()  # what came while this group was with the writer

    def _forget_older_than(self, cutoff: float) -> None:
        order = self._order
        while order and order[0][_CREATED_AT] < cutoff:
            route, upstream_id, gateway_id, *_ = order.popleft()
            self._by_upstream.pop((route, upstream_id), None)
            self._by_gateway.pop(gateway_id, None)

    def recent_by_upstream(self, route: str, upstream_id: str) -> MappedMessage | None:
        """The mapping if it is still in memory (no disk access)."""
        found = self._by_upstream.get((route, upstream_id))
        return None if found is None else MappedMessage._make(found)

    async def by_upstream(self, route: str, upstream_id: str) -> MappedMessage | None:
        found = self._by_upstream.get((route, upstream_id))
        if found is not None:
            return MappedMessage._make(found)

        def read(conn: sqlite3.Connection) -> _Row | None:
            row: _Row | None = conn.execute(
                f"SELECT {_COLUMNS} FROM message_map WHERE route = ? AND upstream_id = ?"
                " ORDER BY id DESC LIMIT 1",
                (route, upstream_id),
            ).fetchone()
            return row

        self._flush(force=True)
        return self._from_row(await self.writer.call(read))

    async def by_gateway_id(self, gateway_id: str) -> MappedMessage | None:
        found = self._by_gateway.get(gateway_id)
        if found is not None:
            return MappedMessage._make(found)
        key = self.ids.parse(gateway_id)
        if key is None:
            return None

        def read(conn: sqlite3.Connection) -> _Row | None:
            row: _Row | None = conn.execute(
                f"SELECT {_COLUMNS} FROM message_map WHERE id = ?", (key,)
            ).fetchone()
            return row

        self._flush(force=True)
        return self._from_row(await self.writer.call(read))

    def _from_row(self, row: _Row | None) -> MappedMessage | None:
        if row is None:
            return None
        key, route, upstream_id, account, registered_delivery = row
        return MappedMessage(
            route,
            upstream_id,
            self.ids.format(key),
            account,
            registered_delivery,
            self.ids.issued_at(key),
        )

    def purge(self, before: float) -> None:
        """Drop rows of messages older than ``before`` (the retention job)."""
        self.writer.write("DELETE FROM message_map WHERE id < ?", (self.ids.first_id_at(before),))
