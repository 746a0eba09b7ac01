"""The SMSC simulator over real TCP: smpplib and Net::SMPP as ESMEs nobody here wrote, and our own client."""

from __future__ import annotations

import asyncio
import json
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any

import pytest
import smpplib.client
import smpplib.consts
import smpplib.exceptions
import smpplib.smpp

from smpp_adapters import events as ev
from smpp_adapters.client import open_bind
from smpp_adapters.constants import CommandId, CommandStatus, MessageState, Tag
from smpp_adapters.pdu import Pdu
from smpp_adapters.receipts import is_failure, parse_receipt_text
from smpp_adapters.session import Session, SessionConfig
from smpp_adapters.session_rules import Role
from smpp_adapters.simulator import BindRecord, SimulatorConfig, SmscSimulator
from smpp_adapters.transport import SmppConnection

PERL = shutil.which("perl") or "/usr/bin/perl"
PERL_CLIENT = Path(__file__).parent / "perl" / "trx_submit_receipt.pl"


def _net_smpp_missing() -> bool:
    try:
        return subprocess.run([PERL, "-MNet::SMPP", "-MJSON::PP", "-e", "1"]).returncode != 0
    except OSError:
        return True


@asynccontextmanager
async def simulator(**options: Any) -> AsyncIterator[SmscSimulator]:
    options.setdefault("receipt_delay_s", 0.01)
    sim = SmscSimulator(SimulatorConfig(host="127.0.0.1", port=0, **options))
    await sim.start()
    try:
        yield sim
    finally:
        await sim.stop()


async def until(predicate: Callable[[], bool], what: str, timeout_s: float = 10.0) -> None:
    """Poll with a deadline: the simulator runs on this loop, the ESMEs on threads."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.005)


class Esme:
    """smpplib's blocking Client: bound and fed from worker threads, read on its own thread."""

    def __init__(self, port: int, mode: str, system_id: str, password: str) -> None:
        self.mode = mode
        self.system_id = system_id
        self.password = password
        self.client = smpplib.client.Client(
            "127.0.0.1", port, timeout=10, allow_unknown_opt_params=True
        )
        self.responses: list[Any] = []
        self.delivers: list[Any] = []
        self.arrivals: list[tuple[str, str]] = []  # ("resp" | "deliver", message id) in order
        self.closed = threading.Event()
        self.client.set_message_sent_handler(self._on_response)
        self.client.set_message_received_handler(self._on_deliver)
        self.client.set_error_pdu_handler(lambda pdu: None)  # errors are collected, not raised
        self._reader: threading.Thread | None = None

    def _on_response(self, pdu: Any) -> None:
        self.responses.append(pdu)
        self.arrivals.append(("resp", (pdu.message_id or b"").decode()))

    def _on_deliver(self, pdu: Any) -> None:
        self.delivers.append(pdu)
        self.arrivals.append(("deliver", (pdu.receipted_message_id or b"").decode()))

    def bind(self) -> None:
        self.client.connect()
        bind = {"trx": "bind_transceiver", "tx": "bind_transmitter", "rx": "bind_receiver"}
        getattr(self.client, bind[self.mode])(system_id=self.system_id, password=self.password)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        try:
            while True:
                self.client.read_once()
        except (OSError, smpplib.exceptions.ConnectionError, AttributeError):
            pass
        finally:
            self.closed.set()

    def submit(self, count: int, **params: Any) -> list[Any]:
        params.setdefault("source_addr_ton", smpplib.consts.SMPP_TON_ALNUM)
        params.setdefault("source_addr", "PayBank")
        params.setdefault("dest_addr_ton", smpplib.consts.SMPP_TON_INTL)
        params.setdefault("destination_addr", "447400123123")
        params.setdefault("registered_delivery", 1)
        return [
            self.client.send_message(short_message=b"Your code is %06d" % i, **params)
            for i in range(count)
        ]

    async def close(self) -> None:
        """Unbind and wait for the simulator (on the caller's loop) to hang up."""
        await asyncio.to_thread(self._close)

    def _close(self) -> None:
        with suppress(Exception):  # the simulator may have closed it already
            self.client.send_pdu(smpplib.smpp.make_pdu("unbind", client=self.client))
        self.closed.wait(2)
        with suppress(Exception):
            self.client.disconnect()


