"""The notifications of a CAMARA SIM swap subscription: ``swapped``, and ``subscription-ends``.

``swapped`` says when the SIM changed (the signal's ``occurred_at``), not when the gateway
heard of it. A subscription ends when deleted, when its expiry passes, when the sink's
access token lapses, or with the event that spends its ``subscriptionMaxEvents``; its last
notification is ``subscription-ends`` with the reason, queued behind any ``swapped`` still
pending for the same number.
"""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from typing import TYPE_CHECKING

from ..times import rfc3339
from .subscription_terms import ENDS, SWAPPED, SubscriptionTerms, Writer

if TYPE_CHECKING:
    from ..store import SqliteWriter
    from ..webhooks.outbox import Outbox
    from ..webhooks.subscriptions import Subscriptions, Webhook

DELETED = "SUBSCRIPTION_DELETED"
EXPIRED = "SUBSCRIPTION_EXPIRED"
MAX_EVENTS_REACHED = "MAX_EVENTS_REACHED"
TOKEN_EXPIRED = "ACCESS_TOKEN_EXPIRED"
_DESCRIPTIONS = {
    DELETED: "The subscription was deleted by the API consumer.",
    EXPIRED: "The subscription expire time was reached.",
    MAX_EVENTS_REACHED: "The maximum number of events of the subscription was reached.",
    TOKEN_EXPIRED: "The access token of the sink credential expired.",
}


def _subject(hook: Webhook) -> str:
    # The same subject as the number's swapped events: the dispatcher sends a subject's
    # rows in order, so the end never overtakes the last swap.
    return f"msisdn:{(hook.phone_number or '+')[1:]}"


def end_writer(
    outbox: Outbox, terms: SubscriptionTerms, hook: Webhook, reason: str, now: float
) -> Writer:
    """End the subscription now: its terms say so, and the last notification is queued."""
    data = {
        "subscriptionId": hook.id,
        "terminationReason": reason,
        "terminationDescription": _DESCRIPTIONS[reason],
    }
    if hook.phone_number is not None:
        data["phoneNumber"] = hook.phone_number
    queue = outbox.row_for(hook, ENDS, _subject(hook), data, now)
    record = terms.ended(terms.get(hook.id), reason, now)

    def write(conn: sqlite3.Connection) -> None:
        queue(conn)
        record(conn)

    return write


def swapped_writers(
    outbox: Outbox,
    subscriptions: Subscriptions,
    terms: SubscriptionTerms,
    tenant: str,
    number: str,
    changed_at: float,
    now: float,
) -> list[Writer]:
    """The ``swapped`` notifications of ``tenant``'s live subscriptions on ``number``."""
    writers: list[Writer] = []
    for hook in subscriptions.for_event(tenant, SWAPPED, number):
        if hook.phone_number != number:
            continue
        current = terms.get(hook.id)
        if not current.live(now):
            continue  # ended, or past its expiry and about to be told so
        data = {"phoneNumber": number, "subscriptionId": hook.id,
                "latestSimChange": rfc3339(changed_at)}  # fmt: skip
        writers.append(outbox.row_for(hook, SWAPPED, _subject(hook), data, now, changed_at))
        counted = replace(current, events_sent=current.events_sent + 1)
        if counted.max_events is not None and counted.events_sent >= counted.max_events:
            terms.put(counted)  # written whole by the end's own row below
            writers.append(end_writer(outbox, terms, hook, MAX_EVENTS_REACHED, now))
        elif counted.max_events is not None:
            writers.append(terms.put(counted))
    return writers


async def expire_and_sweep(
    outbox: Outbox,
    subscriptions: Subscriptions,
    terms: SubscriptionTerms,
    writer: SqliteWriter,
    now: float,
) -> None:
    """End the subscriptions whose expiry passed; drop ended ones once nothing is pending
    for them (their ``subscription-ends`` delivered, dead-lettered or given up)."""
    for expired in terms.due_to_expire(now):
        hook = subscriptions.by_id.get(expired.webhook_id)
        if hook is not None:
            await writer.call(end_writer(outbox, terms, hook, EXPIRED, now))
    # A sink that took a bearer token can no longer be told anything it would trust: the
    # subscription ends, its last notification sent without the lapsed token.
    for lapsed in terms.token_lapsed(now):
        hook = subscriptions.by_id.get(lapsed.webhook_id)
        if hook is not None:
            await writer.call(end_writer(outbox, terms, hook, TOKEN_EXPIRED, now))
    ended = terms.ended_ids()
    if not ended:
        return

    def pending(conn: sqlite3.Connection) -> set[str]:
        marks = ",".join("?" * len(ended))
        rows = conn.execute(
            "SELECT DISTINCT webhook_id FROM outbox WHERE state = 'pending'"
            f" AND webhook_id IN ({marks})",
            ended,
        ).fetchall()
        return {row[0] for row in rows}

    waiting = await writer.call(pending)
    for webhook_id in ended:
        if webhook_id in waiting:
            continue
        hook = subscriptions.by_id.get(webhook_id)
        if hook is not None:
            await subscriptions.delete(hook)
        await terms.forget(webhook_id)
