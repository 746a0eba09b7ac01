"""Candidate codes in a text, and the numbers that are firmly something else.

A candidate is 4 to 9 digits (any script's digits are read as ASCII first), split as
"123-456", "123 456", "4829-1302" or "12 34 56", wrapped in asterisks, behind a short prefix ("G-"); 4 to
10 upper-case letters and digits with at least one of each; or, right after a code word and
a colon or "is", any 4 to 10 letters and digits ("PIN: kXq7Zp"). It stands alone: no ASCII
letter or digit touches it, and it is not part of a decimal, a date, a time or a longer
grouped number. It is firmly excluded when it is an amount, a year of a written date, a
masked ending, a phone number or a number with its unit glued on.
"""

from __future__ import annotations

import re

from .lexicon import Match, str_lower
from .wordings import WORDINGS

_YEAR_BEFORE_WINDOW = 24  # characters before a year where its month may stand

_DIGIT_BASES = (
    0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6, 0x0C66, 0x0CE6,
    0x0D66, 0x0DE6, 0x0E50, 0x0ED0, 0x0F20, 0x1040, 0x17E0, 0x1810, 0xFF10,
)  # fmt: skip
# Spaces that are no ASCII space: a no-break space from an HTML template, a narrow or an
# ideographic one, a zero-width space around a code. One search finds them and the digits.
_ODD_SPACES = "\u00a0\u2000-\u200b\u202f\u205f\u3000"
_ODD_SPACE = re.compile(f"[{_ODD_SPACES}]")
_FOREIGN_DIGITS = re.compile(
    "[" + "".join(f"{chr(base)}-{chr(base + 9)}" for base in _DIGIT_BASES) + f"{_ODD_SPACES}]"
)
# Each script's digits by the code point of its zero.
_REPLACEMENTS = {base: tuple((chr(base + i), str(i)) for i in range(10)) for base in _DIGIT_BASES}
DIGIT = re.compile(r"[0-9]")


def ascii_digits(text: str) -> str:
    """``text`` with any script's digits as ASCII and odd spaces as " ", one character for
    one (spans stay valid).

    Each script's ten digits are replaced where one of them is found: ``str.translate`` looks
    up every character of a text in Python's mapping (14 µs for a 300-character Persian SMS),
    and a regex callback per run of digits cost 0.3 µs a run (a promotion has twenty)."""
    found = _FOREIGN_DIGITS.search(text)
    while found is not None:
        first = text[found.start()]
        if not first.isdigit():
            text = _ODD_SPACE.sub(" ", text)
        else:
            for digit, ascii in _REPLACEMENTS[ord(first) - int(first)]:
                text = text.replace(digit, ascii)
        # A run may mix scripts ("۱٢"): the next search starts where this one's did.
        found = _FOREIGN_DIGITS.search(text, found.start())
    return text


