"""Which numbers this network answers for: its own E.164 ranges, and those the service skips.

An operator knows its number plan, not the whole world's: a number outside ``own_ranges`` is
one the network does not know (404 IDENTIFIER_NOT_FOUND, as Commonalities name it), and a
number inside ``not_applicable_ranges`` (M2M, fixed-line, wholesale ranges) one for which
the service is not offered (422 SERVICE_NOT_APPLICABLE). Both tell only the operator's
published number plan, so they are answered before the relation check, whoever asks.
"""

from __future__ import annotations

from dataclasses import dataclass

from .requests import Refusal

_UNKNOWN = Refusal(404, "IDENTIFIER_NOT_FOUND", "phoneNumber: not a number of this network")
_NOT_APPLICABLE = Refusal(
    422, "SERVICE_NOT_APPLICABLE", "phoneNumber: the service is not offered for this number"
)


@dataclass(frozen=True, slots=True)
class NumberRanges:
    """E.164 prefixes with their "+"; no ``own`` ranges means every number is the network's."""

    own: tuple[str, ...] = ()
    not_applicable: tuple[str, ...] = ()

    def refusal(self, number: str) -> Refusal | None:
        """Why ``number`` (E.164 with "+") cannot be answered for, or None when it can."""
        if self.own and not number.startswith(self.own):
            return _UNKNOWN
        if self.not_applicable and number.startswith(self.not_applicable):
            return _NOT_APPLICABLE
        return None
