"""Receipts queued behind the ESMEs' windows: every one reaches a receiver, once, in order.

The relay keeps receipts in memory only while every receiver of the account has a full
window; an answer refills the bind it came on, a receiver that binds takes the queue at
once, and a bind that ends leaves its receipts to the others (or to the disk). Connections
and binds are stand-ins that record what is sent; no sockets, no sleeps.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from gateway.config import AccountConfig
from gateway.traffic.receipt_relay import ReceiptRelay
from smpp_adapters.constants import CommandId, Tag
from smpp_adapters.pdu import Pdu
from smpp_adapters.receipts import build_receipt_pdu

ACCOUNT = "bank"
OK = Pdu(CommandId.DELIVER_SM_RESP, {"message_id": ""})


@dataclass
class StandInSession:
    window: int
    outstanding: int = 0
    ended: bool = False

    @property
    def can_send(self) -> bool:
        return self.outstanding < self.window and not self.ended


@dataclass(eq=False)
class StandInConnection:
    session: StandInSession
    waiting: list[tuple[Pdu, Callable[[Pdu | None], None]]] = field(default_factory=list)

    @property
    def is_open(self) -> bool:
        return not self.session.ended

    def send_request(self, pdu: Pdu, callback: Callable[[Pdu | None], None]) -> int:
        assert self.session.can_send, "sent past the window"
        self.session.outstanding += 1
        self.waiting.append((pdu, callback))
        return len(self.waiting)

    def answer_oldest(self, response: Pdu | None = OK) -> str:
        """The ESME answers its oldest receipt; returns that receipt's gateway id."""
        pdu, callback = self.waiting.pop(0)
        self.session.outstanding -= 1
        callback(response)
        return _gateway_id(pdu)

    def in_flight(self) -> list[str]:
        """The gateway ids of the receipts sent and not yet answered."""
        return [_gateway_id(pdu) for pdu, _ in self.waiting]

    def end(self) -> None:
        """The connection is lost: every receipt in flight is abandoned."""
        self.session.ended = True
        while self.waiting:
            _, callback = self.waiting.pop(0)
            self.session.outstanding -= 1
            callback(None)


@dataclass(eq=False)
class StandInBind:
    connection: StandInConnection
    account: AccountConfig = field(default_factory=lambda: AccountConfig(ACCOUNT, ""))


class StandInBinds:
    """EsmeBinds' queries over a list of receivers (round-robin like the real one)."""

    def __init__(self) -> None:
        self.receivers: list[StandInBind] = []
        self.on_receiver_bound: list[Callable[[StandInBind], None]] = []
        self.on_receiver_gone: list[Callable[[StandInBind], None]] = []
        self._next = 0

    def unregister(self, bind: StandInBind) -> None:
        """As EsmeBinds once the session's end is drained: gone, and the relay told."""
        self.receivers.remove(bind)
        for callback in self.on_receiver_gone:
            callback(bind)

    def add(self, window: int) -> StandInBind:
        bind = StandInBind(StandInConnection(StandInSession(window)))
        self.receivers.append(bind)
        return bind

    def binds_of(self, account: str) -> list[StandInBind]:
        return self.receivers

    def receivers_of(self, account: str) -> list[StandInBind]:
        return self.receivers  # as EsmeBinds: registered until the session's end is drained

    def has_open_receiver(self, account: str) -> bool:
        return any(b.connection.is_open for b in self.receivers)

    def pick_receiver(self, account: str) -> StandInBind | None:
        count = len(self.receivers)
        for i in range(count):
            bind = self.receivers[(self._next + i) % count]
            if bind.connection.session.can_send:
                self._next += i + 1
                return bind
        return None


class StandInDisk:
    def __init__(self) -> None:
        self.stored: list[tuple[str, str]] = []  # (account, gateway id)

    def write(self, sql: str, args: tuple[object, ...], on_commit: object = None) -> None:
        assert sql.startswith("INSERT INTO pending_receipts")
        self.stored.append((str(args[0]), str(args[1])))
        if callable(on_commit):
            on_commit(None)

    async def call(self, fn: object) -> list[object]:
        return []  # nothing waits on disk for a receiver that binds


