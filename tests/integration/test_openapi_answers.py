"""Real answers of a live gateway validate against the response schemas of the OpenAPI
documents (JSON Schema 2020-12, as OpenAPI 3.1 uses): what a generated client expects is
what it gets, errors included."""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator

from gateway.api.openapi import operator_document, tenant_document

from .harness import OPERATOR_KEY, call, running_gateway, running_simulator
from .test_camara import QUIET, SWAPPED, config, key_for, setup, token


def _schema(document: dict[str, Any], method: str, path: str, status: int) -> dict[str, Any]:
    answer = document["paths"][path][method]["responses"][str(status)]
    schema = answer["content"]["application/json"]["schema"]
    # References point into the document's components: carry them along.
    return {**schema, "components": document["components"]}


def _valid(document: dict[str, Any], method: str, path: str, status: int, body: Any) -> None:
    validator = Draft202012Validator(_schema(document, method, path, status))
    errors = [e.message for e in validator.iter_errors(body)]
    assert errors == [], (method, path, status, errors)


async def test_answers_validate_against_the_documented_schemas(tmp_path) -> None:
    operator, tenant = operator_document(), tenant_document()
    async with running_simulator() as sim, running_gateway(config(tmp_path, sim.port)) as gw:
        access = await setup(gw)
        op, tn = gw.api_port, gw.tenant_api_port
        cases: list[tuple[dict[str, Any], str, str, str, int, str, Any]] = [
            (operator, "get", "/v1/status", "/v1/status", op, OPERATOR_KEY, None),
            (operator, "post", "/v1/subscribers/risk", "/v1/subscribers/risk", op,
             OPERATOR_KEY, {"msisdn": SWAPPED}),
            (operator, "post", "/v1/signals", "/v1/signals", op, OPERATOR_KEY,
             {"kind": "sim_swap", "msisdn": QUIET, "occurred_at": "2026-11-25T10:00:00Z"}),
            (operator, "post", "/v1/tenants/{tenant}/keys", "/v1/tenants/paybank/keys", op,
             OPERATOR_KEY, None),
            (operator, "get", "/v1/tenants/{tenant}/keys", "/v1/tenants/paybank/keys", op,
             OPERATOR_KEY, None),
            (operator, "get", "/v1/holds", "/v1/holds", op, OPERATOR_KEY, None),
            (operator, "post", "/v1/subscribers/risk", "/v1/subscribers/risk", op,
             OPERATOR_KEY, {"msisdn": "not a number"}),
            (tenant, "post", "/sim-swap/v2/check", "/sim-swap/v2/check", tn, access,
             {"phoneNumber": SWAPPED, "maxAge": 48}),
            (tenant, "post", "/sim-swap/v2/retrieve-date", "/sim-swap/v2/retrieve-date", tn,
             access, {"phoneNumber": SWAPPED}),
        ]  # fmt: skip
        seen = set()
        for document, method, template, path, port, key, body in cases:
            status, answer = await call(port, method.upper(), path, key, body)
            _valid(document, method, template, status, answer)
            seen.add((template, status))
        # The error answer was among them, and validated against Error.
        assert ("/v1/subscribers/risk", 422) in seen and ("/v1/status", 200) in seen

        # A tenant's own webhook endpoints, and the OAuth2 token answer.
        tenant_key = await key_for(gw, "paybank")
        status, created = await call(
            tn, "POST", "/v1/webhooks", tenant_key, {"url": "https://93.184.216.34/hook"}
        )
        assert status == 201, created
        _valid(tenant, "post", "/v1/webhooks", status, created)
        status, listed = await call(tn, "GET", "/v1/webhooks", tenant_key)
        _valid(tenant, "get", "/v1/webhooks", status, listed)
        status, issued = await token(gw, tenant_key)
        answer = tenant["paths"]["/oauth2/token"]["post"]["responses"]["200"]
        errors = list(
            Draft202012Validator(answer["content"]["application/json"]["schema"]).iter_errors(
                issued
            )
        )
        assert status == 200 and errors == []
