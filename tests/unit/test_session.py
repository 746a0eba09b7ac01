"""The sans-I/O session: an ESME and an SMSC session wired together in memory, time passed in.

No sockets and no sleeps: ``Link.pump`` moves each side's ``data_to_send()`` into the other's
``receive_data`` until both are quiet, and every timer is driven with an explicit ``now``.
"""

from __future__ import annotations

import struct

import pytest

from smpp_adapters import events as ev
from smpp_adapters.constants import CommandId, MessageState, Tag
from smpp_adapters.constants import CommandStatus as S
from smpp_adapters.errors import LocalProtocolError
from smpp_adapters.pdu import Pdu, decode, encode, tlv_cstr, tlv_uint
from smpp_adapters.session import Session, SessionConfig
from smpp_adapters.session_rules import BindState, Role

C = CommandId
QUIET = SessionConfig(enquire_link_interval_s=None, inactivity_timeout_s=None)

SUBMIT = {
    "source_addr_ton": 5,
    "source_addr": "MyBank",
    "dest_addr_ton": 1,
    "dest_addr_npi": 1,
    "destination_addr": "447700900123",
    "registered_delivery": 1,
    "short_message": b"Your code is 482913",
}
RECEIPT_TLVS = (
    (Tag.RECEIPTED_MESSAGE_ID, tlv_cstr("1234567890")),
    (Tag.MESSAGE_STATE, tlv_uint(MessageState.DELIVERED, 1)),
    (0x1401, b"vendor"),
)
BIND_STATE = {
    C.BIND_TRANSCEIVER: BindState.BOUND_TRX,
    C.BIND_TRANSMITTER: BindState.BOUND_TX,
    C.BIND_RECEIVER: BindState.BOUND_RX,
}


class Link:
    """An ESME session and an SMSC session connected back to back."""

    def __init__(
        self,
        esme: SessionConfig | None = QUIET,
        smsc: SessionConfig | None = QUIET,
        now: float = 0.0,
    ) -> None:
        self.esme = Session(Role.ESME, esme, now=now)
        self.smsc = Session(Role.SMSC, smsc, now=now)

    def pump(self, now: float = 0.0) -> None:
        while True:
            to_smsc = self.esme.data_to_send()
            if to_smsc:
                self.smsc.receive_data(to_smsc, now)
            to_esme = self.smsc.data_to_send()
            if to_esme:
                self.esme.receive_data(to_esme, now)
            if not to_smsc and not to_esme:
                return

    def bind(
        self,
        command_id: int = C.BIND_TRANSCEIVER,
        *,
        interface_version: int = 0x34,
        now: float = 0.0,
    ) -> None:
        bind = Pdu(
            command_id,
            {"system_id": "bank_otp", "password": "s3cret", "interface_version": interface_version},
        )
        self.esme.send_request(bind, now)
        self.pump(now)
        (requested,) = self.smsc.events()
        assert isinstance(requested, ev.BindRequested)
        self.smsc.send_response(
            requested.pdu,
            S.ESME_ROK,
            {"system_id": "SMSC01"},
            [(Tag.SC_INTERFACE_VERSION, b"\x34")],
        )
        self.pump(now)
        self.smsc.events()
        self.esme.events()
        assert self.esme.state is self.smsc.state is BIND_STATE[command_id]


def pdus(data: bytes) -> list[Pdu]:
    """Split a byte stream into decoded PDUs."""
    found, pos = [], 0
    while pos < len(data):
        length = int.from_bytes(data[pos : pos + 4], "big")
        found.append(decode(data[pos : pos + length]))
        pos += length
    return found


def raw(command_id: int, body: bytes = b"", sequence: int = 1, length: int | None = None) -> bytes:
    size = 16 + len(body) if length is None else length
    return struct.pack(">IIII", size, command_id, 0, sequence) + body


# -- binding -------------------------------------------------------------------------------------


