"""Webhook endpoints per tenant: URL, event types, and a signing secret sealed at rest.

HMAC needs the secret in clear when signing, so it cannot be hashed; it is sealed with the
gateway's key ring (the webhook id as associated data). After a rotation the previous
secret keeps signing beside the new one until the overlap ends.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from dataclasses import dataclass, replace
from typing import Any

import sqlite_utils

from ..holds.sealing import Sealer
from ..store import SqliteWriter
from ..times import rfc3339
from .signing import new_secret


def create_tables(db: sqlite_utils.Database) -> None:
    db.execute(
        """CREATE TABLE IF NOT EXISTS webhooks (
            id TEXT PRIMARY KEY,
            tenant TEXT NOT NULL,
            url TEXT NOT NULL,
            event_types TEXT NOT NULL,
            description TEXT NOT NULL,
            enabled INTEGER NOT NULL,
            disabled_reason TEXT,
            secret BLOB NOT NULL,
            previous_secret BLOB,
            previous_until REAL,
            created_at REAL NOT NULL,
            phone_number TEXT
        )"""
    )


@dataclass(frozen=True, slots=True)
class Webhook:
    id: str
    tenant: str
    url: str
    event_types: tuple[str, ...]
    description: str
    enabled: bool
    disabled_reason: str | None
    created_at: float
    secret: str  # in memory only; sealed on disk
    previous_secret: str | None = None
    previous_until: float | None = None
    phone_number: str | None = None  # a CAMARA subscription: events of this number only

    def secrets_at(self, now: float) -> list[str]:
        """The secrets that sign now: the current one, and the previous during the overlap."""
        out = [self.secret]
        if self.previous_secret and self.previous_until and now < self.previous_until:
            out.append(self.previous_secret)
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "url": self.url,
            "event_types": list(self.event_types),
            "description": self.description,
            "enabled": self.enabled,
            "disabled_reason": self.disabled_reason,
            "created_at": rfc3339(self.created_at),
        }


class Subscriptions:
    """All endpoints in memory (few, read on every event); every change written through."""

    def __init__(self, writer: SqliteWriter, sealer: Sealer) -> None:
        self.writer = writer
        self.sealer = sealer
        self.by_id: dict[str, Webhook] = {}

    def _seal(self, webhook_id: str, secret: str | None) -> bytes | None:
        return None if secret is None else self.sealer.seal(secret.encode(), webhook_id.encode())

    def _open(self, webhook_id: str, blob: bytes | None) -> str | None:
        return None if blob is None else self.sealer.open(blob, webhook_id.encode()).decode()

    async def load(self) -> None:
        def read(conn: sqlite3.Connection) -> list[tuple[Any, ...]]:
            return conn.execute(
                "SELECT id, tenant, url, event_types, description, enabled, disabled_reason,"
                " created_at, secret, previous_secret, previous_until, phone_number FROM webhooks"
            ).fetchall()

        for row in await self.writer.call(read):
            webhook_id = row[0]
            self.by_id[webhook_id] = Webhook(
                webhook_id,
                row[1],
                row[2],
                tuple(json.loads(row[3])),
                row[4],
                bool(row[5]),
                row[6],
                row[7],
                self._open(webhook_id, row[8]) or "",
                self._open(webhook_id, row[9]),
                row[10],
                row[11],
            )

    def for_event(
        self, tenant: str, event_type: str, phone_number: str | None = None
    ) -> list[Webhook]:
        return [
            w
            for w in self.by_id.values()
            if w.tenant == tenant
            and w.enabled
            and event_type in w.event_types
            and (w.phone_number is None or w.phone_number == phone_number)
        ]

    def of_tenant(self, tenant: str, *, camara: bool = False) -> list[Webhook]:
        """A tenant's webhooks, or (``camara``) its CAMARA subscriptions."""
        return sorted(
            (
                w
                for w in self.by_id.values()
                if w.tenant == tenant and (w.phone_number is not None) == camara
            ),
            key=lambda w: w.created_at,
        )

    async def save(self, webhook: Webhook) -> Webhook:
        row = (
            webhook.id,
            webhook.tenant,
            webhook.url,
            json.dumps(list(webhook.event_types)),
            webhook.description,
            int(webhook.enabled),
            webhook.disabled_reason,
            self._seal(webhook.id, webhook.secret),
            self._seal(webhook.id, webhook.previous_secret),
            webhook.previous_until,
            webhook.created_at,
            webhook.phone_number,
        )

        def write(conn: sqlite3.Connection) -> None:
            conn.execute("INSERT OR REPLACE INTO webhooks VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", row)

        await self.writer.call(write)
        self.by_id[webhook.id] = webhook
        return webhook

    async def create(
        self,
        tenant: str,
        url: str,
        event_types: tuple[str, ...],
        description: str,
        now: float,
        phone_number: str | None = None,
    ) -> Webhook:
        webhook_id = "wh_" + secrets.token_hex(8)
        webhook = Webhook(
            webhook_id,
            tenant,
            url,
            event_types,
            description,
            True,
            None,
            now,
            new_secret(),
            phone_number=phone_number,
        )
        return await self.save(webhook)

    async def rotate(self, webhook: Webhook, now: float, overlap_s: float) -> Webhook:
        rotated = replace(
            webhook,
            secret=new_secret(),
            previous_secret=webhook.secret,
            previous_until=now + overlap_s,
        )
        return await self.save(rotated)

    async def delete(self, webhook: Webhook) -> None:
        def write(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM webhooks WHERE id = ?", (webhook.id,))

        await self.writer.call(write)
        self.by_id.pop(webhook.id, None)

    async def disable(self, webhook: Webhook, reason: str) -> Webhook:
        return await self.save(replace(webhook, enabled=False, disabled_reason=reason))
