"""The template filters of every page, PDF and e-mail (``{% load formatting %}``), each a
thin wrapper of one rule in ``slaportal.formatting`` / ``slaportal.money``:
``{{ amount|money:currency }}``, ``{{ entry.amount|signed_money:entry.currency }}``,
``{{ credit.availability_pct|percent_cut }}``, ``{{ row.downtime_minutes|minutes }}``."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from django import template

from slaportal import formatting
from slaportal.money import format_money

register = template.Library()


@register.filter
def money(value: Decimal | None, currency: str) -> str:
    if value is None:
        return "—"
    return format_money(Decimal(value), currency)


@register.filter
def signed_money(value: Decimal | None, currency: str) -> str:
    """A ledger movement: ``+200.00 USD`` in, ``−120.00 USD`` out."""
    if value is None:
        return "—"
    value = Decimal(value)
    sign = "+" if value > 0 else "−" if value < 0 else ""
    return sign + format_money(abs(value), currency)


@register.filter
def percent_cut(value: Decimal | str | None) -> str:
    """A stored percent (``Decimal("99.497512")``) as pages show it, cut to 3 places so a
    shortfall never reads as met: ``"99.497 %"``."""
    if value is None or value == "":
        return "—"
    return formatting.percent_text(Fraction(Decimal(value)) / 100)


@register.filter
def minutes(value: Decimal | str | int | None) -> str:
    """Stored minutes (``"43200"``, ``"90.50"``) as pages show them: ``"43,200"``."""
    if value is None or value == "":
        return "—"
    return formatting.minutes_text(value)
