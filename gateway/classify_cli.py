"""``otpgate classify``: the classifier's answer for each text of a file, one JSON line each.

Input: one text per line, or JSON Lines with a ``text`` field (other fields are ignored),
from a file or standard input. Output, in input order, one object per non-empty line:
``{"line", "is_otp", "score", "codes", "language", "reasons"}`` where ``codes`` are the
candidate code spans as ``[start, end)`` character offsets into the text. The text itself is
never printed. This output is a stable interface (see docs/detection.md).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO

from policies.classifier import DEFAULT_THRESHOLD, classify


def texts_of(lines: Iterable[str]) -> Iterator[tuple[int, str]]:
    """(line number, text) for every non-empty line; a JSON object's ``text`` when it has one."""
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip("\r\n")
        if not line.strip():
            continue
        if line.lstrip().startswith("{"):
            try:
                item = json.loads(line)
            except json.JSONDecodeError:
                item = None
            if isinstance(item, dict) and isinstance(item.get("text"), str):
                yield number, item["text"]
                continue
        yield number, line


def answer(number: int, text: str, threshold: float) -> dict[str, Any]:
    result = classify(text, threshold=threshold)
    return {
        "line": number,
        "is_otp": result.is_otp,
        "score": round(result.score, 3),
        "codes": [list(span) for span in result.code_spans],
        "language": result.language,
        "reasons": list(result.reasons),
    }


def run(source: str, threshold: float = DEFAULT_THRESHOLD, out: TextIO = sys.stdout) -> int:
    """Classify every text of ``source`` (a path, or "-" for standard input)."""
    if not 0 <= threshold <= 1:
        print(f"error: --threshold: expected 0 to 1, got {threshold}", file=sys.stderr)
        return 2
    try:
        stream = (
            sys.stdin if source == "-" else Path(source).open(encoding="utf-8", errors="replace")  # noqa: SIM115
        )
    except OSError as error:
        print(f"error: {source}: {error.strerror}", file=sys.stderr)
        return 2
    with stream:
        for number, text in texts_of(stream):
            print(json.dumps(answer(number, text, threshold), ensure_ascii=False), file=out)
    return 0
