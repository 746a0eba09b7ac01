"""The evidence around a candidate code, weighed: points and the reasons behind them.

Every remaining candidate gets points for the evidence around it (``WEIGHTS``): OTP wording
or a code word near it or elsewhere, what the code is for, "do not share", a validity
period, the Android SMS Retriever shape (``<#>`` prefix, an 11-character app hash at the
end), a brand and a code with little else or a code alone on its line, its place right
after a code word, and its shape; promotions and other named codes count against it. A
candidate that a word before it names as something else (order, card, promo code, call) is
no code at all, unless OTP wording owns it through "is" or a colon in the same sentence. The
origin-bound form ("@example.com #123456") names its code outright.
"""

from __future__ import annotations

import re

from .candidates import (
    CLOSING,
    DIGIT,
    ORIGIN_BOUND,
    ends_with_app_hash,
    shape,
    starts_with_retriever_prefix,
)
from .lexicon import Match
from .wordings import WORDINGS

POINTS_AT_HALF = 2.5  # the points at which the score is 0.5
SLOPE = 1.5

_NEAR = 40  # characters between OTP wording and a code that still make a pair
_CODE_NEAR = 20
_NOT_CODE_BEFORE = 30
_CONTEXT_BEFORE = 12
_CONTEXT_AFTER = 12
# "Enter 4821 in the app to verify": a purpose word this close after the code is its purpose.
_PURPOSE_AFTER = 25
_VALIDITY_AFTER = 30
_EXPIRES_AFTER = 12
# A duration, as languages that put it before the validity word write it.
_DURATION = re.compile(
    r"[0-9]+\s*(?:min(?:ute[ns]?|uti|utos|\.)?|mins|dakika|dk|stunden|saat|sek\w*|s\b|h\b)"
)
# A promotion's words before a code, or this close after it, make it a promotion's code;
# farther after it they are an advertisement the sender appended to an OTP ("Telegram code
# 65847. Download our new app and enjoy exclusive offers").
_PROMOTION_NEAR = 40
# How far "is"/":" reaches back to the wording it completes: an Indian bank's "OTP for
# transaction of USD 12.50 at NETFLIX.COM on card no. ending 5678 is 482913" spans 91.
_OWNING_SPAN = 120

# Points per piece of evidence; the reasons name the ones that counted.
WEIGHTS = {
    "otp_wording_near": 3.0,
    "otp_wording": 1.5,
    "code_word_near": 2.5,
    "code_word_close": 1.5,
    "code_word": 0.5,
    "purpose_near": 1.5,
    "do_not_share": 1.5,
    "validity": 1.0,
    "validity_near": 1.0,
    "sms_retriever": 3.0,
    "origin_bound": 4.0,
    "brand_and_code": 2.0,
    "after_code_word": 1.0,
    "alone_on_line": 0.5,
    "shape_6_digits": 0.5,
    "shape_split": 0.5,
    "shape_prefixed": 1.0,
    "shape_9_digits": -0.5,
    "shape_year": -0.5,
    "shape_alphanumeric": -0.5,
    "purpose_right_before": 0.5,
    "purpose_right_after": 0.5,
    "promotion_shaped": -1.0,
    "promotion": -1.5,
    "promotion_far": -0.5,
    "other_code_named": -1.0,
    "many_numbers": -1.0,
    "untied": -1.5,
}
# Evidence about the candidate itself: its place next to wording, its shape, its purpose. A
# number with none of it is no code, however much the message speaks of codes ("Bank X will
# never ask for your PIN, OTP or CVV … To block promotions send REG to 3627").
_TIED = frozenset(
    {
        "otp_wording_near",
        "code_word_near",
        "code_word_close",
        "purpose_near",
        "after_code_word",
        "validity_near",
        "brand_and_code",
        "alone_on_line",
        "sms_retriever",
        "shape_6_digits",
        "shape_split",
        "shape_prefixed",
    }
)


