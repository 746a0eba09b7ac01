"""Operator API for signals: ingest over HTTP, a number's risk facts, and feed health.

The MSISDN of a look-up travels in the body, never in the URL: URLs end up in access logs.
IMSIs never leave the gateway, here or anywhere.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from ..signals.ingest import ACCEPTED, DUPLICATE, FAILED, REJECTED
from ..signals.msisdn import InvalidNumber, msisdn_key, normalize_number
from .errors import BadJson, error_response, parse_json

if TYPE_CHECKING:
    from ..parts import SignalParts

MAX_BATCH = 10_000
_CHUNK = 500


async def read_json(request: web.Request) -> Any:
    """The decoded body, or an HTTPException answered as 422 with the parser's reason."""
    try:
        return parse_json(await request.read())
    except BadJson as error:
        raise _Unprocessable(str(error)) from None


class _Unprocessable(Exception):
    pass


def add_signal_routes(app: web.Application, gateway: SignalParts) -> None:
    async def post_signals(request: web.Request) -> web.Response:
        try:
            body = await read_json(request)
        except _Unprocessable as error:
            return error_response(422, str(error))
        if isinstance(body, dict):
            (outcome,) = await gateway.signal_ingest.ingest([body], "http")
            if outcome.status == REJECTED:
                return error_response(422, outcome.reason or "rejected")
            if outcome.status == FAILED:
                return error_response(503, outcome.reason or "not committed")
            return web.json_response(outcome.to_json())
        if not isinstance(body, list):
            return error_response(422, "body: expected a signal object or a list of them")
        if not body:
            return error_response(422, "body: an empty list")
        if len(body) > MAX_BATCH:
            return error_response(413, f"body: at most {MAX_BATCH} signals per request")
        # In chunks: validating 10,000 signals at once would stall the message path ~0.3 s.
        outcomes = []
        for start in range(0, len(body), _CHUNK):
            outcomes += await gateway.signal_ingest.ingest(body[start : start + _CHUNK], "http")
        counts = {s: 0 for s in (ACCEPTED, DUPLICATE, REJECTED, FAILED)}
        for outcome in outcomes:
            counts[outcome.status] += 1
        answer = {
            **counts,
            "results": [{"index": i, **o.to_json()} for i, o in enumerate(outcomes)],
        }
        return web.json_response(answer, status=503 if counts[FAILED] else 200)

    async def msisdn_of(request: web.Request, *, valid: bool) -> str:
        """The body's ``msisdn`` in E.164; _Unprocessable with the reason otherwise."""
        body = await read_json(request)
        number = body.get("msisdn") if isinstance(body, dict) else None
        if not isinstance(number, str):
            raise _Unprocessable("msisdn: required, a string in E.164")
        try:
            return normalize_number(
                number, gateway.signals_config.default_region, require_valid=valid
            )
        except InvalidNumber as error:
            raise _Unprocessable(f"msisdn: {error}") from None

    async def subscriber_risk(request: web.Request) -> web.Response:
        try:
            e164 = await msisdn_of(request, valid=True)
        except _Unprocessable as error:
            return error_response(422, str(error))
        now = gateway.clock.now()
        key = msisdn_key(e164)
        facts = gateway.risk_index.facts(e164, now)
        sources = [
            {"kind": kind, "source": source, "age_s": round(max(0.0, now - at), 3)}
            for kind, source, at in await gateway.signal_store.sources_of(key)
        ]
        return web.json_response(
            {
                "msisdn": e164,
                "tracked": gateway.risk_index.state_of(key) is not None,
                "sim_swap": None
                if facts.sim_swap_age_s is None
                else {"age_s": round(facts.sim_swap_age_s, 3), "reason": facts.sim_swap_reason},
                "call_forwarding": {
                    "unconditional_active": facts.cf_unconditional_active,
                    "changed_age_s": None
                    if facts.cfu_changed_age_s is None
                    else round(facts.cfu_changed_age_s, 3),
                },
                "routing_anomalies": [
                    {"reason": a.reason, "age_s": round(a.age_s, 3)}
                    for a in facts.routing_anomalies
                ],
                "sources": sources,
                "signal_outage": gateway.feed_health.outage(now),
            }
        )

    async def feed_health(request: web.Request) -> web.Response:
        return web.json_response(gateway.feed_health.to_json(gateway.clock.now()))

    async def erasure(request: web.Request) -> web.Response:
        try:
            # Any possible number: a number no longer valid may still have rows to erase.
            e164 = await msisdn_of(request, valid=False)
        except _Unprocessable as error:
            return error_response(422, str(error))
        removed = await gateway.erase(e164)
        return web.json_response({"msisdn": e164, "removed": removed})

    app.router.add_post("/v1/erasure", erasure)
    app.router.add_post("/v1/signals", post_signals)
    app.router.add_post("/v1/subscribers/risk", subscriber_risk)
    app.router.add_get("/v1/signals/health", feed_health)
