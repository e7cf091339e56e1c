"""Money: ``Decimal`` with its currency, rounded half-up to the minor unit once, at the end."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from slaportal.formatting import round_half_up

# ISO 4217 minor units of the currencies we bill in (see contracts.validators.CURRENCIES).
MINOR_UNITS = {"JPY": 0}


def minor_unit(currency: str) -> Decimal:
    return Decimal(1).scaleb(-MINOR_UNITS.get(currency, 2))


def round_money(value: Decimal | Fraction | int, currency: str) -> Decimal:
    """Half-up (away from zero) to the currency's minor unit, computed exactly: the value
    is never rounded on the way, so 0.004999… stays below the half cent."""
    return round_half_up(value, MINOR_UNITS.get(currency, 2)).quantize(minor_unit(currency))


def format_money(value: Decimal, currency: str) -> str:
    return f"{value:,.{MINOR_UNITS.get(currency, 2)}f} {currency}"
