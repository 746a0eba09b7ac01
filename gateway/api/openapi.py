"""The OpenAPI 3.1 documents of the operator and tenant APIs, served at ``/openapi.json``.

Written as data next to the handlers they describe; ``docs/openapi-*.json`` are these
documents checked in (a test keeps them equal), and the schema-based fuzz test reads them.
"""

from __future__ import annotations

from typing import Any

from policies.event_types import HOLD_EVENTS, RISK_EVENTS, TEST_EVENT

from .openapi_camara import (
    SCHEMAS,
    SECURITY_SCOPES,
    camara_paths,
)
from .openapi_subscriptions import SUBSCRIPTION_SCHEMAS, subscription_paths

# The operator API's errors have the shape CAMARA's do: {status, code, message}.
_ERROR = SCHEMAS["ErrorInfo"]
_E164 = {"type": "string", "pattern": r"^\+[1-9][0-9]{4,14}$", "example": "+447400123123"}
_SIGNAL = {
    "type": "object",
    "required": ["kind", "msisdn", "occurred_at"],
    "properties": {
        "kind": {
            "type": "string",
            "enum": [
                "sim_swap",
                "call_forwarding",
                "location_update",
                "signalling_alert",
                "clearance",
            ],
        },
        "msisdn": {"type": "string"},
        "occurred_at": {"type": "string", "format": "date-time"},
        "event_id": {"type": "string"},
        "source": {"type": "string"},
    },
    "additionalProperties": True,
}
_HOLD_STATE: dict[str, Any] = {
    "type": "string",
    "enum": ["held", "releasing", "released", "cancelled", "expired", "failed"],
}
_HOLD: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "state": _HOLD_STATE,
        "account": {"type": "string"},
        "tenant": {"type": ["string", "null"]},
        "destination": {"type": "string"},
        "rule": {"type": "string"},
        "reasons": {"type": "array", "items": {"type": "object"}},
        "created_at": {"type": "string"},
        "expires_at": {"type": "string"},
    },
}
_TIME = {"type": "string", "format": "date-time"}
_STATUS = {
    "type": "object",
    "required": ["node", "holds_open", "esme_binds", "upstream"],
    "properties": {
        "node": {"type": "string"},
        "holds_open": {"type": "object", "additionalProperties": {"type": "integer"}},
        "esme_binds": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
        "upstream": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["route", "binds"],
                "properties": {
                    "route": {"type": "string"},
                    "system_id": {"type": "string"},
                    "binds": {"type": "integer"},
                },
            },
        },
    },
}
_COUNT = {"type": "integer", "minimum": 0}
_PEERS = {
    "type": "object",
    "required": ["peers"],
    "properties": {
        "peers": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "breaker", "token_valid_s", "calls_ok", "calls_failed"],
                "properties": {
                    "name": {"type": "string"},
                    "breaker": {"enum": ["closed", "open", "half_open"]},
                    "token_valid_s": {"type": "number"},
                    "token_fetches_ok": _COUNT,
                    "token_fetches_failed": _COUNT,
                    "last_error": {"type": ["string", "null"]},
                    "calls_ok": _COUNT,
                    "calls_failed": _COUNT,
                    "failures": {"type": "object", "additionalProperties": _COUNT},
                    "cache_hits": _COUNT,
                    "latency_mean_ms": {"type": ["number", "null"]},
                },
            },
        }
    },
}
_SIGNAL_OUTCOME = {
    "type": "object",
    "required": ["status"],
    "properties": {
        "status": {"enum": ["accepted", "duplicate", "rejected", "failed"]},
        "event_id": {"type": "string"},
        "reason": {"type": "string"},
    },
}
_RISK = {
    "type": "object",
    "required": ["msisdn", "tracked", "sim_swap", "call_forwarding", "routing_anomalies"],
    "properties": {
        "msisdn": {"type": "string"},
        "tracked": {"type": "boolean"},
        "sim_swap": {
            "type": ["object", "null"],
            "properties": {"age_s": {"type": "number"}, "reason": {"type": "string"}},
        },
        "call_forwarding": {"type": "object"},
        "routing_anomalies": {"type": "array", "items": {"type": "object"}},
        "sources": {"type": "array", "items": {"type": "object"}},
        "signal_outage": {"type": "boolean"},
    },
}
_KEY = {
    "type": "object",
    "required": ["id", "tenant", "created_at", "revoked"],
    "properties": {
        "id": {"type": "string"},
        "tenant": {"type": "string"},
        "created_at": _TIME,
        "revoked": {"type": "boolean"},
        "key": {"type": "string", "description": "in the creation answer only"},
    },
}
_WEBHOOK_ANSWER = {
    "type": "object",
    "required": ["id", "url", "event_types", "enabled", "created_at"],
    "properties": {
        "id": {"type": "string"},
        "url": {"type": "string"},
        "event_types": {"type": "array", "items": {"type": "string"}},
        "description": {"type": ["string", "null"]},
        "enabled": {"type": "boolean"},
        "disabled_reason": {"type": ["string", "null"]},
        "created_at": _TIME,
        "secret": {"type": "string", "description": "in the creation answer only"},
    },
}
_TOKEN = {
    "type": "object",
    "required": ["access_token", "token_type", "expires_in", "scope"],
    "properties": {
        "access_token": {"type": "string"},
        "token_type": {"const": "Bearer"},
        "expires_in": {"type": "integer"},
        "scope": {"type": "string"},
    },
}
_REASON_BODY = {
    "content": {
        "application/json": {
            "schema": {"type": "object", "properties": {"reason": {"type": "string"}}}
        }
    },
    "required": False,
}


