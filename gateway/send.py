"""``otpgate send``: a small ESME built on smpplib (an SMPP stack nobody here wrote)."""

from __future__ import annotations

import argparse
import json
import sys
import threading

import smpplib.client
import smpplib.consts
import smpplib.gsm


def send_one(args: argparse.Namespace) -> int:
    if not args.password:
        print("error: --password or $OTPGATE_PASSWORD is required", file=sys.stderr)
        return 2
    client = smpplib.client.Client(args.host, args.port, timeout=args.timeout)
    receipt = threading.Event()
    result: dict[str, object] = {}

    def on_sent(pdu: object) -> None:
        result["message_id"] = _text(getattr(pdu, "message_id", b""))
        result["status"] = getattr(pdu, "status", None)

    def on_receipt(pdu: object) -> None:
        result["receipt"] = _text(getattr(pdu, "short_message", b""))
        receipt.set()

    client.set_message_sent_handler(on_sent)
    client.set_message_received_handler(on_receipt)
    try:
        client.connect()
        client.bind_transceiver(system_id=args.system_id, password=args.password)
    except (OSError, smpplib.exceptions.PDUError) as error:
        print(f"error: bind failed: {error}", file=sys.stderr)
        return 1
    parts, coding, esm_class = smpplib.gsm.make_parts(args.text)
    for part in parts:
        client.send_message(
            source_addr_ton=smpplib.consts.SMPP_TON_ALNUM
            if not args.source.lstrip("+").isdigit()
            else smpplib.consts.SMPP_TON_INTL,
            source_addr=args.source,
            dest_addr_ton=smpplib.consts.SMPP_TON_INTL,
            destination_addr=args.to.lstrip("+"),
            short_message=part,
            data_coding=coding,
            esm_class=esm_class,
            registered_delivery=not args.no_receipt,
        )
        client.read_once()
    if not args.no_receipt:
        thread = threading.Thread(target=_listen, args=(client, receipt), daemon=True)
        thread.start()
        receipt.wait(args.timeout)
    print(json.dumps(result))
    try:
        client.unbind()
        client.disconnect()
    except Exception:  # already gone: nothing more to say to it
        pass
    return 0 if result.get("status") == 0 else 1


def _listen(client: smpplib.client.Client, done: threading.Event) -> None:
    while not done.is_set():
        try:
            client.read_once()
        except Exception:
            return


def _text(value: object) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else str(value)
