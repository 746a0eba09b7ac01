"""Receipts the gateway writes itself: for messages it acknowledged and never delivered.

A held message cancelled or expired, a parked part whose message was rejected, a part the
SMSC refused after the gateway had said ESME_ROK: the ESME learns the final state the way it
learns every other, from a delivery receipt (SMPP 3.4 Appendix B, empty ``text:``).
"""

from __future__ import annotations

from datetime import UTC, datetime

from smpp_adapters.pdu import Pdu
from smpp_adapters.receipts import build_receipt_pdu


def final_receipt(
    *,
    message_id: str,
    handset: str,
    sender: str,
    stat: str,
    submitted_at: float,
    done_at: float,
    err: int = 0,
) -> Pdu:
    """``handset`` is where the message was going (digits, "+" optional), ``sender`` its source."""
    return build_receipt_pdu(
        message_id=message_id,
        source_addr=handset.lstrip("+"),
        destination_addr=sender,
        stat=stat,
        submit_date=datetime.fromtimestamp(submitted_at, UTC),
        done_date=datetime.fromtimestamp(done_at, UTC),
        err=err & 0xFFF,
        source_addr_ton=1,
        source_addr_npi=1,
        dest_addr_ton=1 if sender.isdigit() else 5,
        dest_addr_npi=1 if sender.isdigit() else 0,
    )


def wants_failure_receipt(registered_delivery: int) -> bool:
    """registered_delivery 1 (always) and 2 (failures only) both want a failure receipt."""
    return registered_delivery & 0x03 in (1, 2)