# Every candidate starts with one character of [0-9A-Z] so that ``re`` can skip to the
# next such character in C; the edge checks look behind that first character. With "\x00"
# (never a candidate: the look-behinds after it ask for a digit or a letter) the class has
# three ranges, which ``re`` compiles to a bitmap; two it tests one by one at each character
# (5.7 -> 4.9 µs in a 200-character text).
_CANDIDATE = re.compile(
    r"[0-9A-Z\x00]"
    r"(?<![0-9A-Za-z].)"  # nothing alphanumeric before
    # Every kind goes on with a digit, a capital or a dash: a capitalized word ("Dear") is let
    # go after one look, not after the branches' (2.9 -> 2.5 µs in 120+ characters).
    r"(?=[0-9A-Z\-])"
    r"(?<![0-9][.,/:\-].)"  # no decimal or date before
    r"(?:(?<=[0-9])(?:"  # after a digit
    r"[0-9]{2}[- ][0-9]{3}(?![- ][0-9])|"  # 123-456
    r"[0-9]{3}[- ][0-9]{4}(?![- ][0-9])|"  # 4829-1302
    r"[0-9] [0-9]{2} [0-9]{2}(?! [0-9])|"  # 12 34 56
    r"[0-9]{3,8}|"
    r"(?=[A-Z0-9]{0,8}[A-Z])[A-Z0-9]{3,9}"
    # After a letter, a dash or a digit within 9 letters, or no candidate: an upper-case
    # word ("WHOCALL") is let go after one look, not after each branch's.
    r")|(?<=[A-Z])(?=[A-Z]{0,8}+[-0-9])(?:"
    r"[A-Z]{0,3}-(?:[0-9]{3}[- ][0-9]{3}|[0-9]{4,9})|"  # a prefix: "G-583920"
    r"(?=[A-Z0-9]{0,8}[0-9])[A-Z0-9]{3,9}"
    r"))"
    r"(?![0-9A-Za-z])(?![./:\-][0-9])"
    # "1234,56" is a decimal, "482913,5分钟" a code before a clause.
    r"(?!,[0-9]{1,3}(?![0-9]*[\u3000-\u9fff]))"
)
# Marks that may wrap a code: quotes, brackets, bold asterisks, a number sign.
_OPENING = r"[\"'“‘«(\[*#]?"
CLOSING = r"[\"'”’»)\]*]?"
# A code right after a code word and a colon may take any case: "code: kXq7Zp".
# A few Han characters may come between ("密码已经重置为k7Rm2xQ9": the password was reset to).
_SLOT = re.compile(
    rf"\s*(?:[:：=]|[\u4e00-\u9fff]{{0,6}}?(?:为|為|是)|は)\s*{_OPENING}([A-Za-z0-9]{{4,10}})"
    r"(?![0-9A-Za-z])"
)
# After "is": upper-case letters ("code is KXQZ"), or letters of any case with a digit
# ("Your new password is Ab12cd").
_UPPER_OR_MIXED = r"[A-Z]{4,10}|(?=[A-Za-z0-9]*[0-9])(?=[A-Za-z0-9]*[a-z])[A-Za-z0-9]{4,10}"
_SLOT_BARE = re.compile(rf"\s+{_OPENING}({_UPPER_OR_MIXED})(?![0-9A-Za-z])")
# Digits glued to the next sentence by a template that forgot the space, right after a code
# word: "Your code is 482913Valid for 5 minutes". A unit glued on ("100USD") is no word.
# The copula as a branch or nothing, not an optional group: ``re`` compiles that to a repeat,
# which allocates its context at each match (390 -> 310 ns a code word).
_SLOT_GLUED = re.compile(
    r"(?:\s+(?:is|es|é|ist|est|là)(?![A-Za-z])|)(?:\s*[:：=]\s*|\s+)"
    r"([0-9]{4,8})(?=[A-Z][a-z]|[a-z]{3})"
)
# Lower-case letters and digits, at least one of each: "zm8478", "33vmn3p9".
_LOWER_MIXED = r"((?=[a-z0-9]*[a-z])(?=[a-z0-9]*[0-9])[a-z0-9]{5,10})(?![0-9A-Za-z])"
_SLOT_MIXED = re.compile(rf"\s+{_OPENING}{_LOWER_MIXED}")
_SLOT_MIXED_BARE = re.compile(rf"\s+{_LOWER_MIXED}")
# Words glued to a code by a hyphen that name it rather than prefix it ("OTP-482913").
_WORD_PREFIXES = frozenset({"otp", "pin", "tan", "kod", "code"})
# Where ``slot_spans`` could find a code that is no candidate: after a colon, a token of
# upper-case letters or of letters and digits (not "https" of a link); after a space or at
# the start, a word of upper-case letters or of letters and digits ("is Ab12cd", "OTP
# zm8478"); digits glued to a word. A text with none of these and no candidate is no OTP,
# and its words need no look. Like ``_CANDIDATE`` it starts with one character class (a
# colon, a space or a digit) so that ``re`` skips the letters between in C, and looks
# behind it for which; the start of the text is asked apart (``slot_possible``).
_SLOT_POSSIBLE = re.compile(
    r"[:：=为為是は\s0-9](?:"
    rf"(?<=[:：=为為是は])\s*{_OPENING}"
    r"(?:[A-Z]{4,10}|(?=[A-Za-z]*[0-9])(?=[0-9]*[A-Za-z])[A-Za-z0-9]{4,10})"
    r"(?![0-9A-Za-z])"
    rf"|(?<=\s){_OPENING}(?:{_UPPER_OR_MIXED})(?![0-9A-Za-z])"
    r"|(?<=[0-9])(?<![0-9].)[0-9]{3,7}(?:[A-Z][a-z]|[a-z]{3})"
    r")"
)
_SLOT_AT_START = re.compile(rf"{_OPENING}(?:{_UPPER_OR_MIXED})(?![0-9A-Za-z])")
# A code of letters and digits before the copula and the words that name it:
# "x7k2m9 is your PayBank code", "uk52q3s8 คือรหัสยืนยัน".
_SLOT_BEFORE = re.compile(
    r"(?<![0-9A-Za-z])((?=[A-Za-z0-9]*[0-9])(?=[A-Za-z0-9]*[a-z])[A-Za-z0-9]{5,10})"
    rf"{CLOSING}\s*"
    r"(?:(?:is|ist|es|est|è|é|là|adalah)(?![A-Za-z])|คือ|是|为|為|は|—|–)[^\n.!?。0-9]{0,30}\Z"
)
# A code of letters and digits has a digit next to a letter. ``_SLOT_BEFORE`` begins with a
# look-behind, so ``re`` tries it at each of the 45 characters before a code word (2 µs);
# this one begins with a digit, skipped to in C, and rules most windows out.
_DIGIT_BY_LETTER = re.compile(r"[0-9](?:(?<=[A-Za-z].)|[A-Za-z])")
_SLOT_AFTER_IS = re.compile(
    rf"\s+(?:is|es|é|ist|est|là)\s+{_OPENING}({_UPPER_OR_MIXED})(?![0-9A-Za-z])"
)
# The three looks right after a code word, in their order, as one regex: the first that
# matches wins, as with a call of each (glued digits, then after a colon, then after "is"),
# and its group (1, 2 or 3) is the code: one call where a code word had two or three.
_SLOT_GLUED_COLON_IS = re.compile(
    "|".join(f"(?:{slot.pattern})" for slot in (_SLOT_GLUED, _SLOT, _SLOT_AFTER_IS))
)
_MASKS = ("..", "…", "**", "xx", "XX", "*0", "*1", "*2", "*3", "*4", "*5", "*6", "*7", "*8", "*9")
_MASK_FIRSTS = frozenset(mask[0] for mask in _MASKS)
_URL = re.compile(
    r"(?:https?://|www\.)\S+|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}/\S*", re.IGNORECASE
)
# What every match of ``_URL`` holds, as a regex that begins with a class to skip to.
_URL_HINT = re.compile(r"[:.wW](?:(?<=:)//|(?<=[wW])(?i:ww)\.|(?<=\.)(?i:[a-z]{2,})/)")
# A link holds "/" or "www." and no space; only the run of non-spaces around each of those
# is searched, because ``_URL`` tried at every word of a long text costs tens of µs.
_LINK_MARK = re.compile(r"/|www\.")
_SPACE = re.compile(r"\s")
_NEXT_GROUP = re.compile(r"[ -][0-9]+(?![0-9A-Za-z])")
_MASKED = re.compile(r"[X*x•]{2,}[0-9]+")
_HASH = re.compile(r"(?:^|\s)((?=[A-Za-z0-9+/]*[A-Za-z])[A-Za-z0-9+/]{11})\s*$")
_NUMBER_WITH_UNIT = re.compile(r"[0-9]+([A-Z]{1,4})")
ORIGIN_BOUND = re.compile(r"@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\s+#([A-Za-z0-9]{4,10})\s*$")
_LATIN_OR_CYRILLIC = re.compile(r"[A-Za-z\u00c0-\u024f\u0370-\u03ff\u0400-\u04ff\u1e00-\u1eff]")


