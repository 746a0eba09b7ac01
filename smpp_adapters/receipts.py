"""Delivery receipts of SMPP 3.4 Appendix B: format, parse, rewrite, and build the deliver_sm.

The text is ``id:IIIIIIIIII sub:SSS dlvrd:DDD submit date:YYMMDDhhmm done date:YYMMDDhhmm
stat:DDDDDDD err:E text:...``. Appendix B calls the format SMSC-specific, and SMSCs took it
at its word: keys come in any case, fields go missing, ids are hex and longer than ten
characters, dates carry seconds. The parser reads all of that; the rewriter changes only the
bytes it must, so whatever else a vendor put in the receipt reaches the ESME untouched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from .constants import ESM_CLASS_DELIVERY_RECEIPT, CommandId, MessageState, Tag
from .pdu import Pdu, tlv_cstr, tlv_uint

# The stat word of each final (or intermediate) message_state, Appendix B table B-2.
STAT_OF_STATE: Final[dict[MessageState, str]] = {
    MessageState.ENROUTE: "ENROUTE",
    MessageState.DELIVERED: "DELIVRD",
    MessageState.EXPIRED: "EXPIRED",
    MessageState.DELETED: "DELETED",
    MessageState.UNDELIVERABLE: "UNDELIV",
    MessageState.ACCEPTED: "ACCEPTD",
    MessageState.UNKNOWN: "UNKNOWN",
    MessageState.REJECTED: "REJECTD",
}
STATE_OF_STAT: Final[dict[str, MessageState]] = {word: s for s, word in STAT_OF_STATE.items()}
# Spellings seen in the wild for the same states.
_STAT_ALIASES: Final[dict[str, str]] = {
    "DELIVERED": "DELIVRD",
    "UNDELIVERABLE": "UNDELIV",
    "UNDELIVERED": "UNDELIV",
    "ACCEPTED": "ACCEPTD",
    "REJECTED": "REJECTD",
    "ENROUTE": "ENROUTE",
    "EN_ROUTE": "ENROUTE",
}
# Words that say the message is delivered or may still be; every other word is a failure,
# including ones we do not know: an ESME that asked for "failures only" would rather hear
# of an odd final state than miss a lost OTP.
_NOT_FAILED: Final = frozenset({"DELIVRD", "ACCEPTD", "ENROUTE"})

# A key starts the text or follows white space; "submit date" also appears as submit_date.
_KEY = re.compile(
    rb"(?:^|(?<=\s))(id|sub|dlvrd|submit[ _]date|done[ _]date|stat|err|text):",
    re.IGNORECASE,
)
_FIELD_OF_KEY: Final = {
    b"id": "message_id",
    b"sub": "sub",
    b"dlvrd": "dlvrd",
    b"submit date": "submit_date",
    b"submit_date": "submit_date",
    b"done date": "done_date",
    b"done_date": "done_date",
    b"stat": "stat",
    b"err": "err",
}
_TEXT_BYTES = 20  # Appendix B: "the first 20 characters of the short message"


@dataclass(frozen=True, slots=True)
class ReceiptFields:
    """What a receipt text says; a field the SMSC left out is None (``text`` is then b"")."""

    message_id: str
    stat: str | None = None  # upper case, aliases folded (DELIVERED -> DELIVRD)
    sub: str | None = None
    dlvrd: str | None = None
    submit_date: str | None = None  # as written: YYMMDDhhmm, sometimes with seconds
    done_date: str | None = None
    err: str | None = None
    text: bytes = b""

    @property
    def message_state(self) -> MessageState:
        return state_for_stat(self.stat)


def normalize_stat(stat: str) -> str:
    """The Appendix B word for a stat as some SMSC spelled it (upper case, aliases folded)."""
    word = stat.strip().upper()
    return _STAT_ALIASES.get(word, word)


def state_for_stat(stat: str | None) -> MessageState:
    """The message_state of a stat word; UNKNOWN for a word nobody defined."""
    if not stat:
        return MessageState.UNKNOWN
    return STATE_OF_STAT.get(normalize_stat(stat), MessageState.UNKNOWN)


def stat_for_state(state: int) -> str:
    """The stat word of a message_state; UNKNOWN for a value outside the specification."""
    try:
        return STAT_OF_STATE[MessageState(state)]
    except ValueError:
        return "UNKNOWN"


def is_failure(stat: str | None) -> bool:
    """Whether a receipt with this stat goes to an ESME that asked for failures only
    (registered_delivery = 2). A missing stat says nothing, so it is not a failure."""
    if not stat:
        return False
    return normalize_stat(stat) not in _NOT_FAILED


def receipt_date(moment: datetime) -> str:
    """YYMMDDhhmm, the date format of Appendix B."""
    return f"{moment.year % 100:02d}{moment.month:02d}{moment.day:02d}{moment.hour:02d}{moment.minute:02d}"


def format_receipt_text(
    message_id: str,
    *,
    stat: str | MessageState,
    submit_date: datetime | str,
    done_date: datetime | str,
    sub: int = 1,
    dlvrd: int | None = None,
    err: int = 0,
    text: bytes = b"",
) -> bytes:
    """The Appendix B receipt text.

    ``dlvrd`` defaults to 1 when ``stat`` is DELIVRD and 0 otherwise; ``text`` is cut to its
    first 20 octets as the appendix says. Dates may be given already formatted (a sender of
    many receipts formats each minute once).
    """
    return _receipt_text(message_id, _word(stat), submit_date, done_date, sub, dlvrd, err, text)


def _word(stat: str | MessageState) -> str:
    return stat_for_state(stat) if isinstance(stat, MessageState) else normalize_stat(stat)


def _receipt_text(
    message_id: str,
    word: str,
    submit_date: datetime | str,
    done_date: datetime | str,
    sub: int,
    dlvrd: int | None,
    err: int,
    text: bytes,
) -> bytes:
    if dlvrd is None:
        dlvrd = 1 if word == "DELIVRD" else 0
    submitted = submit_date if isinstance(submit_date, str) else receipt_date(submit_date)
    done = done_date if isinstance(done_date, str) else receipt_date(done_date)
    head = (
        f"id:{message_id} sub:{sub:03d} dlvrd:{dlvrd:03d} submit date:{submitted} "
        f"done date:{done} stat:{word} err:{err:03d} text:"
    )
    return head.encode("latin-1") + bytes(text[:_TEXT_BYTES])


def parse_receipt_text(data: bytes) -> ReceiptFields | None:
    """The fields of a receipt text, or None when ``data`` is not one.

    A receipt needs an ``id:`` and at least one other known key, so an ordinary message
    that happens to contain "id:" is not taken for one. ``text:`` runs to the end: it may
    hold spaces, and anything that looks like a key inside it is the message's, not ours.
    """
    found: dict[str, str] = {}
    text: bytes | None = None
    matches = list(_KEY.finditer(data))
    for index, match in enumerate(matches):
        key = match.group(1).lower()
        if key == b"text":
            text = data[match.end() :]
            break
        end = matches[index + 1].start() if index + 1 < len(matches) else len(data)
        value = data[match.end() : end].strip().decode("latin-1")
        found.setdefault(_FIELD_OF_KEY[key], value)
    message_id = found.pop("message_id", None)
    if not message_id or not (found or text is not None):
        return None
    # An id is one token; whatever follows it before the next key is not part of it.
    message_id = message_id.split(None, 1)[0]
    stat = found.pop("stat", None)
    return ReceiptFields(
        message_id=message_id,
        stat=normalize_stat(stat) if stat else None,
        text=text or b"",
        **found,
    )


def rewrite_receipt(short_message: bytes, *, message_id: str, blank_text: bool) -> bytes:
    """The receipt text with another ``id:`` value and, when ``blank_text``, nothing after
    ``text:`` (it may hold the first characters of an OTP). Every other byte stays as it was;
    a message without an ``id:`` key keeps its id, one without ``text:`` has nothing to blank.
    """
    data = short_message
    if not blank_text and data[:3].lower() == b"id:":
        # The common form (Appendix B): the id right after "id:" and a space after it.
        end = data.find(b" ", 3)
        if end > 3:
            return data[:3] + message_id.encode("latin-1") + data[end:]
    if blank_text:
        for match in _KEY.finditer(data):
            if match.group(1).lower() == b"text":
                data = data[: match.end()]
                break
    for match in _KEY.finditer(data):
        key = match.group(1).lower()
        if key == b"text":
            break
        if key == b"id":
            start = match.end()
            while start < len(data) and data[start] in b" \t":
                start += 1
            end = start
            while end < len(data) and not data[end : end + 1].isspace():
                end += 1
            return data[:start] + message_id.encode("latin-1") + data[end:]
    return data


def build_receipt_pdu(
    *,
    message_id: str,
    source_addr: str,
    destination_addr: str,
    stat: str | MessageState,
    submit_date: datetime | str,
    done_date: datetime | str,
    message_state: MessageState | None = None,
    err: int = 0,
    with_tlvs: bool = True,
    sub: int = 1,
    dlvrd: int | None = None,
    text: bytes = b"",
    source_addr_ton: int = 0,
    source_addr_npi: int = 0,
    dest_addr_ton: int = 0,
    dest_addr_npi: int = 0,
    network_error_code: bytes | None = None,
) -> Pdu:
    """A deliver_sm carrying a delivery receipt (esm_class 0x04).

    The addresses are the receipt's own: ``source_addr`` is the handset the message went to,
    ``destination_addr`` the sender of the original message. ``message_state`` defaults to
    the state of ``stat``. With ``with_tlvs`` it carries receipted_message_id and
    message_state (and network_error_code, three octets, when given); an ESME bound with
    interface version 3.3 loses them in the session, not here.
    """
    word = _word(stat)
    state = message_state if message_state is not None else state_for_stat(word)
    tlvs: list[tuple[int, bytes]] = []
    if with_tlvs:
        tlvs.append((Tag.RECEIPTED_MESSAGE_ID, tlv_cstr(message_id)))
        tlvs.append((Tag.MESSAGE_STATE, tlv_uint(int(state), 1)))
        if network_error_code is not None:
            tlvs.append((Tag.NETWORK_ERROR_CODE, network_error_code))
    return Pdu(
        CommandId.DELIVER_SM,
        {
            "source_addr_ton": source_addr_ton,
            "source_addr_npi": source_addr_npi,
            "source_addr": _fit_address(source_addr),
            "dest_addr_ton": dest_addr_ton,
            "dest_addr_npi": dest_addr_npi,
            "destination_addr": _fit_address(destination_addr),
            "esm_class": ESM_CLASS_DELIVERY_RECEIPT,
            "short_message": _receipt_text(
                message_id, word, submit_date, done_date, sub, dlvrd, err, text
            ),
        },
        tlvs,
    )


def _fit_address(address: str) -> str:
    """The address cut to deliver_sm's 20 octets: a data_sm may carry 64, but the receipt
    is matched by its message id, and a receipt that cannot be encoded is a receipt lost."""
    return address if len(address) <= _DELIVER_SM_ADDRESS else address[:_DELIVER_SM_ADDRESS]


_DELIVER_SM_ADDRESS = 20


__all__ = [
    "STATE_OF_STAT",
    "STAT_OF_STATE",
    "ReceiptFields",
    "build_receipt_pdu",
    "format_receipt_text",
    "is_failure",
    "normalize_stat",
    "parse_receipt_text",
    "receipt_date",
    "rewrite_receipt",
    "stat_for_state",
    "state_for_stat",
]
