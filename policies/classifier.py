"""The OTP classifier: is this message a one-time passcode, and where are its codes?

The rule, in four steps (each in its own module; docs/detection.md has the whole table):
- Candidates (``candidates.py``): 4 to 9 digits, split, wrapped or prefixed; short
  upper-case alphanumerics; any-case codes right after a code word and a colon. Amounts,
  years of written dates, masked endings and phone numbers are firmly excluded first, so a
  text whose numbers are all of those costs no look for words.
- Words (``lexicon.py``, ``wordings.toml``): OTP wording, code nouns, purposes, "do not
  share", validity, promotions and the words that name a number as something else, in 24
  languages and their transliterations.
- Evidence (``evidence.py``): points per candidate for the evidence around it, with the
  reasons that gave them; a candidate a word names as something else is dropped.
- Here: the message's score is its best candidate's, mapped to 0..1 (0.5 at
  ``POINTS_AT_HALF`` points); it is an OTP from ``threshold`` (``DEFAULT_THRESHOLD``,
  chosen for recall) up, and every remaining candidate of an OTP is a code span to redact.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from dataclasses import dataclass

from .candidates import (
    ORIGIN_BOUND,
    ascii_digits,
    candidate_spans,
    firmly_excluded,
    slot_possible,
    slot_spans,
    split_links,
    starts_with_retriever_prefix,
)
from .evidence import POINTS_AT_HALF, SLOPE, MessageEvidence
from .lexicon import lower, str_lower
from .wordings import WORDINGS

DEFAULT_THRESHOLD = 0.5


@dataclass(frozen=True, slots=True)
class Classification:
    is_otp: bool
    code_spans: tuple[tuple[int, int], ...] = ()
    language: str | None = None
    score: float = 0.0
    reasons: tuple[str, ...] = ()


NOT_OTP = Classification(False)


def classify(
    text: str, *, otp_only: bool = False, threshold: float = DEFAULT_THRESHOLD
) -> Classification:
    """Classify one decoded message; ``otp_only`` (a dedicated OTP bind) needs no wording."""
    if not text:
        return NOT_OTP
    if "\t" in text:
        text = text.replace("\t", " ")
    if "  " in text:
        return _with_spaces_squeezed(text, otp_only, threshold)
    if not text.isascii():
        text = ascii_digits(text)
    lowered = str_lower(text)
    if len(lowered) != len(text):  # "İ" lowers to two characters
        lowered = lower(text)
    # Amounts, dates, phone numbers and masked endings go first: a text whose numbers are all
    # of those (most bank alerts and promotions) needs no look for words at all.
    kept = candidate_spans(text, lowered)
    if not kept and not slot_possible(text):
        return NOT_OTP
    terms = WORDINGS.lexicon.find(lowered)
    if not terms and not otp_only:
        # Without a word of evidence only the structural shapes can make an OTP.
        stripped = text.strip()
        structural = starts_with_retriever_prefix(
            lowered, WORDINGS.retriever_prefixes
        ) or ORIGIN_BOUND.search(stripped)
        short = kept and len(stripped) - (kept[0][1] - kept[0][0]) <= 30
        if not (structural or short):
            return NOT_OTP
    kept += [
        (s, e)
        for s, e in slot_spans(text, terms, {start for start, _ in kept})
        if not firmly_excluded(text, lowered, s, e)
    ]
    kept, in_urls = split_links(text, lowered, kept)
    if not kept:
        return NOT_OTP
    if otp_only:
        return Classification(True, tuple(sorted(kept)), None, 1.0, ("otp_only_bind",))
    evidence = MessageEvidence(text, lowered, terms, kept)
    best_points = -math.inf
    best_reasons: tuple[str, ...] = ()
    best_language: str | None = None
    spans = []
    for start, end in kept:
        points, reasons, language, excluded = evidence.points(start, end)
        if excluded:
            continue
        spans.append((start, end))
        if points > best_points:
            best_points, best_reasons, best_language = points, reasons, language
    if not spans:
        return NOT_OTP
    score = 1.0 / (1.0 + math.exp(-SLOPE * (best_points - POINTS_AT_HALF)))
    if score < threshold:
        return Classification(False, (), best_language, score, best_reasons)
    # A copy of the code inside a link ("wa.me/123456") is redacted with it.
    return Classification(True, tuple(sorted(spans + in_urls)), best_language, score, best_reasons)


# A run of spaces reads as one: the words are looked up with one space between them
# ("Your  verification  code", a template's empty brand in "Your  code is 4821").
_SPACE_RUN = re.compile(r"  +")


def _with_spaces_squeezed(text: str, otp_only: bool, threshold: float) -> Classification:
    """``classify`` of the text with each run of spaces as one, its spans in ``text``."""
    # (the first squeezed index after a run, the characters removed up to there)
    shifts: list[tuple[int, int]] = []
    removed = 0
    for run in _SPACE_RUN.finditer(text):
        removed += run.end() - run.start() - 1
        shifts.append((run.end() - removed, removed))
    result = classify(_SPACE_RUN.sub(" ", text), otp_only=otp_only, threshold=threshold)
    if not result.code_spans:
        return result

    def original(at: int) -> int:
        i = bisect_right(shifts, (at, math.inf))
        return at + (shifts[i - 1][1] if i else 0)

    spans = tuple((original(s), original(e - 1) + 1) for s, e in result.code_spans)
    return Classification(result.is_otp, spans, result.language, result.score, result.reasons)


def redact(
    text: str, spans: tuple[tuple[int, int], ...] | list[tuple[int, int]], mask: str = "[CODE]"
) -> str:
    """The text with every span replaced by ``mask``."""
    if not spans:
        return text
    out, last = [], 0
    for start, end in sorted(spans):
        out.append(text[last:start])
        out.append(mask)
        last = end
    out.append(text[last:])
    return "".join(out)
