"""Fixtures of the soak suite: the integration tests' real mosquitto broker, reused as is."""

from __future__ import annotations

from ..integration.conftest import mosquitto

__all__ = ["mosquitto"]
