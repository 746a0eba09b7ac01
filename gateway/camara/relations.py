"""Which numbers a tenant may ask about: those it sent to recently, or registered.

The gateway must not become a look-up oracle for every subscriber of the operator. The
message path records (tenant, number) in memory, a dict update per message; the pairs are
written to disk in batches so that a restart keeps them.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import sqlite_utils

from ..store import SqliteWriter

_TENANT_BITS = 1 << 12  # up to 4,096 tenants, packed beside the number in one int key


def create_tables(db: sqlite_utils.Database) -> None:
    db.execute(
        """CREATE TABLE IF NOT EXISTS tenant_numbers (
            tenant TEXT NOT NULL,
            msisdn_key INTEGER NOT NULL,
            last_at REAL NOT NULL,
            registered INTEGER NOT NULL,
            PRIMARY KEY (tenant, msisdn_key)
        ) WITHOUT ROWID"""
    )


class Relations:
    def __init__(self, writer: SqliteWriter, tenants: list[str]) -> None:
        self.writer = writer
        self._index: dict[str, int] = {}
        self._names: list[str] = []
        self.add_tenants(tenants)
        self._last: dict[int, float] = {}
        self._registered: set[int] = set()
        self._dirty: dict[int, float] = {}

    def add_tenants(self, tenants: list[str]) -> None:
        """New tenants get new slots; existing ones keep theirs (keys in memory stay valid)."""
        for name in sorted(tenants):
            if name not in self._index and len(self._names) < _TENANT_BITS:
                self._index[name] = len(self._names)
                self._names.append(name)

    def _key(self, tenant: str, msisdn_key: int) -> int | None:
        index = self._index.get(tenant)
        return None if index is None else msisdn_key * _TENANT_BITS + index

    def sent(self, tenant: str | None, msisdn_key: int, now: float) -> None:
        if tenant is None:
            return
        key = self._key(tenant, msisdn_key)
        if key is not None:
            self._last[key] = now
            self._dirty[key] = now

    def related(self, tenant: str, msisdn_key: int, now: float, window_s: float) -> bool:
        key = self._key(tenant, msisdn_key)
        if key is None:
            return False
        if key in self._registered:
            return True
        last = self._last.get(key)
        return last is not None and now - last <= window_s

    async def register(self, tenant: str, msisdn_keys: list[int], now: float) -> int:
        rows = []
        for msisdn_key in msisdn_keys:
            key = self._key(tenant, msisdn_key)
            if key is not None:
                self._registered.add(key)
                rows.append((tenant, msisdn_key, now))

        def write(conn: sqlite3.Connection) -> None:
            conn.executemany(
                "INSERT INTO tenant_numbers VALUES (?, ?, ?, 1) ON CONFLICT DO UPDATE"
                " SET registered = 1",
                rows,
            )

        await self.writer.call(write)
        return len(rows)

    def forget(self, msisdn_key: int) -> None:
        """An erasure: no tenant keeps a relation with the number."""
        for index in range(len(self._names)):
            key = msisdn_key * _TENANT_BITS + index
            self._last.pop(key, None)
            self._dirty.pop(key, None)
            self._registered.discard(key)

    def flush(self) -> None:
        """Write the pairs seen since the last flush (called every few seconds)."""
        if not self._dirty:
            return
        dirty, self._dirty = self._dirty, {}
        rows = [
            (self._names[key % _TENANT_BITS], key // _TENANT_BITS, at) for key, at in dirty.items()
        ]
        self.writer.write_many(
            "INSERT INTO tenant_numbers VALUES (?, ?, ?, 0) ON CONFLICT DO UPDATE"
            " SET last_at = max(last_at, excluded.last_at)",
            rows,
        )

    async def load(self) -> None:
        def read(conn: sqlite3.Connection) -> list[tuple[Any, ...]]:
            return conn.execute(
                "SELECT tenant, msisdn_key, last_at, registered FROM tenant_numbers"
            ).fetchall()

        for tenant, msisdn_key, last_at, registered in await self.writer.call(read):
            key = self._key(tenant, msisdn_key)
            if key is None:
                continue
            self._last[key] = last_at
            if registered:
                self._registered.add(key)
