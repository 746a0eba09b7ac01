"""Code nouns that end a compound word: the "code" of "wiederherstellungscode", the "kodu" of
"girişkodu" (a term marked "~" at its start in wordings.toml).

The lexicon's word look finds terms where words begin; these are found apart, by one regex
searched again from the character after each place it matches (``Lexicon`` asks for them in
its pass for the terms that begin with a sign). The whole compound is the code word, so the
span runs from where its word begins."""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def _letter(char: str) -> bool:
    return char.isalpha() or "\u0300" <= char <= "\u036f"


class CompoundEnds:
    __slots__ = ("texts",)

    def __init__(self, ends: Iterable[str]) -> None:
        self.texts = frozenset(ends)
        # A regex finds the longest end at a place ("kodunuz", not "kodu"): a shorter one
        # that begins it ends before a letter of the longer, inside its word.
        for text in self.texts:
            for other in self.texts:
                if other != text and other.startswith(text) and not _letter(other[len(text)]):
                    raise ValueError(f"compound end {text!r} may end a word inside {other!r}")

    def take(
        self,
        lowered: str,
        at: int,
        end: int,
        taken: Sequence[tuple[int, int, object]],
        out: list[tuple[int, int, str]],
    ) -> None:
        """Appends to ``out`` (word start, end, term) when the end ``lowered[at:end]`` ends a
        compound where no span of ``taken`` (terms found already) nor of ``out`` covers it;
        ends are given by place."""
        if (
            at > 0
            and _letter(lowered[at - 1])  # inside a word: a whole word had its look
            and (end == len(lowered) or not _letter(lowered[end]))
            and not any(s <= at < e for s, e, _ in taken)  # "bestätigungscode"
            and not any(s <= at < e for s, e, _ in out)
        ):
            word_start = at - 1
            while word_start and _letter(lowered[word_start - 1]):
                word_start -= 1
            out.append((word_start, end, lowered[at:end]))