@pytest.mark.parametrize("command_id", list(BIND_STATE), ids=lambda c: C(c).name.lower())
def test_bind_accepted(command_id: int) -> None:
    link = Link()
    sequence = link.esme.send_request(
        Pdu(command_id, {"system_id": "bank_otp", "password": "s3cret", "system_type": "OTP"}), 0.0
    )
    assert sequence == 1
    link.pump()
    (requested,) = link.smsc.events()
    assert isinstance(requested, ev.BindRequested)
    assert requested.pdu.command_id == command_id
    assert (requested.pdu["system_id"], requested.pdu["password"]) == ("bank_otp", "s3cret")
    assert link.smsc.state is BindState.OPEN  # nothing is decided until the owner answers

    link.smsc.send_response(requested.pdu, S.ESME_ROK, {"system_id": "SMSC01"})
    state = BIND_STATE[command_id]
    assert link.smsc.events() == [ev.Bound("bank_otp", state.value)]
    assert link.smsc.state is state and link.smsc.bound
    assert link.smsc.system_id == "bank_otp"

    link.pump()
    bound, response = link.esme.events()
    assert bound == ev.Bound("bank_otp", state.value)
    assert isinstance(response, ev.ResponseReceived)
    assert response.request_command_id == command_id
    assert response.pdu.command_id == command_id | 0x80000000
    assert (response.pdu.command_status, response.pdu.sequence_number) == (0, sequence)
    assert response.pdu["system_id"] == "SMSC01"
    assert link.esme.state is state and link.esme.bound


@pytest.mark.parametrize("status", [S.ESME_RINVPASWD, S.ESME_RINVSYSID, S.ESME_RBINDFAIL])
@pytest.mark.parametrize("command_id", list(BIND_STATE), ids=lambda c: C(c).name.lower())
def test_bind_refused(command_id: int, status: int) -> None:
    link = Link()
    link.esme.send_request(Pdu(command_id, {"system_id": "bank_otp", "password": "wrong"}), 0.0)
    link.pump()
    (requested,) = link.smsc.events()
    link.smsc.send_response(requested.pdu, status)  # type: ignore[attr-defined]
    assert link.smsc.events() == []
    assert link.smsc.state is BindState.OPEN
    link.pump()
    (response,) = link.esme.events()
    assert isinstance(response, ev.ResponseReceived)
    assert response.pdu.command_status == status
    assert link.esme.state is BindState.OPEN
    # Nothing was bound: the ESME may try again.
    link.bind(command_id)


def test_bind_while_bound_is_refused_with_ralybnd() -> None:
    link = Link()
    link.bind()
    with pytest.raises(LocalProtocolError):
        link.esme.send_request(Pdu(C.BIND_TRANSMITTER, {"system_id": "again"}), 1.0)
    again = encode(Pdu(C.BIND_TRANSMITTER, {"system_id": "again"}, sequence_number=44))
    link.smsc.receive_data(again, 1.0)
    (rejected,) = link.smsc.events()
    assert isinstance(rejected, ev.PduRejected)
    assert rejected.error.command_status == S.ESME_RALYBND
    (answer,) = pdus(link.smsc.data_to_send())
    assert (answer.command_id, answer.command_status, answer.sequence_number) == (
        C.BIND_TRANSMITTER_RESP,
        S.ESME_RALYBND,
        44,
    )
    assert link.smsc.state is BindState.BOUND_TRX
    assert not link.smsc.ended


def test_owner_cannot_accept_a_second_bind() -> None:
    link = Link()
    link.esme.send_request(Pdu(C.BIND_TRANSCEIVER, {"system_id": "a"}), 0.0)
    link.smsc.receive_data(link.esme.data_to_send() + raw(C.ENQUIRE_LINK, sequence=2), 0.0)
    (requested,) = link.smsc.events()
    link.smsc.send_response(requested.pdu, S.ESME_ROK, {"system_id": "SMSC01"})  # type: ignore[attr-defined]
    with pytest.raises(LocalProtocolError):
        link.smsc.send_response(requested.pdu, S.ESME_ROK, {"system_id": "SMSC01"})  # type: ignore[attr-defined]


def test_submit_sm_before_bind_gets_rinvbndsts() -> None:
    link = Link()
    with pytest.raises(LocalProtocolError):
        link.esme.send_request(Pdu(C.SUBMIT_SM, SUBMIT), 0.0)
    link.smsc.receive_data(encode(Pdu(C.SUBMIT_SM, SUBMIT, sequence_number=3)), 0.0)
    (rejected,) = link.smsc.events()
    assert isinstance(rejected, ev.PduRejected)
    data = link.smsc.data_to_send()
    assert data == struct.pack(">IIII", 16, C.SUBMIT_SM_RESP, S.ESME_RINVBNDSTS, 3)
    assert not link.smsc.ended