async def bound(
    port: int, mode: str = "trx", system_id: str = "bank", password: str = "pw"
) -> Esme:
    esme = Esme(port, mode, system_id, password)
    await asyncio.to_thread(esme.bind)
    return esme


def ids_of(responses: list[Any]) -> list[str]:
    return [r.message_id.decode() for r in responses]


# -- smpplib ------------------------------------------------------------------------------


async def test_trx_gets_responses_then_matching_receipts() -> None:
    async with simulator(keep_records=True) as sim:
        esme = await bound(sim.port)
        sent = await asyncio.to_thread(esme.submit, 100)
        await until(lambda: len(esme.delivers) == 100, "100 receipts")
        ids = ids_of(esme.responses)
        assert len(esme.responses) == 100 and len(set(ids)) == 100
        assert all(r.status == CommandStatus.ESME_ROK for r in esme.responses)
        for receipt in esme.delivers:
            assert receipt.esm_class == 0x04
            receipted = receipt.receipted_message_id.decode()
            fields = parse_receipt_text(receipt.short_message)
            assert fields is not None and fields.message_id == receipted
            assert fields.stat == "DELIVRD" and receipt.message_state == MessageState.DELIVERED
            assert receipt.source_addr == b"447400123123" and receipt.destination_addr == b"PayBank"
            # Every receipt comes after the response that announced its id.
            assert esme.arrivals.index(("resp", receipted)) < esme.arrivals.index(
                ("deliver", receipted)
            )
        assert {r.receipted_message_id.decode() for r in esme.delivers} == set(ids)
        # What reached the SMSC is what smpplib sent, byte for byte.
        assert [record.raw for record in sim.records] == [pdu.generate() for pdu in sent]
        assert [record.message_id for record in sim.records] == ids
        assert sim.binds == [BindRecord("bank", "trx", 0x34)]
        await until(lambda: sim.receipts_acked == 100, "deliver_sm_resp for every receipt")
        assert (sim.submitted, sim.accepted, sim.receipts_sent) == (100, 100, 100)
        await esme.close()


async def test_tx_and_rx_pair_works_like_trx_and_receivers_share_round_robin() -> None:
    async with simulator() as sim:
        tx = await bound(sim.port, "tx")
        rx1 = await bound(sim.port, "rx")
        rx2 = await bound(sim.port, "rx")
        await asyncio.to_thread(tx.submit, 20)
        await until(lambda: len(rx1.delivers) + len(rx2.delivers) == 20, "20 receipts")
        assert len(tx.responses) == 20 and not tx.delivers
        assert (len(rx1.delivers), len(rx2.delivers)) == (10, 10)
        receipted = {d.receipted_message_id.decode() for d in rx1.delivers + rx2.delivers}
        assert receipted == set(ids_of(tx.responses))
        assert [(b.system_id, b.mode) for b in sim.binds] == [
            ("bank", "tx"),
            ("bank", "rx"),
            ("bank", "rx"),
        ]
        for esme in (tx, rx1, rx2):
            await esme.close()


async def test_receipts_go_only_to_the_same_system_id_and_wait_for_a_receiver() -> None:
    async with simulator() as sim:
        other = await bound(sim.port, "rx", system_id="otherbank")
        tx = await bound(sim.port, "tx")
        await asyncio.to_thread(tx.submit, 5)
        await until(lambda: sim.pending_receipts("bank") == 5, "receipts kept for bank")
        rx = await bound(sim.port, "rx")
        await until(lambda: len(rx.delivers) == 5, "kept receipts delivered on bind")
        assert not other.delivers and sim.pending_receipts("bank") == 0
        for esme in (tx, rx, other):
            await esme.close()


async def test_receipts_kept_without_a_receiver_are_bounded() -> None:
    async with simulator(max_pending_receipts=3) as sim:
        tx = await bound(sim.port, "tx")
        await asyncio.to_thread(tx.submit, 5)
        await until(lambda: sim.receipts_discarded == 2, "the two oldest receipts dropped")
        assert sim.pending_receipts("bank") == 3
        rx = await bound(sim.port, "rx")
        await until(lambda: len(rx.delivers) == 3, "the kept receipts")
        newest = ids_of(tx.responses)[2:]
        assert [d.receipted_message_id.decode() for d in rx.delivers] == newest
        for esme in (tx, rx):
            await esme.close()


