"""The CAMARA operations of the tenant API's OpenAPI document, in the official documents' terms.

SIM Swap v2.1, SIM swap subscriptions v0.3 and Call Forwarding Signal v0.4 (release r3.3):
``x-correlator`` on every request and answer, the scopes each operation takes, an optional
``phoneNumber`` (a token may name the number instead), and per status the error codes the
gateway answers with.
"""

from __future__ import annotations

from typing import Any

from ..camara.correlator import HEADER
from ..camara.requests import MAX_AGE_DEFAULT_H, MAX_AGE_LIMIT_H
from ..camara.tokens import (
    CALL_FORWARDINGS_SCOPE,
    CHECK_SCOPE,
    DELETE_SUBSCRIPTIONS_SCOPE,
    READ_SUBSCRIPTIONS_SCOPE,
    RETRIEVE_DATE_SCOPE,
    SIM_SWAP_SCOPE,
    SUBSCRIBE_SCOPE,
    UNCONDITIONAL_SCOPE,
)

REF = "#/components/schemas/"

# What each status may carry as ``code`` on these operations.
ERROR_CODES: dict[int, tuple[str, ...]] = {
    400: ("INVALID_ARGUMENT", "OUT_OF_RANGE"),
    401: ("UNAUTHENTICATED",),
    403: ("PERMISSION_DENIED",),
    404: ("NOT_FOUND", "IDENTIFIER_NOT_FOUND"),
    422: ("SERVICE_NOT_APPLICABLE", "MISSING_IDENTIFIER", "UNNECESSARY_IDENTIFIER"),
    429: ("QUOTA_EXCEEDED", "TOO_MANY_REQUESTS"),
}

SCHEMAS: dict[str, Any] = {
    "XCorrelator": {
        "type": "string",
        "pattern": r"^[a-zA-Z0-9-_:;.\/<>{}]{0,256}$",
        "example": "b4333c46-49c0-4f62-80d7-f0ef930f1c46",
    },
    "PhoneNumber": {
        "type": "string",
        "pattern": r"^\+[1-9][0-9]{4,14}$",
        "example": "+447400123123",
        "description": "E.164 with a leading +. Required with a token that names no number.",
    },
    "ErrorInfo": {
        "type": "object",
        "required": ["status", "code", "message"],
        "properties": {
            "status": {"type": "integer"},
            "code": {"type": "string"},
            "message": {"type": "string"},
        },
    },
    "CreateCheckSimSwap": {
        "type": "object",
        "properties": {
            "phoneNumber": {"$ref": REF + "PhoneNumber"},
            "maxAge": {
                "type": "integer",
                "format": "int32",
                "minimum": 1,
                "maximum": MAX_AGE_LIMIT_H,
                "default": MAX_AGE_DEFAULT_H,
                "description": "Hours to look back; the operator may allow fewer (OUT_OF_RANGE).",
            },
        },
    },
    "CreateSimSwapDate": {
        "type": "object",
        "properties": {"phoneNumber": {"$ref": REF + "PhoneNumber"}},
    },
    "CheckSimSwapInfo": {
        "type": "object",
        "required": ["swapped"],
        "properties": {"swapped": {"type": "boolean"}},
    },
    "SimSwapInfo": {
        "type": "object",
        "required": ["latestSimChange"],
        "properties": {
            "latestSimChange": {"type": ["string", "null"], "format": "date-time"},
            "monitoredPeriod": {
                "type": "integer",
                "description": "Days monitored; with a null latestSimChange: no change in them.",
            },
        },
    },
    "CreateCallForwardingSignal": {
        "type": "object",
        "properties": {"phoneNumber": {"$ref": REF + "PhoneNumber"}},
    },
    "UnconditionalCallForwardingSignal": {
        "type": "object",
        "properties": {"active": {"type": "boolean"}},
    },
    "CallForwardingSignal": {
        "type": "array",
        "minItems": 1,
        "items": {
            "type": "string",
            "enum": [
                "inactive",
                "unconditional",
                "conditional_busy",
                "conditional_not_reachable",
                "conditional_no_answer",
            ],
        },
    },
}

