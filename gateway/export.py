"""``otpgate export``: held, dropped and cancelled messages for billing and revenue assurance.

Read straight from the durable database (WAL lets a reader run beside the gateway). One
row per hold: who sent it, to whom, which rule, what became of it and when. Never the text
or the code: the sealed PDU is not read at all.
"""

from __future__ import annotations

import csv
import json
import sqlite3
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

COLUMNS = (
    "id",
    "state",
    "account",
    "tenant",
    "source_addr",
    "destination",
    "rule",
    "created_at",
    "updated_at",
    "expires_at",
    "parts",
)
DEFAULT_STATES = ("held", "releasing", "released", "cancelled", "expired", "failed")


def _time(at: float | None) -> str | None:
    return None if at is None else datetime.fromtimestamp(at, UTC).isoformat()


def rows(
    database: Path, states: tuple[str, ...], since: float | None, until: float | None
) -> Iterator[dict[str, object]]:
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        query = (
            "SELECT id, state, account, tenant, source_addr, destination, rule, created_at,"
            " updated_at, expires_at, part_ids FROM holds WHERE state IN"
            f" ({', '.join('?' * len(states))}) AND created_at >= ? AND created_at < ?"
            " ORDER BY created_at, id"
        )
        args = (*states, since if since is not None else 0.0, until if until is not None else 1e12)
        for row in conn.execute(query, args):
            values = dict(zip(COLUMNS, row, strict=True))
            values["parts"] = len(str(row[10]).split())
            for key in ("created_at", "updated_at", "expires_at"):
                values[key] = _time(values[key])
            yield values
    finally:
        conn.close()


def export(
    data_dir: Path,
    *,
    fmt: str = "csv",
    states: tuple[str, ...] = DEFAULT_STATES,
    since: float | None = None,
    until: float | None = None,
    out: TextIO = sys.stdout,
) -> int:
    database = data_dir / "otpgate.sqlite"
    if not database.exists():
        raise FileNotFoundError(f"{database}: no such database (is --data-dir right?)")
    count = 0
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=COLUMNS)
        writer.writeheader()
        for row in rows(database, states, since, until):
            writer.writerow(row)
            count += 1
    else:
        for row in rows(database, states, since, until):
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    return count
