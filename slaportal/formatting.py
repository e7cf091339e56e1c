"""Figures as every page, statement, e-mail and API shows them: one rule each.

* **Availability percent** — exact availability × 100, *cut* (never rounded up) to N
  places, so a shortfall never reads as met: 99.4999… % is "99.499", not "99.500".
  Statements and credits store it cut to 6 places; pages show 3.
* **Minutes** — whole minutes as they are, anything else to two places, half-up:
  ``43,200`` on a page, ``"43200"`` stored in a snapshot, ``90.50`` either way.
* **Durations** — hours and minutes ("1 h 5 min"); days only where a day is 24 hours
  (an outage), never for business time (a help desk day is not 24 hours).

All exact: values come in as ``Fraction`` (or ``Decimal``, ``int``, a decimal string;
seconds become minutes as ``Fraction(seconds, 60)``) and are cut or rounded once, in
integer arithmetic: a 28-digit ``Decimal`` division could round a value just below a
boundary up onto it.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from fractions import Fraction

Number = Fraction | Decimal | int | str

MINUTE_PLACES = 2


def cut(value: Number, places: int) -> Decimal:
    """``value`` to ``places`` decimals, rounded down (towards −∞)."""
    scaled = Fraction(value) * 10**places
    return Decimal(scaled.numerator // scaled.denominator).scaleb(-places)


def round_half_up(value: Number, places: int) -> Decimal:
    """``value`` to ``places`` decimals, half-up (away from zero): 0.004999… stays below
    the half, 0.005 goes up."""
    scaled = Fraction(value) * 10**places
    units = (abs(scaled.numerator) * 2 + scaled.denominator) // (2 * scaled.denominator)
    return Decimal(-units if scaled < 0 else units).scaleb(-places)


# ---------------------------------------------------------------- availability


def percent_cut(availability: Number, places: int) -> Decimal:
    """Availability (a ratio, ``Fraction(199, 200)``) as a percent cut to ``places``:
    ``Decimal("99.500")``. The rule statements and credits store (6 places) and every
    page shows (3 places)."""
    return cut(Fraction(availability) * 100, places)


def percent_text(availability: Number, places: int = 3) -> str:
    """``Fraction(199, 200)`` → ``"99.500 %"``."""
    return f"{percent_cut(availability, places)} %"


# ---------------------------------------------------------------- minutes


def minutes_decimal(minutes: Number) -> Decimal:
    """Minutes to two places, half-up: ``Decimal("42960.00")`` (the API's figures)."""
    return round_half_up(minutes, MINUTE_PLACES)


def minutes_text(minutes: Number, *, grouped: bool = True) -> str:
    """Minutes as pages show them (no unit): ``"43,200"``, ``"90.50"``; ``grouped=False``
    as a snapshot or a credit's working stores them: ``"43200"``."""
    exact = Fraction(minutes)
    separator = "," if grouped else ""
    if exact.denominator == 1:
        return f"{exact.numerator:{separator}}"
    return f"{minutes_decimal(exact):{separator}}"


# ---------------------------------------------------------------- durations


def duration_text(duration: timedelta | int, *, days: bool = False) -> str:
    """``timedelta(minutes=65)`` (or ``3900`` seconds) → ``"1 h 5 min"``; ``days=True``
    for wall-clock spans: ``"1 d 2 h"``. Seconds are dropped; anything under a minute
    is ``"under a minute"`` (never shown as 0)."""
    seconds = int(duration.total_seconds()) if isinstance(duration, timedelta) else duration
    minutes = seconds // 60
    if minutes < 1:
        return "under a minute"
    whole_days, minutes = divmod(minutes, 1440) if days else (0, minutes)
    hours, minutes = divmod(minutes, 60)
    parts = [(whole_days, "d"), (hours, "h"), (minutes, "min")]
    return " ".join(f"{value} {unit}" for value, unit in parts if value)
