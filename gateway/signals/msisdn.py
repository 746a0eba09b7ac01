"""MSISDNs: E.164 normalisation with phonenumbers, cached, and the integer key of the risk index."""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers

__all__ = [
    "InvalidNumber",
    "e164_from_key",
    "msisdn_key",
    "normalize_gt",
    "normalize_msisdn",
    "normalize_number",
]

# "+" and 7-15 digits, no leading zero in the country code: the common case, parsed once per number.
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")
# A global title is an E.164 address; the "+" is optional because SCCP carries bare digits.
_GT = re.compile(r"\+?([1-9][0-9]{3,14})")
# Separators people and CRMs put into national numbers; anything else (letters, "*", "#") is rejected.
_SEPARATORS = str.maketrans("", "", " -.()\u00a0")
_DIALABLE = re.compile(r"\+?[0-9]{2,20}")
_CACHE_SIZE = 1 << 16


class InvalidNumber(ValueError):
    """A number that is not a valid (or possible) E.164 number; the message says why."""


def normalize_msisdn(text: str, default_region: str | None) -> str:
    """Return the E.164 form of a subscriber number, valid by phonenumbers' metadata.

    National forms are read with ``default_region`` (ISO alpha-2); without one only E.164
    is accepted. Raises InvalidNumber with a message a person can act on.
    """
    return normalize_number(text, default_region, require_valid=True)


def normalize_number(text: str, default_region: str | None, *, require_valid: bool) -> str:
    """E.164 form of ``text``; ``require_valid=False`` accepts any *possible* number.

    A forwarded-to number is only checked for being possible: rejecting a forward to a
    range phonenumbers does not know yet would drop exactly the signal that matters.
    """
    if not isinstance(text, str):
        raise InvalidNumber(f"expected a string, got {type(text).__name__}")
    if _E164.fullmatch(text):
        if _check_e164(text, require_valid):
            return text
        raise InvalidNumber(f"not a valid number: {text!r}")
    compact = text.translate(_SEPARATORS)
    if not compact:
        raise InvalidNumber("empty")
    if not _DIALABLE.fullmatch(compact):
        raise InvalidNumber(
            f"expected '+' and digits (E.164) or a national number, got {_clip(text)!r}"
        )
    if compact.startswith("+"):
        if _check_e164(compact, require_valid):
            return compact
        raise InvalidNumber(f"not a valid number: {_clip(text)!r}")
    if default_region is None:
        raise InvalidNumber(
            f"{_clip(text)!r} is not in E.164 form ('+' and digits) and no default region is configured"
        )
    e164 = _parse_national(compact, default_region, require_valid)
    if e164 is None:
        raise InvalidNumber(f"not a valid number for region {default_region}: {_clip(text)!r}")
    return e164


def normalize_gt(text: str) -> str:
    """Digits of a global title (E.164 digits, "+" optional); raises InvalidNumber."""
    if not isinstance(text, str):
        raise InvalidNumber(f"expected a string of E.164 digits, got {type(text).__name__}")
    match = _GT.fullmatch(text)
    if match is None:
        raise InvalidNumber(f"expected E.164 digits with or without '+', got {_clip(text)!r}")
    return match.group(1)


def msisdn_key(e164: str) -> int:
    """The integer form of an E.164 number ("+447400123123" -> 447400123123).

    E.164 numbers never start with 0 after the "+", so the key maps back losslessly.
    """
    if not e164.startswith("+") or not e164[1:].isdigit():
        raise InvalidNumber(f"not in E.164 form: {_clip(e164)!r}")
    return int(e164[1:])


def e164_from_key(key: int) -> str:
    """Inverse of msisdn_key."""
    return f"+{key}"


def _check_e164(e164: str, require_valid: bool) -> bool:
    # phonenumbers decides validity by the number's range: its country code and leading
    # digits, and its length. Numbers that share the first eight digits and the length share
    # the answer in practice, so one check (~50 µs) serves a whole range of subscribers.
    key = (e164[:9], len(e164), require_valid)
    answer = _RANGES.get(key)
    if answer is None:
        if len(_RANGES) >= _CACHE_SIZE:
            _RANGES.clear()
        answer = _RANGES[key] = _check_number(e164, require_valid)
    return answer


_RANGES: dict[tuple[str, int, bool], bool] = {}


def _check_number(e164: str, require_valid: bool) -> bool:
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return False
    if require_valid:
        return phonenumbers.is_valid_number(number)
    return phonenumbers.is_possible_number(number)


@lru_cache(maxsize=_CACHE_SIZE)
def _parse_national(digits: str, region: str, require_valid: bool) -> str | None:
    try:
        number = phonenumbers.parse(digits, region)
    except phonenumbers.NumberParseException:
        return None
    ok = (
        phonenumbers.is_valid_number(number)
        if require_valid
        else phonenumbers.is_possible_number(number)
    )
    if not ok:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _clip(text: str, limit: int = 32) -> str:
    return text if len(text) <= limit else text[:limit] + "…"
