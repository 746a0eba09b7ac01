"""The detection corpus holds together: every record well formed, every source on one side."""

from __future__ import annotations

import re
from collections import Counter

from tests.corpus.corpus import LABELS, Record, groups_of, load, unassigned

RECORDS = load()
_LANGUAGE = re.compile(r"[a-z]{2,3}(?:-(?:Latn|Hant))?")
_SOURCE = re.compile(r"github\.com/[^/\s]+/[^/\s]+/\S+|https?://\S+|[a-z0-9.-]+\.[a-z]{2,}/\S*")


def test_the_corpus_is_large_enough_to_measure() -> None:
    labels = Counter(r.label for r in RECORDS)
    assert labels["otp"] >= 3000 and labels["not_otp"] >= 5000, labels


def _problems(record: Record) -> list[str]:
    problems = []
    if not record.text.strip():
        problems.append("empty text")
    if record.label not in LABELS:
        problems.append(f"label {record.label!r}")
    if not _LANGUAGE.fullmatch(record.language):
        problems.append(f"language {record.language!r}")
    if not _SOURCE.match(record.source):
        problems.append(f"source {record.source!r}")
    if record.label == "otp":
        if not record.codes:
            problems.append("an OTP without its codes")
        problems += [f"code {c!r} not in the text" for c in record.codes if c not in record.text]
    elif record.codes:
        problems.append("codes on a non-OTP")
    return problems


def test_every_record_is_well_formed() -> None:
    bad = {r.file: p for r in RECORDS if (p := _problems(r))}
    assert bad == {}


def test_every_source_group_is_on_exactly_one_side() -> None:
    assert not unassigned(RECORDS), "run python -m tests.corpus.assign_new"
    assert not groups_of("train") & groups_of("heldout")


def test_no_text_is_kept_twice_by_one_source() -> None:
    seen = Counter((r.group, r.text) for r in RECORDS)
    assert [key for key, n in seen.items() if n > 1] == []