def test_a_receiver_may_not_submit() -> None:
    link = Link()
    link.bind(C.BIND_RECEIVER)
    with pytest.raises(LocalProtocolError):
        link.esme.send_request(Pdu(C.SUBMIT_SM, SUBMIT), 1.0)
    link.smsc.receive_data(encode(Pdu(C.SUBMIT_SM, SUBMIT, sequence_number=9)), 1.0)
    (rejected,) = link.smsc.events()
    assert isinstance(rejected, ev.PduRejected)
    (answer,) = pdus(link.smsc.data_to_send())
    assert (answer.command_id, answer.command_status, answer.sequence_number) == (
        C.SUBMIT_SM_RESP,
        S.ESME_RINVBNDSTS,
        9,
    )
    # ...but it receives.
    link.smsc.send_request(Pdu(C.DELIVER_SM, SUBMIT, RECEIPT_TLVS), 1.0)
    link.pump(1.0)
    (delivered,) = link.esme.events()
    assert isinstance(delivered, ev.DeliverSmReceived)


def test_a_transmitter_is_not_delivered_to() -> None:
    link = Link()
    link.bind(C.BIND_TRANSMITTER)
    with pytest.raises(LocalProtocolError):
        link.smsc.send_request(Pdu(C.DELIVER_SM, SUBMIT), 1.0)
    link.esme.receive_data(encode(Pdu(C.DELIVER_SM, SUBMIT, sequence_number=4)), 1.0)
    (answer,) = pdus(link.esme.data_to_send())
    assert (answer.command_id, answer.command_status) == (C.DELIVER_SM_RESP, S.ESME_RINVBNDSTS)


# -- traffic -------------------------------------------------------------------------------------


def test_submit_and_receipt_round() -> None:
    link = Link()
    link.bind()
    tlvs = [(Tag.USER_MESSAGE_REFERENCE, tlv_uint(42, 2)), (0x1402, b"\x00\x01")]
    sequence = link.esme.send_request(Pdu(C.SUBMIT_SM, SUBMIT, tlvs), 1.0)
    assert sequence == 2  # the bind took 1
    link.pump(1.0)
    (submitted,) = link.smsc.events()
    assert isinstance(submitted, ev.SubmitSmReceived)
    assert submitted.pdu == Pdu(C.SUBMIT_SM, SUBMIT, tlvs, sequence_number=sequence)
    link.smsc.send_response(submitted.pdu, S.ESME_ROK, {"message_id": "1234567890"})
    link.pump(1.0)
    (answered,) = link.esme.events()
    assert isinstance(answered, ev.ResponseReceived)
    assert answered.request_command_id == C.SUBMIT_SM
    assert answered.pdu["message_id"] == "1234567890"
    assert answered.pdu.sequence_number == sequence

    link.smsc.send_request(Pdu(C.DELIVER_SM, {**SUBMIT, "esm_class": 4}, RECEIPT_TLVS), 2.0)
    link.pump(2.0)
    (receipt,) = link.esme.events()
    assert isinstance(receipt, ev.DeliverSmReceived)
    assert receipt.pdu.tlvs == RECEIPT_TLVS
    link.esme.send_response(receipt.pdu)
    link.pump(2.0)
    (receipt_answered,) = link.smsc.events()
    assert isinstance(receipt_answered, ev.ResponseReceived)
    assert receipt_answered.request_command_id == C.DELIVER_SM
    assert link.esme.outstanding == link.smsc.outstanding == 0


@pytest.mark.parametrize("bound", [False, True])
def test_enquire_link_answered_by_the_session(bound: bool) -> None:
    link = Link()
    if bound:
        link.bind()
    link.esme.send_request(Pdu(C.ENQUIRE_LINK), 1.0)
    assert link.esme.outstanding == 1
    link.smsc.receive_data(link.esme.data_to_send(), 1.0)
    assert link.smsc.events() == []  # nothing for the owner to do
    (answer,) = pdus(link.smsc.data_to_send())
    assert (answer.command_id, answer.command_status) == (C.ENQUIRE_LINK_RESP, 0)
    link.esme.receive_data(encode(answer), 1.0)
    assert link.esme.events() == []
    assert link.esme.outstanding == 0


