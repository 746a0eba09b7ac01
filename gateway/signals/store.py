"""The signal store: every accepted signal appended, and each number's current state kept.

Two tables in ``signals.sqlite`` (WAL, synchronous=FULL, one writer thread, group commit):

- ``signals``: the log, one row per accepted signal, unique by ``event_id`` (the sender's,
  or a hash of the signal's content when it gave none, so a broker's redelivery is a
  duplicate too). Location updates are stored without their GTs. Purged by retention.
- ``subscriber_state``: the risk index's packed state per number, written in the same
  transaction as the signal that changed it. The index is rebuilt from this table, not by
  replaying the log: the log is purged after 30 days while an IMSI seen a year ago must
  still count as known.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import orjson
import sqlite_utils

from ..store import SqliteWriter
from .model import Signal, signal_to_record
from .risk_state import oldest_place

# States read at a time by the rebuild: ~7 MB of tuples, against ~3 GiB of index at 50 M.
_STATE_CHUNK: Final = 50_000

# (event_id, kind, msisdn key, occurred_at, received_at, source, record JSON)
SignalRow = tuple[str, str, int, float, float, str, str]
# (msisdn key, packed state, oldest place time or None)
StateRow = tuple[int, bytes, float | None]


def create_tables(db: sqlite_utils.Database) -> None:
    db.execute(
        """CREATE TABLE IF NOT EXISTS signals (
            event_id TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            msisdn_key INTEGER NOT NULL,
            occurred_at REAL NOT NULL,
            received_at REAL NOT NULL,
            source TEXT NOT NULL,
            record TEXT NOT NULL
        ) WITHOUT ROWID"""
    )
    db.execute("CREATE INDEX IF NOT EXISTS signals_by_time ON signals (kind, occurred_at)")
    db.execute("CREATE INDEX IF NOT EXISTS signals_by_number ON signals (msisdn_key)")
    db.execute(
        """CREATE TABLE IF NOT EXISTS subscriber_state (
            msisdn_key INTEGER PRIMARY KEY,
            state BLOB NOT NULL,
            oldest_place REAL
        )"""
    )
    db.execute(
        "CREATE INDEX IF NOT EXISTS state_by_place ON subscriber_state (oldest_place)"
        " WHERE oldest_place IS NOT NULL"
    )


# json.dumps with any option builds a new encoder per call; these are built once (a record
# holds no containers, so the circular check only cost time). The canonical form stays
# json's: derived event ids must not change with the encoder.
_COMPACT_JSON = json.JSONEncoder(separators=(",", ":"), check_circular=False).encode
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), check_circular=False).encode


def _compact(record: dict[str, Any]) -> str:
    """The stored record: orjson is 4-7 times faster than json on a signal's record. Its
    text is json's but for non-ASCII characters, written as UTF-8 rather than escaped."""
    try:
        return orjson.dumps(record).decode()
    except TypeError:  # a lone surrogate from an HTTP body, which json escapes
        return _COMPACT_JSON(record)


def event_id_of(signal: Signal, record: dict[str, Any]) -> str:
    """The sender's id, or one derived from the content (a repeat is the same fact)."""
    if signal.event_id is not None:
        return signal.event_id
    canonical = _CANONICAL(record)
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()[:32]


def signal_row(signal: Signal, received_at: float, source: str) -> SignalRow:
    record = signal_to_record(signal)
    return (
        event_id_of(signal, record),
        signal.kind,
        int(signal.msisdn),
        signal.occurred_at,
        received_at,
        source,
        _compact(record),
    )


_LOOKUP_CHUNK = 500  # ids per IN (...) look-up, far below SQLite's limit on parameters


def _known_ids(conn: sqlite3.Connection, ids: list[str]) -> set[str]:
    """The ids among ``ids`` that the signals table already holds."""
    known: set[str] = set()
    for start in range(0, len(ids), _LOOKUP_CHUNK):
        chunk = ids[start : start + _LOOKUP_CHUNK]
        marks = ",".join("?" * len(chunk))
        query = f"SELECT event_id FROM signals WHERE event_id IN ({marks})"
        known.update(event_id for (event_id,) in conn.execute(query, chunk))
    return known


def state_row(key: int, blob: bytes) -> StateRow:
    return (key, blob, oldest_place(blob))


@dataclass(frozen=True, slots=True)
class PurgeReport:
    location_updates: int
    other_signals: int
    states_trimmed: int


