"""SMPP 3.4 time fields (§7.1.1): ``validity_period`` and ``schedule_delivery_time``.

``YYMMDDhhmmsstnnp``: absolute when ``p`` is ``+`` or ``-`` (``nn`` quarter hours from UTC),
relative when ``p`` is ``R`` (years, months, days... to add to now). Empty means "none".
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass

_TIME = re.compile(r"(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d)(\d\d)([+\-R])")


class SmppTimeError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class SmppTime:
    at: float  # the moment, in epoch seconds
    relative_s: float | None  # the relative form's length; None for an absolute time


def parse_smpp_time(text: str, now: float) -> SmppTime | None:
    """The moment a time field names; None for an empty field. Raises SmppTimeError."""
    if not text:
        return None
    match = _TIME.fullmatch(text)
    if match is None:
        raise SmppTimeError(f"not an SMPP time: {text[:20]!r}")
    yy, mo, dd, hh, mi, ss, tenths, nn, p = match.groups()
    if p == "R":
        # A month is taken as 30 days and a year as 365: what SMSCs commonly do.
        seconds = (
            int(yy) * 365 * 86400
            + int(mo) * 30 * 86400
            + int(dd) * 86400
            + int(hh) * 3600
            + int(mi) * 60
            + int(ss)
        )
        return SmppTime(now + seconds, float(seconds))
    try:
        local = calendar.timegm((2000 + int(yy), int(mo), int(dd), int(hh), int(mi), int(ss)))
    except (ValueError, OverflowError) as error:
        raise SmppTimeError(f"not a valid date: {text!r}") from error
    if not (1 <= int(mo) <= 12 and 1 <= int(dd) <= 31 and int(hh) < 24 and int(mi) < 60):
        raise SmppTimeError(f"not a valid date: {text!r}")
    offset = int(nn) * 900 * (1 if p == "+" else -1)
    return SmppTime(local - offset + int(tenths) / 10, None)


def relative_time(seconds: float) -> str:
    """The relative form of a duration (days, hours, minutes, seconds; at least one second)."""
    total = max(1, int(seconds))
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    years, days = divmod(days, 365)
    months, days = divmod(days, 30)
    if years > 99:
        years, months, days, hours, minutes, secs = 99, 11, 29, 23, 59, 59
    return f"{years:02d}{months:02d}{days:02d}{hours:02d}{minutes:02d}{secs:02d}000R"
