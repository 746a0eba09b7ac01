"""The audit of every non-default decision (when, whose, which rule, why; never the text),
and of every pull from a peer operator (when, which peer, whose number, what it answered).

Kept beside the id mapping (synchronous=NORMAL: WAL survives a process crash; the last
moments before a power cut may be lost, which an audit trail can bear). The destination
is stored as the keyed pseudonym the logs use, so the operator can still search by number.

Rows wait up to ``FLUSH_DELAY_S`` on the event loop and go to the writer thread together,
through a ``CommitWindow`` as the holds' writes do: a row of its own per held message made
a commit, and a thread wake-up, per decision (1,000 a second beside the traffic at 1,000
holds/s). A process killed in those 10 ms loses their audit rows, never the holds
themselves.
"""

from __future__ import annotations

import functools
import json
import sqlite3
from typing import Any

import sqlite_utils

from policies.decisions import Verdict

from .commit_window import CommitWindow
from .logs import pseudonym
from .store import SqliteWriter


def create_tables(db: sqlite_utils.Database) -> None:
    db.execute(
        """CREATE TABLE IF NOT EXISTS decision_audit (
            at REAL NOT NULL,
            account TEXT NOT NULL,
            tenant TEXT,
            subscriber TEXT NOT NULL,
            decision TEXT NOT NULL,
            rule TEXT,
            reasons TEXT NOT NULL,
            shadow TEXT NOT NULL,
            parts INTEGER NOT NULL
        )"""
    )
    db.execute("CREATE INDEX IF NOT EXISTS audit_by_time ON decision_audit (at)")
    db.execute("CREATE INDEX IF NOT EXISTS audit_by_subscriber ON decision_audit (subscriber)")
    db.execute(
        """CREATE TABLE IF NOT EXISTS peer_audit (
            at REAL NOT NULL,
            peer TEXT NOT NULL,
            subscriber TEXT NOT NULL,
            answer TEXT NOT NULL,
            latency_ms REAL NOT NULL
        )"""
    )
    db.execute("CREATE INDEX IF NOT EXISTS peer_audit_by_time ON peer_audit (at)")
    db.execute("CREATE INDEX IF NOT EXISTS peer_audit_by_subscriber ON peer_audit (subscriber)")


FLUSH_DELAY_S = 0.01
_DECISION = "INSERT INTO decision_audit VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
_PULL = "INSERT INTO peer_audit VALUES (?, ?, ?, ?, ?)"


class DecisionAudit:
    def __init__(self, writer: SqliteWriter) -> None:
        self.writer = writer
        self._window = CommitWindow(writer, window_s=FLUSH_DELAY_S)

    def record(
        self,
        at: float,
        account: str,
        tenant: str | None,
        destination: str,
        verdict: Verdict,
        parts: int = 1,
    ) -> None:
        row = (
            at,
            account,
            tenant,
            pseudonym(destination),
            verdict.decision,
            verdict.rule,
            json.dumps([r.to_json() for r in verdict.reasons]),
            json.dumps([s.rule for s in verdict.shadow]),
            parts,
        )
        self._window.write_fn(functools.partial(_insert, _DECISION, row))

    def record_pull(
        self, at: float, peer: str, destination: str, answer: str, latency_ms: float
    ) -> None:
        """One pull from a peer: ``answer`` holds ages and flags or ``failed:<reason>``."""
        row = (at, peer, pseudonym(destination), answer, round(latency_ms, 2))
        self._window.write_fn(functools.partial(_insert, _PULL, row))

    def flush(self) -> None:
        """Hand the waiting rows to the writer thread now (before a read, an erasure, a stop)."""
        self._window.flush()

    async def erase(self, destination: str) -> int:
        self.flush()
        subscriber = pseudonym(destination)

        def run(conn: sqlite3.Connection) -> int:
            return sum(
                conn.execute(f"DELETE FROM {table} WHERE subscriber = ?", (subscriber,)).rowcount
                for table in ("decision_audit", "peer_audit")
            )

        return await self.writer.call(run)

    async def purge(self, before: float) -> int:
        self.flush()

        def run(conn: sqlite3.Connection) -> int:
            return sum(
                conn.execute(f"DELETE FROM {table} WHERE at < ?", (before,)).rowcount
                for table in ("decision_audit", "peer_audit")
            )

        return await self.writer.call(run)


def _insert(sql: str, row: tuple[Any, ...], conn: sqlite3.Connection) -> None:
    conn.execute(sql, row)


def rows(conn: sqlite3.Connection, since: float) -> list[dict[str, Any]]:
    return _dicts(
        conn.execute(
            "SELECT at, account, tenant, subscriber, decision, rule, reasons, shadow, parts"
            " FROM decision_audit WHERE at >= ? ORDER BY at",
            (since,),
        )
    )


def pull_rows(conn: sqlite3.Connection, since: float) -> list[dict[str, Any]]:
    return _dicts(
        conn.execute(
            "SELECT at, peer, subscriber, answer, latency_ms FROM peer_audit"
            " WHERE at >= ? ORDER BY at",
            (since,),
        )
    )


def _dicts(cursor: sqlite3.Cursor) -> list[dict[str, Any]]:
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor]