def _answers(ok: int = 200, schema: dict[str, Any] | None = None, *errors: int) -> dict[str, Any]:
    """The success answer and the errors; 401 for every route with a key (see ``_open``)."""
    out: dict[str, Any] = {
        str(ok): {
            "description": "OK",
            "content": {"application/json": {"schema": schema or {"type": "object"}}},
        }
    }
    for status in (401, *errors):
        out[str(status)] = {
            "description": "error",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
    return out


def _open(summary: str, *errors: int) -> dict[str, Any]:
    """A route without a key: no 401 among its answers."""
    answers = _answers(200, None, *errors)
    del answers["401"]
    return {"get": {"summary": summary, "security": [], "responses": answers}}


def _json_body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


_OWNER_DOWN = (
    "In a cluster, a hold lives on the node that accepted it; any node answers for it by "
    "asking the owner over the broker (a signed command that is carried out at most once "
    "and never after this call gave up). 503 UNAVAILABLE: the owner did not answer in time; "
    "the hold is safe on its disk, try again."
)


def _hold_paths() -> dict[str, Any]:
    hold_id = {"name": "hold_id", "in": "path", "required": True, "schema": {"type": "string"}}
    return {
        "/v1/holds": {
            "get": {
                "summary": "List holds (filters, cursor pagination)",
                "parameters": [
                    {"name": n, "in": "query", "schema": s}
                    for n, s in (
                        ("state", _HOLD_STATE),
                        ("account", {"type": "string"}),
                        ("destination", {"type": "string"}),
                        ("since", {"type": "string", "format": "date-time"}),
                        ("until", {"type": "string", "format": "date-time"}),
                        ("after", {"type": "string"}),
                        ("limit", {"type": "integer", "minimum": 1, "maximum": 500}),
                    )
                ],
                "responses": _answers(
                    200,
                    {
                        "type": "object",
                        "required": ["holds"],
                        "properties": {
                            "holds": {"type": "array", "items": _HOLD},
                            "next": {
                                "type": "string",
                                "description": "cursor for the next page (this node only)",
                            },
                            "unreachable_nodes": {
                                "type": "array",
                                "items": {"type": "string"},
                                "description": "in a cluster: nodes that did not answer in "
                                "time; their holds are missing from this page, safe on their "
                                "disks",
                            },
                        },
                    },
                    422,
                ),
            }
        },
        "/v1/holds/{hold_id}": {
            "get": {
                "summary": "One hold with its history",
                "description": _OWNER_DOWN,
                "parameters": [hold_id],
                "responses": _answers(200, _HOLD, 404, 503),
            }
        },
        "/v1/holds/{hold_id}/release": {
            "post": {
                "summary": "Release a held OTP (sent upstream once)",
                "description": _OWNER_DOWN,
                "parameters": [hold_id],
                "requestBody": _REASON_BODY,
                "responses": _answers(200, _HOLD, 404, 409, 422, 503),
            }
        },
        "/v1/holds/{hold_id}/cancel": {
            "post": {
                "summary": "Cancel a held OTP (REJECTD receipt to the ESME)",
                "description": _OWNER_DOWN,
                "parameters": [hold_id],
                "requestBody": _REASON_BODY,
                "responses": _answers(200, _HOLD, 404, 409, 422, 503),
            }
        },
    }


def operator_document() -> dict[str, Any]:
    tenant = {"name": "tenant", "in": "path", "required": True, "schema": {"type": "string"}}
    msisdn_body = _json_body(
        {"type": "object", "required": ["msisdn"], "properties": {"msisdn": {"type": "string"}}}
    )
    paths: dict[str, Any] = {
        "/healthz": _open("Alive"),
        "/readyz": _open("Ready: an upstream bound and the signals fresh", 503),
        "/metrics": {
            "get": {
                "summary": "Prometheus metrics (text exposition format)",
                "responses": {
                    "200": {
                        "description": "OK",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    },
                    "401": _answers()["401"],
                },
            }
        },
        "/v1/status": {
            "get": {"summary": "Binds, upstreams, open holds", "responses": _answers(200, _STATUS)}
        },
        "/v1/peers": {
            "get": {
                "summary": "Other operators' CAMARA APIs asked for their numbers' facts: each "
                "peer's breaker, token, calls, failures by reason, cache hits, mean latency",
                "responses": _answers(200, _PEERS),
            }
        },
        "/v1/history": {
            "get": {
                "summary": "The last hour in 10 s steps: submits/s, holds/s, decisions/s by "
                "rule, mean webhook latency (in memory; for the console's charts)",
                "responses": _answers(),
            }
        },
        "/v1/policy": {
            "get": {"summary": "The policy in force: its rules, in order", "responses": _answers()}
        },
        "/v1/policy/explain": {
            "post": {
                "summary": "The decision one message to a number would get now, with its "
                "reasons (the text is classified, never returned or kept)",
                "requestBody": _json_body(
                    {
                        "type": "object",
                        "required": ["msisdn"],
                        "properties": {
                            "msisdn": _E164,
                            "text": {"type": "string", "maxLength": 2000},
                            "account": {"type": "string"},
                            "source_addr": {"type": "string"},
                        },
                    }
                ),
                "responses": _answers(200, None, 400, 422),
            }
        },
        "/v1/policy/reload": {
            "post": {"summary": "Reload the policy file", "responses": _answers(200, None, 422)}
        },
        "/v1/config/reload": {
            "post": {
                "summary": "Reload accounts, tenants, routes and policy without dropping binds",
                "responses": _answers(200, None, 422),
            }
        },
        "/v1/signals": {
            "post": {
                "summary": "Ingest one signal or a list of up to 10,000",
                "requestBody": _json_body(
                    {
                        "oneOf": [
                            {"$ref": "#/components/schemas/Signal"},
                            {
                                "type": "array",
                                "items": {"$ref": "#/components/schemas/Signal"},
                                "maxItems": 10000,
                            },
                        ]
                    }
                ),
                "responses": _answers(
                    200,
                    {
                        "oneOf": [
                            _SIGNAL_OUTCOME,
                            {
                                "type": "object",
                                "required": ["accepted", "results"],
                                "properties": {
                                    "accepted": {"type": "integer"},
                                    "duplicate": {"type": "integer"},
                                    "rejected": {"type": "integer"},
                                    "failed": {"type": "integer"},
                                    "results": {"type": "array", "items": {"type": "object"}},
                                },
                            },
                        ]
                    },
                    413,
                    422,
                    503,
                ),
            }
        },
        "/v1/signals/health": {"get": {"summary": "Feed health", "responses": _answers()}},
        "/v1/subscribers/risk": {
            "post": {
                "summary": "A number's risk facts (the number in the body, never the URL)",
                "requestBody": msisdn_body,
                "responses": _answers(200, _RISK, 422),
            }
        },
        "/v1/erasure": {
            "post": {
                "summary": "Remove everything about one MSISDN",
                "requestBody": msisdn_body,
                "responses": _answers(200, None, 422),
            }
        },
        "/v1/tenants": {
            "get": {
                "summary": "Every tenant: accounts, senders, active keys, webhook endpoints",
                "responses": _answers(),
            }
        },
        "/v1/tenants/{tenant}/webhooks": {
            "get": {
                "summary": "A tenant's webhook endpoints with their recent deliveries (no secret)",
                "parameters": [tenant],
                "responses": _answers(200, None, 404),
            }
        },
        "/v1/tenants/{tenant}/deliveries/{delivery_id}/replay": {
            "post": {
                "summary": "Send a tenant's delivered, dead or disabled event again",
                "parameters": [
                    tenant,
                    {
                        "name": "delivery_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string"},
                    },
                ],
                "responses": _answers(202, None, 404),
            }
        },
        "/v1/tenants/{tenant}/keys": {
            "get": {
                "summary": "A tenant's keys",
                "parameters": [tenant],
                "responses": _answers(
                    200,
                    {"type": "object", "properties": {"keys": {"type": "array", "items": _KEY}}},
                    404,
                ),
            },
            "post": {
                "summary": "A new API key, shown once",
                "parameters": [tenant],
                "responses": _answers(201, {**_KEY, "required": [*_KEY["required"], "key"]}, 404),
            },
        },
        "/v1/tenants/{tenant}/keys/{key_id}": {
            "delete": {
                "summary": "Revoke a key",
                "parameters": [
                    tenant,
                    {
                        "name": "key_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string"},
                    },
                ],
                "responses": {"204": {"description": "revoked"}, **_answers(200, None, 404)},
            }
        },
        **_hold_paths(),
    }
    return _document("otpgate operator API", paths)


