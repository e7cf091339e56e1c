"""Template filters for money and availability, written as the rest of the portal writes
them: ``{{ amount|money:currency }}``, ``{{ entry.amount|signed_money:entry.currency }}``,
``{{ credit.availability_pct|percent_cut }}``."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

from django import template

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
def percent_cut(value: Decimal | None) -> str:
    """Availability to 3 places, cut rather than rounded (as the availability pages show
    it), so a shortfall never reads as met."""
    if value is None:
        return "—"
    return f"{Decimal(value).quantize(Decimal('0.001'), rounding=ROUND_DOWN)} %"
