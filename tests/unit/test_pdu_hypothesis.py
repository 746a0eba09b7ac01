"""Property tests of the codec and the session's framing: valid PDUs round trip exactly, and no
garbage makes ``decode`` raise anything but ``PduError`` or ``Session.receive_data`` raise at all."""

from __future__ import annotations

import struct

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smpp_adapters import events as ev
from smpp_adapters.constants import RESPONSE_BIT, CommandId
from smpp_adapters.errors import PduError
from smpp_adapters.pdu import CSTR, LAYOUTS, U8, Pdu, decode, encode
from smpp_adapters.session import Session, SessionConfig
from smpp_adapters.session_rules import Role

C = CommandId
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# PDUs that carry optional parameters in SMPP 3.4 section 4.
TLV_BEARERS = frozenset(
    {
        C.BIND_RECEIVER_RESP,
        C.BIND_TRANSMITTER_RESP,
        C.BIND_TRANSCEIVER_RESP,
        C.SUBMIT_SM,
        C.DELIVER_SM,
        C.DATA_SM,
        C.DATA_SM_RESP,
        C.ALERT_NOTIFICATION,
    }
)

tags = st.one_of(
    st.sampled_from([0x0204, 0x020C, 0x020E, 0x020F, 0x001E, 0x0427, 0x0423, 0x0424, 0x0210]),
    st.integers(0x1400, 0x3FFF),  # vendor specific
    st.integers(0, 0xFFFF),
)
tlv_lists = st.lists(st.tuples(tags, st.binary(max_size=40)), max_size=6)


def _value(kind: int, size: int) -> st.SearchStrategy[object]:
    if kind == CSTR:
        return st.text(
            st.characters(min_codepoint=1, max_codepoint=255), max_size=size - 1
        )  # latin-1, no NUL, within the spec's length
    if kind == U8:
        return st.integers(0, 255)
    return st.binary(max_size=size)


@st.composite
def valid_pdus(draw: st.DrawFn) -> Pdu:
    command_id = draw(st.sampled_from(sorted(LAYOUTS)))
    params = {name: draw(_value(kind, size)) for kind, name, size, _ in LAYOUTS[command_id]}
    tlvs = draw(tlv_lists) if command_id in TLV_BEARERS else []
    status = draw(st.integers(0, 0xFFFFFFFF)) if command_id & RESPONSE_BIT else 0
    return Pdu(
        command_id,
        params,  # type: ignore[arg-type]
        tlvs,
        command_status=status,
        sequence_number=draw(st.integers(0, 0xFFFFFFFF)),
    )


def _header(body: bytes, command_id: int, status: int = 0, sequence: int = 1) -> bytes:
    return struct.pack(">IIII", 16 + len(body), command_id, status, sequence) + body


command_ids = st.one_of(
    st.sampled_from(sorted(LAYOUTS)),
    st.sampled_from([C.REPLACE_SM, C.SUBMIT_MULTI, C.OUTBIND | RESPONSE_BIT]),
    st.integers(0, 0xFFFFFFFF),
)
framed_garbage = st.builds(
    _header, st.binary(max_size=120), command_ids, st.integers(0, 0xFFFFFFFF)
)