def tenant_document() -> dict[str, Any]:
    webhook_id = {
        "name": "webhook_id",
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
    }
    webhook = {
        "type": "object",
        "required": ["url"],
        "properties": {
            "url": {"type": "string", "format": "uri"},
            "event_types": {"type": "array", "items": {"type": "string"}},
            "description": {"type": "string"},
            "enabled": {"type": "boolean"},
        },
    }
    paths: dict[str, Any] = {
        "/healthz": _open("Alive"),
        **_hold_paths(),
        "/v1/webhooks": {
            "get": {
                "summary": "Your webhook endpoints",
                "responses": _answers(
                    200,
                    {
                        "type": "object",
                        "properties": {"webhooks": {"type": "array", "items": _WEBHOOK_ANSWER}},
                    },
                ),
            },
            "post": {
                "summary": "A new endpoint; its signing secret is shown once",
                "requestBody": _json_body(webhook),
                "responses": _answers(
                    201,
                    {**_WEBHOOK_ANSWER, "required": [*_WEBHOOK_ANSWER["required"], "secret"]},
                    422,
                ),
            },
        },
        "/v1/webhooks/{webhook_id}": {
            "get": {"parameters": [webhook_id], "responses": _answers(200, None, 404)},
            "patch": {
                "parameters": [webhook_id],
                "requestBody": _json_body({**webhook, "required": []}),
                "responses": _answers(200, None, 404, 422),
            },
            "delete": {
                "parameters": [webhook_id],
                "responses": {"204": {"description": "deleted"}, **_answers(200, None, 404)},
            },
        },
        "/v1/webhooks/{webhook_id}/test": {
            "post": {"parameters": [webhook_id], "responses": _answers(202, None, 404, 409)}
        },
        "/v1/webhooks/{webhook_id}/rotate-secret": {
            "post": {"parameters": [webhook_id], "responses": _answers(200, None, 404)}
        },
        "/v1/webhooks/{webhook_id}/deliveries": {
            "get": {"parameters": [webhook_id], "responses": _answers(200, None, 404)}
        },
        "/v1/deliveries/{delivery_id}/replay": {
            "post": {
                "parameters": [
                    {
                        "name": "delivery_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string"},
                    }
                ],
                "responses": _answers(202, None, 404),
            }
        },
        "/oauth2/token": {
            "post": {
                "summary": "OAuth2 client credentials (client_id = key id, secret = the key)",
                "security": [],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/x-www-form-urlencoded": {
                            "schema": {
                                "type": "object",
                                "required": ["grant_type"],
                                "properties": {
                                    "grant_type": {"type": "string"},
                                    "client_id": {"type": "string"},
                                    "client_secret": {"type": "string"},
                                    "scope": {"type": "string"},
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "200": {
                        "description": "token",
                        "content": {"application/json": {"schema": _TOKEN}},
                    },
                    "400": {"description": "OAuth2 error"},
                    "401": {"description": "OAuth2 error"},
                },
            }
        },
        **camara_paths(),
    }
    paths |= subscription_paths()
    document = _document("otpgate tenant API", paths)
    document["webhooks"] = _webhooks()
    document["components"]["securitySchemes"]["oauth2"] = {
        "type": "oauth2",
        "flows": {"clientCredentials": {"tokenUrl": "/oauth2/token", "scopes": SECURITY_SCOPES}},
    }
    document["components"]["schemas"].update(SCHEMAS | SUBSCRIPTION_SCHEMAS)
    return document


