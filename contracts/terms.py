"""Pure checks on SLA terms, shared by the admin, the catalog loader and the API.

Each check raises ``TermsError`` (a ``ValueError``) whose message names the
problem, so every entry point refuses bad terms with the same words.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

HUNDRED = Decimal("100")


class TermsError(ValueError):
    pass


@dataclass(frozen=True)
class Band:
    """Availability in ``[lower, upper)`` earns ``credit_pct``; ``upper=None`` means up to 100 %
    inclusive (the top band of a tiered SLA)."""

    lower: Decimal
    upper: Decimal | None
    credit_pct: Decimal

    def label(self) -> str:
        upper = "100.000] " if self.upper is None else f"{self.upper})"
        return f"[{self.lower}, {upper}".strip()


def check_bands(bands: Iterable[Band]) -> list[Band]:
    """Bands must tile [0, 100] exactly: no gap, no overlap, one open-ended top band."""
    ordered = sorted(bands, key=lambda b: b.lower)
    if not ordered:
        raise TermsError("A tiered credit rule needs at least one availability band.")
    for band in ordered:
        if band.lower < 0 or (band.upper is not None and band.upper > HUNDRED):
            raise TermsError(f"Band {band.label()} lies outside 0–100 %.")
        if band.upper is not None and band.upper <= band.lower:
            raise TermsError(f"Band {band.label()} is reversed or empty.")
        if not (0 <= band.credit_pct <= HUNDRED):
            raise TermsError(f"Band {band.label()}: credit {band.credit_pct} % is not 0–100 %.")
    if ordered[0].lower != 0:
        raise TermsError(f"Bands leave a gap: nothing covers [0, {ordered[0].lower}).")
    for before, after in zip(ordered, ordered[1:], strict=False):
        if before.upper is None:
            raise TermsError(f"Band {before.label()} overlaps band {after.label()}.")
        if after.lower < before.upper:
            raise TermsError(f"Band {before.label()} overlaps band {after.label()}.")
        if after.lower > before.upper:
            raise TermsError(f"Bands leave a gap: nothing covers [{before.upper}, {after.lower}).")
    if ordered[-1].upper is not None:
        if ordered[-1].upper < HUNDRED:
            raise TermsError(f"Bands leave a gap: nothing covers [{ordered[-1].upper}, 100].")
        raise TermsError("The top band must be open-ended (through 100 % inclusive).")
    return ordered


def check_severities(severities: Sequence[int]) -> None:
    seen: set[int] = set()
    for severity in severities:
        if severity not in (1, 2, 3, 4):
            raise TermsError(f"Severity {severity} is not one of 1–4.")
        if severity in seen:
            raise TermsError(f"Severity {severity} is defined twice.")
        seen.add(severity)


def parse_clock(value: str) -> int:
    """'HH:MM' (00:00–24:00) → minutes after midnight."""
    text = str(value).strip()
    parts = text.split(":")
    if len(parts) not in (2, 3) or not all(p.isdigit() for p in parts):
        raise TermsError(f"{text!r} is not a time of day (HH:MM).")
    hours, minutes = int(parts[0]), int(parts[1])
    seconds = int(parts[2]) if len(parts) == 3 else 0
    if seconds or minutes > 59 or hours > 24 or (hours == 24 and minutes):
        raise TermsError(f"{text!r} is not a time of day between 00:00 and 24:00.")
    return hours * 60 + minutes


def format_clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
