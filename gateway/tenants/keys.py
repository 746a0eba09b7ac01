"""Tenant API keys: high-entropy, shown once, stored as peppered SHA-256, revocable.

scrypt would make every request cost tens of milliseconds of CPU (a denial of service by
request rate); a 256-bit random key needs no stretching, and the pepper (a secret outside
the database) keeps a stolen database from being checked offline.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from ..store import SqliteWriter
from ..times import rfc3339

_PREFIX = "otpk_"


def create_tables(db: sqlite_utils.Database) -> None:
    db.execute(
        """CREATE TABLE IF NOT EXISTS tenant_keys (
            id TEXT PRIMARY KEY,
            tenant TEXT NOT NULL,
            digest TEXT NOT NULL,
            created_at REAL NOT NULL,
            revoked_at REAL
        )"""
    )


@dataclass(frozen=True, slots=True)
class KeyInfo:
    id: str  # the visible prefix, e.g. "otpk_3f9a1c2b": support can name a key without it
    tenant: str
    created_at: float
    revoked_at: float | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "tenant": self.tenant,
            "created_at": rfc3339(self.created_at),
            "revoked": self.revoked_at is not None,
        }


class ApiKeys:
    def __init__(self, writer: SqliteWriter, pepper: bytes) -> None:
        self.writer = writer
        self._pepper = pepper
        self._keys: dict[str, tuple[KeyInfo, str]] = {}  # id -> (info, digest)

    def _digest(self, key: str) -> str:
        return hmac.new(self._pepper, key.encode(), hashlib.sha256).hexdigest()

    async def load(self) -> None:
        def read(conn: sqlite3.Connection) -> list[tuple[Any, ...]]:
            return conn.execute(
                "SELECT id, tenant, digest, created_at, revoked_at FROM tenant_keys"
            ).fetchall()

        for key_id, tenant, digest, created, revoked in await self.writer.call(read):
            self._keys[key_id] = (KeyInfo(key_id, tenant, created, revoked), digest)

    @staticmethod
    def id_of(key: str) -> str | None:
        """The visible id a key starts with ("otpk_3f9a1c2b"), or None when it has none."""
        size = len(_PREFIX) + 8
        if len(key) > size + 1 and key.startswith(_PREFIX) and key[size] == "_":
            return key[:size]
        return None

    async def create(self, tenant: str, now: float) -> tuple[str, KeyInfo]:
        """A new key for ``tenant``: (the key, shown this once; its info)."""
        key_id = _PREFIX + secrets.token_hex(4)
        key = f"{key_id}_{secrets.token_urlsafe(32)}"
        info = KeyInfo(key_id, tenant, now)
        digest = self._digest(key)

        def write(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO tenant_keys VALUES (?, ?, ?, ?, NULL)", (key_id, tenant, digest, now)
            )

        await self.writer.call(write)
        self._keys[key_id] = (info, digest)
        return key, info

    async def revoke(self, tenant: str, key_id: str, now: float) -> bool:
        entry = self._keys.get(key_id)
        if entry is None or entry[0].tenant != tenant or entry[0].revoked_at is not None:
            return False

        def write(conn: sqlite3.Connection) -> None:
            conn.execute("UPDATE tenant_keys SET revoked_at = ? WHERE id = ?", (now, key_id))

        await self.writer.call(write)
        info, digest = entry
        self._keys[key_id] = (KeyInfo(info.id, info.tenant, info.created_at, now), digest)
        return True

    def tenant_for(self, key: str) -> str | None:
        """The tenant of a valid, unrevoked key; None otherwise (constant-time compare)."""
        key_id = key[: len(_PREFIX) + 8]
        entry = self._keys.get(key_id)
        if entry is None:
            return None
        info, digest = entry
        if not hmac.compare_digest(digest, self._digest(key)) or info.revoked_at is not None:
            return None
        return info.tenant

    def of_tenant(self, tenant: str) -> list[KeyInfo]:
        return [info for info, _ in self._keys.values() if info.tenant == tenant]
