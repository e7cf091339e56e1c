"""Credit rules: pure, exact (``Fraction`` throughout, one half-up rounding at the end).

* ``tiered``: the band that holds the exact availability (bands are half-open,
  ``[lower, upper)``, the top one closed at 100 %) gives a percentage of the prorated
  monthly fee of the impacted service.
* ``multiplier``: allowed = (1 − target) × denominator; excess = max(0, downtime −
  allowed); credit = multiplier × prorated fee × excess / denominator, capped at cap %
  of the prorated fee.

Eligibility: when the policy requires it, an invoice that fell due before the downtime
and is still unpaid voids the credit; when credits expire on termination, a terminated
contract gets none. Every figure is returned as a line of working with the clause it
comes from, so a statement can show how the amount was reached.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from contracts.terms import Band
from slaportal.formatting import minutes_text, percent_text
from slaportal.money import format_money, round_money

TIERED = "tiered"
MULTIPLIER = "multiplier"


@dataclass(frozen=True)
class CreditTerms:
    """The policy's credit terms (see contracts.models.SLAPolicy)."""

    rule: str
    target_pct: Decimal
    bands: tuple[Band, ...] = ()
    multiplier: Decimal | None = None
    cap_pct: Decimal | None = None
    requires_paid_invoices: bool = False
    expire_on_termination: bool = False
    credit_clause: str = ""
    cap_clause: str = ""
    eligibility_clause: str = ""
    policy_label: str = ""


@dataclass(frozen=True)
class CreditCase:
    """One service of one contract for one month."""

    availability: Fraction
    denominator_seconds: int
    downtime_seconds: int
    monthly_fee: Decimal
    share_of_month: Fraction
    currency: str
    service: str = ""
    unpaid_invoices: Sequence[str] = ()  # numbers of invoices due before the downtime, unpaid
    terminated: bool = False


@dataclass(frozen=True)
class Line:
    label: str
    value: str
    clause: str = ""


@dataclass(frozen=True)
class CreditResult:
    amount: Decimal  # rounded once, to the currency's minor unit
    currency: str
    eligible: bool
    reason: str  # why ineligible, or empty
    working: tuple[Line, ...] = field(default_factory=tuple)
    band: Band | None = None
    exact: Fraction = Fraction(0)

    def as_dict(self) -> dict:
        return {
            "amount": str(self.amount),
            "currency": self.currency,
            "eligible": self.eligible,
            "reason": self.reason,
            "band": None if self.band is None else self.band.label(),
            "working": [
                {"label": w.label, "value": w.value, "clause": w.clause} for w in self.working
            ],
        }


def _pct(percent: Fraction) -> str:
    """To 4 places, cut like every availability figure: 99.49996 % is not "99.5000 %"."""
    return percent_text(percent / 100, 4)


def _minutes(seconds: int | Fraction) -> str:
    return f"{minutes_text(Fraction(seconds, 60))} min"


def _band_for(bands: Sequence[Band], percent: Fraction) -> Band:
    for band in bands:
        upper_ok = percent <= 100 if band.upper is None else percent < Fraction(band.upper)
        if Fraction(band.lower) <= percent and upper_ok:
            return band
    raise ValueError(f"no band holds {_pct(percent)}; the bands must tile 0–100 %")


def compute_credit(terms: CreditTerms, case: CreditCase) -> CreditResult:
    currency = case.currency
    money = lambda value: format_money(round_money(value, currency), currency)  # noqa: E731
    percent = case.availability * 100
    fee = Fraction(case.monthly_fee) * case.share_of_month
    working = [
        Line("Policy", terms.policy_label),
        Line("Service", case.service),
        Line("Measured minutes (denominator)", _minutes(case.denominator_seconds)),
        Line("Downtime counted", _minutes(case.downtime_seconds)),
        Line("Availability", _pct(percent), f"Target {terms.target_pct} %"),
        Line(
            "Prorated monthly fee",
            f"{format_money(case.monthly_fee, currency)} × "
            f"{case.share_of_month.numerator}/{case.share_of_month.denominator} of the month "
            f"= {money(fee)}",
            terms.credit_clause,
        ),
    ]
    if terms.expire_on_termination and case.terminated:
        return _none(
            currency,
            "the contract is terminated; its credits expire",
            working,
            terms.eligibility_clause,
        )
    if terms.requires_paid_invoices and case.unpaid_invoices:
        numbers = ", ".join(case.unpaid_invoices)
        return _none(
            currency,
            f"invoice {numbers} fell due before the downtime and is unpaid",
            working,
            terms.eligibility_clause,
        )

    band = None
    if terms.rule == TIERED:
        band = _band_for(terms.bands, percent)
        exact = fee * Fraction(band.credit_pct) / 100
        working += [
            Line("Band", f"{band.label()} → {band.credit_pct} %", "Availability / credit table"),
            Line(
                "Credit",
                f"{band.credit_pct} % × {money(fee)} = {money(exact)}",
                terms.credit_clause,
            ),
        ]
    elif terms.rule == MULTIPLIER:
        if terms.multiplier is None:
            raise ValueError("a multiplier rule needs a multiplier")
        denominator = case.denominator_seconds
        allowed = (1 - Fraction(terms.target_pct) / 100) * denominator
        excess = max(Fraction(0), case.downtime_seconds - allowed)
        exact = (
            (Fraction(terms.multiplier) * fee * excess / denominator)
            if denominator
            else Fraction(0)
        )
        working += [
            Line(
                "Allowed downtime",
                f"(100 % − {terms.target_pct} %) × {_minutes(denominator)} = {_minutes(allowed)}",
                f"Uptime Commitment {terms.target_pct} %",
            ),
            Line("Downtime in excess", _minutes(excess)),
            Line(
                "Credit before cap",
                f"{terms.multiplier} × {money(fee)} × {_minutes(excess)} / "
                f"{_minutes(denominator)} = {money(exact)}",
                terms.credit_clause,
            ),
        ]
        if terms.cap_pct is not None:
            cap = fee * Fraction(terms.cap_pct) / 100
            capped = exact > cap
            working.append(
                Line(
                    "Cap",
                    f"{terms.cap_pct} % × {money(fee)} = {money(cap)}"
                    f"{' — applied' if capped else ''}",
                    terms.cap_clause,
                )
            )
            exact = min(exact, cap)
    else:
        raise ValueError(f"unknown credit rule {terms.rule!r}")
    amount = round_money(exact, currency)
    working.append(Line("Service credit", format_money(amount, currency)))
    return CreditResult(amount, currency, True, "", tuple(working), band, exact)


def _none(currency: str, reason: str, working: list[Line], clause: str) -> CreditResult:
    zero = round_money(0, currency)
    working = [
        *working,
        Line("Not eligible", reason, clause),
        Line("Service credit", format_money(zero, currency)),
    ]
    return CreditResult(zero, currency, False, reason, tuple(working))
