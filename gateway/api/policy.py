"""The policy on the operator API: the rules in force, and the decision one message would get
now (the number's live risk facts, the policy in force), with its reasons.

The explanation reads the text to classify it and never returns, logs or keeps it."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from aiohttp import web

from policies.classifier import classify
from policies.decisions import Action, Hold, Reject
from policies.policy_file import Limit, Policy, Rule

from ..traffic.decider import Decider
from .errors import BadJson, error_response, parse_json

if TYPE_CHECKING:
    from ..parts import PolicyParts

_E164 = re.compile(r"\+?[1-9][0-9]{4,14}")
_MAX_TEXT = 2000  # characters: longer than any concatenated SMS worth explaining


def add_policy_routes(app: web.Application, parts: PolicyParts) -> None:
    async def policy_in_force(request: web.Request) -> web.Response:
        return web.json_response(policy_json(parts.policies.policy))

    async def explain(request: web.Request) -> web.Response:
        try:
            body = parse_json(await request.read() or b"{}")
        except BadJson as error:
            return error_response(400, str(error))
        if not isinstance(body, dict):
            return error_response(422, "body: expected an object")
        msisdn, text = body.get("msisdn"), body.get("text", "")
        if not isinstance(msisdn, str) or not _E164.fullmatch(msisdn):
            return error_response(422, "msisdn: expected an E.164 number")
        if not isinstance(text, str) or len(text) > _MAX_TEXT:
            return error_response(422, f"text: expected a string of at most {_MAX_TEXT} characters")
        account = body.get("account", "explain")
        source = body.get("source_addr", "explain")
        if not isinstance(account, str) or not isinstance(source, str):
            return error_response(422, "account, source_addr: expected strings")
        decider = Decider(parts.policies, parts.risk_index, parts.feed_health)
        decision = decider.decide(
            account=account,
            source_addr=source,
            destination_addr=msisdn,
            text=text,
            now=parts.clock.now(),
            tenant=parts.tenant_of(account, source),
        )
        # Explained in full: the classifier's answer even where the live path would skip it.
        classification = decision.classification or classify(text)
        return web.json_response(
            {
                **decision.verdict.to_json(),
                "classified_live": decision.classification is not None,
                "is_otp": classification.is_otp,
                "otp_score": round(classification.score, 3),
                "otp_reasons": list(classification.reasons),
            }
        )

    app.router.add_get("/v1/policy", policy_in_force)
    app.router.add_post("/v1/policy/explain", explain)


def policy_json(policy: Policy) -> dict[str, Any]:
    return {
        "name": policy.name,
        "source": policy.source,
        "otp_threshold": policy.otp_threshold,
        "on_signal_outage": _action(policy.on_signal_outage),
        "rules": [_rule(rule) for rule in policy.rules],
    }


def _rule(rule: Rule) -> dict[str, Any]:
    when: dict[str, Any] = {}
    for name in (
        "is_otp",
        "otp_min_score",
        "cf_unconditional_active",
        "sim_swap_age_lt",
        "cfu_changed_age_lt",
        "routing_anomaly_age_lt",
    ):
        value = getattr(rule, name)
        if isinstance(value, Limit):
            value = {"seconds": value.seconds, "threshold": value.name}
        if value is not None:
            when[name] = value
    for name in ("accounts", "tenants", "destination_countries", "routing_anomaly_reasons"):
        value = getattr(rule, name)
        if value is not None:
            when[name] = sorted(value)
    if rule.source_patterns is not None:
        when["source_addr"] = rule.source_patterns.pattern
    return {
        "name": rule.name,
        **_action(rule.action),
        "when": when,
        "notify": list(rule.notify),
        "shadow": rule.shadow,
    }


def _action(action: Action) -> dict[str, Any]:
    out: dict[str, Any] = {"action": type(action).__name__.lower()}
    if isinstance(action, Hold):
        out.update(ttl_s=action.ttl_s, on_expiry=action.on_expiry)
    if isinstance(action, Reject):
        out["command_status"] = action.command_status
    return out
