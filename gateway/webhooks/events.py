"""CloudEvents 1.0 bodies of what a payment platform is told. Never the code, the text or an IMSI.

Built only from a hold's record and a signal's derived facts: neither holds the text, and
the risk index never keeps an IMSI in anything it reports.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from policies.event_types import EVENT_TYPES, HOLD_EVENTS, RISK_EVENTS

from ..holds.store import HoldRecord
from ..times import rfc3339

__all__ = ["EVENT_TYPES", "HOLD_EVENTS", "RISK_EVENTS", "cloud_event", "hold_event_data"]

_NO_VOICE = (
    "Unconditional call forwarding is active on this number: a voice call to it reaches "
    "someone else. Do not fall back to a voice call to deliver or confirm the code."
)


def cloud_event(event_type: str, source: str, data: dict[str, Any], at: float) -> dict[str, Any]:
    """``at``: when the occurrence happened (CloudEvents' ``time``), not when it was seen."""
    return {
        "specversion": "1.0",
        "id": f"evt_{uuid.uuid4().hex}",
        "source": source,
        "type": event_type,
        "time": rfc3339(at),
        "datacontenttype": "application/json",
        "data": data,
    }


def hold_event_data(
    record: HoldRecord, details: dict[str, Any], links_base: str = "/v1/holds"
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "hold_id": record.id,
        "message_id": record.id,
        "message_ids": list(record.part_ids),
        "user_message_reference": record.user_message_reference,
        "account": record.account,
        "sender": record.source_addr,
        "state": record.state,
        "rule": record.rule,
        "reasons": list(record.reasons),
        "created_at": rfc3339(record.created_at),
        "expires_at": rfc3339(record.expires_at),
        "on_expiry": record.expiry_action,
        "links": {
            "self": f"{links_base}/{record.id}",
            "release": f"{links_base}/{record.id}/release",
            "cancel": f"{links_base}/{record.id}/cancel",
        },
    }
    if record.destination:  # blank once the subscriber was erased
        data["destination"] = record.destination
    if details.get("reason"):
        data["reason"] = details["reason"]
    if details.get("why") and record.state != "held":
        data["why"] = details["why"]
    if any(r.get("fact") == "cf_unconditional_active" for r in record.reasons):
        data["advice"] = _NO_VOICE
    return data


def encode_event(event: dict[str, Any]) -> bytes:
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode()