def test_unbind() -> None:
    link = Link()
    link.bind()
    link.esme.unbind(5.0)
    link.pump(5.0)
    assert link.smsc.events() == [ev.UnbindReceived(), ev.SessionEnded("unbind received")]
    assert link.smsc.ended and link.smsc.state is BindState.CLOSED
    esme_events = link.esme.events()
    responses = [e for e in esme_events if isinstance(e, ev.ResponseReceived)]
    assert [(r.request_command_id, r.pdu.command_id) for r in responses] == [
        (C.UNBIND, C.UNBIND_RESP)
    ]
    assert [e for e in esme_events if isinstance(e, ev.SessionEnded)] == [
        ev.SessionEnded("unbind answered")
    ]
    assert link.esme.ended
    assert link.esme.get_timer() is None


def test_unbind_from_the_smsc_side() -> None:
    link = Link()
    link.bind()
    link.smsc.unbind(5.0)
    link.pump(5.0)
    assert link.esme.events() == [ev.UnbindReceived(), ev.SessionEnded("unbind received")]
    assert link.smsc.ended


# -- windows -------------------------------------------------------------------------------------


def test_outgoing_window() -> None:
    link = Link(esme=SessionConfig(window=2, enquire_link_interval_s=None))
    link.bind()
    assert link.esme.can_send
    first = link.esme.send_request(Pdu(C.SUBMIT_SM, SUBMIT), 1.0)
    link.esme.send_request(Pdu(C.SUBMIT_SM, SUBMIT), 1.0)
    assert not link.esme.can_send
    assert link.esme.outstanding == 2
    with pytest.raises(LocalProtocolError, match="window"):
        link.esme.send_request(Pdu(C.SUBMIT_SM, SUBMIT), 1.0)
    assert link.esme.outstanding == 2
    # enquire_link and unbind may pass a full window.
    link.esme.send_request(Pdu(C.ENQUIRE_LINK), 1.0, force=True)
    link.pump(1.0)
    submits = [e for e in link.smsc.events() if isinstance(e, ev.SubmitSmReceived)]
    assert len(submits) == 2
    link.smsc.send_response(submits[0].pdu, S.ESME_ROK, {"message_id": "a"})
    link.pump(1.0)
    (answered,) = link.esme.events()
    assert answered.pdu.sequence_number == first  # type: ignore[attr-defined]
    assert link.esme.can_send
    link.esme.send_request(Pdu(C.SUBMIT_SM, SUBMIT), 1.0)
    assert not link.esme.can_send


def test_incoming_window_full_is_throttled_by_the_session() -> None:
    link = Link(
        esme=SessionConfig(window=10, enquire_link_interval_s=None),
        smsc=SessionConfig(incoming_window=2, enquire_link_interval_s=None),
    )
    link.bind()
    sequences = [link.esme.send_request(Pdu(C.SUBMIT_SM, SUBMIT), 1.0) for _ in range(3)]
    link.smsc.receive_data(link.esme.data_to_send(), 1.0)
    first, second, rejected = link.smsc.events()
    assert isinstance(first, ev.SubmitSmReceived) and isinstance(second, ev.SubmitSmReceived)
    assert isinstance(rejected, ev.PduRejected)
    assert rejected.error.command_status == S.ESME_RTHROTTLED
    assert rejected.error.sequence_number == sequences[2]
    (throttled,) = pdus(link.smsc.data_to_send())
    assert (throttled.command_id, throttled.command_status, throttled.sequence_number) == (
        C.SUBMIT_SM_RESP,
        S.ESME_RTHROTTLED,
        sequences[2],
    )
    link.esme.receive_data(encode(throttled), 1.0)
    (answer,) = link.esme.events()
    assert answer.pdu.command_status == S.ESME_RTHROTTLED  # type: ignore[attr-defined]
    # Answering one frees a place.
    link.smsc.send_response(first.pdu, S.ESME_ROK, {"message_id": "1"})
    link.esme.send_request(Pdu(C.SUBMIT_SM, SUBMIT), 1.0)
    link.pump(1.0)
    assert [type(e) for e in link.smsc.events()] == [ev.SubmitSmReceived]