def _is_word_letter(char: str) -> bool:
    """Latin, Greek or Cyrillic: scripts that write words with spaces, unlike "1250元的"."""
    return _LATIN_OR_CYRILLIC.match(char) is not None


def _by_ends(words: tuple[str, ...], last: bool) -> dict[str, tuple[str, ...]]:
    """The words grouped by their last (else first) two characters, a one-character word
    alone; each group in the order of ``words``."""
    groups: dict[str, list[str]] = {}
    for word in words:
        groups.setdefault(word[-2:] if last else word[:2], []).append(word)
    return {ends: tuple(group) for ends, group in groups.items()}


def _with_sign(groups: dict[str, tuple[str, ...]], last: bool) -> dict[str, tuple[str, ...]]:
    """``groups`` (from ``_by_ends``), each two-character group led by the one-character
    word of its last (else first) character: one look-up finds both."""
    return {
        ends: groups.get(ends[-1] if last else ends[0], ()) + group if len(ends) == 2 else group
        for ends, group in groups.items()
    }


# A text that ends with one currency word is checked against the one or two that end like it
# (by two characters), not against every currency of every language: by the last character
# alone, "usd" shared its group with a dozen others, 0.5 µs a number. A text's two last
# characters are looked up, its last alone only where no word ends with those two: two
# look-ups and a tuple built of both cost 0.2 µs a number more.
_CURRENCY_BY_LAST = _with_sign(_by_ends(WORDINGS.currency_before, last=True), last=True)
_CURRENCY_BY_FIRST = _with_sign(_by_ends(WORDINGS.currency_after, last=False), last=False)


