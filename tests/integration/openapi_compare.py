"""What two OpenAPI documents say about an operation, reduced to what a client relies on.

Paths, methods, scopes, parameters, request and response schemas (types with OpenAPI 3.0's
``nullable`` read as 3.1's ``null`` type, formats, patterns, bounds, defaults, enums,
required properties) and error codes, flattened to ``where -> value`` so that two documents
compare leaf by leaf. Prose (descriptions, examples, summaries) is left out.
"""

from __future__ import annotations

from typing import Any

_KEPT = ("format", "pattern", "minimum", "maximum", "minItems", "maxItems", "default")


def resolve(doc: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = doc
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def schema_shape(doc: dict[str, Any], schema: Any) -> dict[str, Any]:
    s = resolve(doc, schema)
    out: dict[str, Any] = {}
    types = set(
        s["type"] if isinstance(s.get("type"), list) else [s["type"]] if "type" in s else []
    )
    if s.get("nullable"):
        types.add("null")
    if types:
        out["type"] = sorted(types)
    for key in _KEPT:
        if key in s:
            out[key] = s[key]
    if "enum" in s:
        out["enum"] = sorted(map(str, s["enum"]))
    if "required" in s:
        out["required"] = sorted(s["required"])
    if "properties" in s:
        out["properties"] = {k: schema_shape(doc, v) for k, v in s["properties"].items()}
    if "items" in s:
        out["items"] = schema_shape(doc, s["items"])
    if "allOf" in s:
        # Merged: the order and grouping of allOf parts is no contract.
        for part in s["allOf"]:
            merge(out, schema_shape(doc, part))
    return out


def merge(into: dict[str, Any], more: dict[str, Any]) -> None:
    for key, value in more.items():
        if key == "properties":
            for name, shape in value.items():
                merge(into.setdefault("properties", {}).setdefault(name, {}), shape)
        elif key == "required":
            into["required"] = sorted({*into.get("required", []), *value})
        else:
            into[key] = value


def operation_shape(doc: dict[str, Any], operation: dict[str, Any]) -> dict[str, Any]:
    scopes = sorted({s for req in operation.get("security", []) for v in req.values() for s in v})
    parameters = {}
    for p in map(lambda p: resolve(doc, p), operation.get("parameters", [])):
        parameters[f"{p['in']}:{p['name'].lower()}"] = {
            "required": p.get("required", False),
            "schema": schema_shape(doc, p.get("schema", {})),
        }
    out: dict[str, Any] = {"scopes": scopes, "parameters": parameters}
    body = resolve(doc, operation.get("requestBody"))
    if body is not None:
        out["requestBody"] = {
            "required": body.get("required", False),
            "content": {ct: schema_shape(doc, c["schema"]) for ct, c in body["content"].items()},
        }
    responses = {}
    for status, answer in operation.get("responses", {}).items():
        answer = resolve(doc, answer)
        responses[str(status)] = {
            "headers": sorted(h.lower() for h in answer.get("headers", {})),
            "content": {
                ct: schema_shape(doc, c["schema"]) for ct, c in answer.get("content", {}).items()
            },
        }
    out["responses"] = responses
    return out


def flatten(value: Any, where: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(flatten(item, f"{where}/{key}"))
        return out or {where: {}}
    return {where: value}


def api_shape(doc: dict[str, Any], base: str, paths: list[str] | None = None) -> dict[str, Any]:
    """Every operation of ``paths`` (default: all of the document's), under ``base``."""
    out = {}
    for path, item in doc["paths"].items():
        full = base + path
        if paths is not None and full not in paths:
            continue
        for method, operation in item.items():
            out[f"{method.upper()} {full}"] = operation_shape(doc, operation)
    return out


def differences(official: dict[str, Any], served: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """``where -> (official, served)`` for every leaf that differs or exists on one side."""
    a, b = flatten(official), flatten(served)
    missing = object()
    return {
        where: (a.get(where, missing), b.get(where, missing))
        for where in sorted(a.keys() | b.keys())
        if a.get(where, missing) != b.get(where, missing)
    }