async def test_registered_delivery_none_and_failures_only() -> None:
    async with simulator() as sim:
        esme = await bound(sim.port)
        await asyncio.to_thread(esme.submit, 3, registered_delivery=0)
        await asyncio.to_thread(esme.submit, 3, registered_delivery=2)
        sentinel = await asyncio.to_thread(esme.submit, 1, registered_delivery=1)
        # Receipts leave in submission order: once the sentinel's is here, the others would be.
        await until(lambda: len(esme.responses) == 7 and esme.delivers, "the sentinel receipt")
        assert len(esme.delivers) == 1
        assert esme.responses[-1].sequence == sentinel[0].sequence
        assert esme.delivers[0].receipted_message_id == esme.responses[-1].message_id
        await esme.close()
    async with simulator(receipt_failure_rate=1.0) as sim:
        esme = await bound(sim.port)
        await asyncio.to_thread(esme.submit, 3, registered_delivery=2)
        await until(lambda: len(esme.delivers) == 3, "3 failure receipts")
        for receipt in esme.delivers:
            fields = parse_receipt_text(receipt.short_message)
            assert fields is not None and fields.stat == "UNDELIV" and is_failure(fields.stat)
            assert receipt.message_state == MessageState.UNDELIVERABLE
        await esme.close()


@pytest.mark.parametrize(
    ("options", "status"),
    [
        ({"error_rate": 1.0}, CommandStatus.ESME_RSYSERR),
        ({"error_rate": 1.0, "error_kind": "permanent"}, CommandStatus.ESME_RX_P_APPN),
        ({"error_rate": 1.0, "error_status": 0x45}, CommandStatus.ESME_RSUBMITFAIL),
        ({"throttle_rate": 1.0}, CommandStatus.ESME_RTHROTTLED),
    ],
)
async def test_fault_rates_answer_every_submit_with_their_status(
    options: dict[str, Any], status: int
) -> None:
    async with simulator(**options) as sim:
        esme = await bound(sim.port)
        await asyncio.to_thread(esme.submit, 5)
        await until(lambda: len(esme.responses) == 5, "5 responses")
        assert [r.status for r in esme.responses] == [status] * 5
        assert (sim.accepted, sim.refused, sim.receipts_sent) == (0, 5, 0)
        await esme.close()


async def test_drop_every_closes_the_connection_on_the_nth_submit() -> None:
    async with simulator(drop_every=5, keep_records=True) as sim:
        for _ in range(2):  # the count is per connection: a reconnected ESME gets N-1 again
            esme = await bound(sim.port)
            await asyncio.to_thread(esme.submit, 5, registered_delivery=0)
            await until(esme.closed.is_set, "the connection to close")
            assert len(esme.responses) == 4
            await esme.close()
        assert sim.dropped == 2
        assert [r.command_status for r in sim.records[:5]] == [0, 0, 0, 0, None]
        assert sim.records[4].message_id is None


async def test_receipt_before_response() -> None:
    async with simulator(receipt_before_response=True) as sim:
        esme = await bound(sim.port)
        await asyncio.to_thread(esme.submit, 10)
        await until(lambda: len(esme.responses) == 10 and len(esme.delivers) == 10, "all PDUs")
        for message_id in ids_of(esme.responses):
            arrivals = esme.arrivals
            assert arrivals.index(("deliver", message_id)) < arrivals.index(("resp", message_id))
        await esme.close()


async def test_response_delay() -> None:
    async with simulator(response_delay_s=0.2) as sim:
        esme = await bound(sim.port)
        loop = asyncio.get_running_loop()
        started = loop.time()
        await asyncio.to_thread(esme.submit, 3)
        await until(lambda: len(esme.responses) == 3, "3 delayed responses")
        assert loop.time() - started >= 0.2
        await esme.close()


async def test_bind_checks_accounts_when_configured() -> None:
    async with simulator(accounts={"bank": "pw"}) as sim:
        for system_id, password, status in (
            ("bank", "wrong", CommandStatus.ESME_RINVPASWD),
            ("nobody", "pw", CommandStatus.ESME_RINVSYSID),
        ):
            esme = Esme(sim.port, "trx", system_id, password)
            with pytest.raises(smpplib.exceptions.PDUError) as refused:
                await asyncio.to_thread(esme.bind)
            assert refused.value.args[1] == status
            esme.client.disconnect()
        esme = await bound(sim.port, password="pw")
        assert sim.binds == [BindRecord("bank", "trx", 0x34)] and sim.bind_failures == 2
        await esme.close()


