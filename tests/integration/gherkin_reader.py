"""A small reader of the Gherkin CAMARA's test definitions use: Feature, Background, tagged
Scenario and Scenario Outline with Examples, steps Given/When/Then/And/But, # comments.

Our own rather than `gherkin-official`: the files use a tenth of the language (no doc
strings, data tables only under Examples, no Rules), and a reader of 80 lines keeps the
test extra free of another pinned dependency."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

KEYWORDS = ("Given ", "When ", "Then ", "And ", "But ")


@dataclass(frozen=True)
class Scenario:
    feature: str  # the Feature line, which names the API version
    tag: str  # the first tag without "@": CAMARA's scenario id
    name: str
    steps: tuple[str, ...]  # Background steps first, keyword dropped, outline values filled
    example: dict[str, str] = field(default_factory=dict)  # the Examples row, if any


def read_feature(path: Path) -> list[Scenario]:
    feature = ""
    background: list[str] = []
    scenarios: list[Scenario] = []
    current: list[str] | None = None
    tag, name, outline = "", "", False
    header: list[str] | None = None
    rows: list[dict[str, str]] = []

    def close() -> None:
        if current is None:
            return
        steps = (*background, *current)
        if not outline:
            scenarios.append(Scenario(feature, tag, name, steps))
        for row in rows:
            filled = tuple(re.sub(r"<(\w+)>", lambda m, v=row: v[m.group(1)], s) for s in steps)
            scenarios.append(Scenario(feature, tag, name, filled, row))

    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("Feature:"):
            feature = line.removeprefix("Feature:").strip()
        elif line.startswith("Background:"):
            current = None
        elif line.startswith("@"):
            close()
            current, header, rows = None, None, []
            tag = line.split()[0][1:]
        elif line.startswith(("Scenario Outline:", "Scenario:")):
            outline = line.startswith("Scenario Outline:")
            name = line.split(":", 1)[1].strip()
            current = []
        elif line.startswith("Examples:"):
            header = []
        elif line.startswith("|") and header is not None:
            cells = [c.strip() for c in line.strip("|").split("|")]
            if not header:
                header.extend(cells)
            else:
                rows.append(dict(zip(header, cells, strict=True)))
        elif line.startswith(KEYWORDS):
            step = line.split(" ", 1)[1].strip()
            (background if current is None else current).append(step)
        else:
            raise ValueError(f"{path.name}: line not understood: {raw!r}")
    close()
    return scenarios
