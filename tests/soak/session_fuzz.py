"""Feeds fuzz inputs to the codec and to the sans-I/O session, and reports what breaks a rule.

The rules (smpp_adapters/pdu.py and session.py): ``decode`` raises only ``PduError``, and a
PDU it accepts re-encodes to exactly its bytes; ``Session.receive_data`` never raises for
the peer's bytes, whatever the chunking, and everything the session writes back is itself a
valid PDU stream. Each check returns None or a one-line description of the failure.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from smpp_adapters import events as ev
from smpp_adapters.constants import HEADER_BYTES, CommandId, CommandStatus
from smpp_adapters.errors import PduError
from smpp_adapters.pdu import Pdu, decode, encode
from smpp_adapters.session import Session, SessionConfig
from smpp_adapters.session_rules import BindState, Role

from .pdu_corpus import bind_transceiver

_CONFIG = SessionConfig(window=10, incoming_window=4, enquire_link_interval_s=30.0)
# Chunk sizes that cut a header, a body and a stream at awkward places; None: the rest.
_CHUNKS = (1, 2, 3, 4, 5, 15, 16, 17, 31, 64, 255, 1024, None)


def check_decode(data: bytes) -> str | None:
    try:
        pdu = decode(data)
    except PduError:
        return None
    except Exception as error:
        return f"decode raised {type(error).__name__}: {error}"
    try:
        again = encode(pdu)
    except Exception as error:
        return f"encode of a decoded PDU raised {type(error).__name__}: {error}"
    if again != data:
        return "a decoded PDU re-encodes to other bytes"
    return None


def check_output(data: bytes) -> str | None:
    """Every PDU the session wrote decodes: it never answers garbage with garbage."""
    pos = 0
    while pos < len(data):
        if len(data) - pos < HEADER_BYTES:
            return f"session wrote a partial header: {data[pos:].hex()}"
        length = int.from_bytes(data[pos : pos + 4], "big")
        try:
            decode(data[pos : pos + length])
        except PduError as error:
            return f"session wrote an invalid PDU ({error}): {data[pos : pos + length].hex()}"
        pos += length
    return None


def _answer(session: Session) -> list[ev.Event]:
    """Play a correct owner: answer every request the session hands over; the events."""
    events = session.events()
    for event in events:
        if isinstance(event, ev.BindRequested):
            # Two binds pipelined in one read both arrive while the state is still open.
            ok = session.state is BindState.OPEN
            status = CommandStatus.ESME_ROK if ok else CommandStatus.ESME_RALYBND
            session.send_response(event.pdu, status, {"system_id": "otpgate"} if ok else None)
        elif isinstance(event, ev.QuerySmReceived):
            params = {"message_id": "1", "final_date": "", "message_state": 1, "error_code": 0}
            session.send_response(event.pdu, CommandStatus.ESME_ROK, params)
        elif isinstance(event, ev.CancelSmReceived):
            session.send_response(event.pdu)
        elif isinstance(event, ev.RequestReceived):  # submit_sm, deliver_sm, data_sm
            session.send_response(event.pdu, CommandStatus.ESME_ROK, {"message_id": "1"})
    return events


def _opened(role: Role, bound: bool) -> tuple[Session, bytearray]:
    session = Session(role, _CONFIG, now=0.0)
    out = bytearray()
    if not bound:
        return session, out
    if role is Role.SMSC:
        session.receive_data(bind_transceiver(), 0.0)
    else:
        bind = decode(bind_transceiver())
        session.send_request(bind, 0.0)
        response = Pdu(CommandId.BIND_TRANSCEIVER_RESP, {"system_id": "otpgate"})
        response.sequence_number = 1
        session.receive_data(encode(response), 0.0)
    _answer(session)
    out += session.data_to_send()
    assert session.bound, "the valid bind of the corpus must bind"
    return session, out


@dataclass
class SessionRun:
    """What one stream did to a session: for the counts in the report."""

    ended: bool = False  # ended by the input, before any timer
    events: int = 0
    out_bytes: int = 0
    failure: str | None = None
    kinds: set[str] = field(default_factory=set)


def check_session(stream: bytes, rng: random.Random) -> SessionRun:
    role = Role.SMSC if rng.random() < 0.8 else Role.ESME  # the gateway's server, then its client
    session, out = _opened(role, bound=rng.random() < 0.7)
    run = SessionRun()
    now, pos = 0.0, 0
    try:
        while pos < len(stream) and not session.ended:
            size = rng.choice(_CHUNKS) or len(stream)
            now += 0.001
            session.receive_data(stream[pos : pos + size], now)
            pos += size
            events = _answer(session)
            run.events += len(events)
            run.kinds.update(type(e).__name__ for e in events)
            out += session.data_to_send()
        run.ended = session.ended  # by the input itself (framing lost, unbind), not a timer
        session.handle_timer(now + 1_000.0)  # every timer due at once: timeouts, inactivity
        _answer(session)
        out += session.data_to_send()
    except Exception as error:
        run.failure = f"session ({role.value}) raised {type(error).__name__}: {error}"
        return run
    run.out_bytes = len(out)
    run.failure = check_output(bytes(out))
    return run