# -- timers --------------------------------------------------------------------------------------


def test_response_timeout_fires_at_exactly_the_timeout() -> None:
    config = SessionConfig(
        response_timeout_s=5.0, enquire_link_interval_s=None, inactivity_timeout_s=None
    )
    link = Link(esme=config)
    link.bind(now=100.0)
    assert link.esme.get_timer() is None
    first = link.esme.send_request(Pdu(C.SUBMIT_SM, SUBMIT), 100.0)
    second = link.esme.send_request(Pdu(C.SUBMIT_SM, SUBMIT), 102.5)
    assert link.esme.get_timer() == 105.0
    link.esme.handle_timer(104.999)
    assert link.esme.events() == []
    link.esme.handle_timer(105.0)
    assert link.esme.events() == [ev.ResponseTimedOut(first, C.SUBMIT_SM)]
    assert link.esme.get_timer() == 107.5
    link.esme.handle_timer(107.5)
    assert link.esme.events() == [ev.ResponseTimedOut(second, C.SUBMIT_SM)]
    assert link.esme.get_timer() is None
    assert link.esme.outstanding == 0
    # A late answer finds nobody waiting and is dropped quietly.
    link.esme.receive_data(
        encode(Pdu(C.SUBMIT_SM_RESP, {"message_id": "x"}, sequence_number=first)), 108.0
    )
    assert link.esme.events() == []
    assert not link.esme.ended


def test_enquire_link_sent_after_the_interval_of_silence() -> None:
    config = SessionConfig(enquire_link_interval_s=30.0, inactivity_timeout_s=None)
    link = Link(esme=config, smsc=QUIET)
    link.bind(now=0.0)  # the bind was our last request, at 0
    assert link.esme.get_timer() == 30.0
    link.esme.handle_timer(29.999)
    assert link.esme.data_to_send() == b""
    link.esme.handle_timer(30.0)
    (enquire,) = pdus(link.esme.data_to_send())
    assert enquire.command_id == C.ENQUIRE_LINK
    link.smsc.receive_data(encode(enquire), 30.0)
    link.esme.receive_data(link.smsc.data_to_send(), 30.0)
    assert link.esme.events() == []
    assert link.esme.outstanding == 0
    assert link.esme.get_timer() == 60.0
    # Traffic of our own counts as a sign of life: the next enquire_link moves back.
    link.esme.send_request(Pdu(C.SUBMIT_SM, SUBMIT), 45.0)
    assert link.esme.get_timer() == 55.0  # the submit's response timeout (10 s) comes first
    link.pump(45.0)
    (submitted,) = link.smsc.events()
    link.smsc.send_response(submitted.pdu, S.ESME_ROK, {"message_id": "1"})  # type: ignore[attr-defined]
    link.pump(46.0)
    link.esme.events()
    assert link.esme.get_timer() == 75.0


def test_no_enquire_link_before_binding() -> None:
    link = Link(esme=SessionConfig(enquire_link_interval_s=30.0, inactivity_timeout_s=None))
    assert link.esme.get_timer() is None
    link.esme.handle_timer(1000.0)
    assert link.esme.data_to_send() == b""


def test_inactivity_timeout_ends_the_session() -> None:
    config = SessionConfig(enquire_link_interval_s=None, inactivity_timeout_s=60.0)
    link = Link(smsc=config)
    assert link.smsc.get_timer() == 60.0
    link.esme.send_request(Pdu(C.ENQUIRE_LINK), 10.0)
    link.pump(10.0)
    assert link.smsc.get_timer() == 70.0
    link.smsc.handle_timer(69.999)
    assert not link.smsc.ended
    link.smsc.handle_timer(70.0)
    assert link.smsc.events() == [ev.SessionEnded("inactivity timeout")]
    assert link.smsc.ended
    assert link.smsc.get_timer() is None
    link.smsc.receive_data(raw(C.ENQUIRE_LINK), 71.0)  # too late: ignored
    assert link.smsc.data_to_send() == b""


