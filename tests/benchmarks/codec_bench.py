"""Codec benchmark: µs per decode and per encode of three hot-path PDUs, ours against smpplib's.

    python -m tests.benchmarks.codec_bench [--seconds 0.2] [--repeats 3]

PDUs: a submit_sm with two TLVs (user_message_reference and a vendor tag, which smpplib skips
with allow_unknown_opt_params), a submit_sm_resp, and a deliver_sm receipt (receipted_message_id,
message_state). Columns: decode (bytes to an object), encode (an object already built to bytes),
build+encode (from field values to bytes, what a sender pays). Best of ``--repeats`` runs, each
long enough to fill ``--seconds``. Prints figures and ratios; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import logging
import platform
import sys
import timeit
from collections.abc import Callable
from importlib.metadata import version
from typing import Any

from smpplib import smpp

from smpp_adapters.constants import CommandId, MessageState, Tag
from smpp_adapters.pdu import Pdu, decode, encode, tlv_cstr, tlv_uint

SUBMIT = {
    "service_type": "",
    "source_addr_ton": 5,
    "source_addr_npi": 0,
    "source_addr": "MyBank",
    "dest_addr_ton": 1,
    "dest_addr_npi": 1,
    "destination_addr": "447700900123",
    "esm_class": 0,
    "protocol_id": 0,
    "priority_flag": 0,
    "schedule_delivery_time": "",
    "validity_period": "",
    "registered_delivery": 1,
    "replace_if_present_flag": 0,
    "data_coding": 0,
    "sm_default_msg_id": 0,
    "short_message": b"Your MyBank code is 482913. Never share it.",
}
RECEIPT = {
    **SUBMIT,
    "source_addr_ton": 1,
    "source_addr_npi": 1,
    "source_addr": "447700900123",
    "dest_addr_ton": 5,
    "dest_addr_npi": 0,
    "destination_addr": "MyBank",
    "esm_class": 0x04,
    "registered_delivery": 0,
    "short_message": (
        b"id:1234567890 sub:001 dlvrd:001 submit date:2403091405 done date:2403091407 "
        b"stat:DELIVRD err:000 text:Your MyBank code"
    ),
}
VENDOR_TAG = 0x1401


class _Sequence:
    sequence = 0

    def next_sequence(self) -> int:
        self.sequence += 1
        return self.sequence


CLIENT = _Sequence()


def our_submit() -> Pdu:
    return Pdu(
        CommandId.SUBMIT_SM,
        SUBMIT,
        [(Tag.USER_MESSAGE_REFERENCE, tlv_uint(42, 2)), (VENDOR_TAG, b"\x01\x02\x03")],
        sequence_number=2,
    )


def our_resp() -> Pdu:
    return Pdu(CommandId.SUBMIT_SM_RESP, {"message_id": "1234567890"}, sequence_number=2)


def our_receipt() -> Pdu:
    return Pdu(
        CommandId.DELIVER_SM,
        RECEIPT,
        [
            (Tag.RECEIPTED_MESSAGE_ID, tlv_cstr("1234567890")),
            (Tag.MESSAGE_STATE, tlv_uint(MessageState.DELIVERED, 1)),
        ],
        sequence_number=7,
    )


def their_submit() -> Any:
    # smpplib cannot build a vendor TLV: its submit_sm carries one TLV less.
    return smpp.make_pdu("submit_sm", client=CLIENT, **SUBMIT, user_message_reference=42)


def their_resp() -> Any:
    return smpp.make_pdu("submit_sm_resp", client=CLIENT, message_id="1234567890")


def their_receipt() -> Any:
    return smpp.make_pdu(
        "deliver_sm",
        client=CLIENT,
        **RECEIPT,
        receipted_message_id="1234567890",
        message_state=MessageState.DELIVERED,
    )


# name: (our builder, smpplib's builder)
CASES: dict[str, tuple[Callable[[], Pdu], Callable[[], Any]]] = {
    "submit_sm+2tlv": (our_submit, their_submit),
    "submit_sm_resp": (our_resp, their_resp),
    "receipt": (our_receipt, their_receipt),
}
Ops = tuple[Callable[[], Any], Callable[[], Any], Callable[[], Any]]


def operations(name: str) -> tuple[Ops, Ops]:
    """(decode, encode, build+encode) for ours and for smpplib, on the same wire octets."""
    build_ours, build_theirs = CASES[name]
    data = encode(build_ours())  # both decoders read these octets (smpplib skips the vendor TLV)
    pdu, their_pdu = build_ours(), build_theirs()
    mine: Ops = (lambda: decode(data), lambda: encode(pdu), lambda: encode(build_ours()))
    theirs: Ops = (
        lambda: smpp.parse_pdu(data, client=CLIENT, allow_unknown_opt_params=True),
        their_pdu.generate,
        lambda: build_theirs().generate(),
    )
    return mine, theirs


def per_call_us(fn: Callable[[], Any], seconds: float, repeats: int) -> float:
    timer = timeit.Timer(fn)
    number, _ = timer.autorange()
    number = max(1, int(number * seconds / 0.2))
    return min(timer.repeat(repeat=repeats, number=number)) / number * 1e6


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=0.2, help="per measurement run")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)

    logging.getLogger("smpplib").setLevel(logging.ERROR)  # it warns on every skipped TLV

    print(
        f"python {platform.python_version()} on {platform.machine()}, "
        f"smpplib {version('smpplib')}; best of {args.repeats}"
    )
    header = f"{'pdu':<16}{'op':<14}{'ours µs':>10}{'smpplib µs':>12}{'smpplib/ours':>14}"
    print(header)
    print("-" * len(header))
    for name in CASES:
        mine, theirs = operations(name)
        for column, op in enumerate(("decode", "encode", "build+encode")):
            a = per_call_us(mine[column], args.seconds, args.repeats)
            b = per_call_us(theirs[column], args.seconds, args.repeats)
            print(f"{name:<16}{op:<14}{a:>10.2f}{b:>12.2f}{b / a:>13.1f}x")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
