"""What a CAMARA request body must hold, checked without I/O: the subject and ``maxAge``.

Each check returns the value or a ``Refusal`` carrying the status and code CAMARA
prescribes, so the handlers answer in one place and the tables here are unit-tested.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

E164 = re.compile(r"\+[1-9][0-9]{4,14}")
MAX_AGE_DEFAULT_H = 240  # the API's default when maxAge is absent
MAX_AGE_LIMIT_H = 2400  # the API's own upper bound


@dataclass(frozen=True, slots=True)
class Refusal:
    status: int
    code: str
    message: str


def phone_number(
    body: Any, *, in_subscription: bool = False, token_number: str | None = None
) -> str | Refusal:
    """The subject of a request: the number the token names, else the body's.

    A token that names no number (2-legged) cannot tell whom the request is about, so an
    absent ``phoneNumber`` is ``422 MISSING_IDENTIFIER``; one that names a number
    (3-legged) makes any ``phoneNumber`` ``422 UNNECESSARY_IDENTIFIER``, the same number
    included (Commonalities 0.5 and 0.6, and the APIs' own feature files). A malformed one
    is ``400 INVALID_ARGUMENT`` either way: the schema is checked first.
    """
    if not isinstance(body, dict):
        return Refusal(400, "INVALID_ARGUMENT", "body: a JSON object")
    if in_subscription:
        config = body.get("config")
        if not isinstance(config, dict):
            return Refusal(400, "INVALID_ARGUMENT", "config: an object is required")
        detail = config.get("subscriptionDetail")
        if not isinstance(detail, dict):
            return Refusal(
                400, "INVALID_ARGUMENT", "config.subscriptionDetail: an object is required"
            )
        body, where = detail, "config.subscriptionDetail.phoneNumber"
    else:
        where = "phoneNumber"
    if "phoneNumber" not in body:
        if token_number is not None:
            return token_number
        return Refusal(
            422, "MISSING_IDENTIFIER", f"{where}: required when the token names no phone number"
        )
    number = body["phoneNumber"]
    if not isinstance(number, str) or not E164.fullmatch(number):
        return Refusal(400, "INVALID_ARGUMENT", f"{where}: E.164 with a leading +")
    if token_number is not None:
        return Refusal(
            422, "UNNECESSARY_IDENTIFIER", f"{where}: not allowed, the token names the phone number"
        )
    return number


def max_age(body: dict[str, Any], operator_limit_h: int) -> int | Refusal:
    """``maxAge`` in hours: the wrong JSON type is INVALID_ARGUMENT, an integer outside
    1–2400 or above the operator's own limit OUT_OF_RANGE."""
    value = body.get("maxAge", MAX_AGE_DEFAULT_H)
    # bool is an int in Python, not in JSON; 24.0 is an integer to JSON Schema, 12.5 is not.
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        return Refusal(400, "INVALID_ARGUMENT", "maxAge: an integer number of hours")
    if not 1 <= value <= MAX_AGE_LIMIT_H:
        return Refusal(400, "OUT_OF_RANGE", f"maxAge: from 1 to {MAX_AGE_LIMIT_H} hours")
    if value > operator_limit_h:
        # The API's own wording for a limit set by local regulation or the operator.
        return Refusal(
            400,
            "OUT_OF_RANGE",
            f"maxAge: the check period cannot exceed {operator_limit_h} hours here",
        )
    return value
