"""Holds on disk: the record, its sealed PDU, and every transition, in the durable database.

The durable database runs with synchronous=FULL and secure_delete, so a committed hold
survives a power cut and a wiped PDU leaves no bytes behind in the freed pages. The PDU is
sealed (AES-GCM, the hold id as associated data) before it reaches SQLite, so no file ever
holds the text or the code in clear.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from ..commit_window import WINDOW_S, CommitWindow
from ..store import CommitCallback, SqliteWriter

HELD, RELEASING, RELEASED, CANCELLED, EXPIRED, FAILED = (
    "held",
    "releasing",
    "released",
    "cancelled",
    "expired",
    "failed",
)
OPEN_STATES = (HELD, RELEASING)
FINAL_STATES = (RELEASED, CANCELLED, EXPIRED, FAILED)
STATES = OPEN_STATES + FINAL_STATES


def create_tables(db: sqlite_utils.Database) -> None:
    db.execute(
        """CREATE TABLE IF NOT EXISTS holds (
            id TEXT PRIMARY KEY,
            account TEXT NOT NULL,
            tenant TEXT,
            source_addr TEXT NOT NULL,
            destination TEXT NOT NULL,
            rule TEXT NOT NULL,
            reasons TEXT NOT NULL,
            created_at REAL NOT NULL,
            expires_at REAL NOT NULL,
            expiry_action TEXT NOT NULL,
            validity_at REAL,
            validity_relative INTEGER NOT NULL,
            registered_delivery INTEGER NOT NULL,
            user_message_reference INTEGER,
            part_ids TEXT NOT NULL,
            state TEXT NOT NULL,
            updated_at REAL NOT NULL,
            upstream_route TEXT,
            upstream_id TEXT,
            sealed BLOB
        )"""
    )
    db.execute("CREATE INDEX IF NOT EXISTS holds_by_state ON holds (state, created_at)")
    db.execute("CREATE INDEX IF NOT EXISTS holds_by_account ON holds (account, created_at)")
    db.execute(
        """CREATE TABLE IF NOT EXISTS hold_events (
            hold_id TEXT NOT NULL,
            at REAL NOT NULL,
            state TEXT NOT NULL,
            actor TEXT NOT NULL,
            why TEXT NOT NULL
        )"""
    )
    db.execute("CREATE INDEX IF NOT EXISTS hold_events_by_hold ON hold_events (hold_id, at)")


@dataclass(slots=True)
class HoldRecord:
    """One hold's metadata, as the book keeps it in memory and the API shows it."""

    id: str
    account: str
    tenant: str | None
    source_addr: str
    destination: str
    rule: str
    # The reasons as stored (a JSON list): no tuple of dicts per open hold for the
    # collector's full walks to visit; ``reasons`` decodes it for the API and webhooks.
    reasons_json: str
    created_at: float
    expires_at: float
    expiry_action: str  # "drop" | "deliver"
    validity_at: float | None
    validity_relative: bool
    registered_delivery: int
    user_message_reference: int | None
    # The gateway id each part was acknowledged with, in order; the first is the hold's id.
    part_ids: tuple[str, ...]
    state: str = HELD
    updated_at: float = 0.0
    upstream_route: str | None = None
    upstream_id: str | None = None
    # Read only by the API's one-hold answer. An empty tuple, not a list, so that an open
    # hold adds no object of its own here for the collector's full walks to visit.
    history: tuple[tuple[float, str, str, str], ...] = ()

    @property
    def reasons(self) -> tuple[dict[str, Any], ...]:
        return tuple(json.loads(self.reasons_json))

    def row(self, sealed: bytes | None) -> tuple[Any, ...]:
        return (
            self.id,
            self.account,
            self.tenant,
            self.source_addr,
            self.destination,
            self.rule,
            self.reasons_json,
            self.created_at,
            self.expires_at,
            self.expiry_action,
            self.validity_at,
            int(self.validity_relative),
            self.registered_delivery,
            self.user_message_reference,
            " ".join(self.part_ids),
            self.state,
            self.updated_at,
            self.upstream_route,
            self.upstream_id,
            sealed,
        )


_COLUMNS = (
    "id, account, tenant, source_addr, destination, rule, reasons, created_at, expires_at,"
    " expiry_action, validity_at, validity_relative, registered_delivery,"
    " user_message_reference, part_ids, state, updated_at, upstream_route, upstream_id"
)


def _record(row: Sequence[Any]) -> HoldRecord:
    values = list(row)
    values[11] = bool(values[11])
    values[14] = tuple(values[14].split())
    return HoldRecord(*values)


@dataclass(frozen=True, slots=True)
class HoldQuery:
    state: str | None = None
    account: str | None = None
    tenant: str | None = None
    destination: str | None = None
    since: float | None = None
    until: float | None = None
    after_id: str | None = None  # the cursor: ids are time-ordered
    limit: int = 100


