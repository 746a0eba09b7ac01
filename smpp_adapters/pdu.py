"""The SMPP 3.4 codec: PDUs to bytes and back, driven by one table of body layouts.

Every optional parameter (TLV) is kept as raw ``(tag, value)`` pairs in arrival order, so a
decoded PDU re-encodes to exactly the bytes it came from, vendor TLVs included. ``raw`` keeps
the original bytes so a relay can forward them with only the sequence number patched.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable
from typing import Final

from .constants import HEADER_BYTES, RESPONSE_BIT, CommandId, Tag
from .constants import CommandStatus as S
from .errors import LocalProtocolError, PduError

_HEADER = struct.Struct(">IIII")
_TLV_HEADER = struct.Struct(">HH")

ParamValue = int | str | bytes
Tlv = tuple[int, bytes]

# Field kinds of the layout table.
CSTR: Final = 0  # C-Octet String, max length including the NUL
U8: Final = 1  # Integer, 1 octet
SM: Final = 2  # sm_length (1 octet) followed by short_message

# (kind, name, max_bytes_including_nul, status_when_invalid)
Field = tuple[int, str, int, int]


def _c(name: str, size: int, status: int) -> Field:
    return (CSTR, name, size, status)


def _u8(name: str) -> Field:
    return (U8, name, 1, S.ESME_RINVCMDLEN)


_SHORT_MESSAGE: Field = (SM, "short_message", 254, S.ESME_RINVMSGLEN)

_BIND = (
    _c("system_id", 16, S.ESME_RINVSYSID),
    _c("password", 9, S.ESME_RINVPASWD),
    _c("system_type", 13, S.ESME_RINVSYSTYP),
    _u8("interface_version"),
    _u8("addr_ton"),
    _u8("addr_npi"),
    _c("address_range", 41, S.ESME_RINVPARLEN),
)
_BIND_RESP = (_c("system_id", 16, S.ESME_RINVSYSID),)
_SM = (
    _c("service_type", 6, S.ESME_RINVSERTYP),
    _u8("source_addr_ton"),
    _u8("source_addr_npi"),
    _c("source_addr", 21, S.ESME_RINVSRCADR),
    _u8("dest_addr_ton"),
    _u8("dest_addr_npi"),
    _c("destination_addr", 21, S.ESME_RINVDSTADR),
    _u8("esm_class"),
    _u8("protocol_id"),
    _u8("priority_flag"),
    _c("schedule_delivery_time", 17, S.ESME_RINVSCHED),
    _c("validity_period", 17, S.ESME_RINVEXPIRY),
    _u8("registered_delivery"),
    _u8("replace_if_present_flag"),
    _u8("data_coding"),
    _u8("sm_default_msg_id"),
    _SHORT_MESSAGE,
)
_MESSAGE_ID = (_c("message_id", 65, S.ESME_RINVMSGID),)

# The body of every PDU the gateway speaks, in the order of SMPP 3.4 section 4.
# Commands absent from this table (replace_sm, submit_multi) are answered ESME_RINVCMDID.
LAYOUTS: Final[dict[int, tuple[Field, ...]]] = {
    CommandId.GENERIC_NACK: (),
    CommandId.BIND_RECEIVER: _BIND,
    CommandId.BIND_TRANSMITTER: _BIND,
    CommandId.BIND_TRANSCEIVER: _BIND,
    CommandId.BIND_RECEIVER_RESP: _BIND_RESP,
    CommandId.BIND_TRANSMITTER_RESP: _BIND_RESP,
    CommandId.BIND_TRANSCEIVER_RESP: _BIND_RESP,
    CommandId.OUTBIND: (_c("system_id", 16, S.ESME_RINVSYSID), _c("password", 9, S.ESME_RINVPASWD)),
    CommandId.UNBIND: (),
    CommandId.UNBIND_RESP: (),
    CommandId.ENQUIRE_LINK: (),
    CommandId.ENQUIRE_LINK_RESP: (),
    CommandId.SUBMIT_SM: _SM,
    CommandId.SUBMIT_SM_RESP: _MESSAGE_ID,
    CommandId.DELIVER_SM: _SM,
    CommandId.DELIVER_SM_RESP: _MESSAGE_ID,
    CommandId.DATA_SM: (
        _c("service_type", 6, S.ESME_RINVSERTYP),
        _u8("source_addr_ton"),
        _u8("source_addr_npi"),
        _c("source_addr", 65, S.ESME_RINVSRCADR),
        _u8("dest_addr_ton"),
        _u8("dest_addr_npi"),
        _c("destination_addr", 65, S.ESME_RINVDSTADR),
        _u8("esm_class"),
        _u8("registered_delivery"),
        _u8("data_coding"),
    ),
    CommandId.DATA_SM_RESP: _MESSAGE_ID,
    CommandId.QUERY_SM: (
        _c("message_id", 65, S.ESME_RINVMSGID),
        _u8("source_addr_ton"),
        _u8("source_addr_npi"),
        _c("source_addr", 21, S.ESME_RINVSRCADR),
    ),
    CommandId.QUERY_SM_RESP: (
        _c("message_id", 65, S.ESME_RINVMSGID),
        _c("final_date", 17, S.ESME_RINVPARLEN),
        _u8("message_state"),
        _u8("error_code"),
    ),
    CommandId.CANCEL_SM: (
        _c("service_type", 6, S.ESME_RINVSERTYP),
        _c("message_id", 65, S.ESME_RINVMSGID),
        _u8("source_addr_ton"),
        _u8("source_addr_npi"),
        _c("source_addr", 21, S.ESME_RINVSRCADR),
        _u8("dest_addr_ton"),
        _u8("dest_addr_npi"),
        _c("destination_addr", 21, S.ESME_RINVDSTADR),
    ),
    CommandId.CANCEL_SM_RESP: (),
    CommandId.ALERT_NOTIFICATION: (
        _u8("source_addr_ton"),
        _u8("source_addr_npi"),
        _c("source_addr", 65, S.ESME_RINVSRCADR),
        _u8("esme_addr_ton"),
        _u8("esme_addr_npi"),
        _c("esme_addr", 65, S.ESME_RINVDSTADR),
    ),
}

# Commands whose body may carry TLVs (SMPP 3.4 section 4); others must end after the layout.
_TLV_ALLOWED: Final = frozenset(
    {
        CommandId.BIND_RECEIVER_RESP,
        CommandId.BIND_TRANSMITTER_RESP,
        CommandId.BIND_TRANSCEIVER_RESP,
        CommandId.SUBMIT_SM,
        CommandId.DELIVER_SM,
        CommandId.DATA_SM,
        CommandId.DATA_SM_RESP,
        CommandId.ALERT_NOTIFICATION,
    }
)

_DEFAULTS: Final[dict[int, ParamValue]] = {CSTR: "", U8: 0, SM: b""}
_SM_COMMANDS: Final = frozenset({CommandId.SUBMIT_SM, CommandId.DELIVER_SM})


class Pdu:
    """One SMPP PDU: header, mandatory parameters by their specification names, raw TLVs.

    Treat an instance as immutable: ``evolve`` makes a changed copy and drops ``raw``, which
    is only valid while nothing changed.
    """

    __slots__ = ("command_id", "command_status", "params", "raw", "sequence_number", "tlvs")

    def __init__(
        self,
        command_id: int,
        params: dict[str, ParamValue] | None = None,
        tlvs: Iterable[Tlv] = (),
        *,
        command_status: int = 0,
        sequence_number: int = 0,
        raw: bytes | None = None,
    ) -> None:
        self.command_id = command_id
        self.command_status = command_status
        self.sequence_number = sequence_number
        if raw is None:
            # Built here rather than decoded: complete it so every field reads the same way.
            layout = LAYOUTS.get(command_id, ())
            given = params or {}
            params = {name: given.get(name, _DEFAULTS[kind]) for kind, name, _, _ in layout}
            params.update(given)
        self.params: dict[str, ParamValue] = params if params is not None else {}
        self.tlvs: tuple[Tlv, ...] = tuple(tlvs)
        self.raw = raw

    @property
    def is_response(self) -> bool:
        return bool(self.command_id & RESPONSE_BIT)

    def __getitem__(self, name: str) -> ParamValue:
        return self.params[name]

    def get(self, name: str, default: ParamValue | None = None) -> ParamValue | None:
        return self.params.get(name, default)

    def tlv(self, tag: int) -> bytes | None:
        """The value of the first TLV with this tag, or None."""
        for t, value in self.tlvs:
            if t == tag:
                return value
        return None

    def tlv_int(self, tag: int) -> int | None:
        value = self.tlv(tag)
        return int.from_bytes(value, "big") if value else None

    def tlv_cstr(self, tag: int) -> str | None:
        """A C-Octet String TLV (receipted_message_id, ...), tolerating a missing NUL."""
        for t, value in self.tlvs:  # tlv()'s loop, inline: every receipt asks for its id
            if t == tag:
                return value.split(b"\0", 1)[0].decode("latin-1")
        return None

    def evolve(
        self,
        *,
        command_status: int | None = None,
        sequence_number: int | None = None,
        tlvs: Iterable[Tlv] | None = None,
        **params: ParamValue,
    ) -> Pdu:
        """A copy with some header fields, parameters or the TLV list changed."""
        # The parameters are already complete: skip the constructor's filling in of defaults.
        copy = Pdu.__new__(Pdu)
        copy.command_id = self.command_id
        copy.command_status = self.command_status if command_status is None else command_status
        copy.sequence_number = self.sequence_number if sequence_number is None else sequence_number
        copy.params = {**self.params, **params} if params else self.params
        copy.tlvs = self.tlvs if tlvs is None else tuple(tlvs)
        copy.raw = None
        return copy

    def with_message(self, short_message: bytes, tlvs: Iterable[Tlv]) -> Pdu:
        """A copy of a submit_sm or deliver_sm with another short_message and TLV list.

        From decoded bytes it splices the original mandatory part rather than re-encoding
        it (the receipt path does this for every message), so the result keeps ``raw``.
        """
        if type(tlvs) is not tuple:
            tlvs = tuple(tlvs)
        if self.raw is None or self.command_id not in _SM_COMMANDS:
            return self.evolve(short_message=short_message, tlvs=tlvs)
        p = self.params
        # Before sm_length: five C-Octet Strings (decoded, so str, latin-1: one octet per
        # character) and 11 octets. One string and one len(), not a loop: every receipt
        # comes this way.
        strings = (
            f"{p['service_type']}{p['source_addr']}{p['destination_addr']}"  # type: ignore[str-bytes-safe]
            f"{p['schedule_delivery_time']}{p['validity_period']}"  # type: ignore[str-bytes-safe]
        )
        prefix_end = HEADER_BYTES + 16 + len(strings)
        body = [self.raw[HEADER_BYTES:prefix_end], bytes((len(short_message),)), short_message]
        body += [_TLV_HEADER.pack(tag, len(value)) + value for tag, value in tlvs]
        joined = b"".join(body)
        raw = (
            _HEADER.pack(
                HEADER_BYTES + len(joined),
                self.command_id,
                self.command_status,
                self.sequence_number,
            )
            + joined
        )
        copy = self.evolve(short_message=short_message, tlvs=tlvs)
        copy.raw = raw
        return copy

    def with_tlv(self, tag: int, value: bytes) -> Pdu:
        """A copy where the TLV ``tag`` has this value (replacing any earlier one)."""
        kept = [(t, v) for t, v in self.tlvs if t != tag]
        kept.append((tag, value))
        return self.evolve(tlvs=kept)

    def without_tlvs(self) -> Pdu:
        return self if not self.tlvs else self.evolve(tlvs=())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Pdu):
            return NotImplemented
        return (
            self.command_id == other.command_id
            and self.command_status == other.command_status
            and self.sequence_number == other.sequence_number
            and self.params == other.params
            and self.tlvs == other.tlvs
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        try:
            name = CommandId(self.command_id).name.lower()
        except ValueError:
            name = f"0x{self.command_id:08x}"
        # short_message and message_payload stay out of repr: they may hold an OTP.
        shown = {k: v for k, v in self.params.items() if k != "short_message"}
        tags = [f"0x{t:04x}" for t, _ in self.tlvs]
        return (
            f"<Pdu {name} seq={self.sequence_number} status={self.command_status:#x} "
            f"{shown} tlvs={tags}>"
        )


def read_header(data: bytes | bytearray | memoryview, pos: int = 0) -> tuple[int, int, int, int]:
    """(command_length, command_id, command_status, sequence_number) at ``pos``."""
    return _HEADER.unpack_from(data, pos)


def decode(data: bytes) -> Pdu:
    """Decode one whole PDU (header included).

    Raises only ``PduError``; ``fatal`` is set when the length cannot be trusted.
    """
    end = len(data)
    if end < HEADER_BYTES:
        raise PduError("PDU shorter than its header", S.ESME_RINVCMDLEN, fatal=True)
    command_length, command_id, command_status, sequence_number = _HEADER.unpack_from(data, 0)
    if command_length != end:
        raise PduError(
            f"command_length {command_length} does not match {end} bytes",
            S.ESME_RINVCMDLEN,
            fatal=True,
            command_id=command_id,
            sequence_number=sequence_number,
        )
    decode_body = _DECODERS.get(command_id)
    if decode_body is None:
        raise PduError(
            f"unsupported command_id 0x{command_id:08x}",
            S.ESME_RINVCMDID,
            command_id=command_id,
            sequence_number=sequence_number,
        )
    try:
        if end == HEADER_BYTES and command_id & RESPONSE_BIT:
            # A failed response may omit its body entirely (SMPP 3.4 section 4.4.2); no
            # parameters then, so that it re-encodes without a body, as it came.
            params: dict[str, ParamValue] = {}
            pos = end
        else:
            params, pos = decode_body(data, HEADER_BYTES, end)
        tlvs = _decode_tlvs(data, pos, end, command_id) if pos < end else ()
    except PduError as error:
        error.command_id = command_id
        error.sequence_number = sequence_number
        raise
    # Filled in here, as evolve does, rather than through __init__: four PDUs a message.
    pdu = _new_pdu(Pdu)
    pdu.command_id = command_id
    pdu.command_status = command_status
    pdu.sequence_number = sequence_number
    pdu.params = params
    pdu.tlvs = tlvs
    pdu.raw = data
    return pdu


_new_pdu = object.__new__


def _compile_decoder(
    layout: tuple[Field, ...],
) -> Callable[[bytes, int, int], tuple[dict[str, ParamValue], int]]:
    """Generate straight-line code for one layout: the table stays the single source of truth,
    and the hot path pays no per-field interpretation."""
    lines = ["def decode_body(data, pos, end):", "    find = data.find", "    p = {}"]
    i = 0
    while i < len(layout):
        kind, name, size, status = layout[i]
        if kind == CSTR:
            lines += [
                f"    limit = pos + {size}",
                "    nul = find(b'\\0', pos, limit if limit < end else end)",
                "    if nul < 0:",
                f"        raise PduError({name + ': missing NUL within ' + str(size) + ' octets'!r}, {int(status)})",
                f"    p[{name!r}] = data[pos:nul].decode('latin-1') if nul > pos else ''",
                "    pos = nul + 1",
            ]
            i += 1
        elif kind == U8:
            run = []
            while i < len(layout) and layout[i][0] == U8:
                run.append(layout[i][1])
                i += 1
            lines += [
                f"    if pos + {len(run)} > end:",
                f"        raise PduError({run[0] + ': body ends early'!r}, {int(S.ESME_RINVCMDLEN)})",
            ]
            lines += [f"    p[{n!r}] = data[pos + {k}]" for k, n in enumerate(run)]
            lines.append(f"    pos += {len(run)}")
        else:
            lines += [
                "    if pos >= end:",
                f"        raise PduError('sm_length: body ends early', {int(S.ESME_RINVMSGLEN)})",
                "    length = data[pos]",
                f"    if length > {size}:",
                f"        raise PduError('sm_length above {size}', {int(S.ESME_RINVMSGLEN)})",
                "    pos += 1",
                "    if pos + length > end:",
                f"        raise PduError('sm_length runs past the PDU', {int(S.ESME_RINVMSGLEN)})",
                f"    p[{name!r}] = data[pos:pos + length]",
                "    pos += length",
            ]
            i += 1
    lines.append("    return p, pos")
    namespace: dict[str, object] = {"PduError": PduError}
    exec("\n".join(lines), namespace)
    return namespace["decode_body"]  # type: ignore[return-value]


_DECODERS: Final = {command_id: _compile_decoder(layout) for command_id, layout in LAYOUTS.items()}


def _decode_tlvs(data: bytes, pos: int, end: int, command_id: int) -> tuple[Tlv, ...]:
    if command_id not in _TLV_ALLOWED and not command_id & RESPONSE_BIT:
        raise PduError("octets after the last mandatory parameter", S.ESME_RINVCMDLEN)
    tlvs = []
    unpack = _TLV_HEADER.unpack_from
    while pos < end:
        if pos + 4 > end:
            raise PduError("truncated TLV header", S.ESME_RINVOPTPARSTREAM)
        tag, length = unpack(data, pos)
        pos += 4
        if pos + length > end:
            raise PduError(f"TLV 0x{tag:04x} runs past the PDU", S.ESME_RINVOPTPARSTREAM)
        tlvs.append((tag, data[pos : pos + length]))
        pos += length
    return tuple(tlvs)


def encode(pdu: Pdu) -> bytes:
    """The bytes of a PDU; a decoded, unchanged PDU gives back exactly its original bytes."""
    layout = LAYOUTS.get(pdu.command_id)
    if layout is None:
        raise LocalProtocolError(f"cannot encode command_id 0x{pdu.command_id:08x}")
    body = bytearray()
    params = pdu.params
    # A response with no parameters has no body (a failed one, SMPP 3.4 section 4.4.2).
    if params or not pdu.command_id & RESPONSE_BIT:
        for kind, name, size, _ in layout:
            value = params.get(name, _DEFAULTS[kind])
            if kind == CSTR:
                octets = value.encode("latin-1") if isinstance(value, str) else bytes(value)
                if len(octets) >= size or b"\0" in octets:
                    raise LocalProtocolError(f"{name}: {len(octets)} octets, at most {size - 1}")
                body += octets
                body.append(0)
            elif kind == U8:
                body.append(value)  # type: ignore[arg-type]
            else:
                octets = bytes(value)  # type: ignore[arg-type]
                if len(octets) > size:
                    raise LocalProtocolError(f"{name}: {len(octets)} octets, at most {size}")
                body.append(len(octets))
                body += octets
    for tag, value in pdu.tlvs:
        body += _TLV_HEADER.pack(tag, len(value))
        body += value
    return (
        _HEADER.pack(
            HEADER_BYTES + len(body), pdu.command_id, pdu.command_status, pdu.sequence_number
        )
        + body
    )


def encode_message_id_response(
    command_id: int,
    command_status: int,
    sequence_number: int,
    message_id: str | None,
    tlvs: Iterable[Tlv] = (),
) -> bytes:
    """A submit_sm_resp, deliver_sm_resp or data_sm_resp, encoded without building a Pdu.

    ``message_id`` None leaves the body out, as SMPP 3.4 allows for a failed response.
    """
    body = b"" if message_id is None else message_id.encode("latin-1") + b"\0"
    for tag, value in tlvs:
        body += _TLV_HEADER.pack(tag, len(value)) + value
    return (
        _HEADER.pack(HEADER_BYTES + len(body), command_id, command_status, sequence_number) + body
    )


def encode_with_sequence(pdu: Pdu, sequence_number: int) -> bytes:
    """The PDU's bytes under another sequence number, reusing the original bytes when it has them."""
    if pdu.raw is not None:
        return pdu.raw[:12] + sequence_number.to_bytes(4, "big") + pdu.raw[16:]
    return encode(pdu.evolve(sequence_number=sequence_number))


def tlv_uint(value: int, size: int) -> bytes:
    """An integer TLV value of ``size`` octets."""
    return value.to_bytes(size, "big")


def tlv_cstr(value: str) -> bytes:
    """A C-Octet String TLV value."""
    return value.encode("latin-1") + b"\0"


__all__ = [
    "LAYOUTS",
    "Pdu",
    "Tag",
    "decode",
    "encode",
    "encode_with_sequence",
    "read_header",
    "tlv_cstr",
    "tlv_uint",
]