class Clock:
    def now(self) -> float:
        return 1_780_000_000.0


def relay_with(binds: StandInBinds) -> tuple[ReceiptRelay, StandInDisk]:
    disk = StandInDisk()
    relay = ReceiptRelay(binds, None, disk, Clock())  # type: ignore[arg-type]
    return relay, disk


def receipt(gateway_id: str) -> Pdu:
    return build_receipt_pdu(
        message_id=gateway_id,
        source_addr="447400123123",
        destination_addr="PayBank",
        stat="DELIVRD",
        submit_date="2611251200",
        done_date="2611251201",
    )


def send(relay: ReceiptRelay, count: int, confirmed: list[str]) -> list[str]:
    ids = [f"g{i}" for i in range(count)]
    for gateway_id in ids:
        relay.send_to_esme(
            ACCOUNT, gateway_id, receipt(gateway_id), lambda g=gateway_id: confirmed.append(g)
        )
    return ids


def test_receipts_beyond_the_windows_go_out_as_answers_free_slots_in_order() -> None:
    binds = StandInBinds()
    first, second = binds.add(window=2), binds.add(window=3)
    relay, disk = relay_with(binds)
    confirmed: list[str] = []

    ids = send(relay, 12, confirmed)

    in_flight = [gateway_id for b in binds.receivers for gateway_id in b.connection.in_flight()]
    assert sorted(in_flight) == sorted(ids[:5])  # both windows full, seven wait
    answered = []
    while any(b.connection.waiting for b in binds.receivers):
        # The second ESME answers faster: it gets more of the queue.
        bind = second if second.connection.waiting else first
        answered.append(bind.connection.answer_oldest())
        assert first.connection.session.outstanding <= 2
        assert second.connection.session.outstanding <= 3
    assert sorted(answered) == sorted(ids)
    assert confirmed == answered  # each upstream deliver_sm answered once, after its ESME's
    assert disk.stored == []


async def test_a_receiver_that_binds_takes_the_waiting_receipts_at_once() -> None:
    binds = StandInBinds()
    full = binds.add(window=1)
    relay, _ = relay_with(binds)
    confirmed: list[str] = []
    send(relay, 4, confirmed)
    assert len(full.connection.waiting) == 1

    newcomer = binds.add(window=10)
    for callback in binds.on_receiver_bound:
        callback(newcomer)

    assert len(newcomer.connection.waiting) == 3  # not left for the next answer


def test_a_bind_that_ends_leaves_the_queue_to_the_others_and_its_own_to_disk() -> None:
    binds = StandInBinds()
    leaving, staying = binds.add(window=2), binds.add(window=2)
    relay, disk = relay_with(binds)
    confirmed: list[str] = []
    ids = send(relay, 8, confirmed)

    lost = leaving.connection.in_flight()
    leaving.connection.end()

    assert sorted(gateway_id for _, gateway_id in disk.stored) == sorted(lost)
    delivered = []
    while staying.connection.waiting:
        delivered.append(staying.connection.answer_oldest())
    assert sorted(delivered + lost) == sorted(ids)  # every receipt once: sent or kept
    assert sorted(confirmed) == sorted(ids)


def test_when_the_last_receiver_is_gone_the_receipts_waiting_in_memory_go_to_disk() -> None:
    binds = StandInBinds()
    last = binds.add(window=2)
    relay, disk = relay_with(binds)
    confirmed: list[str] = []
    ids = send(relay, 6, confirmed)

    last.connection.end()  # its two in flight come back while it is still registered
    binds.unregister(last)

    # Every receipt kept on disk for the next bind, and every upstream deliver_sm answered:
    # none stranded in memory with its SMSC waiting.
    assert sorted(gateway_id for _, gateway_id in disk.stored) == sorted(ids)
    assert sorted(confirmed) == sorted(ids)


def _gateway_id(receipt: Pdu) -> str:
    return str(receipt.tlv_cstr(Tag.RECEIPTED_MESSAGE_ID))
