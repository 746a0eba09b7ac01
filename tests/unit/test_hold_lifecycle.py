"""The hold lifecycle: its transition table, its deadlines, and the hold book driven on a
simulated clock — expiry and release retries without a single sleep.

The book runs on a real SQLite file; only the upstream is a callable answering as a test
tells it, which is what the book is handed in production too (Forwarding)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from gateway.app import durable_schema
from gateway.holds.book import Forwarding, HoldBook, HoldConflict, HoldLimits
from gateway.holds.lifecycle import (
    EXPIRY,
    RETRY,
    TRANSITIONS,
    Deadlines,
    IllegalTransition,
    transition,
)
from gateway.holds.sealing import Sealer
from gateway.holds.store import (
    CANCELLED,
    EXPIRED,
    FAILED,
    FINAL_STATES,
    HELD,
    RELEASED,
    RELEASING,
    HoldRecord,
    HoldStore,
)
from gateway.store import SqliteWriter
from policies.decisions import Hold, Verdict
from smpp_adapters.constants import CommandId, CommandStatus
from smpp_adapters.pdu import Pdu

T0 = 1_800_000_000.0


def _record(state: str = HELD) -> HoldRecord:
    return HoldRecord(
        id="1",
        account="bank",
        tenant=None,
        source_addr="BANK",
        destination="+447700900001",
        rule="r",
        reasons_json="[]",
        created_at=T0,
        expires_at=T0 + 60,
        expiry_action="drop",
        validity_at=None,
        validity_relative=False,
        registered_delivery=1,
        user_message_reference=None,
        part_ids=("1",),
        updated_at=T0,
        state=state,
    )


# -- the table -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (HELD, RELEASING),
        (HELD, CANCELLED),
        (HELD, EXPIRED),
        (RELEASING, RELEASED),
        (RELEASING, FAILED),
        (RELEASING, HELD),
    ],
)
def test_the_table_allows_the_lifecycle_and_stamps_the_time(start: str, end: str) -> None:
    record = _record(start)
    transition(record, end, T0 + 5)
    assert (record.state, record.updated_at) == (end, T0 + 5)


@pytest.mark.parametrize(
    ("start", "end"),
    [(HELD, RELEASED), (HELD, FAILED), (RELEASING, CANCELLED), (RELEASING, EXPIRED)]
    + [(final, HELD) for final in FINAL_STATES]
    + [(CANCELLED, EXPIRED), (EXPIRED, CANCELLED), (RELEASED, RELEASING)],
)
def test_the_table_refuses_everything_else_and_leaves_the_record(start: str, end: str) -> None:
    record = _record(start)
    with pytest.raises(IllegalTransition, match=f"{start} cannot become {end}"):
        transition(record, end, T0 + 5)
    assert (record.state, record.updated_at) == (start, T0)


def test_no_final_state_has_a_way_out() -> None:
    assert not set(FINAL_STATES) & set(TRANSITIONS)


# -- the deadlines -----------------------------------------------------------------------------


def test_deadlines_come_due_in_order_each_once() -> None:
    deadlines = Deadlines()
    deadlines.set("b", EXPIRY, T0 + 20)
    deadlines.set("a", EXPIRY, T0 + 10)
    deadlines.set("a", RETRY, T0 + 15)
    assert deadlines.next_deadline() == T0 + 10
    assert deadlines.due(T0 + 9) == []
    assert deadlines.due(T0 + 15) == [("a", EXPIRY), ("a", RETRY)]
    assert deadlines.due(T0 + 15) == []
    assert deadlines.next_deadline() == T0 + 20
    assert len(deadlines) == 1


def test_a_deadline_set_again_replaces_the_old_one_and_drop_forgets_both_kinds() -> None:
    deadlines = Deadlines()
    deadlines.set("a", RETRY, T0 + 1)
    deadlines.set("a", RETRY, T0 + 4)  # a longer pause after another failed attempt
    deadlines.set("b", EXPIRY, T0 + 2)
    deadlines.set("b", RETRY, T0 + 3)
    deadlines.drop("b")
    assert deadlines.next_deadline() == T0 + 4
    assert deadlines.due(T0 + 10) == [("a", RETRY)]
    assert deadlines.next_deadline() is None


# -- the book on a simulated clock ------------------------------------------------------------


@dataclass
class ManualClock:
    at: float = T0

    def now(self) -> float:
        return self.at


@dataclass
class Upstream:
    """Answers the book's submits as the test says: None (no route now) or a status."""

    answers: list[int | None] = field(default_factory=list)
    submitted: list[Pdu] = field(default_factory=list)
    mapped: list[str] = field(default_factory=list)
    receipts_for: list[str] = field(default_factory=list)

    def submit(self, account: str, pdu: Pdu) -> asyncio.Future[tuple[str, Pdu | None]] | None:
        status = self.answers.pop(0) if self.answers else CommandStatus.ESME_ROK
        if status is None:
            return None
        self.submitted.append(pdu)
        answer: asyncio.Future[tuple[str, Pdu | None]] = asyncio.get_running_loop().create_future()
        response = Pdu(CommandId.SUBMIT_SM_RESP, {"message_id": "up-1"}, command_status=status)
        answer.set_result(("smsc", response))
        return answer

    async def map(self, route: str, upstream_id: str, gateway_id: str, *_: object) -> None:
        self.mapped.append(gateway_id)

    def forwarding(self) -> Forwarding:
        return Forwarding(self.submit, self.map, self.receipts_for.append)


