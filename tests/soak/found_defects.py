"""Defects this suite found, now fixed: each one's failing input is kept under
tests/soak/regressions/ and replayed by test_regressions.py, so it cannot come back
unnoticed. The summary says what went wrong before the fix.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

REGRESSIONS = Path(__file__).parent / "regressions"


@dataclass(frozen=True, slots=True)
class FoundDefect:
    name: str
    regression: str  # file under regressions/
    summary: str


BIG_INT_JSON = FoundDefect(
    "big-int-json",
    "api-big-int-json.json",
    "a JSON body with an integer of more than 4,300 digits is answered 500: json.loads raises "
    "ValueError (Python's int-from-string limit), which gateway/api/errors.py parse_json does "
    "not turn into BadJson",
)
RECEIPT_MAPPING_RACE = FoundDefect(
    "receipt-mapping-race",
    "receipt-mapping-race.json",
    "a part forwarded from parking (gateway/traffic/pipeline.py _forward_parts) or a released "
    "hold (gateway/holds/book.py _released) is forgotten on disk (parked rows deleted, hold "
    "committed released) without waiting for its receipt mapping, which IdMap commits up to "
    "10 ms later in another database: a SIGKILL in between loses the ESME's delivery receipt "
    "(receipt_unmatched in the log), though the message was acknowledged and delivered",
)

PARTS_RECOVERED_BEFORE_BIND = FoundDefect(
    "parts-recovered-before-bind",
    "parts-recovered-before-bind.json",
    "after a restart, a whole concatenated message recovered from parking is forwarded before "
    "the upstream bind is up (gateway/app.py starts parking.recover() while router.start() is "
    "still connecting): router.submit finds no bind and gateway/traffic/pipeline.py "
    "_forward_parts fails every part with an UNDELIV receipt, so acknowledged parts never "
    "reach the SMSC",
)

DELIVERY_ID_OVERFLOW = FoundDefect(
    "delivery-id-overflow",
    "api-delivery-id-overflow.json",
    "POST /v1/deliveries/{delivery_id}/replay with an id of 2^63 or more is answered 500: "
    "gateway/api/webhooks.py replay passes int(delivery_id) to SQLite, which cannot hold it "
    "(OverflowError)",
)
OAUTH_413_SHAPE = FoundDefect(
    "oauth-413-shape",
    "api-oauth-token-413.json",
    "POST /oauth2/token with a form over the tenant listener's size limit is answered 413 in "
    "the {status, code, message} shape instead of OAuth2's {error, error_description} "
    "(DESIGN.md: /oauth2/token answers in OAuth2's shape): gateway/api/camara.py token reads "
    "request.post() outside its OAuth2 error handling",
)
HOLD_LONG_ADDRESS = FoundDefect(
    "hold-long-address",
    "hold-data-sm-long-source.json",
    "a held data_sm whose source_addr is longer than 20 octets (data_sm allows 64) can be "
    "neither cancelled nor expired: its REJECTD/EXPIRED receipt is a deliver_sm, whose "
    "destination_addr holds 20, so encode() raises in gateway/holds/book.py _finish; the "
    "cancel answers 500 and leaves the hold listed 'held' but 'cancelled' in memory (release "
    "and cancel then answer 409) until a restart",
)
SIMULATOR_LONG_ADDRESS = FoundDefect(
    "simulator-long-address",
    "simulator-data-sm-long-source.json",
    "the SMSC simulator (smpp_adapters/simulator.py) cannot build the receipt of a data_sm "
    "whose source_addr is longer than 20 octets: LocalProtocolError escapes its receipt timer "
    "(_receipts_due), and the other receipts of that batch are lost with it",
)

PENDING_RECEIPTS_BIND_CHURN = FoundDefect(
    "pending-receipts-bind-churn",
    "pending-receipts-bind-churn.json",
    "memory grows without bound under bind churn while receipts wait on disk: every "
    "receiver bind starts gateway/traffic/receipt_relay.py _deliver_pending, which reads up "
    "to 10,000 pending rows of the account and walks them, even for a bind that is gone a "
    "moment later; these scans pile up faster than they finish (with 5,000 receipts pending, "
    "about 150 MB per 1,000 binds; 7.5 GB after ~45,000 binds of the TCP fuzz)",
)


def mapped_ids(message_map: Path, gateway_ids: Iterable[str]) -> set[str]:
    """Which gateway ids have a receipt mapping on disk (message-map.sqlite, read only)."""
    wanted = [i for i in gateway_ids if i.isdigit()]
    if not wanted:
        return set()
    connection = sqlite3.connect(f"file:{message_map}?mode=ro", uri=True, timeout=10)
    try:
        found = set()
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            rows = connection.execute(
                f"SELECT id FROM message_map WHERE id IN ({','.join('?' * len(chunk))})",
                [int(i) for i in chunk],
            ).fetchall()
            found |= {str(row[0]) for row in rows}
        return found
    finally:
        connection.close()