class MessageEvidence:
    """What the message says once, and the points it gives each candidate."""

    __slots__ = (
        "candidates",
        "far_promotion_reasons",
        "first_promotion",
        "lowered",
        "message_reasons",
        "naming",
        "naming_before",
        "not_code_starts",
        "origin_bound",
        "sms_ends",
        "terms",
        "text",
        "unnaming",
        "validity_starts",
    )

    def __init__(
        self,
        text: str,
        lowered: str,
        terms: list[Match],
        candidates: list[tuple[int, int]],
    ) -> None:
        self.text = text
        self.lowered = lowered
        self.terms = terms  # in order of position, as ``Lexicon.find`` gives them
        # The few terms each check below asks about, found once in one pass: a long
        # promotion's words looked at again for each of its numbers cost more than its points.
        self.unnaming: list[Match] = []
        self.not_code_starts: list[int] = []
        # Words that name a number otherwise, by end, with how far before a number they
        # reach; validity by start: only the few near a candidate count, where a loop over
        # every word of a long bank alert for each of its numbers cost 1-2 µs a number.
        self.naming_before: list[tuple[int, int, int]] = []
        self.sms_ends: list[int] = []
        self.validity_starts: list[int] = []
        self.first_promotion = -1  # where the first promotion word starts
        # OTP wording and code words, each with the last end of any term up to it: the look
        # back from a candidate stops at the first term that ends after it.
        self.naming: list[tuple[int, int, str, int]] = []
        kinds = set()
        last_end = naming_end = -1
        for found in self.terms:
            t_start, t_end, term = found
            kind = term.kind
            kinds.add(kind)
            if t_end > last_end:
                last_end = t_end
            if kind in _UNNAMING:
                self.unnaming.append(found)
                if kind in _NAMING:
                    self.naming.append((t_start, t_end, kind, last_end))
                    naming_end = t_end
            elif kind == "context":
                # "Twój kod SMS to 210978": the SMS is how the code came, not what it is.
                if term.text != "sms" or t_start - naming_end > 1:
                    shortest = _PHONE_DIGITS if term.text in _PHONE_WORDS else 0
                    self.naming_before.append((t_end, _CONTEXT_BEFORE, shortest))
                    if term.text == "sms":
                        self.sms_ends.append(t_end)
            elif kind == "not_code":
                self.naming_before.append((t_end, _NOT_CODE_BEFORE, 0))
                self.not_code_starts.append(t_start)
            elif kind == "validity":
                self.validity_starts.append(t_start)
            elif kind == "promo" and self.first_promotion < 0:
                self.first_promotion = t_start
        self.candidates = candidates
        reasons: list[str] = []
        if "share" in kinds:
            reasons.append("do_not_share")
        if "validity" in kinds:
            reasons.append("validity")
        if starts_with_retriever_prefix(lowered, WORDINGS.retriever_prefixes) or ends_with_app_hash(
            text
        ):
            reasons.append("sms_retriever")
        if "promo" in kinds:
            reasons.append("promotion")
        if "not_code" in kinds:
            reasons.append("other_code_named")
        if len(candidates) > 3:
            reasons.append("many_numbers")
        self.message_reasons = tuple(reasons)
        self.far_promotion_reasons = (
            tuple("promotion_far" if reason == "promotion" else reason for reason in reasons)
            if self.first_promotion >= 0
            else self.message_reasons
        )
        # "@example.com #123456": an "@" first, which most texts lack (a pass over them saved).
        origin = ORIGIN_BOUND.search(text.rstrip()) if "@" in text else None
        self.origin_bound = -1 if origin is None else origin.start(1)

    def points(self, start: int, end: int) -> tuple[float, tuple[str, ...], str | None, bool]:
        """(points, reasons, language, excluded) for the candidate text[start:end]."""
        if start == self.origin_bound:
            return 4.0 + POINTS_AT_HALF, ("origin_bound",), None, False
        language: str | None = None
        best_rank = 9
        near_otp = near_code = close_code = far_otp = far_code = near_purpose = False
        purpose_right_before = purpose_right_after = after_word = validity_near = False
        names_before = self._names_before(start, end)
        for t_start, t_end, term in self.unnaming:
            kind = term.kind
            if t_end <= start:
                gap = start - t_end
                if kind == "purpose":
                    purpose_right_before = purpose_right_before or gap <= 6
                elif gap <= 9:
                    after_word = after_word or _right_after(self.lowered, t_end, start)
            elif t_start >= end:
                gap = t_start - end
                if kind == "purpose" and gap <= _PURPOSE_AFTER:
                    purpose_right_after = True
            else:
                continue  # the term is inside the candidate ("TAN" in "TAN1234")
            if kind == "otp":
                near_otp, far_otp = near_otp or gap <= _NEAR, far_otp or gap > _NEAR
            elif kind == "code":
                near_code = near_code or gap <= _CODE_NEAR
                close_code = close_code or _CODE_NEAR < gap <= _NEAR
                far_code = far_code or gap > _NEAR
            else:
                near_purpose = near_purpose or gap <= _NEAR
            rank = _RANK[kind]
            if rank < best_rank:
                best_rank, language = rank, term.language
        for t_start in self.validity_starts:
            # "482913 is valid for 10 minutes": the code is what expires.
            if end <= t_start <= end + _VALIDITY_AFTER and not validity_near:
                # No other number between, but a duration before the word may stand there:
                # "899094: für 10 Minuten gültig", "5 dakika geçerlidir".
                between = self.lowered[end:t_start]
                validity_near = DIGIT.search(between) is None or (
                    DIGIT.search(_DURATION.sub("", between)) is None
                )
        owner = (
            self._owning_wording(start)
            if names_before >= 0 or not (near_otp or near_code) or self.first_promotion >= 0
            else None
        )
        if owner is not None:  # "the code to disable your authenticator is: 98446"
            near_otp = near_otp or owner == "otp"
            near_code = near_code or owner == "code"
        reasons: list[str] = []
        if near_otp:
            reasons.append("otp_wording_near")
        elif far_otp:
            reasons.append("otp_wording")
        if near_code:
            reasons.append("code_word_near")
        elif close_code:
            reasons.append("code_word_close")
        elif far_code and not near_otp:
            reasons.append("code_word")
        if near_purpose:
            reasons.append("purpose_near")
            if purpose_right_before:
                reasons.append("purpose_right_before")
            if purpose_right_after:
                reasons.append("purpose_right_after")
        # OTP wording that names this code through "is" or a colon outweighs a promotion's
        # words: "OTP (One Time Password) for Discount Bazar by Jazz App is 3729". Without a
        # promotion the two tuples are one.
        if owner == "otp" or self.first_promotion > end + _PROMOTION_NEAR:
            reasons += self.far_promotion_reasons
        else:
            reasons += self.message_reasons
        if validity_near and "promotion" not in self.message_reasons:
            reasons.append("validity_near")  # a promotion's code expires too
        if after_word:
            reasons.append("after_code_word")
        if len(self.candidates) == 1 and self._little_else(start, end):
            reasons.append("brand_and_code")
        elif self._alone_on_line(start, end):
            reasons.append("alone_on_line")
        shaped = shape(self.text[start:end])
        if shaped is not None:
            reasons.append(shaped)
            if shaped == "shape_alphanumeric" and "promotion" in self.message_reasons:
                reasons.append("promotion_shaped")  # SAVE20, EAT99
        if owner is None and not self._owned_after(end):
            # A word that names the number as something else: not a code at all.
            # "Ihr Grünes Netz SMS ist 961640 und ist gültig für 15 Minuten": a number that
            # expires, said right after it, is the SMS's code, not a short code to text.
            named = names_before >= 0 and not (
                names_before in self.sms_ends and self._expires_right_after(end)
            )
            if named and self._named_before(names_before, start):
                return 0.0, ("context_before",), language, True
            if not (after_word or near_otp or near_code) and self._context_after(end):
                return 0.0, ("context_after",), language, True
        if _TIED.isdisjoint(reasons):
            reasons.append("untied")
        points = sum(map(WEIGHTS.__getitem__, reasons))
        return points, tuple(reasons), language, False

    def _names_before(self, start: int, end: int) -> int:
        """The end of the nearest word before ``start`` that names the number at
        ``start:end`` as something else (an order, a card) within its reach, or -1."""
        names_before = -1
        for t_end, reach, shortest in self.naming_before:
            if (
                t_end <= start
                and start - t_end <= reach
                and t_end > names_before
                and end - start >= shortest
            ):
                names_before = t_end
        return names_before

    def _owning_wording(self, start: int) -> str | None:
        """The kind of the OTP wording or code word a "… is: 98446" names, in its sentence."""
        if not self.naming or self.naming[0][3] > start:
            return None  # no wording before the candidate: no need to ask for "is"
        if _COPULA_BEFORE.search(self.lowered, max(0, start - 12), start) is None:
            return None
        owner = None
        for _, t_end, kind, last_end in self.naming:
            if last_end > start:
                break
            if (
                start - t_end <= _OWNING_SPAN
                and _SENTENCE_END.search(self.text, t_end, start) is None
            ):
                owner = kind if owner != "otp" else owner
        return owner

    def _owned_after(self, end: int) -> bool:
        """ "6720 is your one-time code": OTP wording right after the code names it."""
        if not self.naming or self.naming[-1][0] < end:
            return False  # no wording after the candidate
        copula = _COPULA_AFTER.match(self.lowered, end)
        if copula is None:
            return False
        after = copula.end()
        return any(after <= t_start <= after + 30 for t_start, _, _, _ in self.naming)

    def _named_before(self, named_end: int, start: int) -> bool:
        """A word before the candidate names it, with no OTP wording, purpose or other number
        between: in "OTP for order 5531 is 772019" the order word names 5531, not 772019; in
        "Dear customer, use 482913 to log in" the customer is not what 482913 is."""
        for t_start, t_end, term in self.unnaming:
            if named_end <= t_start and t_end <= start and term.text not in _WEAK_PURPOSES:
                return False
        return DIGIT.search(self.lowered, named_end, start) is None

    def _context_after(self, end: int) -> bool:
        """A code noun that names something else right after it: "4567 is your order number"."""
        for t_start in self.not_code_starts:
            if end <= t_start <= end + _CONTEXT_AFTER:
                gap = self.lowered[end:t_start]
                if not gap.strip(" .,:;-–()[]") or gap.strip() in _IS:
                    return True
        return False

    def _expires_right_after(self, end: int) -> bool:
        """A validity word in the clause right after the code: "482913 and is valid"."""
        return any(end <= t_start <= end + _EXPIRES_AFTER for t_start in self.validity_starts)

    def _alone_on_line(self, start: int, end: int) -> bool:
        """The candidate is its line: "46143020\nValid 5 minutes"."""
        text = self.text
        return (start == 0 or text[start - 1] == "\n") and text[end : end + 1] in ("\n", "")

    def _little_else(self, start: int, end: int) -> bool:
        """A brand and a code with little else: "Uber 1234", "[Brand] 582013"."""
        rest = (self.text[:start] + self.text[end:]).strip()
        return len(rest) <= 30 and not any(c.isdigit() for c in rest)


