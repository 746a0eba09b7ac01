"""What a session reports to its owner: small frozen facts, named in the past tense."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import PduError
from .pdu import Pdu


@dataclass(frozen=True, slots=True)
class Event:
    """Base of every session event."""


@dataclass(frozen=True, slots=True)
class ConnectionMade(Event):
    """The transport connected (reported by the adapter, not the session): vet the peer here."""

    peer: tuple[str, int] | None


@dataclass(frozen=True, slots=True)
class RequestReceived(Event):
    """The peer sent a request the owner must answer with ``Session.send_response``."""

    pdu: Pdu


@dataclass(frozen=True, slots=True)
class BindRequested(RequestReceived):
    """An ESME asked to bind; accept or refuse it with a bind response."""


@dataclass(frozen=True, slots=True)
class SubmitSmReceived(RequestReceived):
    pass


@dataclass(frozen=True, slots=True)
class DeliverSmReceived(RequestReceived):
    pass


@dataclass(frozen=True, slots=True)
class DataSmReceived(RequestReceived):
    pass


@dataclass(frozen=True, slots=True)
class QuerySmReceived(RequestReceived):
    pass


@dataclass(frozen=True, slots=True)
class CancelSmReceived(RequestReceived):
    pass


@dataclass(frozen=True, slots=True)
class AlertNotificationReceived(Event):
    """alert_notification needs no response."""

    pdu: Pdu


@dataclass(frozen=True, slots=True)
class ResponseReceived(Event):
    """The answer (or a generic_nack) to a request this side sent."""

    pdu: Pdu
    request_command_id: int


@dataclass(frozen=True, slots=True)
class ResponseTimedOut(Event):
    """No answer came within the response timeout; the request is forgotten."""

    sequence_number: int
    request_command_id: int


@dataclass(frozen=True, slots=True)
class RequestAbandoned(Event):
    """The connection ended before the request was answered."""

    sequence_number: int
    request_command_id: int


@dataclass(frozen=True, slots=True)
class Bound(Event):
    """The session reached a bound state (either role)."""

    system_id: str
    state: str


@dataclass(frozen=True, slots=True)
class PduRejected(Event):
    """A malformed or misplaced PDU was answered with an error status; the session goes on unless fatal."""

    error: PduError


@dataclass(frozen=True, slots=True)
class UnbindReceived(Event):
    """The peer unbound; the unbind_resp is already queued and the session is closing."""


@dataclass(frozen=True, slots=True)
class SessionEnded(Event):
    """The session is over: flush ``data_to_send()`` and close the connection."""

    reason: str
