"""The classifier's words (policies/wordings.toml), found in a lower-cased text.

A term starting with a letter of a script that separates its words with spaces (Latin,
Greek, Cyrillic, Arabic, Hebrew, Devanagari, Bengali) is looked up word by word: one regex
(in C) yields the text's words, and each word is a dictionary look-up for the terms that
begin with it. A regex trie of every term would try the branches of each term's first letter
at every position of the text, 130 µs for a 275-character Persian SMS; the word index costs
a few µs. In a text of Latin, Greek and Cyrillic words only, a trie of those scripts' terms
tried only where a word starts is cheaper still: it finds the few words worth a look, and
most often the term itself (``_find_lgc_words``). Terms of scripts without spaces (Chinese,
Japanese, Korean with its attached particles, Thai) and terms that begin with a digit or a
sign ("2fa", "<#>", "% off") are tried at every character that starts one: a regex finds
those characters, a dictionary gives the terms that start with each.

Terms are whole words unless marked: "~" at the start lets a term end a word ("~code" finds
the "code" of "bestätigungscode"), "~" at the end lets it begin one ("verif~"). Arabic-
and Hebrew-script terms may follow a one-letter proclitic ("برمز", "והקוד") and end a word
anywhere (attached pronouns). Where two terms overlap, the leftmost wins, then the longest.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from operator import itemgetter

from .compounds import CompoundEnds
from .trie import trie_pattern

# A word: a run of Latin, Greek or Cyrillic letters, or a run of anything else but spaces,
# digits and punctuation (character classes, so the regex runs at C speed): "captcha"
# is a word of its own inside "あなたのcaptchaは"; Indic vowel signs and the Persian
# zero-width non-joiner stay inside their words.
_LGC = "a-z\u00c0-\u024f\u1e00-\u1eff\u0370-\u03ff\u0400-\u04ff"
_SPACE_OR_SIGN = (
    "\\s!-@\\[-`{-~\u00a0-\u00bf\u2000-\u200b\u200e-\u206f"
    "\u3000-\u303f\uff01-\uff20\uff3b-\uff40\uff5b-\uff65"
)
_LGC_LETTER = f"[{_LGC}\u0300-\u036f]"
# A character inside a word of the second kind (any script but Latin, Greek and Cyrillic).
_NOT_LGC_WORD = f"[^{_LGC}{_SPACE_OR_SIGN}]"
# The first character of either kind, then the rest of its kind (the Latin kind first where
# a combining accent is both): a regex that begins with a repeat, or with a choice of two,
# has no first character for ``re`` to skip to in C and is tried at every character (4.2 ->
# 3.6 µs for the words of a non-ASCII text over 100 characters).
_WORD = re.compile(f"[^{_SPACE_OR_SIGN}](?:(?<={_LGC_LETTER}){_LGC_LETTER}*|{_NOT_LGC_WORD}*)")
_SPACED = re.compile(
    "[a-z\u00c0-\u024f\u1e00-\u1eff\u0370-\u03ff\u0400-\u04ff\u0590-\u05ff\u0600-\u06ff"
    "\u0750-\u077f\u0900-\u097f\u0980-\u09ff]"
)
_LATIN_GREEK_CYRILLIC = re.compile("[a-z\u00c0-\u024f\u1e00-\u1eff\u0370-\u03ff\u0400-\u04ff]")
# One letter, then the rest: a regex that begins with a repeat has no first character for
# ``re`` to skip to in C, and is tried at each character of the text (a Persian text's Latin
# words: 2.1 -> 1.3 µs).
_LGC_WORD = re.compile(f"{_LGC_LETTER}{_LGC_LETTER}*")
_PROCLITIC_SCRIPT = re.compile("[\u0590-\u05ff\u0600-\u06ff\u0750-\u077f]")
_PROCLITIC_OR_ACCENT = re.compile("[\u0300-\u036f\u0590-\u05ff\u0600-\u06ff\u0750-\u077f]")
# A text with none of these has words of Latin, Greek and Cyrillic letters only that may hold
# a term (``_SPACED`` without those; combining accents would join words that ``_WORD`` cuts).
_NOT_LGC_SPACED = re.compile(
    "[\u0300-\u036f\u0590-\u05ff\u0600-\u06ff\u0750-\u077f\u0900-\u097f\u0980-\u09ff]"
)
_PROCLITICS = frozenset("وبلكفهמשכ")
# The scripts of ``_SPACED`` but Latin, Greek and Cyrillic: Arabic, and the rarer three
# together (one look for them in a Persian text, not one each).
_WORD_SCRIPTS = (
    re.compile("[\u0600-\u06ff\u0750-\u077f]"),
    re.compile("[\u0590-\u05ff\u0900-\u097f\u0980-\u09ff]"),
)


@dataclass(frozen=True, slots=True)
class Term:
    text: str
    kind: str
    language: str
    ends_word: bool  # may begin inside a word ("~code")
    starts_word: bool  # may end inside a word ("verif~")


Match = tuple[int, int, Term]


# str.lower called by name, not as a method: mypyc (2.4, on Python < 3.13) compiles
# ``s.lower()`` to a per-character mapping that misses the final sigma ("ΟΣ" gives "οσ", not
# "ος"), which changed answers of the compiled build (hatch_build.py) on upper-case Greek.
str_lower: Callable[[str], str] = str.lower


def lower(text: str) -> str:
    """Lower-cased with one character for one ("İ" alone would lower to two)."""
    return str_lower(text.replace("\u0130", "i"))


class Lexicon:
    def __init__(self, entries: Iterable[tuple[str, str, str]]) -> None:
        """``entries``: (raw term, kind, language); the first entry of a term names it."""
        self.terms: dict[str, Term] = {}
        ends: set[str] = set()  # marked "~" by any entry, whichever entry names the term
        for raw, kind, language in entries:
            text = lower(raw).strip("~")
            if raw.startswith("~") and text.strip():
                ends.add(text)
            if not text.strip() or text in self.terms:
                continue
            worded = _LATIN_GREEK_CYRILLIC.match(text) is not None
            self.terms[text] = Term(
                text,
                kind,
                language,
                ends_word=raw.startswith("~"),
                starts_word=not worded
                or raw.endswith("~")
                or _LATIN_GREEK_CYRILLIC.match(text[-1]) is None,
            )
        by_word: dict[str, list[Term]] = {}
        stems: dict[str, list[Term]] = {}
        unspaced: list[str] = []
        for term in self.terms.values():
            first = _WORD.match(term.text)
            if not _SPACED.match(term.text) or first is None:
                unspaced.append(term.text)
                continue
            if (
                _LATIN_GREEK_CYRILLIC.match(term.text)
                and term.starts_word
                and first.end() == len(term.text)
            ):
                stems.setdefault(term.text[:3], []).append(term)  # a one-word stem: "verif~"
            else:
                by_word.setdefault(first.group(), []).append(term)
        stem_texts = frozenset(t.text for terms in stems.values() for t in terms)
        for terms in (*by_word.values(), *stems.values()):
            terms.sort(key=lambda t: -len(t.text))
        self._by_word = by_word
        # The terms that begin with a word, longest first, as one alternation: ``re`` tries
        # them in C, where a loop of ``startswith`` over the 44 terms that begin with "code"
        # (and the dozen that begin with "your" or "no") cost about 1 µs a word.
        self._word_terms = {
            word: re.compile("|".join(re.escape(term.text) for term in terms))
            for word, terms in by_word.items()
            if len(terms) > 1
        }
        self._first_words = frozenset(by_word)
        self._stems = stems
        self._stem_keys = frozenset(stems)
        # The longest term word a word of those scripts begins with, found in C (a loop over
        # every cut of every word was most of the cost of a long Persian text).
        attached = [t for t in by_word if len(t) >= 2 and _PROCLITIC_SCRIPT.match(t)]
        self._attached = re.compile(trie_pattern(attached)) if attached else None
        # In a text of those scripts, the words that can hold a term are found in C: a word
        # (as ``_WORD`` cuts it) where a whole term begins, after a proclitic or not (a term's
        # first word alone let through every "در" and "به" that begins a longer term, each a
        # look in Python for nothing). Testing every word of a long Persian text in Python
        # cost 50-100 µs. One regex
        # per group of ``_WORD_SCRIPTS``, tried only in a text that has its letters: ``re``
        # tries a trie's first letters one by one, and a Persian word need not pass those of
        # Hebrew and Hindi.
        unworded = [t for t in by_word if not _LATIN_GREEK_CYRILLIC.match(t)]
        proclitics = "".join(sorted(_PROCLITICS))
        by_script = [(script, [t for t in unworded if script.match(t)]) for script in _WORD_SCRIPTS]
        if sum(len(words) for _, words in by_script) != len(unworded):
            raise ValueError("a term word of a script that _WORD_SCRIPTS lacks")
        # Each is searched in the text behind one space and begins with the character before
        # the word, which is no word character: a character class first lets ``re`` skip in
        # C to the next, where a look-behind first was tried at every character. A letter of
        # the script or a proclitic is asked for as one class before the trie's first letters
        # one by one: a digit or a space after a space or a sign fails at once (2 µs of a
        # 300-character Persian text).
        word_char = _NOT_LGC_WORD.removeprefix("[^")

        def _whole_terms(words: list[str]) -> str:
            return trie_pattern(term.text for word in words for term in by_word[word])

        self._attached_starts = [
            (
                script,
                script is not _WORD_SCRIPTS[0],  # Hebrew and the Indic scripts: rare
                # The whole word, as ``_WORD`` cuts it, where a term begins it.
                re.compile(
                    f"[{word_char}(?={script.pattern[:-1]}{proclitics}])"
                    f"(?=[{proclitics}]?(?:{_whole_terms(words)}))"
                    f"{_NOT_LGC_WORD}+"
                ),
            )
            for script, words in by_script
            if words
        ]
        # Signs and digits start few terms and appear everywhere; scripts without spaces have
        # no words to look up. Both are found by a trie regex (in C, the longest term at each
        # place). Two regexes, not one alternation: each alone lets ``re`` skip in C to its
        # first characters.
        # Every term a Latin, Greek or Cyrillic word begins, at the start of a word: where
        # none begins, no word needs a look (``_find_lgc_words``).
        # It begins with the character before the term, which must be no such letter, and is
        # searched in the text behind one space: a pattern that begins with a character class
        # lets ``re`` skip in C to where one is, where a look-behind first is tried at every
        # character (12 -> 8 µs for a 200-character English text).
        # A term that must end a word is not taken before an ASCII letter: a longer one that
        # does not end its word ("tel" in "telkom") costs no second look in Python, as the
        # longest term at a word did. Not before any letter of those scripts: that class,
        # compiled at each of 2,000 term ends, cost 400 ms at import; a term before a
        # non-ASCII letter ("code" + "é") still gets the second look.
        lgc = [t for t in self.terms.values() if t.text in stem_texts or _lgc_first(t)]
        not_lgc = "[^" + _LATIN_GREEK_CYRILLIC.pattern[1:]
        lgc_trie = trie_pattern(
            [t.text for t in lgc if t.starts_word],
            [t.text for t in lgc if not t.starts_word],
            "[a-z]",
        )
        # Every such term begins with one of those letters: asked first as one class, it lets
        # the trie go untried after each digit and punctuation of a bank alert, where its
        # first letters were tried one by one (11 -> 8 µs for a 200-character alert).
        self._lgc_terms = re.compile(f"{not_lgc}(?={_LATIN_GREEK_CYRILLIC.pattern})(?:{lgc_trie})")
        self._stem_texts = stem_texts
        # The terms whose last character may begin a match (in ``_find_lgc_words``): "no.".
        self._lgc_lead_ends = frozenset(
            t.text for t in lgc if _LATIN_GREEK_CYRILLIC.match(t.text[-1]) is None
        )
        signs = [t for t in unspaced if not t[0].isalpha()]
        letters = [t for t in unspaced if t[0].isalpha()]
        self._unspaced = re.compile(trie_pattern(letters)) if letters else None
        # Terms that may end a compound ("~code"). One that ends in another ("einmalkennwort",
        # "kennwort") is left to the shorter: a first letter less for ``re`` to stop at.
        ends_lgc = [
            text
            for text in sorted(ends)
            if _lgc_first(self.terms[text])
            and not any(text != other and text.endswith(other) for other in ends)
        ]
        self._compounds = CompoundEnds(ends_lgc)
        # Those ends (letters) and the terms that begin with a sign or a digit, in one trie:
        # one pass over the text for both, where a pass each cost 3.2 µs a text over 150
        # characters, the one 2.2 µs (a ``str.find`` pass per end had cost 2 µs more).
        self._ends_and_signs = re.compile(trie_pattern([*ends_lgc, *signs]))
        # A non-ASCII text is scanned once for the letters that need more than the Latin
        # trie (``_NOT_LGC_SPACED``'s, and the first letters of terms without spaces), and an
        # Arabic-script text once for those of the rarer scripts: where none is, neither the
        # search for each nor the trie of terms without spaces need a pass over the text
        # (1.5 µs each in 200 characters).
        firsts = "".join(sorted({re.escape(t[0]) for t in letters}))
        self._unspaced_or_spaced = re.compile(f"{_NOT_LGC_SPACED.pattern[:-1]}{firsts}]")
        rare = "".join(script.pattern[1:-1] for script in _WORD_SCRIPTS[1:])
        # In an Arabic-script text that search is the one for the Latin words, until the
        # first such letter (a match of one letter, without the group): a pass of its own
        # cost 1 µs of a 230-character Persian text.
        self._lgc_word_or_rare = re.compile(
            f"[{_LGC}\u0300-\u036f{rare}{firsts}](?:(?<={_LGC_LETTER})({_LGC_LETTER}*)|)"
        )
        # An ASCII text holds none of these terms: its look is skipped (1 µs for 200 characters).
        if any(t.isascii() for t in letters):
            raise ValueError("a term of a script without spaces that begins with ASCII")

    def find(self, lowered: str) -> list[Match]:
        """Every term in ``lowered`` (a text from ``lower``), in order of position."""
        found: list[Match] = []
        # None of those letters is ASCII: an ASCII text needs no search (1 µs in 200
        # characters). ``unspaced``: the text may hold a term without spaces.
        first = None if lowered.isascii() else self._unspaced_or_spaced.search(lowered)
        unspaced = first is not None
        if first is None or _NOT_LGC_SPACED.search(lowered, first.start()) is None:
            self._find_lgc_words(lowered, found)
        elif self._attached is not None and self._words_attached(lowered):
            attached, wanted, unspaced = self._attached_words(lowered)
            self._find_words(lowered, attached, wanted, self._stem_keys, found)
        else:
            # One pass; most words hold no term and cost two set look-ups.
            words = ((m.start(), m.group()) for m in _WORD.finditer(lowered))
            self._find_words(lowered, words, self._first_words, self._stem_keys, found)
        extra = self._find_ends_and_signs(lowered, found)
        # Scripts without spaces.
        if unspaced and self._unspaced is not None:
            terms = self.terms
            for m in self._unspaced.finditer(lowered):
                found.append((m.start(), m.end(), terms[m.group()]))
                extra = True
        if extra:
            found.sort(key=itemgetter(0))  # by start, stable as before; no Python call each
        return found

    def _find_ends_and_signs(self, lowered: str, found: list[Match]) -> bool:
        """Appends to ``found`` the code nouns that end a compound ("bestätigungscode"),
        then the terms that begin with a sign or a digit ("<#>", "2fa"); whether any.

        One regex finds both (their first characters differ), searched again from the
        character after each place: every end is asked about, and the signs are taken as
        ``finditer`` would, leftmost and none inside the last."""
        search = self._ends_and_signs.search
        compounds = self._compounds
        ends: list[tuple[int, int, str]] = []
        signs: list[Match] = []
        signs_end = 0
        m = search(lowered)
        while m is not None:
            at, end = m.span()
            text = m.group()
            if text in compounds.texts:
                compounds.take(lowered, at, end, found, ends)
            elif at >= signs_end:
                signs.append((at, end, self.terms[text]))
                signs_end = end
            m = search(lowered, at + 1)
        terms = self.terms
        found += [(start, end, terms[text]) for start, end, text in ends]
        found += signs
        return bool(ends or signs)

    @staticmethod
    def _words_attached(lowered: str) -> bool:
        """The words of ``lowered`` (a text with letters beyond the Latin trie's) are found
        as in an Arabic-script text, by a regex per script of the words where a term
        begins: where it has Arabic or Hebrew letters, and where it has no combining accent
        (the find of a Devanagari text over 120 characters 23 -> 18 µs, where each word was
        looked up in Python). An accent after a word of another script is a letter of that
        word for ``_WORD`` and begins the Latin word after it for ``_LGC_WORD``: such a
        text keeps the word-by-word look."""
        mark = _PROCLITIC_OR_ACCENT.search(lowered)
        return (
            mark is None
            or mark.group() >= "\u0590"  # Hebrew or Arabic
            or _PROCLITIC_SCRIPT.search(lowered, mark.end()) is not None
        )

    def _attached_words(self, lowered: str) -> tuple[list[tuple[int, str]], frozenset[str], bool]:
        """The words of a text in Arabic or Hebrew script worth a look, (start, word) in
        order, those to look up, and whether the text has a letter of Hebrew, the Indic
        scripts or a script without spaces (``rare``). The words: every Latin, Greek or
        Cyrillic word, and every other word where a term begins, after a one-letter
        proclitic ("وكود") or not; such terms may end inside a word ("رمزك")."""
        # Only the Latin words that begin a term or a stem: the others would cost a place in
        # the sort below and a look in ``_find_words`` for nothing.
        first_words, stems = self._first_words, self._stem_keys
        words = []
        rare = False
        for m in self._lgc_word_or_rare.finditer(lowered):
            if m.lastindex is None:  # such a letter: the rest is searched for Latin words
                rare = True
                words += [
                    (w.start(), word)
                    for w in _LGC_WORD.finditer(lowered, m.end())
                    if (word := w.group()) in first_words or word[:3] in stems
                ]
                break
            if (word := m.group()) in first_words or word[:3] in stems:
                words.append((m.start(), word))
        wanted = first_words.intersection([word for _, word in words])
        # Each match begins with the character before its word (see ``_attached_starts``).
        padded = " " + lowered
        by_script = [
            [(m.start(), m.group()[1:]) for m in pattern.finditer(padded)]
            for script, rare_script, pattern in self._attached_starts
            if (rare or not rare_script) and script.search(lowered) is not None
        ]
        attached = by_script[0] if len(by_script) == 1 else sorted(set().union(*by_script))
        if not attached:
            return words, wanted, rare
        words += attached
        words.sort()  # by start: a Latin word and another never begin at the same place
        return words, wanted.union([word for _, word in attached]), rare

    def _find_lgc_words(self, lowered: str, found: list[Match]) -> None:
        """What ``_find_words`` finds in a text whose words are all Latin, Greek or Cyrillic
        or hold no term, looking only at the words where a term begins: one regex (in C)
        finds them, where a look at every word cost 10-20 µs in a 300-character text.

        The longest term there not followed by an ASCII letter where it must end a word (the
        trie asks) is the one ``_find_words`` takes when it ends a word as it must, being a
        term of that word (a word that begins it); else that word gets the same look as
        there (a stem, a shorter term, or none)."""
        finditer = self._lgc_terms.finditer
        terms = self.terms
        stem_texts = self._stem_texts
        # A match begins with the character before its term (the space in front of the text
        # for a term that begins it): its start in ``padded`` is the term's in ``lowered``.
        padded = " " + lowered
        at = 0
        while at >= 0:
            # One iterator while each match is taken and ends with a letter, where no match
            # can begin: a search from the term's end for each of a text's five cost 0.7 µs
            # more. Else the search begins again where the look left off.
            resume = -1
            for m in finditer(padded, at):
                start, end = m.span()
                end -= 1  # the term's end in ``lowered``
                text = m[0][1:]
                term = terms[text]
                # The trie let no ASCII letter follow a term that must end its word: only a
                # non-ASCII one needs the regex (``_ends_right``; 5 a text, 0.3 µs each).
                if text not in stem_texts and (
                    term.starts_word
                    or lowered[end : end + 1].isascii()
                    or self._ends_right(lowered, start, term)
                ):
                    found.append((start, end, term))
                    if text in self._lgc_lead_ends:  # its last character may begin a match
                        resume = end
                        break
                    continue
                word = _LGC_WORD.match(lowered, start)  # never None: a letter starts each term
                if word is not None:
                    words = ((start, word.group()),)
                    self._find_words(lowered, words, self._first_words, self._stem_keys, found)
                resume = found[-1][1] if found and found[-1][0] == start else start + 1
                break
            at = resume

    def _find_words(
        self,
        lowered: str,
        words: Iterable[tuple[int, str]],
        wanted: frozenset[str],
        stems: frozenset[str],
        found: list[Match],
    ) -> None:
        """The terms that begin ``words`` ((start, word) in order), leftmost first."""
        covered = -1
        for start, word in words:
            if start + 1 < covered:
                continue  # inside the last term ("تخفیف" of "کد تخفیف"): no term of it is kept
            if word in wanted:
                match = self._at_word(lowered, start, word)
            elif word[:3] in stems:
                match = self._at_stem(start, word)
            else:
                continue
            if match is not None and match[0] >= covered:
                found.append(match)
                covered = match[1]

    def _at_stem(self, start: int, word: str) -> Match | None:
        for term in self._stems[word[:3]]:
            if word.startswith(term.text):
                return start, start + len(term.text), term
        return None

    def _at_word(self, lowered: str, start: int, word: str) -> Match | None:
        alternation = self._word_terms.get(word)
        found = None if alternation is None else alternation.match(lowered, start)
        if found is not None:
            term = self.terms[found.group()]
            if self._ends_right(lowered, start, term):
                return start, found.end(), term
        if alternation is None or found is not None:  # one term, or a shorter one may end right
            for term in self._by_word.get(word, ()):
                if lowered.startswith(term.text, start) and self._ends_right(lowered, start, term):
                    return start, start + len(term.text), term
        if word[0] >= "\u0590" and _PROCLITIC_SCRIPT.match(word):  # no regex for a Latin word
            # A term word itself was looked at above: only a term after its proclitic is left.
            cuts: tuple[tuple[int, str], ...] = ((0, word),) if word not in self._by_word else ()
            if word[0] in _PROCLITICS:
                cuts += ((1, word[1:]),)
            for at, rest in cuts:
                attached = self._prefix_term(lowered, start + at, rest)
                if attached is not None:
                    return start + at, start + at + len(attached.text), attached
        return None

    def _prefix_term(self, lowered: str, start: int, word: str) -> Term | None:
        """Arabic- and Hebrew-script terms may end inside a word: "رمزك" holds "رمز"; the
        longest term at ``start`` that begins with the term word ``word`` begins with."""
        first = self._attached.match(word) if self._attached is not None else None
        if first is None:
            return None
        alternation = self._word_terms.get(first.group())
        if alternation is not None:
            found = alternation.match(lowered, start)
            return None if found is None else self.terms[found.group()]
        for term in self._by_word[first.group()]:
            if lowered.startswith(term.text, start):
                return term
        return None

    @staticmethod
    def _ends_right(lowered: str, start: int, term: Term) -> bool:
        end = start + len(term.text)
        if term.starts_word or end >= len(lowered):
            return True
        return _LATIN_GREEK_CYRILLIC.match(lowered[end]) is None


def _lgc_first(term: Term) -> bool:
    return _LATIN_GREEK_CYRILLIC.match(term.text) is not None
