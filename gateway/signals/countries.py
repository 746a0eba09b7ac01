"""Countries of networks and numbers: MCC -> country, E.164 prefix -> country, land neighbours.

All three come from shipped data files under ``data/``; nothing here parses a number with
phonenumbers at run time, because ``country_of_e164`` runs for every message.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

__all__ = [
    "MCC_COUNTRY",
    "NEIGHBOURS",
    "are_neighbours",
    "country_of_e164",
    "country_of_mcc",
]

_DATA = Path(__file__).with_name("data")
# A national prefix needs at most this many digits to tell the regions of one code apart.
_MAX_NATIONAL_PREFIX = 6


def _rows(name: str) -> Iterator[list[str]]:
    with (_DATA / name).open(encoding="utf-8", newline="") as f:
        lines = (line for line in f if line.strip() and not line.startswith("#"))
        reader = csv.reader(lines)
        next(reader)  # the header
        yield from reader


def _load_mcc() -> dict[str, str]:
    table: dict[str, str] = {}
    for mcc, country in _rows("mcc.csv"):
        if len(mcc) != 3 or not mcc.isdigit() or len(country) != 2 or mcc in table:
            raise ValueError(f"mcc.csv: bad or repeated row {mcc},{country}")
        table[mcc] = country
    return table


def _load_e164() -> tuple[dict[str, str | None], dict[str, tuple[int, dict[str, str | None]]]]:
    """The country of each calling code, and per shared code (+1, +7, +44...) its sub-ranges."""
    codes: dict[str, str | None] = {}
    ranges: dict[str, dict[str, str | None]] = {}
    for code, national_prefix, country in _rows("e164_regions.csv"):
        value = country or None
        if national_prefix:
            ranges.setdefault(code, {})[national_prefix] = value
        else:
            codes[code] = value
    subs = {code: (max(map(len, table)), table) for code, table in ranges.items()}
    return codes, subs


def _load_neighbours() -> frozenset[str]:
    pairs: set[str] = set()
    with (_DATA / "neighbours.txt").open(encoding="utf-8") as f:
        for line in f:
            fields = line.split("#", 1)[0].split()
            if not fields:
                continue
            a, b = fields
            if len(a) != 2 or len(b) != 2 or a == b:
                raise ValueError(f"neighbours.txt: bad pair {line.strip()!r}")
            pairs.add(a + b)
            pairs.add(b + a)
    return frozenset(pairs)


MCC_COUNTRY: Mapping[str, str] = MappingProxyType(_load_mcc())
_CODE_COUNTRY, _CODE_RANGES = _load_e164()
# Each pair twice, as "FRES" and "ESFR".
NEIGHBOURS: frozenset[str] = _load_neighbours()


def country_of_mcc(mcc: str) -> str | None:
    """ISO alpha-2 of the country owning ``mcc`` ("234"), or None (901, unknown MCCs)."""
    return MCC_COUNTRY.get(mcc)


def country_of_e164(number: str) -> str | None:
    """ISO alpha-2 of an E.164 number or global title ("+447400123123" or bare digits).

    Longest-prefix match on shipped data generated from phonenumbers' metadata: +1 416 is
    CA, +7 7 is KZ, +44 1534 is JE. None for non-geographic codes (+800, +882...) and
    unassigned ones. Does not validate the number.
    """
    digits = number[1:] if number[:1] == "+" else number
    for n in (1, 2, 3):
        code = digits[:n]
        if code in _CODE_COUNTRY:
            sub = _CODE_RANGES.get(code)
            if sub is not None:
                longest, table = sub
                national = digits[n : n + longest]
                for end in range(len(national), 0, -1):
                    prefix = national[:end]
                    if prefix in table:
                        return table[prefix]
            return _CODE_COUNTRY[code]
    return None


def are_neighbours(a: str, b: str) -> bool:
    """Whether countries ``a`` and ``b`` share a land border (or a fixed link) in the shipped table."""
    return a + b in NEIGHBOURS


def _write_e164_table(path: Path) -> None:  # pragma: no cover - a maintenance tool
    """Regenerate data/e164_regions.csv from phonenumbers' metadata.

    Needs the third-party ``regex`` package (partial matching) besides phonenumbers; run
    ``python -m gateway.signals.countries --write-e164-table`` after upgrading phonenumbers.
    For a calling code shared by several regions it walks national prefixes digit by digit
    until one region alone can own the numbers below it, the order phonenumbers itself uses
    (the first region of the code's list that matches wins).
    """
    import phonenumbers
    import regex  # type: ignore[import-untyped,unused-ignore]

    kinds = (
        "premium_rate",
        "toll_free",
        "shared_cost",
        "voip",
        "personal_number",
        "pager",
        "uan",
        "voicemail",
        "fixed_line",
        "mobile",
    )

    def patterns(region: str) -> tuple[Any, Any, list[Any]]:
        meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
        assert meta is not None and meta.general_desc is not None
        leading = regex.compile(meta.leading_digits) if meta.leading_digits else None
        descs = [getattr(meta, k) for k in kinds]
        pats = [
            regex.compile(d.national_number_pattern)
            for d in descs
            if d is not None and d.national_number_pattern
        ]
        return regex.compile(meta.general_desc.national_number_pattern), leading, pats

    def candidates(compiled: list[tuple[str, Any]], prefix: str) -> list[str]:
        found = []
        for region, (general, leading, pats) in compiled:
            if not general.fullmatch(prefix, partial=True):
                continue
            if leading is not None and not leading.match(prefix, partial=True):
                continue
            if any(p.fullmatch(prefix, partial=True) for p in pats):
                found.append(region)
        return found

    rows: list[tuple[str, str, str]] = []

    def walk(code: str, compiled: list[tuple[str, Any]], prefix: str, inherited: str) -> None:
        found = candidates(compiled, prefix)
        if not found:
            return
        owner = found[0]
        if owner != inherited:
            rows.append((code, prefix, owner))
        if len(found) > 1 and len(prefix) < _MAX_NATIONAL_PREFIX:
            for digit in "0123456789":
                walk(code, compiled, prefix + digit, owner)

    for code, regions in sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE.items()):
        geo = [r for r in regions if r != phonenumbers.UNKNOWN_REGION and r != "001"]
        if not geo:
            rows.append((str(code), "", ""))
            continue
        rows.append((str(code), "", geo[0]))
        if len(geo) == 1:
            continue
        compiled = [(r, patterns(r)) for r in geo]

        for digit in "0123456789":
            walk(str(code), compiled, digit, geo[0])

    with path.open("w", encoding="utf-8", newline="") as f:
        f.write(
            "# E.164 calling code (+ national prefix) -> ISO 3166-1 alpha-2; empty: non-geographic.\n"
            f"# Generated from phonenumbers {phonenumbers.__version__} metadata by\n"
            "# python -m gateway.signals.countries --write-e164-table\n"
        )
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(("country_code", "national_prefix", "country"))
        writer.writerows(rows)


if __name__ == "__main__":  # pragma: no cover
    import sys

    if sys.argv[1:] == ["--write-e164-table"]:
        _write_e164_table(_DATA / "e164_regions.csv")
    else:
        sys.exit("usage: python -m gateway.signals.countries --write-e164-table")
