"""The audit of every non-default decision: when, whose, which rule, why. Never the text.

Kept beside the id mapping (synchronous=NORMAL: WAL survives a process crash; the last
moments before a power cut may be lost, which an audit trail can bear). The destination
is stored as the keyed pseudonym the logs use, so the operator can still search by number.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import sqlite_utils

from policies.decisions import Verdict

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


class DecisionAudit:
    def __init__(self, writer: SqliteWriter) -> None:
        self.writer = writer

    def record(
        self,
        at: float,
        account: str,
        tenant: str | None,
        destination: str,
        verdict: Verdict,
        parts: int = 1,
    ) -> None:
        self.writer.write(
            "INSERT INTO decision_audit VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                at,
                account,
                tenant,
                pseudonym(destination),
                verdict.decision,
                verdict.rule,
                json.dumps([r.to_json() for r in verdict.reasons]),
                json.dumps([s.rule for s in verdict.shadow]),
                parts,
            ),
        )

    async def erase(self, destination: str) -> int:
        subscriber = pseudonym(destination)

        def run(conn: sqlite3.Connection) -> int:
            return conn.execute(
                "DELETE FROM decision_audit WHERE subscriber = ?", (subscriber,)
            ).rowcount

        return await self.writer.call(run)

    async def purge(self, before: float) -> int:
        def run(conn: sqlite3.Connection) -> int:
            return conn.execute("DELETE FROM decision_audit WHERE at < ?", (before,)).rowcount

        return await self.writer.call(run)


def rows(conn: sqlite3.Connection, since: float) -> list[dict[str, Any]]:
    cursor = conn.execute(
        "SELECT at, account, tenant, subscriber, decision, rule, reasons, shadow, parts"
        " FROM decision_audit WHERE at >= ? ORDER BY at",
        (since,),
    )
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor]
