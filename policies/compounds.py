"""Code nouns that end a compound word: the "code" of "wiederherstellungscode", the "kodu" of
"girişkodu" (a term marked "~" at its start in wordings.toml).

The lexicon's word look finds terms where words begin; these are found apart, by one regex
asked only of a text that holds one of them at all. The whole compound is the code word, so
the span runs from where its word begins."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence


class CompoundEnds:
    __slots__ = ("_letter", "_pattern", "_texts")

    def __init__(self, ends: Iterable[str], letters: str, trie: str) -> None:
        """``ends``: the terms that may end a compound; ``letters``: a character class body of
        the letters that make words; ``trie``: the terms as one regex (``trie_pattern``)."""
        self._texts = tuple(ends)
        self._letter = re.compile(f"[{letters}]")
        self._pattern = (
            re.compile(f"(?:{trie})(?![{letters}\u0300-\u036f])") if self._texts else None
        )

    def find(
        self, lowered: str, taken: Sequence[tuple[int, int, object]]
    ) -> list[tuple[int, int, str]]:
        """(word start, end, term) of each term that ends a compound in ``lowered``, where no
        span of ``taken`` (terms found already) covers it."""
        pattern = self._pattern
        # Asked with ``in`` first (in C, half the cost of the search in a text without them).
        if pattern is None or not any(text in lowered for text in self._texts):
            return []
        letter = self._letter
        out = []
        for m in pattern.finditer(lowered):
            start = m.start()
            if not start or letter.match(lowered[start - 1]) is None:
                continue  # a whole word: the word look had its chance
            if any(s <= start < e for s, e, _ in taken):
                continue  # inside a term of its own ("bestätigungscode")
            word_start = start - 1
            while word_start and letter.match(lowered[word_start - 1]):
                word_start -= 1
            out.append((word_start, m.end(), m.group()))
        return out