def _webhooks() -> dict[str, Any]:
    """What the gateway POSTs to a tenant's endpoints: signed CloudEvents 1.0 (Standard
    Webhooks headers), one per event type."""

    def event(data: dict[str, Any], summary: str) -> dict[str, Any]:
        body = {
            "type": "object",
            "required": ["specversion", "id", "source", "type", "time", "data"],
            "properties": {
                "specversion": {"const": "1.0"},
                "id": {"type": "string"},
                "source": {"type": "string"},
                "type": {"type": "string"},
                "time": {"type": "string", "format": "date-time"},
                "datacontenttype": {"const": "application/json"},
                "data": data,
            },
        }
        return {
            "post": {
                "summary": summary,
                "parameters": [
                    {"name": name, "in": "header", "required": True, "schema": {"type": "string"}}
                    for name in ("webhook-id", "webhook-timestamp", "webhook-signature")
                ],
                "requestBody": _json_body(body),
                "responses": {"200": {"description": "any 2xx: received"}},
            }
        }

    hold = {
        "type": "object",
        "required": ["hold_id", "state", "rule", "reasons", "links"],
        "properties": {
            "hold_id": {"type": "string"},
            "message_ids": {"type": "array", "items": {"type": "string"}},
            "account": {"type": "string"},
            "sender": {"type": "string"},
            "destination": {"type": "string", "description": "absent once erased"},
            "state": _HOLD_STATE,
            "rule": {"type": "string"},
            "reasons": {"type": "array", "items": {"type": "object"}},
            "created_at": {"type": "string", "format": "date-time"},
            "expires_at": {"type": "string", "format": "date-time"},
            "links": {"type": "object"},
        },
    }
    risk = {
        "type": "object",
        "required": ["msisdn", "occurred_at"],
        "properties": {
            "msisdn": _E164,
            "occurred_at": {"type": "string", "format": "date-time"},
            "reason": {"type": "string"},
        },
    }
    test = {
        "type": "object",
        "properties": {"test": {"const": True}, "webhook": {"type": "string"}},
    }
    out = {name: event(hold, f"A hold's transition: {name}") for name in HOLD_EVENTS}
    out |= {name: event(risk, f"A subscriber's risk changed: {name}") for name in RISK_EVENTS}
    out[TEST_EVENT] = event(test, "Sent only by POST /v1/webhooks/{webhook_id}/test")
    return out


