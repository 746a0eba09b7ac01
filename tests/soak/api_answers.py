"""What every API answer must look like (DESIGN.md, "Interfaces"): never a 5xx, and every
error as JSON ``{"status", "code", "message"}``, or in OAuth2's shape on /oauth2/token."""

from __future__ import annotations

import json
from typing import Any

OAUTH_PATH = "/oauth2/token"


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


def answer_problem(path: str, status: int, content_type: str, body: bytes) -> str | None:
    """None when the answer keeps the rules, else what is wrong with it."""
    if status >= 500:
        return f"{status} {body[:200]!r}"
    if status < 400:
        return None
    answer = _json(body) if "json" in content_type else None
    if not isinstance(answer, dict):
        return f"{status} error not JSON ({content_type}): {body[:200]!r}"
    if path == OAUTH_PATH:
        return None if isinstance(answer.get("error"), str) else f"{status} not OAuth2: {answer}"
    shaped = (
        isinstance(answer.get("status"), int)
        and isinstance(answer.get("code"), str)
        and isinstance(answer.get("message"), str)
    )
    return None if shaped else f"{status} not {{status, code, message}}: {answer}"
