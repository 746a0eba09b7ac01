"""The durable outbox and its dispatcher: every event reaches every subscribed endpoint.

Events are written in the transaction of the state change that caused them (a hold
committed without its ``otp.held`` row cannot happen), then delivered with retries,
exponential backoff and jitter for ``retry_hours``, honouring Retry-After; a 410 disables
the endpoint; after the last try the row is dead-lettered and can be replayed. A row waits
while an earlier row of the same hold for the same endpoint is pending: held before released.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import sqlite3
from collections import Counter
from collections.abc import Callable
from typing import Any

import sqlite_utils
import structlog

from policies.event_types import TEST_EVENT

from ..clock import Clock
from ..config_tenants import WebhooksConfig
from ..counters import Histogram
from ..store import SqliteWriter
from ..times import rfc3339
from .events import cloud_event, encode_event
from .subscriptions import Subscriptions, Webhook

log = structlog.get_logger("otpgate.webhooks")

PENDING, DELIVERED, DEAD, DISABLED = "pending", "delivered", "dead", "disabled"
_BATCH = 200
_MAX_BACKOFF_S = 3600.0

Writer = Callable[[sqlite3.Connection], None]


def create_tables(db: sqlite_utils.Database) -> None:
    db.execute(
        """CREATE TABLE IF NOT EXISTS outbox (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            event_id TEXT NOT NULL,
            webhook_id TEXT NOT NULL,
            tenant TEXT NOT NULL,
            subject TEXT NOT NULL,
            type TEXT NOT NULL,
            body BLOB NOT NULL,
            created_at REAL NOT NULL,
            state TEXT NOT NULL,
            attempts INTEGER NOT NULL,
            next_at REAL NOT NULL,
            last_status INTEGER,
            last_error TEXT
        )"""
    )
    db.execute(
        "CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (state, webhook_id, subject, id)"
    )
    db.execute(
        """CREATE TABLE IF NOT EXISTS delivery_attempts (
            outbox_id INTEGER NOT NULL,
            at REAL NOT NULL,
            status INTEGER,
            latency_ms REAL NOT NULL,
            error TEXT
        )"""
    )
    db.execute("CREATE INDEX IF NOT EXISTS attempts_by_row ON delivery_attempts (outbox_id)")


def _outcome(status: int | None, error: str | None) -> str:
    if status is None:
        return "timeout" if error and "timeout" in error else "error"
    if 200 <= status < 300:
        return "delivered"
    return f"http_{status // 100}xx" if status != 410 else "gone"


def _insert(rows: list[tuple[Any, ...]]) -> Writer:
    """A writer of outbox rows, run inside the causing transaction."""

    def write(conn: sqlite3.Connection) -> None:
        conn.executemany(
            "INSERT INTO outbox (event_id, webhook_id, tenant, subject, type, body,"
            " created_at, state, attempts, next_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
            rows,
        )

    return write


class Outbox:
    """Turns an event into outbox rows for the endpoints subscribed to it."""

    def __init__(self, subscriptions: Subscriptions, source: str) -> None:
        self.subscriptions = subscriptions
        self.source = source
        self.on_written: Callable[[], None] = lambda: None

    def test_row(self, webhook: Webhook, at: float) -> Writer:
        """A ``webhook.test`` event for ``webhook`` alone, whatever it subscribed to: a
        receiver can tell it from a real hold by its type."""
        data = {"test": True, "webhook": webhook.id}
        event = cloud_event(TEST_EVENT, self.source, data, at)
        row = (
            event["id"], webhook.id, webhook.tenant, f"test-{at}", TEST_EVENT,
            encode_event(event), at, PENDING, 0, at,
        )  # fmt: skip

        return _insert([row])

    def row_for(
        self,
        webhook: Webhook,
        event_type: str,
        subject: str,
        data: dict[str, Any],
        at: float,
        occurred_at: float | None = None,
    ) -> Writer:
        """One event for ``webhook`` alone (a CAMARA subscription's own notification).

        ``occurred_at`` is the event's ``time`` when it differs from ``at``, the moment it is
        queued: a SIM change reported late still says when the SIM changed, while its
        retries count from when it was queued.
        """
        event = cloud_event(
            event_type, self.source, data, at if occurred_at is None else occurred_at
        )
        row = (
            event["id"], webhook.id, webhook.tenant, subject, event_type,
            encode_event(event), at, PENDING, 0, at,
        )  # fmt: skip
        return _insert([row])

    def rows_for(
        self,
        event_type: str,
        tenant: str | None,
        subject: str,
        data: Callable[[], dict[str, Any]],
        at: float,
        phone_number: str | None = None,
    ) -> Writer | None:
        """A writer to run inside the causing transaction; None when nobody subscribed.

        ``data`` is called only when somebody did: building an event's body costs a held
        message a third of its own handling, and most holds have no subscriber."""
        if tenant is None:
            return None
        hooks = self.subscriptions.for_event(tenant, event_type, phone_number)
        if not hooks:
            return None
        event = cloud_event(event_type, self.source, data(), at)
        body = encode_event(event)
        rows = [
            (event["id"], w.id, tenant, subject, event_type, body, at, PENDING, 0, at)
            for w in hooks
        ]

        return _insert(rows)


class Dispatcher:
    def __init__(
        self,
        writer: SqliteWriter,
        subscriptions: Subscriptions,
        sender: Any,
        clock: Clock,
        config: WebhooksConfig,
        headers_for: Callable[[Webhook, float], dict[str, str]] = lambda webhook, now: {},
    ) -> None:
        self.writer = writer
        # Headers an endpoint gets beyond the signed ones (a CAMARA sink's content type
        # and bearer token), asked at each attempt: a token may expire between retries.
        self.headers_for = headers_for
        self.subscriptions = subscriptions
        self.sender = sender
        self.clock = clock
        self.config = config
        self._wake = asyncio.Event()
        self._in_flight: set[int] = set()
        self._per_endpoint: dict[str, asyncio.Semaphore] = {}
        self._task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.delivered = 0
        self.outcomes: Counter[str] = Counter()  # for the metrics
        self.dead_letters = 0  # events given up on after retry_hours
        self.latency = Histogram()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="webhooks")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def kick(self) -> None:
        self._wake.set()

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                rows, next_due = await self.writer.call(self._due)
            except Exception as error:  # the store failing: try again shortly
                log.error("outbox_read_failed", error=str(error))
                rows, next_due = [], None
            for row in rows:
                if row[0] in self._in_flight:
                    continue
                self._in_flight.add(row[0])
                task = asyncio.get_running_loop().create_task(self._deliver(*row))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            timeout = 1.0
            if next_due is not None:
                timeout = min(timeout, max(0.0, next_due - self.clock.now()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout if not rows else 0.05)

    def _due(self, conn: sqlite3.Connection) -> tuple[list[tuple[Any, ...]], float | None]:
        now = self.clock.now()
        rows = conn.execute(
            "SELECT o.id, o.webhook_id, o.event_id, o.body, o.created_at, o.attempts"
            " FROM outbox o WHERE o.state = 'pending' AND o.next_at <= ?"
            " AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.state = 'pending'"
            "   AND p.webhook_id = o.webhook_id AND p.subject = o.subject AND p.id < o.id)"
            " ORDER BY o.id LIMIT ?",
            (now, _BATCH),
        ).fetchall()
        next_due = conn.execute(
            "SELECT min(next_at) FROM outbox WHERE state = 'pending' AND next_at > ?", (now,)
        ).fetchone()[0]
        return rows, next_due

    def _semaphore(self, webhook_id: str) -> asyncio.Semaphore:
        semaphore = self._per_endpoint.get(webhook_id)
        if semaphore is None:
            semaphore = self._per_endpoint[webhook_id] = asyncio.Semaphore(self.config.concurrency)
        return semaphore

    async def _deliver(
        self, row_id: int, webhook_id: str, event_id: str, body: bytes, created: float, tries: int
    ) -> None:
        try:
            webhook = self.subscriptions.by_id.get(webhook_id)
            if webhook is None or not webhook.enabled:
                await self._settle(row_id, DISABLED, None, None, why="endpoint disabled or deleted")
                return
            async with self._semaphore(webhook_id):
                attempt = await self.sender.deliver(
                    webhook.url,
                    body,
                    event_id,
                    webhook.secrets_at(self.clock.now()),
                    timeout_s=self.config.timeout_s,
                    extra_headers=self.headers_for(webhook, self.clock.now()),
                )
            await self._record(row_id, webhook, attempt, created, tries + 1)
        except Exception:  # one row's failure must not stop the dispatcher
            log.exception("webhook_delivery_crashed", webhook=webhook_id)
        finally:
            self._in_flight.discard(row_id)
            self.kick()

    async def _record(
        self, row_id: int, webhook: Webhook, attempt: Any, created: float, tries: int
    ) -> None:
        now = self.clock.now()
        status = attempt.status
        self.latency.observe(attempt.latency_s)
        self.outcomes[_outcome(status, attempt.error)] += 1
        log.info(
            "webhook_attempt",
            webhook=webhook.id,
            status=status,
            latency_ms=round(attempt.latency_s * 1000, 1),
            error=attempt.error,
            attempt=tries,
        )
        if status is not None and 200 <= status < 300:
            self.delivered += 1
            await self._settle(row_id, DELIVERED, attempt, None, tries)
            return
        if status == 410:
            await self.subscriptions.disable(webhook, "the endpoint answered 410 Gone")
            log.warning("webhook_disabled", webhook=webhook.id, reason="410")
            await self._settle(row_id, DISABLED, attempt, None, tries)
            return
        if now - created >= self.config.retry_hours * 3600:
            log.warning("webhook_dead_lettered", webhook=webhook.id, attempts=tries)
            self.dead_letters += 1
            await self._settle(row_id, DEAD, attempt, None, tries)
            return
        backoff = min(_MAX_BACKOFF_S, 2.0 ** min(tries, 12)) * random.uniform(0.8, 1.2)
        if attempt.retry_after_s is not None:
            backoff = max(backoff, min(attempt.retry_after_s, _MAX_BACKOFF_S))
        await self._settle(row_id, PENDING, attempt, now + backoff, tries)

    async def _settle(
        self,
        row_id: int,
        state: str,
        attempt: Any,
        next_at: float | None,
        tries: int | None = None,
        *,
        why: str | None = None,
    ) -> None:
        """Record the row's new state; ``why`` is the error when no attempt was made."""
        now = self.clock.now()

        def write(conn: sqlite3.Connection) -> None:
            if attempt is not None:
                conn.execute(
                    "INSERT INTO delivery_attempts VALUES (?, ?, ?, ?, ?)",
                    (row_id, now, attempt.status, attempt.latency_s * 1000, attempt.error),
                )
            conn.execute(
                "UPDATE outbox SET state = ?, attempts = coalesce(?, attempts),"
                " next_at = coalesce(?, next_at), last_status = ?, last_error = ? WHERE id = ?",
                (
                    state,
                    tries,
                    next_at,
                    attempt.status if attempt is not None else None,
                    attempt.error if attempt is not None else why,
                    row_id,
                ),
            )

        await self.writer.call(write)

    # -- for the API ---------------------------------------------------------------------------

    async def deliveries(self, webhook_id: str, limit: int = 100) -> list[dict[str, Any]]:
        def read(conn: sqlite3.Connection) -> list[dict[str, Any]]:
            rows = conn.execute(
                "SELECT id, event_id, type, subject, state, attempts, created_at, last_status,"
                " last_error FROM outbox WHERE webhook_id = ? ORDER BY id DESC LIMIT ?",
                (webhook_id, limit),
            ).fetchall()
            out = []
            for row in rows:
                attempts = conn.execute(
                    "SELECT at, status, latency_ms, error FROM delivery_attempts"
                    " WHERE outbox_id = ? ORDER BY at",
                    (row[0],),
                ).fetchall()
                out.append(
                    {
                        "id": row[0],
                        "event_id": row[1],
                        "type": row[2],
                        "subject": row[3],
                        "state": row[4],
                        "attempts": [
                            {
                                "at": rfc3339(a[0]),
                                "status": a[1],
                                "latency_ms": round(a[2], 1),
                                "error": a[3],
                            }
                            for a in attempts
                        ],
                        "created_at": rfc3339(row[6]),
                    }
                )
            return out

        return await self.writer.call(read)

    async def replay(self, row_id: int, tenant: str | None) -> bool:
        """Send a delivered, dead or disabled row again (same webhook-id); False if unknown."""
        now = self.clock.now()

        def write(conn: sqlite3.Connection) -> bool:
            clause, args = ("", ()) if tenant is None else (" AND tenant = ?", (tenant,))
            changed = conn.execute(
                "UPDATE outbox SET state = 'pending', next_at = ?, created_at = ?"
                f" WHERE id = ?{clause}",
                (now, now, row_id, *args),
            ).rowcount
            return changed == 1

        replayed = await self.writer.call(write)
        self.kick()
        return replayed
