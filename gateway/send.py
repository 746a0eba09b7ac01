"""``otpgate send``: a small ESME built on smpplib (an SMPP stack nobody here wrote).

It prints one JSON line and says with its exit status what happened: 0 accepted (and,
when a receipt was asked for, delivered), 1 refused by the gateway or reported
undelivered, 2 a bad argument, 3 no bind (unreachable, or the credentials refused),
4 accepted but no receipt within ``--timeout`` (held for review, or not delivered yet).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from typing import Any

import phonenumbers
import smpplib.client
import smpplib.consts
import smpplib.exceptions
import smpplib.gsm

from smpp_adapters.constants import status_name
from smpp_adapters.receipts import parse_receipt_text

ACCEPTED, REFUSED, USAGE, NO_BIND, NO_RECEIPT = 0, 1, 2, 3, 4
# How long one read waits before the deadline is looked at again.
_POLL_S = 0.5


def send_one(args: argparse.Namespace) -> int:
    if not args.password:
        return _fail(USAGE, "--password or $OTPGATE_PASSWORD is required")
    destination = _e164_digits(args.to)
    if destination is None:
        return _fail(USAGE, f"--to {args.to!r} is not a phone number in E.164 (+ and digits)")
    client = smpplib.client.Client(args.host, args.port, timeout=_POLL_S)
    client.logger.disabled = True  # its own lines would say what the JSON line says
    try:
        return _session(client, args, destination)
    finally:
        if client._socket is not None:  # smpplib warns on a socket left open
            client.disconnect()


def _session(client: smpplib.client.Client, args: argparse.Namespace, destination: str) -> int:
    answers: list[Any] = []
    receipts: list[Any] = []
    client.set_message_sent_handler(lambda pdu: answers.append(pdu))
    client.set_message_received_handler(lambda pdu: receipts.append(pdu))
    # A refused submit is an answer to report, not an exception to raise.
    client.set_error_pdu_handler(lambda pdu: None)
    try:
        client.connect()
        client.bind_transceiver(system_id=args.system_id, password=args.password)
    except smpplib.exceptions.PDUError as error:
        status = error.args[1] if len(error.args) > 1 else None
        named = status_name(status) if isinstance(status, int) else str(error)
        return _fail(NO_BIND, f"bind refused: {named}")
    except (OSError, smpplib.exceptions.ConnectionError) as error:
        return _fail(NO_BIND, f"cannot reach {args.host}:{args.port}: {error or 'no answer'}")
    parts, coding, esm_class = smpplib.gsm.make_parts(args.text)
    deadline = time.monotonic() + args.timeout
    for part in parts:
        client.send_message(
            source_addr_ton=smpplib.consts.SMPP_TON_INTL
            if args.source.lstrip("+").isdigit()
            else smpplib.consts.SMPP_TON_ALNUM,
            source_addr=args.source.lstrip("+"),
            dest_addr_ton=smpplib.consts.SMPP_TON_INTL,
            dest_addr_npi=smpplib.consts.SMPP_NPI_ISDN,
            destination_addr=destination,
            short_message=part,
            data_coding=coding,
            esm_class=esm_class,
            registered_delivery=not args.no_receipt,
        )
    if not _read_until(client, lambda: len(answers) >= len(parts), deadline):
        return _report(client, {"outcome": "no_answer"}, NO_RECEIPT)
    result: dict[str, Any] = {
        "message_id": _text(answers[0].message_id),
        "status": int(answers[0].status),
        "status_name": status_name(int(answers[0].status)),
    }
    refused = [a for a in answers if int(a.status) != 0]
    if refused:
        status = int(refused[0].status)
        result.update(status=status, status_name=status_name(status), outcome="refused")
        return _report(client, result, REFUSED)
    if args.no_receipt:
        return _report(client, {**result, "outcome": "accepted"}, ACCEPTED)
    if not _read_until(client, lambda: bool(receipts), deadline):
        result["outcome"] = "accepted_no_receipt"
        result["note"] = (
            f"no receipt within {args.timeout:g} s: held for review, or not delivered yet"
        )
        return _report(client, result, NO_RECEIPT)
    fields = parse_receipt_text(_bytes(receipts[0].short_message))
    stat = fields.stat if fields is not None else None
    result.update(receipt=stat, outcome="delivered" if stat == "DELIVRD" else "not_delivered")
    return _report(client, result, ACCEPTED if stat == "DELIVRD" else REFUSED)


def _read_until(client: smpplib.client.Client, done: Callable[[], bool], deadline: float) -> bool:
    while not done():
        if time.monotonic() >= deadline:
            return False
        try:
            client.read_once(auto_send_enquire_link=False)
        except TimeoutError:
            continue
        except (OSError, smpplib.exceptions.ConnectionError, smpplib.exceptions.PDUError):
            return done()
    return True


def _report(client: smpplib.client.Client, result: dict[str, Any], code: int) -> int:
    print(json.dumps(result))
    try:
        client.unbind()
    except (OSError, smpplib.exceptions.ConnectionError, smpplib.exceptions.PDUError):
        pass  # the gateway is gone already: nothing more to say to it
    return code


def _fail(code: int, message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


def _e164_digits(text: str) -> str | None:
    """The digits of an E.164 number ("+" optional), or None when it cannot be one."""
    digits = text.strip().lstrip("+")
    if not digits.isdigit():
        return None
    try:
        number = phonenumbers.parse("+" + digits)
    except phonenumbers.NumberParseException:
        return None
    return digits if phonenumbers.is_possible_number(number) else None


def _bytes(value: object) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode("latin-1")


def _text(value: object) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else str(value)