class HoldStore:
    """Inserts and transitions go through one commit window, so they reach the disk in the
    order they were made and a few milliseconds' worth share a commit. Reads go straight to
    the writer: they do not see writes still in the window, none of them acknowledged yet."""

    def __init__(self, writer: SqliteWriter, *, window_s: float = WINDOW_S) -> None:
        self.writer = writer
        self.window = CommitWindow(writer, window_s=window_s)

    def flush(self) -> None:
        """Hand the writes still waiting in the window to the writer (shutting down)."""
        self.window.flush()

    def insert(
        self,
        record: HoldRecord,
        sealed: bytes,
        actor: str,
        why: str,
        on_commit: CommitCallback,
        also: Callable[[sqlite3.Connection], None] | None = None,
    ) -> None:
        row = record.row(sealed)

        def write(conn: sqlite3.Connection) -> None:
            if also is not None:
                also(conn)
            conn.execute(f"INSERT INTO holds VALUES ({', '.join('?' * len(row))})", row)
            conn.execute(
                "INSERT INTO hold_events VALUES (?, ?, ?, ?, ?)",
                (record.id, record.created_at, HELD, actor, why),
            )

        self.window.write_fn(write, on_commit)

    def transition(
        self,
        record: HoldRecord,
        actor: str,
        why: str,
        on_commit: CommitCallback,
        *,
        receipts: Sequence[tuple[str, bytes]] = (),
        also: Callable[[sqlite3.Connection], None] | None = None,
    ) -> None:
        """Store the record's new state and the event; a final state wipes the sealed PDU.

        ``receipts`` (gateway id, encoded deliver_sm) are queued for the ESME in the same
        transaction, so a crash cannot keep the state and lose a receipt. ``also`` writes
        more in that transaction.
        """
        final = record.state in FINAL_STATES
        values = (
            record.state,
            record.updated_at,
            record.upstream_route,
            record.upstream_id,
            record.id,
        )
        event = (record.id, record.updated_at, record.state, actor, why)

        def write(conn: sqlite3.Connection) -> None:
            conn.execute(
                "UPDATE holds SET state = ?, updated_at = ?, upstream_route = ?, upstream_id = ?"
                + (", sealed = NULL" if final else "")
                + " WHERE id = ?",
                values,
            )
            conn.execute("INSERT INTO hold_events VALUES (?, ?, ?, ?, ?)", event)
            for gateway_id, pdu in receipts:
                conn.execute(
                    "INSERT INTO pending_receipts (account, gateway_id, pdu, created_at)"
                    " VALUES (?, ?, ?, ?)",
                    (record.account, gateway_id, pdu, record.updated_at),
                )
            if also is not None:
                also(conn)

        self.window.write_fn(write, on_commit)

    async def sealed(self, hold_id: str) -> bytes | None:
        def read(conn: sqlite3.Connection) -> bytes | None:
            row = conn.execute("SELECT sealed FROM holds WHERE id = ?", (hold_id,)).fetchone()
            return row[0] if row else None

        return await self.writer.call(read)

    async def open_holds(self) -> list[HoldRecord]:
        def read(conn: sqlite3.Connection) -> list[HoldRecord]:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM holds WHERE state IN (?, ?) ORDER BY id", OPEN_STATES
            ).fetchall()
            return [_record(row) for row in rows]

        return await self.writer.call(read)

    async def get(self, hold_id: str, *, with_history: bool = False) -> HoldRecord | None:
        def read(conn: sqlite3.Connection) -> HoldRecord | None:
            row = conn.execute(f"SELECT {_COLUMNS} FROM holds WHERE id = ?", (hold_id,)).fetchone()
            if row is None:
                return None
            record = _record(row)
            if with_history:
                record.history = tuple(
                    conn.execute(
                        "SELECT at, state, actor, why FROM hold_events WHERE hold_id = ?"
                        " ORDER BY at, rowid",
                        (hold_id,),
                    ).fetchall()
                )
            return record

        return await self.writer.call(read)

    async def find(self, query: HoldQuery) -> list[HoldRecord]:
        where, args = _filters(query)

        def read(conn: sqlite3.Connection) -> list[HoldRecord]:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM holds {where} ORDER BY created_at, id LIMIT ?",
                (*args, query.limit),
            ).fetchall()
            return [_record(row) for row in rows]

        return await self.writer.call(read)

    async def run(self, fn: Callable[[sqlite3.Connection], Any]) -> Any:
        return await self.writer.call(fn)


def _filters(query: HoldQuery) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    args: list[Any] = []
    for column, value in (
        ("state", query.state),
        ("account", query.account),
        ("tenant", query.tenant),
        ("destination", query.destination),
    ):
        if value is not None:
            clauses.append(f"{column} = ?")
            args.append(value)
    if query.since is not None:
        clauses.append("created_at >= ?")
        args.append(query.since)
    if query.until is not None:
        clauses.append("created_at < ?")
        args.append(query.until)
    if query.after_id is not None:
        clauses.append("(created_at, id) > (SELECT created_at, id FROM holds WHERE id = ?)")
        args.append(query.after_id)
    return ("WHERE " + " AND ".join(clauses)) if clauses else "", args
