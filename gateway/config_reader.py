"""Typed reads of one TOML table that name the file and the key on every error."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


class ConfigError(ValueError):
    """The configuration is invalid; the message names the file and the key."""


class Section:
    """One table of the file: typed reads that name the key on error, and a check for leftovers.

    A wrong type, a value out of range or an unknown key is noted in ``problems`` (shared by
    every table of the file) and the read goes on with the default, so that one start-up
    names every such mistake of the file at once; ``check()`` raises them together.
    """

    def __init__(
        self, source: str, path: str, data: object, problems: list[str] | None = None
    ) -> None:
        if not isinstance(data, dict):
            raise ConfigError(f"{source}: {path or 'top level'}: expected a table")
        self.source, self.path, self.data = source, path, dict(data)
        self.problems: list[str] = [] if problems is None else problems
        self._seen: set[str] = set()

    def check(self) -> None:
        """Raise every problem noted so far, one per line."""
        if self.problems:
            raise ConfigError("\n".join(dict.fromkeys(self.problems)))

    def _where(self, key: str) -> str:
        return f"{self.source}: {self.path + '.' if self.path else ''}{key}"

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = None) -> Any:
        self._seen.add(key)
        if key not in self.data:
            return default
        value = self.data[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if float in kinds and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if isinstance(value, bool) and bool not in kinds:
            self.problems.append(f"{self._where(key)}: expected {_names(kinds)}, got a boolean")
            return default
        if not isinstance(value, kinds):
            self.problems.append(f"{self._where(key)}: expected {_names(kinds)}, got {value!r}")
            return default
        return value

    def positive(self, key: str, kind: type, default: Any) -> Any:
        value = self.get(key, kind, default)
        if value is not None and value <= 0:
            self.problems.append(f"{self._where(key)}: must be greater than 0, got {value}")
            return default
        return value

    def choice(self, key: str, choices: tuple[str, ...], default: str) -> str:
        value = self.get(key, str, default)
        if value not in choices:
            self.problems.append(
                f"{self._where(key)}: expected one of {', '.join(choices)}, got {value!r}"
            )
            return default
        return str(value)

    def secret(self, key: str, *, required: bool = False) -> str | None:
        """A secret named by ``<key>_env`` (environment variable) or ``<key>_file``."""
        env_name = self.get(f"{key}_env", str)
        file_name = self.get(f"{key}_file", str)
        if key in self.data:
            raise ConfigError(
                f"{self._where(key)}: secrets are never written in the file; use {key}_env or {key}_file"
            )
        if env_name is not None:
            value = os.environ.get(env_name)
            if value is None:
                raise ConfigError(
                    f"{self._where(key + '_env')}: environment variable {env_name} is not set"
                )
            return value
        if file_name is not None:
            try:
                return Path(file_name).read_text().strip()
            except OSError as error:
                raise ConfigError(
                    f"{self._where(key + '_file')}: cannot read {file_name}: {error.strerror}"
                ) from error
        if required:
            raise ConfigError(f"{self._where(key + '_env')}: required ({key}_env or {key}_file)")
        return None

    def table(self, key: str) -> Section:
        self._seen.add(key)
        return Section(
            self.source,
            f"{self.path}.{key}" if self.path else key,
            self.data.get(key, {}),
            self.problems,
        )

    def tables(self, key: str) -> list[Section]:
        self._seen.add(key)
        items = self.data.get(key, [])
        if not isinstance(items, list):
            raise ConfigError(f"{self._where(key)}: expected an array of tables ([[{key}]])")
        name = f"{self.path}.{key}" if self.path else key
        return [
            Section(self.source, f"{name}[{i}]", item, self.problems)
            for i, item in enumerate(items)
        ]

    def done(self) -> None:
        for key in sorted(set(self.data) - self._seen):
            self.problems.append(f"{self._where(key)}: unknown key")


def _names(kinds: tuple[type, ...]) -> str:
    words = {
        str: "a string",
        int: "an integer",
        float: "a number",
        bool: "a boolean",
        list: "a list",
        dict: "a table",
    }
    return " or ".join(words.get(k, k.__name__) for k in kinds)
