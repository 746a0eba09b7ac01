"""What a CAMARA SIM swap subscription adds to its webhook endpoint: an expiry, an event
budget, the sink's own access token, and how it ended.

Kept beside the ``webhooks`` table rather than in it, so databases made before these terms
existed need no migration. An ended subscription keeps its endpoint until its
``subscription-ends`` event has left the outbox: the dispatcher sends only to endpoints it
knows, and the platform must hear that the subscription ended.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import sqlite_utils

from ..holds.sealing import Sealer
from ..store import SqliteWriter

SWAPPED = "org.camaraproject.sim-swap-subscriptions.v0.swapped"
ENDS = "org.camaraproject.sim-swap-subscriptions.v0.subscription-ends"
CLOUDEVENTS_JSON = "application/cloudevents+json"

Writer = Callable[[sqlite3.Connection], None]


def create_tables(db: sqlite_utils.Database) -> None:
    db.execute(
        """CREATE TABLE IF NOT EXISTS camara_subscriptions (
            webhook_id TEXT PRIMARY KEY,
            expires_at REAL,
            max_events INTEGER,
            events_sent INTEGER NOT NULL,
            sink_token BLOB,
            sink_token_expires_at REAL,
            ended TEXT,
            ended_at REAL
        )"""
    )


@dataclass(frozen=True, slots=True)
class Terms:
    webhook_id: str
    expires_at: float | None = None
    max_events: int | None = None
    events_sent: int = 0
    sink_token: str | None = None  # in memory only; sealed on disk
    sink_token_expires_at: float | None = None
    ended: str | None = None  # the termination reason, once ended
    ended_at: float | None = None

    def live(self, now: float) -> bool:
        return self.ended is None and (self.expires_at is None or now < self.expires_at)


class SubscriptionTerms:
    """Every subscription's terms in memory (read on every SIM swap), written through."""

    def __init__(self, writer: SqliteWriter, sealer: Sealer) -> None:
        self.writer = writer
        self.sealer = sealer
        self.by_id: dict[str, Terms] = {}

    async def load(self) -> None:
        def read(conn: sqlite3.Connection) -> list[tuple[Any, ...]]:
            return conn.execute("SELECT * FROM camara_subscriptions").fetchall()

        for row in await self.writer.call(read):
            token = None
            if row[4] is not None:
                token = self.sealer.open(row[4], row[0].encode()).decode()
            self.by_id[row[0]] = Terms(row[0], row[1], row[2], row[3], token, *row[5:])

    def get(self, webhook_id: str) -> Terms:
        return self.by_id.get(webhook_id) or Terms(webhook_id)

    def put(self, terms: Terms) -> Writer:
        """Take ``terms`` now; the writer to run in the transaction that acts on them."""
        self.by_id[terms.webhook_id] = terms
        sealed = None
        if terms.sink_token is not None:
            sealed = self.sealer.seal(terms.sink_token.encode(), terms.webhook_id.encode())
        row = (
            terms.webhook_id, terms.expires_at, terms.max_events, terms.events_sent, sealed,
            terms.sink_token_expires_at, terms.ended, terms.ended_at,
        )  # fmt: skip

        def write(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT OR REPLACE INTO camara_subscriptions VALUES (?,?,?,?,?,?,?,?)", row
            )

        return write

    async def save(self, terms: Terms) -> None:
        await self.writer.call(self.put(terms))

    def ended(self, terms: Terms, reason: str, now: float) -> Writer:
        return self.put(replace(terms, ended=reason, ended_at=now))

    def due_to_expire(self, now: float) -> list[Terms]:
        return [t for t in self.by_id.values() if t.ended is None and not t.live(now)]

    def token_lapsed(self, now: float) -> list[Terms]:
        """Live subscriptions whose sink's access token has expired."""
        return [
            t
            for t in self.by_id.values()
            if t.ended is None
            and t.sink_token_expires_at is not None
            and now >= t.sink_token_expires_at
        ]

    def ended_ids(self) -> list[str]:
        return [t.webhook_id for t in self.by_id.values() if t.ended is not None]

    async def forget(self, webhook_id: str) -> None:
        def write(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM camara_subscriptions WHERE webhook_id = ?", (webhook_id,))

        await self.writer.call(write)
        self.by_id.pop(webhook_id, None)

    def delivery_headers(
        self, webhook_id: str, phone_number: str | None, now: float
    ) -> dict[str, str]:
        """What a CAMARA notification carries beyond the signature: CloudEvents' structured
        content type, and the sink's bearer token while it is valid."""
        if phone_number is None:  # a tenant's own webhook, not a CAMARA subscription
            return {}
        headers = {"content-type": CLOUDEVENTS_JSON}
        terms = self.by_id.get(webhook_id)
        if terms is not None and terms.sink_token is not None:
            expires = terms.sink_token_expires_at
            if expires is None or now < expires:
                headers["authorization"] = f"Bearer {terms.sink_token}"
        return headers
