"""structlog set-up: JSON lines by default, a console renderer for a terminal, context bound per call."""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}


# Keys whose values are message content: never logged, whatever they hold.
_CONTENT_KEYS = frozenset({"text", "short_message", "message_payload", "payload", "body", "code"})
# Keys whose values are subscriber numbers: logged as a keyed pseudonym.
_NUMBER_KEYS = frozenset(
    {"msisdn", "destination", "destination_addr", "number", "phone_number", "forwarded_to"}
)
_NUMBER = re.compile(r"(?<![0-9A-Za-z])\+?[1-9][0-9]{7,14}(?![0-9A-Za-z])")
_key = os.urandom(32)  # until the gateway sets its stable key


def set_pseudonym_key(key: bytes) -> None:
    """The operator can search logs by number: pseudonym(number) with this key."""
    global _key
    _key = key


def pseudonym(number: str) -> str:
    digits = number.lstrip("+")
    return "msisdn:" + hmac.new(_key, digits.encode(), hashlib.sha256).hexdigest()[:16]


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return (
            _NUMBER.sub(lambda m: pseudonym(m.group()), value)
            if any(c.isdigit() for c in value)
            else value
        )
    if isinstance(value, dict):
        return {k: _redact_item(k, v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value]
    return value


def _redact_item(key: str, value: Any) -> Any:
    if key in _CONTENT_KEYS:
        return "[REDACTED]"
    if key in _NUMBER_KEYS and isinstance(value, str) and value:
        return pseudonym(value)
    return _scrub(value)


def redact(
    logger: Any, method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """A processor: no message content, and subscriber numbers only as pseudonyms.

    The code never reaches a log call in the first place (log lines carry ids, rules and
    reasons); this is the net under that rule, for exception texts and future mistakes.
    """
    for key, value in list(event_dict.items()):
        if key != "event":
            event_dict[key] = _redact_item(key, value)
    return event_dict


def logging_processors(fmt: str = "json") -> list[structlog.typing.Processor]:
    """The chain every log line goes through: redaction always runs before rendering."""
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer() if fmt == "json" else structlog.dev.ConsoleRenderer()
    )
    return [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        redact,
        renderer,
    ]


def configure_logging(level: str = "info", fmt: str = "json") -> None:
    """One stream of lines on stderr: otpgate's own and everything the standard library's
    logging carries (aiohttp, asyncio, paho), rendered and redacted the same way."""
    structlog.configure(
        processors=logging_processors(fmt),
        # Filtering happens in the bound logger, so a debug call on the hot path costs a no-op.
        wrapper_class=structlog.make_filtering_bound_logger(_LEVELS[level]),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )
    *chain, renderer = logging_processors(fmt)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[structlog.stdlib.add_logger_name, *chain],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(_LEVELS[level])
    # aiohttp's access log would be one line per API request: operators have /metrics.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)


class LoopErrors:
    """asyncio's exception handler: an error the event loop caught becomes one log line, and
    the same error again within ``interval_s`` only a count on the next line. (The default
    handler prints a plain-text traceback per occurrence: millions of lines when accept()
    fails for want of file descriptors.)"""

    def __init__(self, interval_s: float = 10.0) -> None:
        self.interval_s = interval_s
        self._last: dict[tuple[str, str], float] = {}
        self._suppressed: dict[tuple[str, str], int] = {}
        self._log = structlog.get_logger("otpgate.loop")

    def __call__(self, loop: Any, context: dict[str, Any]) -> None:
        message = str(context.get("message") or "unhandled error in the event loop")
        error = context.get("exception")
        key = (message, type(error).__name__)
        now = loop.time()
        last = self._last.get(key)
        if last is not None and now - last < self.interval_s:
            self._suppressed[key] = self._suppressed.get(key, 0) + 1
            return
        self._last[key] = now
        self._log.error(
            "event_loop_error",
            message=message,
            error=repr(error)[:300] if error is not None else None,
            repeats_not_logged=self._suppressed.pop(key, 0),
        )
