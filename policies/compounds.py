"""Code nouns that end a compound word: the "code" of "wiederherstellungscode", the "kodu" of
"girişkodu" (a term marked "~" at its start in wordings.toml).

The lexicon's word look finds terms where words begin; these are found apart, each by
``str.find`` (a regex alternation of them was tried at every character: 2.3 µs in a
264-character Persian text, against a few tenths of a µs). The whole compound is the code
word, so the span runs from where its word begins."""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def _letter(char: str) -> bool:
    return char.isalpha() or "\u0300" <= char <= "\u036f"


class CompoundEnds:
    __slots__ = ("_texts",)

    def __init__(self, ends: Iterable[str]) -> None:
        # Longest first: where "kodunuz" ends a word, "kodu" does not.
        self._texts = tuple(sorted(ends, key=len, reverse=True))

    def find(
        self, lowered: str, taken: Sequence[tuple[int, int, object]]
    ) -> list[tuple[int, int, str]]:
        """(word start, end, term) of each term that ends a compound in ``lowered``, where no
        span of ``taken`` (terms found already) covers it."""
        out: list[tuple[int, int, str]] = []
        size = len(lowered)
        for text in self._texts:
            at = lowered.find(text, 1)
            while at > 0:
                end = at + len(text)
                if (
                    _letter(lowered[at - 1])  # inside a word: a whole word had its look
                    and (end == size or not _letter(lowered[end]))
                    and not any(s <= at < e for s, e, _ in taken)  # "bestätigungscode"
                    and not any(s <= at < e for s, e, _ in out)
                ):
                    word_start = at - 1
                    while word_start and _letter(lowered[word_start - 1]):
                        word_start -= 1
                    out.append((word_start, end, text))
                at = lowered.find(text, at + 1)
        return out
