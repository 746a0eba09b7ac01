"""The words of policies/wordings.toml, loaded once: the lexicon and the exclusion tables."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from typing import Any

from .lexicon import Lexicon, lower
from .trie import trie_pattern

# Where one term is listed under two kinds, the first kind here names it.
_KINDS = (("otp", "otp"), ("not_code", "not_code"), ("code", "code"), ("share", "share"),
          ("validity", "validity"), ("action", "purpose"), ("context", "context"),
          ("promo", "promo"))  # fmt: skip

_MAI_HAN_AKAT = "\u0e31"


@dataclass(frozen=True, slots=True)
class Wordings:
    lexicon: Lexicon
    retriever_prefixes: tuple[str, ...]
    currency_before: tuple[str, ...]  # shortest first
    currency_after: tuple[str, ...]
    year_before: re.Pattern[str]  # a month name (and a day) right before a year
    year_after: tuple[str, ...]


def _entries(data: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    for table, kind in _KINDS:
        for language, words in data[table].items():
            for word in words:
                yield word, kind, language
                if _MAI_HAN_AKAT in word:
                    # Thai SMS often arrive without this vowel mark ("รหสยืนยน" for
                    # "รหัสยืนยัน"), lost on the way through an encoding that lacks it.
                    yield word.replace(_MAI_HAN_AKAT, ""), kind, language
    for word in data["retriever"]["prefix"]:
        yield word, "retriever", ""


def load_wordings() -> Wordings:
    data = tomllib.loads(
        resources.files("policies").joinpath("wordings.toml").read_text(encoding="utf-8")
    )
    exclude = data["exclude"]
    # Separators and day numbers between a month and its year, each step unambiguous so a
    # failing search cannot backtrack exponentially.
    between = r"(?:[\s,.\-/]|(?<=\s)(?:de|del|of)(?=\s)|[0-9]{1,2}(?![0-9])(?:st|nd|rd|th|er)?)*"
    months = trie_pattern({lower(w) for w in exclude["year_before"]})
    return Wordings(
        lexicon=Lexicon(_entries(data)),
        retriever_prefixes=tuple(lower(w) for w in data["retriever"]["prefix"]),
        currency_before=tuple(
            sorted({lower(w).strip() for w in exclude["currency_before"]}, key=len)
        ),
        currency_after=tuple(
            sorted({lower(w).strip() for w in exclude["currency_after"]}, key=len)
        ),
        year_before=re.compile(f"(?<![^\\W\\d_])(?:{months}){between}\\Z"),
        year_after=tuple(lower(w) for w in exclude["year_after"]),
    )


WORDINGS = load_wordings()