def _currency_before(tight: str) -> bool:
    """``tight`` (the text before a candidate, stripped) ends with a currency sign or code."""
    words = _CURRENCY_BY_LAST.get(tight[-2:])
    for word in _CURRENCY_BY_LAST.get(tight[-1], ()) if words is None else words:
        # "try 500" is lira, "entry 500" is not.
        if tight.endswith(word) and not (
            word[0].isalpha() and tight[-len(word) - 1 : -len(word)].isalpha()
        ):
            return True
    return False


def _currency_after(after: str) -> bool:
    """A currency or unit word of its own: "đ" is the dong, "để" is Vietnamese for "to"."""
    words = _CURRENCY_BY_FIRST.get(after[:2])
    for word in _CURRENCY_BY_FIRST.get(after[0], ()) if words is None else words:
        if after.startswith(word):
            following = after[len(word) : len(word) + 1]
            continues = following.isalpha() and _is_word_letter(following)
            if not (continues and word[-1:].isalpha() and _is_word_letter(word[-1])):
                return True
    return False


def _is_year(lowered: str, start: int, end: int) -> bool:
    """A 4-digit candidate from 1900 to 2099 written as part of a date."""
    if lowered[end : end + 6].lstrip().startswith(WORDINGS.year_after):
        return True
    return (
        WORDINGS.year_before.search(lowered, max(0, start - _YEAR_BEFORE_WINDOW), start) is not None
    )


def _sloppy_full_stop(text: str, end: int) -> bool:
    """Two full stops end a sentence in sloppy templates ("Your OTP is 123456.. Do not
    share", "OTP 639897..ห้าม"); a mask has three, or digits after them ("526418..1234")."""
    if not text.startswith("..", end):
        return False
    following = text[end + 2 : end + 3]
    return not following or (following not in ".…*xX•" and not following.isdigit())


def firmly_excluded(text: str, lowered: str, start: int, end: int) -> bool:
    """An amount, a year, a masked ending, part of a phone number or a grouped number."""
    # The characters around the number are taken once, and each regex is asked only where
    # the character it starts or ends with is there: three calls for every number of a bank
    # alert cost more than the rest of this check.
    following = text[end : end + 1]
    preceding = text[start - 1 : start] if start else ""
    if preceding == "*":
        if following != "*":
            return True  # "**1234" is masked; "**482913**" is wrapped, as a bold code
    elif (
        following in _MASK_FIRSTS
        and text.startswith(_MASKS, end)
        and not _sloppy_full_stop(text, end)
    ):
        return True  # "1234**", "1234…", "526418..."
    if text[start] in "X*x•" and _MASKED.fullmatch(text, start, end):
        return True
    if preceding in ".…" and text[max(0, start - 2) : start] in ("..", "…", " …"):
        return True  # "526418..1234", "…1234"
    if preceding == "+" or following == "/":
        return True  # a phone number, or a price per unit ("100000/lần")
    if (
        preceding in (" ", "-")
        and text[start - 2 : start - 1].isdigit()
        and text.find("-", start + 1, end - 1) < 0
    ):
        return True  # the last group of "0800 123 4567"
    if (
        following in (" ", "-")
        and "0" <= text[end + 1 : end + 2] <= "9"  # the regex only where a digit follows
        and text.find(" ", start, end) < 0
        and _NEXT_GROUP.match(text, end)
    ):
        return True  # the first group of a longer number
    if "A" <= text[end - 1] <= "Z":
        unit = _NUMBER_WITH_UNIT.fullmatch(text, start, end)
        if unit is not None and _currency_after(str_lower(unit.group(1))):
            return True  # "100USD", "365TL"
    tight = lowered[max(0, start - 12) : start].rstrip()
    if tight and _currency_before(tight):
        return True
    after = lowered[end : end + 12].lstrip()
    if after and _currency_after(after):
        return True
    return (
        end - start == 4
        and lowered[start : start + 2] in ("19", "20")
        and _is_year(lowered, start, end)
    )


