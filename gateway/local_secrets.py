"""Secrets kept in the data directory when the configuration names none (trial set-ups):
the API key pepper and the hold key, each made on first start."""

from __future__ import annotations

from pathlib import Path

import structlog

from .holds.sealing import new_key

log = structlog.get_logger("otpgate")


def local_secret(path: Path) -> str:
    """The secret kept at ``path``, made on first start, readable by this user alone."""
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(new_key())
        log.warning("local_secret_generated", path=str(path))
    return path.read_text().strip()


def hold_keys(configured: tuple[str, ...] | None, data_dir: Path) -> tuple[str, ...]:
    """The configured key ring, or a key kept in the data directory (a trial set-up)."""
    if configured:
        return configured
    return (local_secret(data_dir / "hold.key"),)
