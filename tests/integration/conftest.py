"""Fixtures shared by the integration tests: a real mosquitto broker per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .mosquitto import (
    INTRUDER,
    SHIPPED_ACL,
    SHIPPED_CONFIG,
    MosquittoBroker,
    acl_users,
    find_executable,
    password_for,
)


def _require_mosquitto() -> None:
    # Skipped rather than failed on a developer machine without the broker; CI never skips
    # for this, because .ci/run installs the package before running the tests.
    if find_executable("mosquitto") is None or find_executable("mosquitto_passwd") is None:
        pytest.skip("mosquitto not installed (Debian package mosquitto; .ci/run installs it)")


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[MosquittoBroker]:
    """A running broker with the shipped queue settings, anonymous clients allowed."""
    _require_mosquitto()
    broker = MosquittoBroker(
        tmp_path / "mosquitto", allow_anonymous=True, base_config=SHIPPED_CONFIG
    )
    broker.start()
    try:
        yield broker
    finally:
        broker.close()


@pytest.fixture
def mosquitto_acl(tmp_path: Path) -> Iterator[MosquittoBroker]:
    """A running broker with the shipped mosquitto.conf and mosquitto.acl: anonymous refused.

    Every user the ACL names, plus ``intruder`` (no ACL line), has the password
    ``password_for(user)``; ``broker.users`` maps each name to its password.
    """
    _require_mosquitto()
    users = {user: password_for(user) for user in [*acl_users(SHIPPED_ACL), INTRUDER]}
    broker = MosquittoBroker(
        tmp_path / "mosquitto-acl", users=users, acl_file=SHIPPED_ACL, base_config=SHIPPED_CONFIG
    )
    broker.start()
    try:
        yield broker
    finally:
        broker.close()
