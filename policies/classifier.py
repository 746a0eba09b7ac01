"""The OTP classifier: is this message a one-time passcode, and where are its codes?

The rule, written down:
- A candidate code is 4 to 8 ASCII digits (Arabic-Indic, Persian, Devanagari and full-width
  digits are read as ASCII first), optionally split once as "123-456" or "123 456", or 6 to 8
  upper-case letters and digits with at least one of each, optionally behind a short
  prefix such as "G-". It stands alone: no letter or digit touches it, and it is not part of
  a decimal, a date or a time (no "." "," "/" ":" "-" followed or preceded by a digit).
- A candidate is excluded when it is an amount (a currency sign or code right before it,
  a code that starts with a letter only as a word of its own, or a currency word or "%"
  right after it); when it is a year, 1900 to 2099 right after a month name (a day number,
  "de" or "of" may stand between) or right before a year word ("年", "г.", "yılı"); or
  when a card, order, account, tracking, reference, promotion or phone word stands in the
  25 characters before it with neither OTP wording nor a number followed by a word between
  that word and the candidate (in "OTP for order 5531 is 772019" the order word names
  5531, not 772019; in "call 0800 123 4567" it names every group of the number).
- A message is an OTP when an OTP wording of any supported language (policies/wordings.toml)
  lies within 40 characters before or after a candidate that is not excluded.
- Every non-excluded candidate of an OTP message is a code span; all of them are redacted.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources

_PROXIMITY = 40
_CONTEXT_BEFORE = 25
_YEAR_BEFORE_WINDOW = 24

_DIGITS = str.maketrans(
    {
        **{chr(0x0660 + i): str(i) for i in range(10)},
        **{chr(0x06F0 + i): str(i) for i in range(10)},
        **{chr(0x0966 + i): str(i) for i in range(10)},
        **{chr(0xFF10 + i): str(i) for i in range(10)},
    }
)
_FOREIGN_DIGIT = re.compile("[\u0660-\u0669\u06f0-\u06f9\u0966-\u096f\uff10-\uff19]")
_NUMBER_THEN_WORD = re.compile(r"[0-9][\s\S]*[^\W\d_]")
# Every candidate starts with one character of [0-9A-Z] so that ``re`` can skip to the
# next such character in C; the edge checks look behind that first character.
_BODY = r"(?:[0-9]{3}[- ][0-9]{3}|[0-9]{4,8}|(?=[A-Z0-9]*[0-9])(?=[A-Z0-9]*[A-Z])[A-Z0-9]{6,8})"
_CANDIDATE = re.compile(
    r"[0-9A-Z]"
    r"(?=[0-9A-Z\-])"  # rejects "Your" and "PayBank" at their first letter
    r"(?<![0-9A-Za-z].)(?<![0-9][.,/:\-].)"  # nothing alphanumeric, no decimal or date before
    r"(?:"
    r"(?<=[A-Z])[A-Z]{0,2}-" + _BODY + "|"  # a prefix: "G-583920"
    r"(?<=[0-9])[0-9]{2}[- ][0-9]{3}|"
    r"(?<=[0-9])[0-9]{3,7}|"
    r"(?<=[0-9])(?=[A-Z0-9]{0,6}[A-Z])[A-Z0-9]{5,7}|"
    r"(?<=[A-Z])(?=[A-Z0-9]{0,6}[0-9])[A-Z0-9]{5,7}"
    r")"
    r"(?![0-9A-Za-z])(?![.,/:\-][0-9])"
)


@dataclass(frozen=True, slots=True)
class Classification:
    is_otp: bool
    code_spans: tuple[tuple[int, int], ...] = ()
    language: str | None = None


NOT_OTP = Classification(False)


_Trie = dict[str, "_Trie"]


def _trie_pattern(words: Iterable[str]) -> str:
    """One regex for many literal words, factored by common prefixes.

    A flat alternation makes ``re`` try every word at every position (7 µs for a short
    SMS with 120 wordings); the factored form tries one branch per character (2 µs).
    The optional tail is greedy, so the longest word at a position wins.
    """
    trie: _Trie = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def build(node: _Trie) -> str:
        branches = [re.escape(char) + build(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return build(trie)


class _Terms:
    """OTP wordings and context words found in a lower-cased text, in one scan or two.

    ``re`` tries every alternative of a branch in turn: one trie of all scripts costs each
    letter of an English text ~50 comparisons. Split in two by the words' first character,
    an ASCII text runs only the ASCII-initial trie, and the other trie stops only at the
    characters that start its words. Wordings and context words share the scan; the longest
    word at a position wins, so a context word inside a wording is the wording's.
    """

    def __init__(self, words: Iterable[str]) -> None:
        words = set(words)
        ascii_initial = {w for w in words if w[0].isascii()}
        self._ascii = re.compile(_trie_pattern(ascii_initial))
        self._other = re.compile(_trie_pattern(words - ascii_initial))

    def find(self, lowered: str) -> list[re.Match[str]]:
        found = list(self._ascii.finditer(lowered))
        if not lowered.isascii():
            found += self._other.finditer(lowered)
        return found


def _lower(word: str) -> str:
    return word.replace("\u0130", "i").lower()


def _load() -> tuple[
    _Terms,
    dict[str, str],
    tuple[str, ...],
    tuple[str, ...],
    re.Pattern[str],
    tuple[str, ...],
]:
    data = tomllib.loads(
        resources.files("policies").joinpath("wordings.toml").read_text(encoding="utf-8")
    )
    language_of: dict[str, str] = {}
    for language, words in data["otp"].items():
        for word in words:
            language_of.setdefault(_lower(word), language)
    exclude = data["exclude"]
    # Separators and day numbers between a month and its year, each step unambiguous so a
    # failing search cannot backtrack exponentially.
    between = r"(?:[\s,.]|(?<=\s)(?:de|del|of)(?=\s)|[0-9]{1,2}(?![0-9])(?:st|nd|rd|th|er)?)*"
    year_before = _trie_pattern({_lower(w) for w in exclude["year_before"]})
    return (
        _Terms(set(language_of) | {_lower(w) for w in exclude["context"]}),
        language_of,
        tuple(_lower(w) for w in exclude["currency_before"]),
        tuple(_lower(w) for w in exclude["currency_after"]),
        re.compile(f"(?<![^\\W\\d_])(?:{year_before}){between}\\Z"),
        tuple(_lower(w) for w in exclude["year_after"]),
    )


_TERMS, _LANGUAGE_OF, _CURRENCY_BEFORE, _CURRENCY_AFTER, _YEAR_BEFORE, _YEAR_AFTER = _load()


def _is_word_letter(char: str) -> bool:
    """Latin or Cyrillic: scripts that write words with spaces, unlike "1250元的"."""
    name = unicodedata.name(char, "")
    return name.startswith(("LATIN", "CYRILLIC"))


def _currency_before(tight: str) -> bool:
    """``tight`` (the text before a candidate) ends with a currency sign or code."""
    for word in _CURRENCY_BEFORE:
        # "try 500" is lira, "entry 500" is not.
        if tight.endswith(word) and not (
            word[0].isalpha() and tight[-len(word) - 1 : -len(word)].isalpha()
        ):
            return True
    return False


def _currency_word_ends(after: str) -> bool:
    """The currency word is a word of its own: "đ" is the dong, "để" is Vietnamese for "to"."""
    for word in _CURRENCY_AFTER:
        if after.startswith(word):
            following = after[len(word) : len(word) + 1]
            continues = following.isalpha() and _is_word_letter(following)
            if not (continues and word[-1:].isalpha()):
                return True
    return False


def _is_year(lowered: str, start: int, end: int) -> bool:
    """A 4-digit candidate from 1900 to 2099 written as part of a date."""
    if lowered[end : end + 6].lstrip().startswith(_YEAR_AFTER):
        return True
    return _YEAR_BEFORE.search(lowered, max(0, start - _YEAR_BEFORE_WINDOW), start) is not None


def _excluded(
    lowered: str,
    start: int,
    end: int,
    contexts: list[tuple[int, int]],
    wordings: list[tuple[int, int, str]],
) -> bool:
    tight = lowered[max(0, start - 12) : start].rstrip()
    if tight.endswith(_CURRENCY_BEFORE) and _currency_before(tight):
        return True
    after = lowered[end : end + 8].lstrip()
    if after.startswith(_CURRENCY_AFTER) and _currency_word_ends(after):
        return True
    if (
        end - start == 4
        and lowered[start : start + 2] in ("19", "20")
        and _is_year(lowered, start, end)
    ):
        return True
    # The context word nearest the candidate, within the window.
    context_end = -1
    for c_start, c_end in contexts:
        if c_start >= start - _CONTEXT_BEFORE and context_end < c_end <= start:
            context_end = c_end
    if context_end < 0:
        return False
    # "from your fund account, verification code 482913": OTP wording between the context
    # word and the candidate makes the candidate the wording's, not the account's; so does
    # a number and a word ("order 5531 is 772019"), but not the groups of one number
    # ("call 0800 123 4567").
    for _, w_end, _ in wordings:
        if context_end <= w_end <= start:
            return False
    return _NUMBER_THEN_WORD.search(lowered, context_end, start) is None


def classify(text: str, *, otp_only: bool = False) -> Classification:
    """Classify one decoded message; ``otp_only`` (a dedicated OTP bind) needs no wording."""
    if not text:
        return NOT_OTP
    if not text.isascii() and _FOREIGN_DIGIT.search(text):
        text = text.translate(_DIGITS)  # one character for one: spans stay valid
    candidates = [m.span() for m in _CANDIDATE.finditer(text)]
    if not candidates:
        return NOT_OTP
    lowered = text.lower()
    if len(lowered) != len(text):  # "İ" lowers to two characters
        lowered = _lower(text)
    wordings: list[tuple[int, int, str]] = []
    contexts: list[tuple[int, int]] = []
    for m in _TERMS.find(lowered):
        language = _LANGUAGE_OF.get(m.group())
        if language is None:
            contexts.append(m.span())
        else:
            wordings.append((m.start(), m.end(), language))
    if not wordings and not otp_only:
        return NOT_OTP
    spans = tuple(
        (start, end)
        for start, end in candidates
        if not _excluded(lowered, start, end, contexts, wordings)
    )
    if not spans:
        return NOT_OTP
    if otp_only:
        return Classification(True, spans, None)
    for start, end in spans:
        for w_start, w_end, language in wordings:
            if (w_end <= start + 1 and start - w_end <= _PROXIMITY) or (
                w_start >= end - 1 and w_start - end <= _PROXIMITY
            ):
                return Classification(True, spans, language)
    return NOT_OTP


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


def redact_codes(text: str) -> str:
    """The text with the codes of an OTP message masked (unchanged when it is not an OTP)."""
    result = classify(text)
    return redact(text, result.code_spans) if result.is_otp else text