def shape(body: str) -> str | None:
    # Most candidates are digits alone: nothing to count (0.66 -> 0.42 µs over a mix of shapes).
    if body.isdigit():
        return _DIGITS_SHAPES.get(len(body)) or (
            "shape_year" if len(body) == 4 and "1950" <= body <= "2049" else None
        )
    digits = sum(map(str.isdigit, body))
    prefix, dash, rest = body.partition("-")
    code = rest.replace(" ", "").replace("-", "")
    # "G-583920", "PRH-929890"; a longer prefix before fewer digits names a card or an ATM
    # ("MIR-4821", "ATM-1234").
    if dash and prefix.isalpha() and code.isdigit() and (len(prefix) <= 2 or len(code) >= 6):
        return "shape_prefixed"
    if any(map(str.isalpha, body[2:])) or (digits and not body[0].isdigit() and "-" not in body):
        return "shape_alphanumeric"
    if " " in body or "-" in body:
        return "shape_split"
    if digits == 6:
        return "shape_6_digits"
    if digits == 9:
        return "shape_9_digits"
    if len(body) == 4 and "1950" <= body <= "2049":
        return "shape_year"
    return None


_DIGITS_SHAPES = {6: "shape_6_digits", 9: "shape_9_digits"}


def slot_possible(text: str) -> bool:
    """``slot_spans`` could find a code in ``text`` that is no candidate."""
    return _SLOT_AT_START.match(text) is not None or _SLOT_POSSIBLE.search(text) is not None


def slot_spans(text: str, terms: list[Match], taken: set[int]) -> list[tuple[int, int]]:
    """Codes of any case right after a code word and a colon ("PIN: kXq7Zp")."""
    slots = []
    for begin, end, term in terms:
        if term.kind not in ("otp", "code"):
            continue
        window = max(0, begin - 45)
        before = None
        if _DIGIT_BY_LETTER.search(text, window, begin) is not None:
            before = _SLOT_BEFORE.search(text, window, begin)
        if before is not None and before.start(1) not in taken:
            slots.append(before.span(1))
            taken = taken | {before.start(1)}
        group = 1  # the code's group in ``m``
        m = _SLOT_GLUED_COLON_IS.match(text, end)
        if m is not None:
            group = m.lastindex or 1  # 1: glued digits, 2: after a colon, 3: after "is"
            if group == 1:  # "code is 482913Please do not share"
                if m.start(1) not in taken:
                    slots.append(m.span(1))
                continue
        if m is None and str_lower(text[end - 3 : end]) in (" is", " es", "ist", "est"):
            m = _SLOT_BARE.match(text, end)
        if m is None:
            # "รหัส OTP zm8478", "Parol 33vmn3p9"; after a bare code noun, not in brackets:
            # "dengan kode (ad25md47)" is a lottery's reference.
            slot = _SLOT_MIXED if term.kind == "otp" else _SLOT_MIXED_BARE
            m = slot.match(text, end)
        if m is None or m.start(group) in taken:
            continue
        token = m.group(group)
        if token.isdigit() or not (token.isupper() or any(c.isdigit() for c in token)):
            continue
        if token.isalpha() and str_lower(token) in WORDINGS.lexicon.terms:
            continue
        slots.append(m.span(group))
    return slots


def candidate_spans(text: str, lowered: str) -> list[tuple[int, int]]:
    """The candidates of ``text`` (ASCII digits) that are not firmly something else."""
    spans = []
    for m in _CANDIDATE.finditer(text):
        start, end = m.span()
        dash = text.find("-", start + 1, start + 5)
        if dash > 0 and lowered[start:dash] in _WORD_PREFIXES:
            start = dash + 1  # "OTP-482913": the word is evidence, the digits are the code
        if not firmly_excluded(text, lowered, start, end):
            spans.append((start, end))
    return spans