def _right_after(lowered: str, word_end: int, start: int) -> bool:
    """Only a colon, a dash or a copula between a code word and the code: "code: 4821",
    "code is 4821", "código es 4821"."""
    return _RIGHT_AFTER.fullmatch(lowered, word_end, start) is not None


_RANK = {"otp": 0, "code": 1, "purpose": 2}
_UNNAMING = frozenset(_RANK)
_NAMING = frozenset({"otp", "code"})
# Purposes too vague to say the number is not what the word before names: "the account
# number for your 48291376".
_WEAK_PURPOSES = frozenset({"for your", "is your"})
# Words that name a phone number name no number shorter than one: "verifying mobile number
# (897582)" is the code that verifies it.
_PHONE_WORDS = frozenset({"mobile", "phone", "mobile number", "phone number", "mobile no"})
_PHONE_DIGITS = 7
_COPULA_BEFORE = re.compile(
    r"(?:(?<![^\W\d_])(?:is|es|é|e|est|ist|je|la|là|adalah|on|er|jest|are|lautet|lauten)|[:=：为是為]|será|คือ)\s*[#*\"'“‘«(\[]{0,2}\Z"
)
_COPULA_AFTER = re.compile(
    rf"{CLOSING}\s*(?:(?:is|as|est|es|ist|là|la|adalah|é|e|er|jest|это|—|-|–)(?![^\W\d_])|คือ|是|为|為|は|:)\s*"
)
# A full stop ends a sentence before a capital or a digit ("руб. картой" goes on), but not
# after an abbreviation that bank alerts put before an amount, a number or a date ("Rs. 5000",
# "Card No. XX1234", "A/c no. 12", the Polish "z dn. 01.12.2026").
_ABBREVIATIONS = (
    *("rs", "no", "nr", "mr", "mrs", "ms", "dr", "ltd", "acct", "ref", "txn", "approx", "tel"),
    *("dn", "godz", "tys", "ul", "sr", "sra", "núm", "num", "aprox", "ca", "env", "n", "sig"),
)
# Checked behind a full stop once one is found: before it, at every character, they cost
# more than the rest of the evidence.
_NOT_AFTER_ABBREVIATION = "".join(rf"(?<!\b(?i:{word})\.)" for word in _ABBREVIATIONS)
_SENTENCE_END = re.compile(rf"(?:\.{_NOT_AFTER_ABBREVIATION}|[!?])\s+(?=[^\W_a-zа-яё])|[。！？]|\n")
_GAP_CHARS = r"[\s:：=\-–#【】\[\]()（）「」\"'“”‘’«»]*"
_RIGHT_AFTER = re.compile(
    rf"{_GAP_CHARS}(?:(?:is|es|est|ist|là|é|è|adalah|ialah|er|jest|je|är|on)(?![^\W\d_])|[为為是は])?{_GAP_CHARS}"
)
_IS = ("is", "es", "é", "est", "ist", "is your", "is the")