async def test_record_file_has_a_line_per_submit(tmp_path: Path) -> None:
    path = tmp_path / "received.jsonl"
    async with simulator(record_path=path) as sim:
        esme = await bound(sim.port)
        sent = await asyncio.to_thread(esme.submit, 3, user_message_reference=7, data_coding=0)
        await until(lambda: len(esme.responses) == 3, "3 responses")
        await until(lambda: len(path.read_text().splitlines()) == 3, "3 record lines")
        lines = [json.loads(line) for line in path.read_text().splitlines()]
        for line, pdu, response in zip(lines, sent, esme.responses, strict=True):
            assert line["system_id"] == "bank" and line["bind_mode"] == "trx"
            assert line["command"] == "submit_sm" and line["sequence_number"] == pdu.sequence
            assert (line["source_addr"], line["destination_addr"]) == ("PayBank", "447400123123")
            assert (line["esm_class"], line["data_coding"], line["registered_delivery"]) == (
                0,
                0,
                1,
            )
            assert bytes.fromhex(line["short_message_hex"]) == pdu.short_message
            assert line["tlvs"] == [[Tag.USER_MESSAGE_REFERENCE, "0007"]]
            assert line["message_id"] == response.message_id.decode()
            assert line["command_status"] == 0 and line["time"].endswith("+00:00")
        await esme.close()


# -- our own client: query_sm, cancel_sm, data_sm, MO, interface version 3.3 --------------------


class Collector:
    def __init__(self) -> None:
        self.delivered: list[Pdu] = []

    def on_event(self, connection: SmppConnection, event: ev.Event) -> None:
        if isinstance(event, ev.DeliverSmReceived):
            self.delivered.append(event.pdu)
            connection.send_response(event.pdu, CommandStatus.ESME_ROK, {"message_id": ""})


def submit_pdu(**params: Any) -> Pdu:
    base = {"source_addr": "PayBank", "destination_addr": "447400123123"}
    return Pdu(CommandId.SUBMIT_SM, {**base, "short_message": b"code 1234", **params})


async def test_query_and_cancel() -> None:
    async with simulator(receipt_delay_s=1.0) as sim:
        collector = Collector()
        connection = await open_bind(
            "127.0.0.1", sim.port, collector, mode="trx", system_id="bank", password="pw"
        )
        response = await connection.request(submit_pdu(registered_delivery=1))
        assert response is not None and response.command_status == 0
        message_id = str(response["message_id"])

        def query(mid: str) -> Pdu:
            return Pdu(CommandId.QUERY_SM, {"message_id": mid, "source_addr": "PayBank"})

        answer = await connection.request(query(message_id))
        assert answer is not None and answer["message_state"] == MessageState.ENROUTE
        assert answer["final_date"] == ""
        cancel = Pdu(CommandId.CANCEL_SM, {"message_id": message_id, "source_addr": "PayBank"})
        answer = await connection.request(cancel)
        assert answer is not None and answer.command_status == CommandStatus.ESME_ROK
        answer = await connection.request(query(message_id))
        assert answer is not None and answer["message_state"] == MessageState.DELETED
        assert len(str(answer["final_date"])) == 16
        answer = await connection.request(cancel)
        assert answer is not None and answer.command_status == CommandStatus.ESME_RCANCELFAIL
        answer = await connection.request(query("nonexistent"))
        assert answer is not None and answer.command_status == CommandStatus.ESME_RQUERYFAIL
        # The receipt of the cancelled message says so, at its usual time.
        await until(lambda: bool(collector.delivered), "the cancelled message's receipt")
        fields = parse_receipt_text(bytes(collector.delivered[0]["short_message"]))  # type: ignore[arg-type]
        assert fields is not None and (fields.message_id, fields.stat) == (message_id, "DELETED")
        connection.close()


