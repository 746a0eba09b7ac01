"""Holds over HTTP: list, show, release, cancel. Never the text or the code.

The same handlers serve the operator (every hold) and, scoped, a tenant (its own holds
only; another tenant's hold is 404, not 403: leak nothing).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ..cluster import NodeUnavailable
from ..holds.book import HoldConflict, HoldNotFound
from ..holds.store import STATES, HoldQuery, HoldRecord
from ..times import rfc3339_or_none
from .errors import BadJson, error_response, parse_json

if TYPE_CHECKING:
    from ..parts import HoldParts

# Who is asking: the tenant name, or None for the operator.
Scope = Callable[[web.Request], str | None]
_MAX_PAGE = 500


def hold_json(record: HoldRecord, base: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": record.id,
        "state": record.state,
        "account": record.account,
        "tenant": record.tenant,
        "source_addr": record.source_addr,
        "destination": record.destination,
        "rule": record.rule,
        "reasons": list(record.reasons),
        "created_at": rfc3339_or_none(record.created_at),
        "expires_at": rfc3339_or_none(record.expires_at),
        "on_expiry": record.expiry_action,
        "updated_at": rfc3339_or_none(record.updated_at),
        "user_message_reference": record.user_message_reference,
        "links": {
            "self": f"{base}/{record.id}",
            "release": f"{base}/{record.id}/release",
            "cancel": f"{base}/{record.id}/cancel",
        },
    }
    if record.history:
        out["history"] = [
            {"at": rfc3339_or_none(at), "state": state, "actor": actor, "why": why}
            for at, state, actor, why in record.history
        ]
    return out


def _time(value: str, name: str) -> float:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise web.HTTPUnprocessableEntity(reason=f"{name}: not an RFC 3339 time") from None
    if moment.tzinfo is None:
        raise web.HTTPUnprocessableEntity(reason=f"{name}: needs a zone (Z or ±hh:mm)")
    return moment.timestamp()


def add_hold_routes(app: web.Application, gateway: HoldParts, scope: Scope, prefix: str) -> None:
    base = f"{prefix}/holds"

    def owner_elsewhere(hold_id: str) -> str | None:
        """The node that holds this id, when it is another node of the cluster."""
        cluster = gateway.cluster
        if cluster is None:
            return None
        owner = cluster.owner_of(hold_id)
        return owner if owner is not None and owner != cluster.node_id else None

    async def ask_owner(owner: str, op: str, args: dict[str, Any]) -> web.Response:
        try:
            status, body = await gateway.cluster.ask(owner, op, args)  # type: ignore[union-attr]
        except NodeUnavailable:
            return error_response(503, f"node {owner} holds this message and is not reachable")
        if status == 404:
            return error_response(404, f"no hold {args['id'][:40]!r}")
        return web.json_response(body, status=status)

    async def visible(request: web.Request) -> HoldRecord:
        """The hold named in the path, if the caller may see it; 404 otherwise."""
        hold_id = request.match_info["hold_id"]
        record = await gateway.holds.store.get(hold_id, with_history=True)
        tenant = scope(request)
        if record is None or (tenant is not None and record.tenant != tenant):
            raise web.HTTPNotFound(reason=f"no hold {hold_id[:40]!r}")
        return record

    async def list_holds(request: web.Request) -> web.Response:
        q = request.query
        state = q.get("state")
        if state is not None and state not in STATES:
            return error_response(422, f"state: expected one of {', '.join(STATES)}")
        try:
            limit = min(_MAX_PAGE, max(1, int(q.get("limit", "100"))))
        except ValueError:
            return error_response(422, "limit: expected an integer")
        tenant = scope(request)
        query = HoldQuery(
            state=state,
            account=q.get("account"),
            tenant=tenant if tenant is not None else q.get("tenant"),
            destination=q.get("destination"),
            since=_time(q["since"], "since") if "since" in q else None,
            until=_time(q["until"], "until") if "until" in q else None,
            after_id=q.get("after"),
            limit=limit + 1,
        )
        records = await gateway.holds.store.find(query)
        page = records[:limit]
        body: dict[str, Any] = {"holds": [hold_json(r, base) for r in page]}
        if len(records) > limit:
            body["next"] = page[-1].id
        if gateway.cluster is not None and query.after_id is None:
            # Gathered from every node: the first page of each, merged by time.
            unreachable = []
            args: dict[str, Any] = {
                k: v for k, v in q.items() if k in ("state", "account", "destination")
            }
            args.update(tenant=query.tenant, since=query.since, until=query.until, limit=limit)
            for node in gateway.cluster.peers:
                try:
                    status, remote = await gateway.cluster.ask(node, "list", args)
                except NodeUnavailable:
                    unreachable.append(node)
                    continue
                if status == 200:
                    body["holds"] += remote
            body["holds"].sort(key=lambda h: (h["created_at"], h["id"]))
            body["unreachable_nodes"] = unreachable
        return web.json_response(body)

    async def show(request: web.Request) -> web.Response:
        owner = owner_elsewhere(request.match_info["hold_id"])
        if owner is not None:
            args = {"id": request.match_info["hold_id"], "tenant": scope(request)}
            return await ask_owner(owner, "get", args)
        return web.json_response(hold_json(await visible(request), base))

    def transition(name: str) -> Callable[[web.Request], Any]:
        async def handler(request: web.Request) -> web.Response:
            why = await _why(request)
            tenant = scope(request)
            actor = f"tenant:{tenant}" if tenant else "operator"
            owner = owner_elsewhere(request.match_info["hold_id"])
            if owner is not None:
                args = {
                    "id": request.match_info["hold_id"],
                    "tenant": tenant,
                    "actor": actor,
                    "why": why or f"{name} requested",
                }
                return await ask_owner(owner, name, args)
            record = await visible(request)
            act = gateway.holds.release if name == "release" else gateway.holds.cancel
            try:
                done = await act(record.id, actor, why or f"{name} requested")
            except HoldNotFound:
                raise web.HTTPNotFound(reason="no such hold") from None
            except HoldConflict as conflict:
                body = {
                    "status": 409,
                    "code": "CONFLICT",
                    "message": f"hold is {conflict.record.state}",
                    "state": conflict.record.state,
                }
                return web.json_response(body, status=409)
            return web.json_response(hold_json(done, base))

        return handler

    app.router.add_get(base, list_holds)
    app.router.add_get(base + "/{hold_id}", show)
    app.router.add_post(base + "/{hold_id}/release", transition("release"))
    app.router.add_post(base + "/{hold_id}/cancel", transition("cancel"))


async def _why(request: web.Request) -> str | None:
    if not request.can_read_body:
        return None
    try:
        body = parse_json(await request.read() or b"{}")
    except BadJson as error:
        raise web.HTTPUnprocessableEntity(reason=str(error)) from None
    reason = body.get("reason") if isinstance(body, dict) else None
    return reason[:200] if isinstance(reason, str) else None