SECURITY_SCOPES = {
    SIM_SWAP_SCOPE: "Both SIM Swap operations",
    CHECK_SCOPE: "POST /sim-swap/v2/check",
    RETRIEVE_DATE_SCOPE: "POST /sim-swap/v2/retrieve-date",
    SUBSCRIBE_SCOPE: "Create a SIM swap subscription",
    READ_SUBSCRIPTIONS_SCOPE: "List and read SIM swap subscriptions",
    DELETE_SUBSCRIPTIONS_SCOPE: "Delete a SIM swap subscription",
    UNCONDITIONAL_SCOPE: "POST /call-forwarding-signal/v0.4/unconditional-call-forwardings",
    CALL_FORWARDINGS_SCOPE: "POST /call-forwarding-signal/v0.4/call-forwardings",
}

CORRELATOR_PARAMETER = {
    "name": HEADER,
    "in": "header",
    "required": False,
    "description": "Correlation id, echoed on the answer; outside the pattern: 400.",
    "schema": {"$ref": REF + "XCorrelator"},
}
_CORRELATOR_HEADER = {HEADER: {"schema": {"$ref": REF + "XCorrelator"}}}
_RETRY_HEADERS = {
    **_CORRELATOR_HEADER,
    "Retry-After": {
        "description": "Seconds until a request may pass (the client's quota or the server's).",
        "schema": {"type": "integer", "minimum": 1},
    },
}


def security(*scopes: str) -> list[dict[str, list[str]]]:
    """Any one of ``scopes`` grants the operation (one requirement each, as the APIs list)."""
    return [{"oauth2": [scope]} for scope in scopes]


def success(status: int, schema: dict[str, Any] | None) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": "OK", "headers": _CORRELATOR_HEADER}
    if schema is not None:
        answer["content"] = {"application/json": {"schema": schema}}
    return {str(status): answer}


def errors(*statuses: int, codes: dict[int, tuple[str, ...]] | None = None) -> dict[str, Any]:
    """Error answers whose ``status`` and ``code`` are pinned per HTTP status."""
    table = {**ERROR_CODES, **(codes or {})}
    out: dict[str, Any] = {}
    for status in statuses:
        pinned = {
            "type": "object",
            "properties": {
                "status": {"enum": [status]},
                "code": {"enum": list(table[status])},
            },
        }
        out[str(status)] = {
            "description": "error",
            "headers": _RETRY_HEADERS if status == 429 else _CORRELATOR_HEADER,
            "content": {
                "application/json": {"schema": {"allOf": [{"$ref": REF + "ErrorInfo"}, pinned]}}
            },
        }
    return out


def body(schema: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": {"$ref": REF + schema}}}}


def _operation(scopes: tuple[str, ...], request: str, answer: str) -> dict[str, Any]:
    return {
        "post": {
            "security": security(*scopes),
            "parameters": [CORRELATOR_PARAMETER],
            "requestBody": body(request),
            "responses": {
                **success(200, {"$ref": REF + answer}),
                **errors(400, 401, 403, 404, 422, 429),
            },
        }
    }


def camara_paths() -> dict[str, Any]:
    """The SIM Swap and Call Forwarding Signal operations (subscriptions: their own module)."""
    forwarding = "/call-forwarding-signal/v0.4"
    return {
        "/sim-swap/v2/check": _operation(
            (CHECK_SCOPE, SIM_SWAP_SCOPE), "CreateCheckSimSwap", "CheckSimSwapInfo"
        ),
        "/sim-swap/v2/retrieve-date": _operation(
            (RETRIEVE_DATE_SCOPE, SIM_SWAP_SCOPE), "CreateSimSwapDate", "SimSwapInfo"
        ),
        f"{forwarding}/unconditional-call-forwardings": _operation(
            (UNCONDITIONAL_SCOPE,),
            "CreateCallForwardingSignal",
            "UnconditionalCallForwardingSignal",
        ),
        f"{forwarding}/call-forwardings": _operation(
            (CALL_FORWARDINGS_SCOPE,), "CreateCallForwardingSignal", "CallForwardingSignal"
        ),
    }
