"""The hold book: every open hold in memory, its transitions, its release, expiry and receipts.

State lives here and on disk, nowhere else. Every transition is claimed in memory first (the
event loop makes the claim atomic: of a release and a cancel racing, exactly one finds the
hold ``held``), then committed, and only then acted on: the ESME's ESME_ROK waits for the
hold's commit, the upstream submit waits for the ``releasing`` commit, and a final state is
committed together with the receipt that reports it.

After a crash, a hold left ``releasing`` is sent again: its upstream outcome is unknown, and
an OTP sent twice is better than an OTP lost (at least once).
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import structlog

from policies.event_types import HOLD_EVENTS
from smpp_adapters.constants import CommandStatus, Tag
from smpp_adapters.pdu import Pdu, decode, encode
from smpp_adapters.smpp_time import SmppTimeError, parse_smpp_time, relative_time

from ..clock import Clock
from ..final_receipts import final_receipt
from ..webhooks.events import hold_event_data
from .lifecycle import EXPIRY, RETRY, Deadline, Deadlines, may_become, transition
from .sealing import Sealer
from .store import (
    CANCELLED,
    EXPIRED,
    FAILED,
    HELD,
    RELEASED,
    RELEASING,
    HoldRecord,
    HoldStore,
)

if TYPE_CHECKING:
    from policies.decisions import Hold, Verdict

    from ..webhooks.outbox import Outbox

log = structlog.get_logger("otpgate.holds")


def _chain(
    writers: list[Callable[[sqlite3.Connection], None]],
) -> Callable[[sqlite3.Connection], None] | None:
    """One writer running several in order, inside one transaction."""
    if not writers:
        return None
    if len(writers) == 1:
        return writers[0]

    def write(conn: sqlite3.Connection) -> None:
        for writer in writers:
            writer(conn)

    return write


def split_pdus(data: bytes) -> list[Pdu]:
    """The PDUs of a sealed hold, one after another (each starts with its command_length)."""
    pdus, offset = [], 0
    while offset + 4 <= len(data):
        length = int.from_bytes(data[offset : offset + 4], "big")
        pdus.append(decode(data[offset : offset + length]))
        offset += length
    return pdus


# Upstream answers worth another try; any other error ends the hold ``failed``.
_TEMPORARY = frozenset(
    {
        CommandStatus.ESME_RTHROTTLED,
        CommandStatus.ESME_RMSGQFUL,
        CommandStatus.ESME_RX_T_APPN,
        CommandStatus.ESME_RSYSERR,
    }
)
_STAT = {CANCELLED: "REJECTD", EXPIRED: "EXPIRED", FAILED: "UNDELIV"}
# What the webhook and audit stream call each transition (the one list of event types).
EVENTS = dict(zip((HELD, RELEASED, CANCELLED, EXPIRED, FAILED), HOLD_EVENTS, strict=True))


class HoldNotFound(LookupError):
    pass


class HoldConflict(Exception):
    """The hold is not in a state that allows the request; ``record`` says which it is in."""

    def __init__(self, record: HoldRecord) -> None:
        super().__init__(f"hold {record.id} is {record.state}")
        self.record = record


@dataclass(frozen=True, slots=True)
class HoldLimits:
    max_per_account: int = 10_000
    max_total: int = 100_000
    over_limit: str = "deliver"  # what a hold decision becomes over a cap: deliver | reject
    retry_max_s: float = 30.0


@dataclass(slots=True)
class _Release:
    """A release under way: the parts the SMSC accepted so far and the pause before the
    next attempt."""

    reason: str | None
    sent: list[tuple[str, str]] = field(default_factory=list)  # (route, upstream id)
    pause_s: float = 1.0


@dataclass(frozen=True, slots=True)
class Forwarding:
    """How a released message goes on, handed in by the composition root: the hold book
    knows nothing of routes, binds or receipt relays."""

    # (account, pdu) -> the route's answer (route name, response or None), or None when no
    # route can take it now.
    submit: Callable[[str, Pdu], Awaitable[tuple[str, Pdu | None]] | None]
    # (route, upstream id, gateway id, account, registered_delivery, at): the mapping that
    # brings the SMSC's receipt back, recorded and announced; done once it is on disk.
    mapped: Callable[[str, str, str, str, int, float], Awaitable[None]]
    # (account): receipts were committed for it; send them if a receiver is bound.
    receipts_waiting: Callable[[str], None]


class HoldBook:
    def __init__(
        self,
        store: HoldStore,
        sealer: Sealer,
        forwarding: Forwarding,
        clock: Clock,
        limits: HoldLimits,
        *,
        outbox: Outbox | None = None,
        on_events_written: Callable[[], None] = lambda: None,
    ) -> None:
        self.store = store
        self.sealer = sealer
        self.forwarding = forwarding
        self.clock = clock
        self.limits = limits
        self.open: dict[str, HoldRecord] = {}
        self.per_account: Counter[str] = Counter()
        self.finished: Counter[str] = Counter()  # holds that reached each final state
        self.outbox = outbox  # webhooks: rows written with each transition
        self.on_events_written = on_events_written
        self.deadlines = Deadlines()
        self._releases: dict[str, _Release] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._armed_at: float | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    # -- start and stop ----------------------------------------------------------------------

    async def recover(self) -> int:
        """Load open holds; resend the ``releasing`` ones; expiries that passed apply at once."""
        records = await self.store.open_holds()
        for record in records:
            self._open(record)
            if record.state == RELEASING:
                log.warning("hold_release_resumed", hold=record.id)
                self._start_release(record)
            else:
                self._set_deadline(record.id, EXPIRY, record.expires_at)
        return len(records)

    async def stop(self) -> None:
        self.store.flush()
        if self._timer is not None:
            self._timer.cancel()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # -- intake ------------------------------------------------------------------------------

    def has_room(self, account: str) -> bool:
        limits = self.limits
        return (
            len(self.open) < limits.max_total and self.per_account[account] < limits.max_per_account
        )

    def hold(
        self,
        account: str,
        respond: Callable[..., None],
        pdu: Pdu,
        verdict: Verdict,
        action: Hold,
        gateway_id: str,
        destination: str,
        tenant: str | None,
    ) -> None:
        """Keep the message; ``respond(status, params)`` answers the ESME: ESME_ROK with
        ``gateway_id`` once the hold is committed."""
        try:
            record = self._record(
                account,
                tenant,
                [pdu],
                [gateway_id],
                verdict,
                action,
                destination,
            )
        except SmppTimeError:
            respond(CommandStatus.ESME_RINVEXPIRY)
            return

        def answer(ok: bool) -> None:
            if ok:
                respond(CommandStatus.ESME_ROK, {"message_id": gateway_id})
            else:
                respond(CommandStatus.ESME_RSYSERR)

        self._keep(record, [pdu], answer)

    def hold_parts(
        self,
        account: str,
        tenant: str | None,
        parts: list[tuple[str, Pdu]],
        verdict: Verdict,
        action: Hold,
        destination: str,
        *,
        also: Callable[[sqlite3.Connection], None],
        on_commit: Callable[[bool], None],
    ) -> None:
        """Keep a concatenated message whose parts were already acknowledged (parked).

        ``also`` runs in the hold's transaction (the parking rows go in the same commit).
        """
        pdus = [pdu for _, pdu in parts]
        ids = [gateway_id for gateway_id, _ in parts]
        # Already acknowledged: a validity the SMSC would refuse cannot be refused here any
        # more; the hold keeps the rule's expiry and the SMSC judges the validity on release.
        record = self._record(
            account, tenant, pdus, ids, verdict, action, destination, strict=False
        )
        self._keep(record, pdus, on_commit, also)

    def _record(
        self,
        account: str,
        tenant: str | None,
        pdus: list[Pdu],
        ids: list[str],
        verdict: Verdict,
        action: Hold,
        destination: str,
        *,
        strict: bool = True,
    ) -> HoldRecord:
        now = self.clock.now()
        first = pdus[0]
        params = first.params
        try:
            validity = parse_smpp_time(str(params.get("validity_period", "")), now)
        except SmppTimeError:
            if strict:
                raise
            validity = None
        expires_at, expiry_action = now + action.ttl_s, action.on_expiry
        if validity is not None and validity.at <= expires_at:
            # The SMSC would refuse it after this anyway: it expires then, whatever the rule.
            expires_at, expiry_action = validity.at, "drop"
        return HoldRecord(
            id=ids[0],
            account=account,
            tenant=tenant,
            source_addr=str(params.get("source_addr", "")),
            destination=destination,
            rule=verdict.rule or "",
            reasons_json=json.dumps([r.to_json() for r in verdict.reasons], separators=(",", ":")),
            created_at=now,
            expires_at=expires_at,
            expiry_action=expiry_action,
            validity_at=validity.at if validity else None,
            validity_relative=validity is not None and validity.relative_s is not None,
            registered_delivery=int(params.get("registered_delivery", 0)) & 0x03,
            user_message_reference=first.tlv_int(Tag.USER_MESSAGE_REFERENCE),
            part_ids=tuple(ids),
            updated_at=now,
        )

    def _keep(
        self,
        record: HoldRecord,
        pdus: list[Pdu],
        on_commit: Callable[[bool], None],
        also: Callable[[sqlite3.Connection], None] | None = None,
    ) -> None:
        plain = b"".join(p.raw or encode(p) for p in pdus)
        sealed = self.sealer.seal(plain, record.id.encode())
        self._open(record)

        def committed(error: Exception | None) -> None:
            if error is not None:
                self._close(record)
                log.error("hold_not_committed", account=record.account, error=str(error))
                on_commit(False)
                return
            on_commit(True)
            self._set_deadline(record.id, EXPIRY, record.expires_at)
            self._notify(HELD, record, wrote_events=events is not None)

        events = self._event_rows(HELD, record, {})
        writers = [w for w in (also, events) if w is not None]
        self.store.insert(
            record, sealed, "policy", f"rule {record.rule}", committed, _chain(writers)
        )

    # -- requests ------------------------------------------------------------------------------

    def find_open(self, hold_id: str, account: str | None = None) -> HoldRecord | None:
        record = self.open.get(hold_id)
        if record is None or (account is not None and record.account != account):
            return None
        return record

    async def release(self, hold_id: str, actor: str, why: str) -> HoldRecord:
        record = await self._claim(hold_id, RELEASING)
        await self._commit(record, actor, why, revert_to=HELD)
        self._start_release(record)
        return record

    async def cancel(
        self, hold_id: str, actor: str, why: str, *, forget_destination: bool = False
    ) -> HoldRecord:
        """Cancel a held message; ``forget_destination`` (an erasure) leaves the number out of
        the ESME's REJECTD receipt and the tenant's event."""
        record = await self._claim(hold_id, CANCELLED)
        if forget_destination:
            record.destination = ""
        await self._finish(record, actor, why)
        return record

    async def _claim(self, hold_id: str, state: str) -> HoldRecord:
        record = self.open.get(hold_id)
        if record is None:
            stored = await self.store.get(hold_id)
            if stored is None:
                raise HoldNotFound(hold_id)
            raise HoldConflict(stored)
        if not may_become(record, state):
            raise HoldConflict(record)
        transition(record, state, self.clock.now())
        return record

    # -- release upstream ------------------------------------------------------------------------

    def _start_release(self, record: HoldRecord, reason: str | None = None) -> None:
        """``reason`` "expired" marks a release made by expiry (the webhook says so)."""
        self._releases[record.id] = _Release(reason)
        self._spawn(self._attempt_release(record))

    async def _attempt_release(self, record: HoldRecord) -> None:
        """Submit what the SMSC has not accepted yet. Refused for good or out of time, the
        hold fails; when no route can take it now, the next attempt is a RETRY deadline,
        each pause twice the last (up to retry_max_s)."""
        release = self._releases.get(record.id)
        if release is None or record.state != RELEASING:
            return
        now = self.clock.now()
        if record.validity_at is not None and now >= record.validity_at:
            await self._finish_as(record, FAILED, "release", "validity period ended")
            return
        blob = await self.store.sealed(record.id)
        if blob is None:
            await self._finish_as(record, FAILED, "release", "stored message missing")
            return
        pdus = split_pdus(self.sealer.open(blob, record.id.encode()))
        sent = release.sent
        while len(sent) < len(pdus):
            answer = self.forwarding.submit(
                record.account, self._rebase(pdus[len(sent)], record, now)
            )
            if answer is None:
                break
            route, response = await answer
            if response is not None and response.command_status == CommandStatus.ESME_ROK:
                sent.append((route, str(response.params.get("message_id", ""))))
                continue
            status = response.command_status if response is not None else None
            if status is not None and status not in _TEMPORARY:
                await self._finish_as(
                    record, FAILED, "upstream", f"upstream answered 0x{status:08X}", err=status
                )
                return
            break
        if len(sent) == len(pdus):
            await self._released(record, sent, release.reason)
            return
        retry_at = self.clock.now() + release.pause_s
        if retry_at >= record.expires_at:
            await self._finish_as(record, FAILED, "release", "upstream unavailable until expiry")
            return
        self._set_deadline(record.id, RETRY, retry_at)
        release.pause_s = min(self.limits.retry_max_s, release.pause_s * 2)

    @staticmethod
    def _rebase(pdu: Pdu, record: HoldRecord, now: float) -> Pdu:
        """A relative validity counts from the release now: what is left of it."""
        if record.validity_relative and record.validity_at is not None:
            return pdu.evolve(validity_period=relative_time(record.validity_at - now))
        return pdu

    async def _released(
        self, record: HoldRecord, sent: list[tuple[str, str]], reason: str | None
    ) -> None:
        now = self.clock.now()
        # The mappings are on disk before the hold is committed released: a crash in between
        # releases it again (at least once) rather than losing its receipts.
        await asyncio.gather(
            *(
                self.forwarding.mapped(
                    route, upstream_id, part_id, record.account, record.registered_delivery, now
                )
                for part_id, (route, upstream_id) in zip(record.part_ids, sent, strict=False)
            )
        )
        record.upstream_route, record.upstream_id = sent[0] if sent else (None, None)
        transition(record, RELEASED, now)
        details = {"reason": reason} if reason else {}
        await self._finish(record, "upstream", "accepted by the SMSC", details=details)

    # -- expiry ------------------------------------------------------------------------------

    def run_due(self, now: float) -> None:
        """Act on every deadline at or before ``now``: expire the holds still held, try
        again the releases still under way. The timer calls it; so can a test, with a
        simulated clock."""
        for hold_id, kind in self.deadlines.due(now):
            record = self.open.get(hold_id)
            if record is None:
                continue
            if kind == EXPIRY and record.state == HELD:
                self._spawn(self._expire(record))
            elif kind == RETRY and record.state == RELEASING:
                self._spawn(self._attempt_release(record))

    def _set_deadline(self, hold_id: str, kind: Deadline, at: float) -> None:
        self.deadlines.set(hold_id, kind, at)
        if self._armed_at is None or at < self._armed_at:
            self._arm()

    def _arm(self) -> None:
        """One timer, on the earliest deadline."""
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self._armed_at = None
        at = self.deadlines.next_deadline()
        if at is not None:
            delay = max(0.0, at - self.clock.now())
            self._timer = asyncio.get_running_loop().call_later(delay, self._on_timer)
            self._armed_at = at

    def _on_timer(self) -> None:
        self._timer = self._armed_at = None
        self.run_due(self.clock.now())
        self._arm()

    async def _expire(self, record: HoldRecord) -> None:
        if record.state != HELD:  # released or cancelled since the deadline was handed out
            return
        if record.expiry_action == "deliver":
            transition(record, RELEASING, self.clock.now())
            await self._commit(record, "expiry", "expired: the rule delivers on expiry")
            self._start_release(record, reason="expired")
        else:
            await self._finish_as(record, EXPIRED, "expiry", "expired: the rule drops on expiry")

    # -- final states --------------------------------------------------------------------------

    async def _finish_as(
        self, record: HoldRecord, state: str, actor: str, why: str, *, err: int = 0
    ) -> None:
        transition(record, state, self.clock.now())
        await self._finish(record, actor, why, err=err)

    async def _finish(
        self,
        record: HoldRecord,
        actor: str,
        why: str,
        *,
        err: int = 0,
        details: dict[str, str] | None = None,
    ) -> None:
        """Commit a final state with its receipt, forget the hold, tell the listeners."""
        details = details or {}
        receipts: list[tuple[str, bytes]] = []
        stat = _STAT.get(record.state)
        if stat is not None and record.registered_delivery in (1, 2):  # failures: both want them
            receipts = [
                (part_id, encode(self._receipt(record, part_id, stat, err)))
                for part_id in record.part_ids
            ]
        events = self._event_rows(record.state, record, {"why": why, **details})
        await self._commit(record, actor, why, receipts=receipts, also=events)
        self.finished[record.state] += 1
        self._close(record)
        if receipts:
            self.forwarding.receipts_waiting(record.account)
        self._notify(
            record.state, record, wrote_events=events is not None, why=why, actor=actor, **details
        )

    def _receipt(self, record: HoldRecord, part_id: str, stat: str, err: int) -> Pdu:
        return final_receipt(
            message_id=part_id,
            handset=record.destination,
            sender=record.source_addr,
            stat=stat,
            submitted_at=record.created_at,
            done_at=record.updated_at,
            err=err,
        )

    # -- bookkeeping ---------------------------------------------------------------------------

    async def _commit(
        self,
        record: HoldRecord,
        actor: str,
        why: str,
        *,
        receipts: list[tuple[str, bytes]] | None = None,
        revert_to: str | None = None,
        also: Callable[[sqlite3.Connection], None] | None = None,
    ) -> None:
        done: asyncio.Future[Exception | None] = asyncio.get_running_loop().create_future()

        def committed(error: Exception | None) -> None:
            if not done.done():  # cancelled meanwhile (stopping): nobody waits for it
                done.set_result(error)

        self.store.transition(record, actor, why, committed, receipts=receipts or (), also=also)
        error = await done
        if error is not None:
            if revert_to is not None:
                transition(record, revert_to, self.clock.now())
            log.error("hold_transition_not_committed", hold=record.id, error=str(error))
            raise error
        log.info(
            "hold_" + record.state, hold=record.id, account=record.account, actor=actor, why=why
        )

    def _open(self, record: HoldRecord) -> None:
        self.open[record.id] = record
        self.per_account[record.account] += 1

    def _close(self, record: HoldRecord) -> None:
        if self.open.pop(record.id, None) is not None:
            self.per_account[record.account] -= 1
        self.deadlines.drop(record.id)
        self._releases.pop(record.id, None)

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _event_rows(
        self, state: str, record: HoldRecord, details: dict[str, Any]
    ) -> Callable[[sqlite3.Connection], None] | None:
        event = EVENTS.get(state)
        if self.outbox is None or event is None:
            return None
        return self.outbox.rows_for(
            event,
            record.tenant,
            record.id,
            lambda: hold_event_data(record, details),
            self.clock.now(),
        )

    def _notify(
        self, state: str, record: HoldRecord, *, wrote_events: bool, **details: Any
    ) -> None:
        if wrote_events:  # only then has the dispatcher anything new to send
            self.on_events_written()