def test_connection_lost_abandons_every_outstanding_request() -> None:
    link = Link()
    link.bind()
    sequences = [link.esme.send_request(Pdu(C.SUBMIT_SM, SUBMIT), 1.0) for _ in range(3)]
    link.esme.send_request(Pdu(C.ENQUIRE_LINK), 1.0)
    link.esme.connection_lost()
    assert link.esme.events() == [
        *(ev.RequestAbandoned(s, C.SUBMIT_SM) for s in sequences),
        ev.SessionEnded("connection lost"),
    ]
    assert link.esme.outstanding == 0
    assert link.esme.ended and link.esme.state is BindState.CLOSED
    assert link.esme.get_timer() is None


# -- interface_version 0x33: no TLVs ---------------------------------------------------------


@pytest.mark.parametrize("interface_version", [0x33, 0x34])
def test_tlvs_only_for_a_peer_bound_with_3_4(interface_version: int) -> None:
    keeps = interface_version == 0x34
    link = Link()
    link.esme.send_request(
        Pdu(C.BIND_TRANSCEIVER, {"system_id": "old", "interface_version": interface_version}), 0.0
    )
    link.pump()
    (requested,) = link.smsc.events()
    assert link.smsc.peer_interface_version == interface_version
    link.smsc.send_response(
        requested.pdu,  # type: ignore[attr-defined]
        S.ESME_ROK,
        {"system_id": "SMSC01"},
        [(Tag.SC_INTERFACE_VERSION, b"\x34")],
    )
    assert [type(e) for e in link.smsc.events()] == [ev.Bound]
    bind_resp = link.smsc.data_to_send()
    assert (len(bind_resp) == 16 + 7 + 5) is keeps
    link.esme.receive_data(bind_resp, 0.0)
    _, bound = link.esme.events()
    assert bound.pdu.tlvs == (((Tag.SC_INTERFACE_VERSION, b"\x34"),) if keeps else ())  # type: ignore[attr-defined]

    # The receipt (deliver_sm) loses its TLVs, its text stays.
    link.smsc.send_request(Pdu(C.DELIVER_SM, {**SUBMIT, "esm_class": 4}, RECEIPT_TLVS), 1.0)
    link.pump(1.0)
    (receipt,) = link.esme.events()
    assert receipt.pdu.tlvs == (RECEIPT_TLVS if keeps else ())  # type: ignore[attr-defined]
    assert receipt.pdu["short_message"] == SUBMIT["short_message"]  # type: ignore[attr-defined]
    assert receipt.pdu["esm_class"] == 4  # type: ignore[attr-defined]

    # So does a response with TLVs (data_sm_resp, and the hot path of submit_sm_resp).
    link.esme.send_request(Pdu(C.SUBMIT_SM, SUBMIT), 2.0)
    link.esme.send_request(Pdu(C.DATA_SM, {"destination_addr": "447700900123"}), 2.0)
    link.pump(2.0)
    submitted, data_sm = link.smsc.events()
    extra = [(Tag.ADDITIONAL_STATUS_INFO_TEXT, tlv_cstr("ok")), (0x1401, b"v")]
    link.smsc.send_response(submitted.pdu, S.ESME_ROK, {"message_id": "7"}, extra)  # type: ignore[attr-defined]
    link.smsc.send_response(data_sm.pdu, S.ESME_ROK, {"message_id": "8"}, extra)  # type: ignore[attr-defined]
    link.pump(2.0)
    for answered in link.esme.events():
        assert answered.pdu.tlvs == (tuple(extra) if keeps else ())  # type: ignore[attr-defined]


# -- framing -------------------------------------------------------------------------------------


def _traffic() -> list[bytes]:
    return [
        encode(Pdu(C.SUBMIT_SM, SUBMIT, [(0x1401, b"v" * 3)], sequence_number=10)),
        encode(Pdu(C.ENQUIRE_LINK, sequence_number=11)),
        encode(Pdu(C.QUERY_SM, {"message_id": "1", "source_addr": "MyBank"}, sequence_number=12)),
        encode(Pdu(C.SUBMIT_SM, {**SUBMIT, "short_message": bytes(254)}, sequence_number=13)),
    ]