async def test_data_sm_gets_an_id_and_a_receipt() -> None:
    async with simulator() as sim:
        collector = Collector()
        connection = await open_bind(
            "127.0.0.1", sim.port, collector, mode="trx", system_id="bank", password="pw"
        )
        data_sm = Pdu(
            CommandId.DATA_SM,
            {
                "source_addr": "PayBank",
                "destination_addr": "447400123123",
                "registered_delivery": 1,
            },
            [(Tag.MESSAGE_PAYLOAD, b"payload text that is long")],
        )
        response = await connection.request(data_sm)
        assert response is not None and response.command_id == CommandId.DATA_SM_RESP
        message_id = str(response["message_id"])
        await until(lambda: bool(collector.delivered), "the data_sm receipt")
        receipt = collector.delivered[0]
        assert receipt.tlv_cstr(Tag.RECEIPTED_MESSAGE_ID) == message_id
        assert bytes(receipt["short_message"]).endswith(b"text:payload text that is")  # type: ignore[arg-type]
        connection.close()


async def test_send_mo_reaches_a_receiver() -> None:
    async with simulator() as sim:
        esme = await bound(sim.port, "rx")
        sim.send_mo("bank", "447700900123", "PayBank", "STOP")
        sim.send_mo("bank", "447700900123", "PayBank", "Привет")
        await until(lambda: len(esme.delivers) == 2, "2 MO messages")
        first, second = esme.delivers
        assert (first.esm_class, first.data_coding, first.short_message) == (0, 1, b"STOP")
        assert first.source_addr == b"447700900123" and first.destination_addr == b"PayBank"
        assert second.data_coding == 8 and second.short_message == "Привет".encode("utf-16-be")
        await until(lambda: sim.mo_sent == 2, "MO counted")
        await esme.close()


async def test_interface_version_33_gets_no_tlvs() -> None:
    async with simulator() as sim:
        loop = asyncio.get_running_loop()
        collector = Collector()
        _, connection = await loop.create_connection(
            lambda: SmppConnection(Session(Role.ESME, SessionConfig(), now=loop.time()), collector),
            "127.0.0.1",
            sim.port,
        )
        bind = Pdu(
            CommandId.BIND_TRANSCEIVER,
            {"system_id": "oldbank", "password": "pw", "interface_version": 0x33},
        )
        answer = await connection.request(bind)
        assert answer is not None and answer.command_status == 0 and answer.tlvs == ()
        await connection.request(submit_pdu(registered_delivery=1))
        await until(lambda: bool(collector.delivered), "the receipt")
        assert collector.delivered[0].tlvs == ()
        assert parse_receipt_text(bytes(collector.delivered[0]["short_message"])) is not None  # type: ignore[arg-type]
        assert sim.binds == [BindRecord("oldbank", "trx", 0x33)]
        connection.close()


# -- the command and Net::SMPP -----------------------------------------------------------------


async def test_main_listens_and_exits_zero_on_sigterm() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "import sys; from smpp_adapters.simulator import main; sys.exit(main(sys.argv[1:]))",
        "--port",
        "0",
        "--account",
        "bank:pw",
        "--loop",
        "asyncio",
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 10)).decode()
        port = int(line.split("127.0.0.1:")[1].split()[0])
        connection = await open_bind(
            "127.0.0.1", port, Collector(), mode="tx", system_id="bank", password="pw"
        )
        response = await connection.request(submit_pdu())
        assert response is not None and response.command_status == 0
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 10) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


@pytest.mark.skipif(_net_smpp_missing(), reason="Net::SMPP (Debian libnet-smpp-perl) not installed")
async def test_net_smpp_client() -> None:
    async with simulator(accounts={"perlbank": "pw"}) as sim:
        process = await asyncio.create_subprocess_exec(
            PERL,
            str(PERL_CLIENT),
            "127.0.0.1",
            str(sim.port),
            "perlbank",
            "pw",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), 30)
        assert process.returncode == 0, err.decode()
        result = json.loads(out)
        assert result["message_id"] == result["receipted_message_id"] == result["text_id"]
        assert result["esm_class"] == 4 and result["message_state"] == MessageState.DELIVERED
        assert "text:Hello from Net::SMPP" in result["short_message"]
        assert sim.binds == [BindRecord("perlbank", "trx", 0x34)]
        await until(lambda: sim.receipts_acked == 1, "Net::SMPP's deliver_sm_resp")