@st.composite
def mutated_pdus(draw: st.DrawFn) -> bytes:
    """A valid PDU with octets changed, cut, or inserted; its command_length fixed up or not."""
    data = bytearray(encode(draw(valid_pdus())))
    for _ in range(draw(st.integers(1, 4))):
        action = draw(st.sampled_from(["flip", "set", "cut", "insert", "truncate"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if action == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif action == "set" and data:
            data[at] = draw(st.sampled_from([0, 0xFF, 0x7F, 0x10]))
        elif action == "cut":
            del data[at : at + draw(st.integers(1, 8))]
        elif action == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        else:
            del data[at:]
    if draw(st.booleans()) and len(data) >= 4:
        data[0:4] = len(data).to_bytes(4, "big")
    return bytes(data)


garbage = st.one_of(st.binary(max_size=200), framed_garbage, mutated_pdus())


@SETTINGS
@given(valid_pdus())
def test_valid_pdus_round_trip(pdu: Pdu) -> None:
    data = encode(pdu)
    decoded = decode(data)
    assert decoded == pdu
    assert encode(decoded) == data


@SETTINGS
@given(garbage)
def test_decode_raises_only_pdu_error(data: bytes) -> None:
    try:
        pdu = decode(data)
    except PduError as error:
        assert error.command_status != 0
        return
    # Whatever the codec accepts, it gives back byte for byte.
    assert encode(pdu) == data


def _bound(role: Role) -> Session:
    session = Session(role, SessionConfig(incoming_window=3), now=0.0)
    if role is Role.SMSC:
        bind = Pdu(C.BIND_TRANSCEIVER, {"system_id": "esme", "interface_version": 0x34})
        session.receive_data(encode(bind), 0.0)
        (requested,) = session.events()
        session.send_response(requested.pdu, 0, {"system_id": "smsc"})  # type: ignore[attr-defined]
    else:
        session.send_request(Pdu(C.BIND_TRANSCEIVER, {"system_id": "esme"}), 0.0)
        session.receive_data(encode(Pdu(C.BIND_TRANSCEIVER_RESP, sequence_number=1)), 0.0)
    session.data_to_send()
    session.events()
    assert session.bound
    return session


sessions = st.sampled_from(["smsc-open", "smsc-bound", "esme-open", "esme-bound"])


@SETTINGS
@given(sessions, st.lists(garbage, min_size=1, max_size=5), st.integers(1, 64))
def test_session_swallows_any_garbage(which: str, chunks: list[bytes], step: int) -> None:
    role = Role.SMSC if which.startswith("smsc") else Role.ESME
    session = _bound(role) if which.endswith("bound") else Session(role, now=0.0)
    stream = b"".join(chunks)
    for i in range(0, len(stream), step):
        session.receive_data(stream[i : i + step], 1.0)
    events = session.events()
    assert all(isinstance(event, ev.Event) for event in events)
    # What the session answers on its own is well-formed SMPP.
    out = session.data_to_send()
    pos = 0
    while pos < len(out):
        length = int.from_bytes(out[pos : pos + 4], "big")
        answer = decode(out[pos : pos + length])
        assert answer.is_response
        # Only enquire_link and unbind are answered with success without the owner.
        assert answer.command_status != 0 or answer.command_id in (
            C.ENQUIRE_LINK_RESP,
            C.UNBIND_RESP,
        )
        pos += length


def _split(stream: bytes) -> list[Pdu]:
    pdus, pos = [], 0
    while pos < len(stream):
        length = int.from_bytes(stream[pos : pos + 4], "big")
        pdus.append(decode(stream[pos : pos + length]))
        pos += length
    return pdus


@SETTINGS
@given(st.lists(valid_pdus(), min_size=1, max_size=6), st.integers(1, 50))
def test_valid_pdus_framed_in_any_chunking_are_all_read(pdus: list[Pdu], step: int) -> None:
    # An SMSC session that is never bound: binds reach the owner, enquire_link is answered,
    # other requests are refused with ESME_RINVBNDSTS, unsolicited responses are dropped.
    session = Session(Role.SMSC, now=0.0)
    stream = b"".join(encode(p) for p in pdus)
    for i in range(0, len(stream), step):
        session.receive_data(stream[i : i + step], 1.0)
    expected_events: list[tuple[type, int]] = []
    expected_answers: list[tuple[int, int, int]] = []
    for pdu in pdus:
        if pdu.is_response:
            continue
        if pdu.command_id == C.ENQUIRE_LINK:
            expected_answers.append((C.ENQUIRE_LINK_RESP, 0, pdu.sequence_number))
        elif pdu.command_id in (C.BIND_TRANSMITTER, C.BIND_RECEIVER, C.BIND_TRANSCEIVER):
            expected_events.append((ev.BindRequested, pdu.sequence_number))
        else:
            expected_events.append((ev.PduRejected, pdu.sequence_number))
            expected_answers.append((-1, 0x04, pdu.sequence_number))
    events = session.events()
    seen = [
        (
            type(e),
            e.pdu.sequence_number if isinstance(e, ev.BindRequested) else e.error.sequence_number,
        )  # type: ignore[attr-defined]
        for e in events
    ]
    assert seen == expected_events
    binds = [e.pdu for e in events if isinstance(e, ev.BindRequested)]  # type: ignore[attr-defined]
    assert binds == [
        p for p in pdus if p.command_id in (C.BIND_TRANSMITTER, C.BIND_RECEIVER, C.BIND_TRANSCEIVER)
    ]
    answers = [
        (a.command_id, a.command_status, a.sequence_number) for a in _split(session.data_to_send())
    ]
    assert [(s, q) for _, s, q in answers] == [(s, q) for _, s, q in expected_answers]
    assert not session.ended
