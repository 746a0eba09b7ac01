"""Which PDU may be sent in which bind state, for each role: the one table of the state machine."""

from __future__ import annotations

from enum import Enum

from .constants import CommandId as C


class Role(Enum):
    """The role of this side of the connection."""

    ESME = "esme"  # we bind to an SMSC (the gateway's upstream client)
    SMSC = "smsc"  # ESMEs bind to us (the gateway's server, the simulator)


class BindState(Enum):
    OPEN = "open"
    BOUND_TX = "bound_tx"
    BOUND_RX = "bound_rx"
    BOUND_TRX = "bound_trx"
    CLOSED = "closed"


OPEN, TX, RX, TRX = BindState.OPEN, BindState.BOUND_TX, BindState.BOUND_RX, BindState.BOUND_TRX
BOUND = frozenset({TX, RX, TRX})
TRANSMITTING = frozenset({TX, TRX})
RECEIVING = frozenset({RX, TRX})
LIVE = frozenset({OPEN, TX, RX, TRX})

BIND_STATE_OF: dict[int, BindState] = {
    C.BIND_TRANSMITTER: TX,
    C.BIND_RECEIVER: RX,
    C.BIND_TRANSCEIVER: TRX,
    C.BIND_TRANSMITTER_RESP: TX,
    C.BIND_RECEIVER_RESP: RX,
    C.BIND_TRANSCEIVER_RESP: TRX,
}

# SMPP 3.4 sections 2.2-2.3: binds only while open; an ESME submits (submit_sm, data_sm,
# query_sm, cancel_sm) only when bound to transmit; an SMSC delivers (deliver_sm, data_sm,
# alert_notification) only to a receiver or transceiver; enquire_link is allowed from the
# moment of connection; unbind only when bound.
# SENDER_MAY_SEND[role of the sender][command_id] = bind states of the connection that allow it.
SENDER_MAY_SEND: dict[Role, dict[int, frozenset[BindState]]] = {
    Role.ESME: {
        C.BIND_TRANSMITTER: frozenset({OPEN}),
        C.BIND_RECEIVER: frozenset({OPEN}),
        C.BIND_TRANSCEIVER: frozenset({OPEN}),
        C.SUBMIT_SM: TRANSMITTING,
        C.DATA_SM: TRANSMITTING,
        C.QUERY_SM: TRANSMITTING,
        C.CANCEL_SM: TRANSMITTING,
        C.ENQUIRE_LINK: LIVE,
        C.UNBIND: BOUND,
    },
    Role.SMSC: {
        C.DELIVER_SM: RECEIVING,
        C.DATA_SM: RECEIVING,
        C.ALERT_NOTIFICATION: RECEIVING,
        C.ENQUIRE_LINK: LIVE,
        C.UNBIND: BOUND,
    },
}

PEER_OF = {Role.ESME: Role.SMSC, Role.SMSC: Role.ESME}

# The same table turned around for the hot path: the command ids a sender of each role may
# send in each state, as plain int sets (hashing an Enum member runs Python code).
MAY_SEND_IN: dict[tuple[Role, BindState], frozenset[int]] = {
    (role, state): frozenset(int(c) for c, states in table.items() if state in states)
    for role, table in SENDER_MAY_SEND.items()
    for state in BindState
}
