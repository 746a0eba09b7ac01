"""The SIM swap subscriptions v0.3 part of the tenant API's OpenAPI document: the
subscription resources, the notifications sent to the sink (as the operation's callback),
and the codes a creation is refused with."""

from __future__ import annotations

from typing import Any

from ..camara.subscription_terms import CLOUDEVENTS_JSON, ENDS, SWAPPED
from ..camara.tokens import DELETE_SUBSCRIPTIONS_SCOPE, READ_SUBSCRIPTIONS_SCOPE, SUBSCRIBE_SCOPE
from .openapi_camara import CORRELATOR_PARAMETER, REF, body, errors, security, success

SUBSCRIPTION_400 = ("INVALID_ARGUMENT", "INVALID_PROTOCOL", "INVALID_CREDENTIAL", "INVALID_TOKEN",
                    "INVALID_SINK")  # fmt: skip

_SUBSCRIPTION_DETAIL = {
    "type": "object",
    "properties": {"phoneNumber": {"$ref": REF + "PhoneNumber"}},
}
_SUBSCRIPTION_CONFIG = {
    "type": "object",
    "required": ["subscriptionDetail"],
    "properties": {
        "subscriptionDetail": _SUBSCRIPTION_DETAIL,
        "subscriptionExpireTime": {"type": "string", "format": "date-time"},
        "subscriptionMaxEvents": {"type": "integer", "minimum": 1},
    },
}
SUBSCRIPTION_SCHEMAS: dict[str, Any] = {
    "SubscriptionEventType": {"type": "string", "enum": [SWAPPED]},
    "Protocol": {
        "type": "string",
        "enum": ["HTTP", "MQTT3", "MQTT5", "AMQP", "NATS", "KAFKA"],
        "description": "Only HTTP is served (others: 400 INVALID_PROTOCOL).",
    },
    "SinkCredential": {
        "type": "object",
        "required": ["credentialType"],
        "description": "Only ACCESSTOKEN with a bearer token (PLAIN, REFRESHTOKEN: "
        "400 INVALID_CREDENTIAL; another token type: 400 INVALID_TOKEN); the token is sent "
        "as Authorization: Bearer with every notification until it expires.",
        "properties": {
            "credentialType": {"type": "string", "enum": ["PLAIN", "ACCESSTOKEN", "REFRESHTOKEN"]},
            "accessToken": {"type": "string"},
            "accessTokenExpiresUtc": {"type": "string", "format": "date-time"},
            "accessTokenType": {"type": "string", "enum": ["bearer"]},
        },
    },
    "SubscriptionRequest": {
        "type": "object",
        "required": ["sink", "protocol", "config", "types"],
        "properties": {
            "protocol": {"$ref": REF + "Protocol"},
            "sink": {"type": "string", "format": "uri"},
            "sinkCredential": {"$ref": REF + "SinkCredential"},
            "types": {
                "type": "array",
                "minItems": 1,
                "maxItems": 1,
                "items": {"$ref": REF + "SubscriptionEventType"},
            },
            "config": _SUBSCRIPTION_CONFIG,
        },
    },
    "Subscription": {
        "type": "object",
        "required": ["sink", "protocol", "config", "types", "id", "startsAt"],
        "properties": {
            "id": {"type": "string"},
            "subscriptionId": {"type": "string", "description": "The same as id."},
            "protocol": {"$ref": REF + "Protocol"},
            "sink": {"type": "string", "format": "uri"},
            "types": {"type": "array", "items": {"$ref": REF + "SubscriptionEventType"}},
            "config": _SUBSCRIPTION_CONFIG,
            "startsAt": {"type": "string", "format": "date-time"},
            "expiresAt": {"type": "string", "format": "date-time"},
            "status": {
                "type": "string",
                "enum": ["ACTIVATION_REQUESTED", "ACTIVE", "EXPIRED", "INACTIVE", "DELETED"],
            },
        },
    },
    "CloudEvent": {
        "type": "object",
        "required": ["id", "source", "specversion", "type", "time"],
        "properties": {
            "id": {"type": "string"},
            "source": {"type": "string", "minLength": 1},
            "type": {"type": "string", "enum": [SWAPPED, ENDS]},
            "specversion": {"type": "string", "enum": ["1.0"]},
            "datacontenttype": {"type": "string", "enum": ["application/json"]},
            "time": {"type": "string", "format": "date-time"},
            "data": {
                "type": "object",
                "required": ["subscriptionId"],
                "properties": {
                    "phoneNumber": {"$ref": REF + "PhoneNumber"},
                    "subscriptionId": {"type": "string"},
                    "terminationReason": {
                        "type": "string",
                        "enum": [
                            "MAX_EVENTS_REACHED",
                            "NETWORK_TERMINATED",
                            "SUBSCRIPTION_EXPIRED",
                            "ACCESS_TOKEN_EXPIRED",
                            "SUBSCRIPTION_DELETED",
                        ],
                    },
                    "terminationDescription": {"type": "string"},
                },
            },
        },
    },
}


def _notifications() -> dict[str, Any]:
    """What the gateway POSTs to the sink: CloudEvents, signed as the tenant webhooks are."""
    return {
        "notifications": {
            "{$request.body#/sink}": {
                "post": {
                    "summary": "swapped (time: when the SIM changed), or subscription-ends",
                    "parameters": [
                        {
                            "name": name,
                            "in": "header",
                            "required": True,
                            "schema": {"type": "string"},
                        }
                        for name in ("webhook-id", "webhook-timestamp", "webhook-signature")
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {CLOUDEVENTS_JSON: {"schema": {"$ref": REF + "CloudEvent"}}},
                    },
                    "responses": {"204": {"description": "any 2xx: received"}},
                }
            }
        }
    }


def subscription_paths() -> dict[str, Any]:
    """SIM swap subscriptions v0.3."""
    base = "/sim-swap-subscriptions/v0.3/subscriptions"
    subscription = {"$ref": REF + "Subscription"}
    subscription_id = {
        "name": "subscriptionId",
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
    }
    created_errors: dict[int, tuple[str, ...]] = {400: SUBSCRIPTION_400}
    return {
        base: {
            "post": {
                "security": security(SUBSCRIBE_SCOPE),
                "parameters": [CORRELATOR_PARAMETER],
                "requestBody": body("SubscriptionRequest"),
                "callbacks": _notifications(),
                "responses": {
                    **success(201, subscription),
                    **errors(400, 401, 403, 404, 422, 429, codes=created_errors),
                },
            },
            "get": {
                "security": security(READ_SUBSCRIPTIONS_SCOPE),
                "parameters": [CORRELATOR_PARAMETER],
                "responses": {
                    **success(200, {"type": "array", "items": subscription}),
                    **errors(401, 403, 429),
                },
            },
        },
        base + "/{subscriptionId}": {
            "get": {
                "security": security(READ_SUBSCRIPTIONS_SCOPE),
                "parameters": [subscription_id, CORRELATOR_PARAMETER],
                "responses": {**success(200, subscription), **errors(401, 403, 404, 429)},
            },
            "delete": {
                "security": security(DELETE_SUBSCRIPTIONS_SCOPE),
                "parameters": [subscription_id, CORRELATOR_PARAMETER],
                "responses": {**success(204, None), **errors(401, 403, 404, 429)},
            },
        },
    }