class SignalStore:
    """Writes go through the writer thread; every callback runs on the event loop."""

    def __init__(self, path: Path) -> None:
        # secure_delete: an erased number leaves no bytes behind in freed pages.
        self.writer = SqliteWriter(
            path, synchronous="FULL", schema=create_tables, secure_delete=True
        )

    def open(self, loop: Any) -> None:
        self.writer.open(loop)

    def close(self) -> None:
        self.writer.close()

    def append(
        self,
        rows: Sequence[SignalRow],
        states: Sequence[StateRow],
        on_commit: Callable[[list[bool] | None, Exception | None], None],
    ) -> None:
        """Append signals and upsert states in one transaction (grouped with others).

        ``on_commit`` gets, per row, whether it was new (False: a known ``event_id``).
        """
        outcome: list[bool] = []

        def write(conn: sqlite3.Connection) -> None:
            # One look-up for the known ids and one executemany for the new rows: a
            # statement per row cost more than the rest of the transaction.
            known = _known_ids(conn, [row[0] for row in rows])
            fresh = []
            for row in rows:
                new = row[0] not in known
                if new:
                    known.add(row[0])  # a repeat within the batch is a duplicate too
                    fresh.append(row)
                outcome.append(new)
            # No OR IGNORE: every id was checked above, so a conflict here is a fault, and
            # the savepoint undoes the whole batch (none of it is acknowledged).
            conn.executemany("INSERT INTO signals VALUES (?, ?, ?, ?, ?, ?, ?)", fresh)
            if states:
                conn.executemany(
                    "INSERT INTO subscriber_state VALUES (?, ?, ?) ON CONFLICT (msisdn_key)"
                    " DO UPDATE SET state = excluded.state, oldest_place = excluded.oldest_place",
                    states,
                )

        def committed(error: Exception | None) -> None:
            on_commit(None if error else outcome, error)

        self.writer.write_fn(write, committed)

    async def states(
        self, *, chunk_size: int = _STATE_CHUNK
    ) -> AsyncIterator[list[tuple[int, bytes]]]:
        """Every stored state (the rebuild), in key order, ``chunk_size`` at a time.

        In chunks so that the rebuild's peak stays near the index's own size: the whole table
        as one list of tuples cost ~150 B per number while it lived (7-8 GiB at 50 million).
        Each chunk is its own read, from the key after the last one (the primary key is the
        rowid, so this is a range scan): no cursor stays open across the writer's other work.
        """
        after = -1

        def read(conn: sqlite3.Connection) -> list[tuple[int, bytes]]:
            # In key order: the index appends each state instead of inserting it.
            rows: list[tuple[int, bytes]] = conn.execute(
                "SELECT msisdn_key, state FROM subscriber_state WHERE msisdn_key > ?"
                " ORDER BY msisdn_key LIMIT ?",
                (after, chunk_size),
            ).fetchall()
            return rows

        while True:
            rows = await self.writer.call(read)
            if not rows:
                return
            after = rows[-1][0]
            yield rows
            if len(rows) < chunk_size:
                return

    async def state_count(self) -> int:
        """How many numbers have a stored state (for the rebuild's progress log)."""

        def read(conn: sqlite3.Connection) -> int:
            count: int = conn.execute("SELECT count(*) FROM subscriber_state").fetchone()[0]
            return count

        return await self.writer.call(read)

    async def keys_with_places_before(self, cutoff: float) -> list[int]:
        def read(conn: sqlite3.Connection) -> list[int]:
            rows = conn.execute(
                "SELECT msisdn_key FROM subscriber_state WHERE oldest_place < ?", (cutoff,)
            )
            return [key for (key,) in rows]

        return await self.writer.call(read)

    async def purge(
        self, *, location_before: float, others_before: float, states: Sequence[StateRow]
    ) -> PurgeReport:
        """Delete signals older than their retention and store the trimmed states, atomically."""

        def run(conn: sqlite3.Connection) -> PurgeReport:
            locations = conn.execute(
                "DELETE FROM signals WHERE kind = 'location_update' AND occurred_at < ?",
                (location_before,),
            ).rowcount
            others = conn.execute(
                "DELETE FROM signals WHERE kind != 'location_update' AND occurred_at < ?",
                (others_before,),
            ).rowcount
            conn.executemany(
                "UPDATE subscriber_state SET state = ?, oldest_place = ? WHERE msisdn_key = ?",
                [(blob, oldest, key) for key, blob, oldest in states],
            )
            return PurgeReport(locations, others, len(states))

        return await self.writer.call(run)

    async def erase(self, key: int) -> tuple[int, int]:
        """Remove every signal and the state of one number; (signals, states) removed."""

        def run(conn: sqlite3.Connection) -> tuple[int, int]:
            signals = conn.execute("DELETE FROM signals WHERE msisdn_key = ?", (key,)).rowcount
            states = conn.execute(
                "DELETE FROM subscriber_state WHERE msisdn_key = ?", (key,)
            ).rowcount
            return signals, states

        return await self.writer.call(run)

    async def sources_of(self, key: int) -> Iterator[tuple[str, str, float]]:
        """(kind, source, occurred_at) of the number's retained signals, newest first."""

        def read(conn: sqlite3.Connection) -> list[tuple[str, str, float]]:
            return conn.execute(
                "SELECT kind, source, occurred_at FROM signals WHERE msisdn_key = ?"
                " ORDER BY occurred_at DESC LIMIT 50",
                (key,),
            ).fetchall()

        return iter(await self.writer.call(read))