def split_links(
    text: str, lowered: str, spans: list[tuple[int, int]]
) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """(spans outside links, spans inside a link such as "wa.me/123456")."""
    if not spans or ("/" not in text and "www" not in lowered):
        return spans, []
    # A link holds no space and holds "/" or "www.": where no candidate's run of non-spaces
    # does, no run needs a search (a bank alert's "22/04/2022" and "Rs.500/-" cost 2 µs each).
    if not any(_in_marked_run(text, lowered, s, e) for s, e in spans):
        return spans, []
    links = _link_spans(text, lowered, spans)
    inside = [(s, e) for s, e in spans if any(a <= s and e <= b for a, b in links)]
    return [span for span in spans if span not in inside], inside


def _in_marked_run(text: str, lowered: str, start: int, end: int) -> bool:
    """The run of non-spaces around text[start:end] holds "/" or "www."."""
    after = _SPACE.search(text, end)
    last = len(text) if after is None else after.start()
    for mark in ("/", "www."):
        # The last mark before the run's end is in the run unless a space stands between it
        # and the candidate: one regex over that gap, not one back to the run's start over
        # the reversed text.
        at = lowered.rfind(mark, 0, last)
        if at >= start or (at >= 0 and _SPACE.search(text, at, start) is None):
            return True
    return False


def _link_spans(text: str, lowered: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """What ``_URL.finditer(text)`` finds around ``spans``, searched only in the runs that can
    hold a link and a candidate ("30/09" and "A/c" make runs without one)."""
    links: list[tuple[int, int]] = []
    done = 0  # the end of the last run searched: a space, or the end of the text
    for mark in _LINK_MARK.finditer(lowered):
        at = mark.start()
        if at < done:
            continue
        # After a space or a newline no link can have begun earlier.
        start = max(done, text.rfind(" ", 0, at) + 1, text.rfind("\n", 0, at) + 1)
        space = _SPACE.search(text, at)
        done = len(text) if space is None else space.start()
        # A link has "://", "www." or a dot, two letters and a slash ("wa.me/"): ``_URL``,
        # which begins with no character to skip to, is tried at each character of a run
        # that holds one (a Chinese text, one run, its "/" and a price's dot: 10 µs).
        if any(start <= s and e <= done for s, e in spans) and _URL_HINT.search(text, start, done):
            links += [m.span() for m in _URL.finditer(text, start, done)]
    return links


# A sender's tag some routes put before the text: "[PayBank] ", "【PayBank】", "PayBank: ".
_SENDER_TAG = re.compile(r"\s*(?:\[[^\]\n]{1,30}\]|【[^】\n]{1,30}】|[^\s:]{1,30}:)\s*")


def starts_with_retriever_prefix(lowered: str, prefixes: tuple[str, ...]) -> bool:
    """The SMS Retriever prefix ("<#>") starts the text, or follows a sender's tag there."""
    stripped = lowered.lstrip() if lowered[:1].isspace() else lowered  # no copy of the text
    if stripped.startswith(prefixes):
        return True
    if "#" not in stripped[:48]:
        return False
    tag = _SENDER_TAG.match(stripped)
    return tag is not None and stripped.startswith(prefixes, tag.end())


def ends_with_app_hash(text: str) -> bool:
    """The 11-character SMS Retriever app hash ends the text, after a space or alone."""
    stripped = text.strip()
    # The hash is the last 11 characters, after a space or alone: where the 12th from the
    # end is no space, the search (tried at each of the last 12, 1 µs) would find nothing.
    size = len(stripped)
    if size < 11 or (size > 11 and not stripped[-12].isspace()):
        return False
    # Only the last 12 characters can match: searching the whole text costs tens of µs.
    found = _HASH.search(stripped, max(0, size - 12))
    if found is None:
        return False
    # A hash is base64: a word ("weitergeben", "Application") is one only by a chance of
    # about 1 in 20,000.
    tail = found.group(1)[1:]
    return not (tail.isalpha() and (tail.islower() or tail.isupper()))
