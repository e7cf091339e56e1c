"""Credit rules: worked examples from both seed documents, exact Decimal results."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from contracts.terms import Band
from credits.rules import CreditCase, CreditTerms, compute_credit

D = Decimal
BANDS = (
    Band(D("99.500"), None, D("0")),
    Band(D("98.000"), D("99.500"), D("5")),
    Band(D("95.000"), D("98.000"), D("10")),
    Band(D("90.000"), D("95.000"), D("35")),
    Band(D("0"), D("90.000"), D("50")),
)
TIERED = CreditTerms(
    rule="tiered",
    target_pct=D("99.500"),
    bands=BANDS,
    policy_label="Heretto CCMS SLA v1",
    credit_clause="…multiplied by the prorated monthly subscription cost related to the "
    "impacted service.",
)
MULTIPLIER = CreditTerms(
    rule="multiplier",
    target_pct=D("99.500"),
    multiplier=D("10"),
    cap_pct=D("30"),
    requires_paid_invoices=True,
    expire_on_termination=True,
    policy_label="Balto v1",
    cap_clause="capped at a maximum of 30% of paid service during the month",
    eligibility_clause="require you to have paid any outstanding invoices",
)
JUNE = 43_200 * 60  # seconds in June (24x7)
CHICAGO_NOVEMBER = 43_260 * 60  # 30 days + 1 hour


def tiered(downtime_minutes: int, fee: str = "4000.00", share=Fraction(1), denominator=JUNE):
    down = downtime_minutes * 60
    return compute_credit(
        TIERED,
        CreditCase(
            availability=Fraction(denominator - down, denominator),
            denominator_seconds=denominator,
            downtime_seconds=down,
            monthly_fee=D(fee),
            share_of_month=share,
            currency="USD",
            service="Heretto CCMS",
        ),
    )


@pytest.mark.parametrize(
    ("downtime_minutes", "band", "amount"),
    [
        (0, "99.500", "0.00"),
        (216, "99.500", "0.00"),  # exactly 99.50 %: the top band
        (217, "98.000", "200.00"),  # one minute more: 99.4977 %
        (864, "98.000", "200.00"),  # exactly 98.00 %
        (865, "95.000", "400.00"),
        (2_160, "95.000", "400.00"),  # exactly 95.00 %
        (2_161, "90.000", "1400.00"),
        (4_320, "90.000", "1400.00"),  # exactly 90.00 %
        (4_321, "0", "2000.00"),  # below 90 %
        (43_200, "0", "2000.00"),
    ],
)
def test_each_tiered_band_gives_its_share_of_the_fee(downtime_minutes, band, amount):
    result = tiered(downtime_minutes)
    assert result.band.lower == D(band)
    assert result.amount == D(amount)
    assert result.eligible


def test_tiered_partial_month_prorates_the_fee():
    # Active from 16 June: 15 of 30 days; 0.6 % downtime of the active part → 5 % band.
    half = JUNE // 2
    result = tiered(130, share=Fraction(1, 2), denominator=half)
    assert result.amount == D("100.00")  # 5 % × (4,000.00 × 1/2)
    assert any("× 1/2 of the month = 2,000.00 USD" in w.value for w in result.working)


def test_only_the_impacted_services_fee_counts():
    # A two-service contract: CCMS (4,000) was down, Cloud Publishing (1,500) was not.
    impacted = tiered(300, fee="4000.00")
    untouched = tiered(0, fee="1500.00")
    assert (impacted.amount, untouched.amount) == (D("200.00"), D("0.00"))


def test_rounding_is_half_up_once_at_the_end():
    assert tiered(300, fee="0.10").amount == D("0.01")  # 5 % of 0.10 = 0.005
    assert tiered(300, fee="0.09").amount == D("0.00")  # 0.0045


def multiplier(downtime_minutes, fee="6000.00", unpaid=(), terminated=False):
    down = downtime_minutes * 60
    return compute_credit(
        MULTIPLIER,
        CreditCase(
            availability=Fraction(CHICAGO_NOVEMBER - down, CHICAGO_NOVEMBER),
            denominator_seconds=CHICAGO_NOVEMBER,
            downtime_seconds=down,
            monthly_fee=D(fee),
            share_of_month=Fraction(1),
            currency="USD",
            service="Real-Time Guidance",
            unpaid_invoices=unpaid,
            terminated=terminated,
        ),
    )


def test_multiplier_credits_ten_times_the_fee_for_the_excess_downtime():
    # Allowed: 0.5 % of 43,260 min = 216.3 min; 300 min down → 83.7 min in excess.
    result = multiplier(300)
    exact = 10 * Fraction(6000) * Fraction(837, 10) / 43_260
    assert result.exact == exact
    assert result.amount == D("116.09")
    labels = {w.label: w.value for w in result.working}
    assert labels["Allowed downtime"].endswith("= 216.30 min")
    assert labels["Downtime in excess"] == "83.70 min"


def test_multiplier_gives_nothing_within_the_allowance():
    assert multiplier(216).amount == D("0.00")


def test_multiplier_credit_is_capped_at_30_percent_of_the_month_fee():
    result = multiplier(3_000)
    assert result.amount == D("1800.00")
    assert any(w.label == "Cap" and "applied" in w.value for w in result.working)
    assert any("capped at a maximum of 30%" in w.clause for w in result.working)


def test_an_unpaid_invoice_due_before_the_downtime_makes_the_credit_ineligible():
    result = multiplier(300, unpaid=["INITECH-2026-002"])
    assert not result.eligible and result.amount == D("0.00")
    assert "INITECH-2026-002" in result.reason
    assert any("outstanding invoices" in w.clause for w in result.working)


def test_a_terminated_contract_gets_no_credit_when_credits_expire_on_termination():
    result = multiplier(300, terminated=True)
    assert not result.eligible and "terminated" in result.reason


def test_working_shows_every_figure_with_its_clause():
    result = tiered(300)
    labels = [w.label for w in result.working]
    assert labels == [
        "Policy",
        "Service",
        "Measured minutes (denominator)",
        "Downtime counted",
        "Availability",
        "Prorated monthly fee",
        "Band",
        "Credit",
        "Service credit",
    ]
    values = {w.label: w.value for w in result.working}
    assert values["Availability"] == "99.3055 %"  # cut, as every availability figure
    assert values["Band"] == "[98.000, 99.500) → 5 %"
    assert values["Service credit"] == "200.00 USD"
    assert (
        "prorated monthly subscription cost"
        in dict((w.label, w.clause) for w in result.working)["Credit"]
    )