def _bound_smsc() -> Link:
    link = Link()
    link.bind()
    return link


def _requests(events: list[ev.Event]) -> list[Pdu]:
    return [e.pdu for e in events if isinstance(e, ev.RequestReceived)]


def test_a_pdu_split_byte_by_byte_decodes_the_same() -> None:
    stream = b"".join(_traffic())
    whole = _bound_smsc()
    whole.smsc.receive_data(stream, 1.0)
    split = _bound_smsc()
    for i in range(len(stream)):
        split.smsc.receive_data(stream[i : i + 1], 1.0)
    expected = [decode(p) for p in _traffic() if decode(p).command_id != C.ENQUIRE_LINK]
    assert _requests(whole.smsc.events()) == expected
    assert _requests(split.smsc.events()) == expected
    assert split.smsc.data_to_send() == whole.smsc.data_to_send()  # the enquire_link_resp


def test_many_pdus_in_one_chunk_all_decode() -> None:
    link = Link(
        esme=SessionConfig(window=500, enquire_link_interval_s=None),
        smsc=SessionConfig(incoming_window=500, enquire_link_interval_s=None),
    )
    link.bind()
    sent = [
        Pdu(C.SUBMIT_SM, {**SUBMIT, "destination_addr": f"44770090{i:04d}"}) for i in range(300)
    ]
    for pdu in sent:
        link.esme.send_request(pdu, 1.0)
    chunk = link.esme.data_to_send()
    link.smsc.receive_data(chunk, 1.0)
    received = _requests(link.smsc.events())
    assert [p["destination_addr"] for p in received] == [p["destination_addr"] for p in sent]
    assert [p.sequence_number for p in received] == list(range(2, 302))


def test_garbage_in_the_middle_is_nacked_and_the_session_goes_on() -> None:
    link = _bound_smsc()
    first, _, third, fourth = _traffic()
    bad = raw(0x00000099, b"\x01\x02\x03\x04garbage", sequence=77)
    link.smsc.receive_data(first + bad + third + fourth, 1.0)
    events = link.smsc.events()
    assert [type(e) for e in events] == [
        ev.SubmitSmReceived,
        ev.PduRejected,
        ev.QuerySmReceived,
        ev.SubmitSmReceived,
    ]
    assert events[1].error.command_status == S.ESME_RINVCMDID  # type: ignore[attr-defined]
    (nack,) = pdus(link.smsc.data_to_send())
    assert (nack.command_id, nack.command_status, nack.sequence_number) == (
        C.GENERIC_NACK,
        S.ESME_RINVCMDID,
        77,
    )
    assert not link.smsc.ended


@pytest.mark.parametrize("command_id", [C.REPLACE_SM, C.SUBMIT_MULTI])
def test_replace_sm_and_submit_multi_are_nacked(command_id: int) -> None:
    link = _bound_smsc()
    link.smsc.receive_data(raw(command_id, b"\0" * 20, sequence=5), 1.0)
    (nack,) = pdus(link.smsc.data_to_send())
    assert (nack.command_id, nack.command_status, nack.sequence_number) == (
        C.GENERIC_NACK,
        S.ESME_RINVCMDID,
        5,
    )
    assert not link.smsc.ended


def test_a_malformed_body_is_answered_with_its_status() -> None:
    link = _bound_smsc()
    body = b"\0" + b"\x05\x00" + b"1" * 25  # source_addr never terminated within 21 octets
    link.smsc.receive_data(raw(C.SUBMIT_SM, body, sequence=6) + _traffic()[1], 1.0)
    (rejected,) = link.smsc.events()
    assert rejected.error.command_status == S.ESME_RINVSRCADR  # type: ignore[attr-defined]
    answer, enquire_resp = pdus(link.smsc.data_to_send())
    assert (answer.command_id, answer.command_status, answer.sequence_number) == (
        C.SUBMIT_SM_RESP,
        S.ESME_RINVSRCADR,
        6,
    )
    assert enquire_resp.command_id == C.ENQUIRE_LINK_RESP
    assert not link.smsc.ended


