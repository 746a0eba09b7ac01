"""Erasure in the receipt tables: a receipt kept for its ESME, or for another node of the
cluster, keeps its id and status and loses the number, in its own table and no other."""

from __future__ import annotations

import sqlite_utils

from gateway.erasure import _forget_in_receipts
from gateway.traffic.receipt_relay import create_tables
from smpp_adapters.constants import CommandId
from smpp_adapters.pdu import Pdu, decode, encode

NUMBER = "447400123125"
OTHER = "447400999999"


def receipt(number: str) -> bytes:
    return encode(
        Pdu(
            CommandId.DELIVER_SM,
            sequence_number=7,
            params={"source_addr": number, "destination_addr": "PayBank", "esm_class": 4},
        )
    )


def test_both_receipt_tables_forget_the_number_in_their_own_rows(tmp_path) -> None:
    db = sqlite_utils.Database(tmp_path / "receipts.sqlite")
    create_tables(db)
    conn = db.conn
    # The same row id in both tables, each naming a different number.
    conn.execute("INSERT INTO pending_receipts VALUES (1, 'bank', 'g1', ?, 0)", (receipt(OTHER),))
    conn.execute("INSERT INTO orphan_receipts VALUES (1, 'main', 'u1', ?, 0)", (receipt(NUMBER),))

    assert _forget_in_receipts(conn, NUMBER) == 1

    (pending,) = conn.execute("SELECT pdu FROM pending_receipts").fetchone()
    (orphan,) = conn.execute("SELECT pdu FROM orphan_receipts").fetchone()
    assert decode(pending).params["source_addr"] == OTHER  # untouched
    kept = decode(orphan)
    assert kept.params["source_addr"] == "" and kept.params["destination_addr"] == "PayBank"
    assert NUMBER.encode() not in orphan