# Every operation's name, for client generators (a test checks each has one, once).
_OPERATION_IDS = {
    ("get", "/healthz"): "getHealth",
    ("get", "/readyz"): "getReadiness",
    ("get", "/metrics"): "getMetrics",
    ("get", "/v1/status"): "getStatus",
    ("get", "/v1/peers"): "getPeers",
    ("get", "/v1/history"): "getHistory",
    ("get", "/v1/policy"): "getPolicy",
    ("post", "/v1/policy/explain"): "explainDecision",
    ("post", "/v1/policy/reload"): "reloadPolicy",
    ("post", "/v1/config/reload"): "reloadConfig",
    ("post", "/v1/signals"): "ingestSignals",
    ("get", "/v1/signals/health"): "getSignalHealth",
    ("post", "/v1/subscribers/risk"): "getSubscriberRisk",
    ("post", "/v1/erasure"): "eraseSubscriber",
    ("get", "/v1/tenants"): "listTenants",
    ("get", "/v1/tenants/{tenant}/webhooks"): "listTenantWebhooks",
    ("post", "/v1/tenants/{tenant}/deliveries/{delivery_id}/replay"): "replayTenantDelivery",
    ("get", "/v1/tenants/{tenant}/keys"): "listTenantKeys",
    ("post", "/v1/tenants/{tenant}/keys"): "createTenantKey",
    ("delete", "/v1/tenants/{tenant}/keys/{key_id}"): "revokeTenantKey",
    ("get", "/v1/holds"): "listHolds",
    ("get", "/v1/holds/{hold_id}"): "getHold",
    ("post", "/v1/holds/{hold_id}/release"): "releaseHold",
    ("post", "/v1/holds/{hold_id}/cancel"): "cancelHold",
    ("get", "/v1/webhooks"): "listWebhooks",
    ("post", "/v1/webhooks"): "createWebhook",
    ("get", "/v1/webhooks/{webhook_id}"): "getWebhook",
    ("patch", "/v1/webhooks/{webhook_id}"): "updateWebhook",
    ("delete", "/v1/webhooks/{webhook_id}"): "deleteWebhook",
    ("post", "/v1/webhooks/{webhook_id}/test"): "testWebhook",
    ("post", "/v1/webhooks/{webhook_id}/rotate-secret"): "rotateWebhookSecret",
    ("get", "/v1/webhooks/{webhook_id}/deliveries"): "listWebhookDeliveries",
    ("post", "/v1/deliveries/{delivery_id}/replay"): "replayDelivery",
    ("post", "/oauth2/token"): "issueToken",
    ("post", "/sim-swap/v2/check"): "checkSimSwap",
    ("post", "/sim-swap/v2/retrieve-date"): "retrieveSimSwapDate",
    (
        "post",
        "/call-forwarding-signal/v0.4/unconditional-call-forwardings",
    ): "retrieveUnconditionalCallForwarding",
    ("post", "/call-forwarding-signal/v0.4/call-forwardings"): "retrieveCallForwarding",
    ("post", "/sim-swap-subscriptions/v0.3/subscriptions"): "createSimSwapSubscription",
    ("get", "/sim-swap-subscriptions/v0.3/subscriptions"): "retrieveSubscriptionList",
    (
        "delete",
        "/sim-swap-subscriptions/v0.3/subscriptions/{subscriptionId}",
    ): "deleteSubscription",
    ("get", "/sim-swap-subscriptions/v0.3/subscriptions/{subscriptionId}"): "retrieveSubscription",
}


def _document(title: str, paths: dict[str, Any]) -> dict[str, Any]:
    for path, operations in paths.items():
        for method, operation in operations.items():
            operation["operationId"] = _OPERATION_IDS[(method, path)]
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": "1"},
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "schemas": {"Error": _ERROR, "Signal": _SIGNAL},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