@pytest.mark.parametrize("length", [0, 5, 15])
def test_command_length_below_16_ends_the_session(length: int) -> None:
    link = _bound_smsc()
    link.smsc.receive_data(
        _traffic()[0] + raw(C.SUBMIT_SM, b"\0" * 8, sequence=8, length=length), 1.0
    )
    first, rejected, ended = link.smsc.events()
    assert isinstance(first, ev.SubmitSmReceived)  # what came before is still read
    assert isinstance(rejected, ev.PduRejected) and rejected.error.fatal
    assert ended == ev.SessionEnded(str(rejected.error))
    (nack,) = pdus(link.smsc.data_to_send())
    assert (nack.command_id, nack.command_status, nack.sequence_number) == (
        C.GENERIC_NACK,
        S.ESME_RINVCMDLEN,
        8,
    )
    assert link.smsc.ended
    link.smsc.receive_data(_traffic()[1], 2.0)
    assert link.smsc.events() == [] and link.smsc.data_to_send() == b""


def test_command_length_above_the_maximum_ends_the_session() -> None:
    link = Link(smsc=SessionConfig(max_pdu_bytes=1024, enquire_link_interval_s=None))
    link.bind()
    # Refused from the header alone, without waiting for the 1025 octets.
    link.smsc.receive_data(raw(C.SUBMIT_SM, b"", sequence=9, length=1025), 1.0)
    rejected, ended = link.smsc.events()
    assert isinstance(rejected, ev.PduRejected) and rejected.error.fatal
    assert rejected.error.command_status == S.ESME_RINVCMDLEN
    assert isinstance(ended, ev.SessionEnded)
    (nack,) = pdus(link.smsc.data_to_send())
    assert (nack.command_id, nack.command_status) == (C.GENERIC_NACK, S.ESME_RINVCMDLEN)
    # Exactly the maximum is fine.
    ok = Link(smsc=SessionConfig(max_pdu_bytes=1024, enquire_link_interval_s=None))
    ok.bind()
    empty = Pdu(C.SUBMIT_SM, {**SUBMIT, "short_message": b""}, [(0x1401, b"")], sequence_number=3)
    padding = 1024 - len(encode(empty))
    data = encode(empty.with_tlv(0x1401, b"\x01" * padding))
    assert len(data) == 1024
    ok.smsc.receive_data(data, 1.0)
    assert [type(e) for e in ok.smsc.events()] == [ev.SubmitSmReceived]


def test_a_malformed_response_fails_its_request() -> None:
    link = Link()
    link.bind()
    sequence = link.esme.send_request(Pdu(C.SUBMIT_SM, SUBMIT), 1.0)
    link.esme.data_to_send()
    bad = raw(C.SUBMIT_SM_RESP, b"no terminator", sequence=sequence)
    link.esme.receive_data(bad, 1.0)
    failed, rejected = link.esme.events()
    assert isinstance(failed, ev.ResponseReceived)
    assert failed.request_command_id == C.SUBMIT_SM
    assert failed.pdu.command_status == S.ESME_RINVMSGID
    assert isinstance(rejected, ev.PduRejected)
    assert link.esme.data_to_send() == b""  # a response is never answered
    assert link.esme.outstanding == 0 and not link.esme.ended


def test_an_unbound_connection_ends_at_the_bind_timeout_whatever_enquire_link_does() -> None:
    config = SessionConfig(
        enquire_link_interval_s=None, inactivity_timeout_s=60.0, bind_timeout_s=10.0
    )
    link = Link(smsc=config)
    assert link.smsc.get_timer() == 10.0
    for second in range(1, 10):  # an enquire_link a second keeps inactivity away, not this
        link.esme.send_request(Pdu(C.ENQUIRE_LINK), float(second))
        link.pump(float(second))
        link.smsc.handle_timer(float(second))
        assert not link.smsc.ended
    link.smsc.events()
    link.smsc.handle_timer(10.0)
    assert link.smsc.events() == [ev.SessionEnded("bind timeout")]


def test_a_bound_connection_has_no_bind_timeout() -> None:
    config = SessionConfig(
        enquire_link_interval_s=None, inactivity_timeout_s=None, bind_timeout_s=10.0
    )
    link = Link(smsc=config)
    link.bind(now=1.0)
    assert link.smsc.get_timer() is None
    link.smsc.handle_timer(100.0)
    assert not link.smsc.ended
