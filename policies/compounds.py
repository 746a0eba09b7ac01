"""Code nouns that end a compound word: the "code" of "wiederherstellungscode", the "kodu" of
"girişkodu" (a term marked "~" at its start in wordings.toml).

The lexicon's word look finds terms where words begin; these are found apart, by one regex
of them all, longest first, searched again from the character after each place one is
found: ``re`` skips in C to their first letters. A regex tried at every character cost
2.3 µs in a 264-character Persian text; a ``str.find`` pass per noun (five, each called
again after each place found) cost 4.3 µs a text over 150 characters, this regex 2.4 µs.
The whole compound is the code word, so the span runs from where its word begins."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence


def _letter(char: str) -> bool:
    return char.isalpha() or "\u0300" <= char <= "\u036f"


class CompoundEnds:
    __slots__ = ("_search",)

    def __init__(self, ends: Iterable[str]) -> None:
        # Longest first: where "kodunuz" ends a word, "kodu" does not. Only the longest
        # found at a place is asked about: a shorter one that begins it ends before a letter
        # of the longer, inside its word.
        texts = sorted(ends, key=len, reverse=True)
        for text in texts:
            for other in texts:
                if other != text and other.startswith(text) and not _letter(other[len(text)]):
                    raise ValueError(f"compound end {text!r} may end a word inside {other!r}")
        pattern = "|".join(re.escape(text) for text in texts)
        self._search = re.compile(pattern).search if texts else None

    def find(
        self, lowered: str, taken: Sequence[tuple[int, int, object]]
    ) -> list[tuple[int, int, str]]:
        """(word start, end, term) of each term that ends a compound in ``lowered``, where no
        span of ``taken`` (terms found already) covers it; by place."""
        out: list[tuple[int, int, str]] = []
        search = self._search
        if search is None:
            return out
        size = len(lowered)
        found = search(lowered, 1)
        while found is not None:
            at, end = found.span()
            if (
                _letter(lowered[at - 1])  # inside a word: a whole word had its look
                and (end == size or not _letter(lowered[end]))
                and not any(s <= at < e for s, e, _ in taken)  # "bestätigungscode"
                and not any(s <= at < e for s, e, _ in out)
            ):
                word_start = at - 1
                while word_start and _letter(lowered[word_start - 1]):
                    word_start -= 1
                out.append((word_start, end, found.group()))
            found = search(lowered, at + 1)
        return out
