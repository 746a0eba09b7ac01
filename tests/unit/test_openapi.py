"""The OpenAPI documents a payment platform generates its client from: valid 3.1, every
operation named once, open routes without a 401, and every webhook event described."""

from __future__ import annotations

from typing import Any

import pytest
from openapi_spec_validator import validate

from gateway.api.openapi import operator_document, tenant_document
from policies.event_types import EVENT_TYPES, TEST_EVENT

DOCUMENTS = {"operator": operator_document(), "tenant": tenant_document()}


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
    ]


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_the_document_is_valid_openapi_3_1(name: str) -> None:
    document = DOCUMENTS[name]
    assert document["openapi"].startswith("3.1")
    validate(document)  # raises on the first fault


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_every_operation_has_its_own_operation_id(name: str) -> None:
    ids = [operation.get("operationId") for _, _, operation in _operations(DOCUMENTS[name])]
    assert None not in ids and len(ids) == len(set(ids))


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_open_routes_list_no_401_and_keyed_routes_do(name: str) -> None:
    for method, path, operation in _operations(DOCUMENTS[name]):
        if path == "/oauth2/token":
            continue  # open, and its 401 is OAuth2's invalid_client, not a missing key
        open_route = operation.get("security") == []
        assert ("401" in operation["responses"]) is not open_route, (method, path)


def test_every_event_a_tenant_can_receive_is_described() -> None:
    webhooks = DOCUMENTS["tenant"]["webhooks"]
    assert set(webhooks) == {*EVENT_TYPES, TEST_EVENT}
    body = webhooks["otp.held"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["properties"]["specversion"] == {"const": "1.0"}
    assert "hold_id" in body["properties"]["data"]["required"]