@dataclass
class Bench:
    book: HoldBook
    clock: ManualClock
    upstream: Upstream

    async def hold(self, gateway_id: str, ttl_s: float, on_expiry: str = "drop") -> None:
        answered: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        pdu = Pdu(
            CommandId.SUBMIT_SM,
            {
                "source_addr": "BANK",
                "destination_addr": "447700900001",
                "registered_delivery": 1,
                "short_message": b"Your code is 482913",
            },
        )
        self.book.hold(
            "bank",
            lambda status, params=None: answered.set_result(status),
            pdu,
            Verdict(Hold(ttl_s, on_expiry), "swap"),
            Hold(ttl_s, on_expiry),
            gateway_id,
            "+447700900001",
            None,
        )
        assert await answered == CommandStatus.ESME_ROK

    async def advance(self, seconds: float) -> None:
        """Move the simulated clock and act on what fell due, as the timer would."""
        self.clock.at += seconds
        self.book.run_due(self.clock.now())
        await self.settle()

    async def settle(self) -> None:
        while self.book._tasks:
            await asyncio.gather(*list(self.book._tasks))

    async def state(self, hold_id: str) -> str:
        record = await self.book.store.get(hold_id)
        assert record is not None
        return record.state


@pytest.fixture
async def bench(tmp_path: Path) -> AsyncIterator[Bench]:
    writer = SqliteWriter(tmp_path / "otpgate.sqlite", schema=durable_schema)
    writer.open(asyncio.get_running_loop())
    upstream, clock = Upstream(), ManualClock()
    book = HoldBook(
        HoldStore(writer),
        Sealer([bytes(32)]),
        upstream.forwarding(),
        clock,
        HoldLimits(retry_max_s=4.0),
    )
    try:
        yield Bench(book, clock, upstream)
    finally:
        await book.stop()
        writer.close()


async def test_a_hold_expires_when_its_deadline_passes_on_the_simulated_clock(bench) -> None:
    await bench.hold("10", ttl_s=60)
    assert bench.book.deadlines.next_deadline() == T0 + 60
    await bench.advance(59)
    assert await bench.state("10") == HELD
    await bench.advance(1)
    assert await bench.state("10") == EXPIRED
    assert "10" not in bench.book.open and len(bench.book.deadlines) == 0
    assert bench.upstream.receipts_for == ["bank"]  # its EXPIRED receipt waits for the ESME
    assert bench.book.finished == {EXPIRED: 1}  # otpgate_holds_finished_total{state}


async def test_an_expiry_that_delivers_releases_the_hold(bench) -> None:
    await bench.hold("11", ttl_s=30, on_expiry="deliver")
    await bench.advance(30)
    assert await bench.state("11") == RELEASED
    assert len(bench.upstream.submitted) == 1 and bench.upstream.mapped == ["11"]


async def test_a_release_the_upstream_cannot_take_is_retried_on_deadlines(bench) -> None:
    await bench.hold("12", ttl_s=600)
    bench.upstream.answers = [None, CommandStatus.ESME_RTHROTTLED, None]
    await bench.book.release("12", "test", "checked with the customer")
    await bench.settle()
    # No route: the next attempt is a deadline 1 s on, then 2 s, then 4 s (retry_max_s).
    assert await bench.state("12") == RELEASING
    assert bench.book.deadlines.next_deadline() == T0 + 1
    await bench.advance(1)  # throttled
    assert bench.book.deadlines.next_deadline() == T0 + 1 + 2
    await bench.advance(2)  # no route again
    assert bench.book.deadlines.next_deadline() == T0 + 3 + 4
    await bench.advance(3.9)
    assert await bench.state("12") == RELEASING
    await bench.advance(0.1)
    assert await bench.state("12") == RELEASED
    assert len(bench.upstream.submitted) == 2  # the throttled attempt and the accepted one
    assert bench.upstream.mapped == ["12"]


async def test_a_release_still_refused_at_the_expiry_fails(bench) -> None:
    await bench.hold("13", ttl_s=5)
    bench.upstream.answers = [None] * 10
    await bench.book.release("13", "test", "ok")
    await bench.settle()
    await bench.advance(1)
    assert await bench.state("13") == RELEASING
    await bench.advance(2)  # refused again, and the next pause (4 s) would pass the expiry
    assert await bench.state("13") == FAILED
    assert bench.upstream.receipts_for == ["bank"]  # its UNDELIV receipt


async def test_the_expiry_of_a_hold_released_meanwhile_does_nothing(bench) -> None:
    await bench.hold("14", ttl_s=10)
    await bench.book.release("14", "test", "ok")
    await bench.settle()
    await bench.advance(10)
    assert await bench.state("14") == RELEASED
    with pytest.raises(HoldConflict):
        await bench.book.cancel("14", "test", "too late")


async def test_a_cancel_and_a_due_expiry_in_the_same_turn_end_cancelled(bench) -> None:
    await bench.hold("15", ttl_s=10)
    bench.clock.at += 10
    bench.book.run_due(bench.clock.now())  # the expiry is spawned, not run yet
    await bench.book.cancel("15", "test", "customer called")
    await bench.settle()
    assert await bench.state("15") == CANCELLED
