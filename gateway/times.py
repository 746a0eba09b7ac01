"""Times as every API answer, event and export writes them: RFC 3339, UTC, milliseconds."""

from __future__ import annotations

from datetime import UTC, datetime


def rfc3339(at: float) -> str:
    """``at`` (seconds since the epoch) as ``2026-12-03T08:18:27.704Z``."""
    return datetime.fromtimestamp(at, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def rfc3339_or_none(at: float | None) -> str | None:
    return None if at is None else rfc3339(at)
