"""The detection corpus: load it, split it by source, and measure the classifier on a side.

A text's group is its repository (``owner/repo``) or its web site (host without ``www.``);
``split.toml`` names the held-back groups, so every text of one source falls on one side.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

HERE = Path(__file__).parent
TEXTS = HERE / "texts"
LABELS = ("otp", "not_otp")
# Non-OTP kinds that carry numbers a classifier may take for a code.
HARD_KINDS = frozenset(
    {
        "bank_alert",
        "card_alert",
        "balance",
        "parcel",
        "pickup",
        "booking",
        "appointment",
        "promo",
        "bill",
    }
)
_DIGITS = str.maketrans(
    {
        chr(base + i): str(i)
        for base in (0x0660, 0x06F0, 0x0966, 0x09E6, 0x0E50, 0xFF10)
        for i in range(10)
    }
)
_ANY_DIGIT = re.compile(r"[0-9]+")
_CODE_LIKE = re.compile(r"[0-9]{4,}|\b(?=[A-Z0-9]*[0-9])(?=[A-Z0-9]*[A-Z])[A-Z0-9]{5,}\b")


@dataclass(frozen=True, slots=True)
class Record:
    text: str
    label: str
    codes: tuple[str, ...]
    language: str
    source: str
    template: bool
    kind: str | None
    file: str

    @property
    def group(self) -> str:
        return group_of(self.source)

    @property
    def shape(self) -> str:
        """The text with every digit as 0 and spaces folded: one wording, whatever its code."""
        return " ".join(_ANY_DIGIT.sub("0", self.text.translate(_DIGITS)).split()).lower()

    @property
    def hard(self) -> bool:
        """A non-OTP text with a number or token a classifier may take for a code."""
        return self.label == "not_otp" and (
            self.kind in HARD_KINDS or _CODE_LIKE.search(self.text.translate(_DIGITS)) is not None
        )


def group_of(source: str) -> str:
    """``owner/repo`` for anything on GitHub (files, issues), else the web site's host."""
    bare = source.split("://", 1)[-1].removeprefix("www.")
    if bare.startswith(("github.com/", "raw.githubusercontent.com/")):
        return "/".join(bare.split("/")[1:3])
    host = urlsplit(source if "://" in source else "https://" + source).hostname or source
    return host.removeprefix("www.")


def load(texts: Path = TEXTS) -> list[Record]:
    records = []
    for path in sorted(texts.glob("*.jsonl")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            item = json.loads(line)
            records.append(
                Record(
                    text=item["text"],
                    label=item["label"],
                    codes=tuple(item.get("codes") or ()),
                    language=item["language"],
                    source=item["source"],
                    template=bool(item.get("template", False)),
                    kind=item.get("kind"),
                    file=f"{path.name}:{number}",
                )
            )
    return records


def groups_of(name: str, split: Path = HERE / "split.toml") -> frozenset[str]:
    """The groups split.toml puts on one side: ``train`` or ``heldout``."""
    return frozenset(tomllib.loads(split.read_text(encoding="utf-8"))[name]["groups"])


def side(records: Iterable[Record], name: str) -> list[Record]:
    """The records of one side; a group on neither side yet is on none (see assign_new.py).

    The held-back side leaves out every text the train side also has, digits aside: the
    same WhatsApp wording with another code, received on another site, was seen in tuning.
    """
    records = list(records)
    groups = groups_of(name)
    chosen = [r for r in records if r.group in groups]
    if name != "heldout":
        return chosen
    train = groups_of("train")
    seen = {r.shape for r in records if r.group in train}
    return [r for r in chosen if r.shape not in seen]


def unassigned(records: Iterable[Record]) -> set[str]:
    return {r.group for r in records} - groups_of("train") - groups_of("heldout")


def _normal(code: str) -> str:
    return re.sub(r"[\s\-*]", "", code.translate(_DIGITS)).upper()


def _code_found(code: str, found: list[str]) -> bool:
    """The expected code is a found span, or the span is the code with a short prefix
    ("G-527350" for 527350): either way the code is redacted and named."""
    return any(code == f or (code in f and len(f) - len(code) <= 4) for f in found)


@dataclass
class Tally:
    otp: int = 0
    recalled: int = 0
    codes_right: int = 0
    not_otp: int = 0
    false_positive: int = 0
    hard: int = 0
    hard_false_positive: int = 0
    misses: list[Record] = field(default_factory=list)
    wrong_codes: list[Record] = field(default_factory=list)
    false_positives: list[Record] = field(default_factory=list)

    @property
    def recall(self) -> float | None:
        return self.recalled / self.otp if self.otp else None

    @property
    def code_accuracy(self) -> float | None:
        return self.codes_right / self.recalled if self.recalled else None

    @property
    def fp_rate(self) -> float | None:
        return self.false_positive / self.not_otp if self.not_otp else None

    @property
    def hard_fp_rate(self) -> float | None:
        return self.hard_false_positive / self.hard if self.hard else None


# (text) -> (is_otp, the code strings found)
Judge = Callable[[str], tuple[bool, list[str]]]


def measure(records: Iterable[Record], judge: Judge) -> dict[str, Tally]:
    """Per language, plus ``all``: recall, code accuracy, false positives (hard ones too)."""
    tallies: dict[str, Tally] = defaultdict(Tally)
    for record in records:
        is_otp, found = judge(record.text)
        for tally in (tallies[record.language], tallies["all"]):
            if record.label == "otp":
                tally.otp += 1
                if is_otp:
                    tally.recalled += 1
                    found_normal = [_normal(c) for c in found]
                    if all(_code_found(_normal(c), found_normal) for c in record.codes):
                        tally.codes_right += 1
                    else:
                        tally.wrong_codes.append(record)
                else:
                    tally.misses.append(record)
            else:
                tally.not_otp += 1
                hard = record.hard
                tally.hard += hard
                if is_otp:
                    tally.false_positive += 1
                    tally.hard_false_positive += hard
                    tally.false_positives.append(record)
    return dict(tallies)


def classifier_judge(threshold: float | None = None) -> Judge:
    from policies.classifier import DEFAULT_THRESHOLD, classify

    limit = DEFAULT_THRESHOLD if threshold is None else threshold

    def judge(text: str) -> tuple[bool, list[str]]:
        result = classify(text, threshold=limit)
        return result.is_otp, [text[a:b] for a, b in result.code_spans]

    return judge


def _pct(value: float | None) -> str:
    return "    -" if value is None else f"{100 * value:5.1f}"


def table(tallies: dict[str, Tally]) -> str:
    """The per-language table: counts, recall, code accuracy, false positives (all, hard)."""
    lines = [
        "language   otp  recall%  codes%  not_otp  fp%   hard  hard_fp%",
    ]
    order = sorted((k for k in tallies if k != "all"), key=lambda k: (-tallies[k].otp, k))
    for language in [*order, "all"]:
        t = tallies[language]
        lines.append(
            f"{language:<9}{t.otp:>5}  {_pct(t.recall)}   {_pct(t.code_accuracy)}  "
            f"{t.not_otp:>7}  {_pct(t.fp_rate)} {t.hard:>5}  {_pct(t.hard_fp_rate)}"
        )
    return "\n".join(lines)


def sizes(records: Iterable[Record]) -> Counter[tuple[str, str]]:
    return Counter((r.language, r.label) for r in records)
