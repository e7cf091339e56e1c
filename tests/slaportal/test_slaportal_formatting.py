"""The one availability-percent cut, minutes text and duration text (slaportal.formatting)
and the template filters that show them."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from django.template import Context, Template

from slaportal.formatting import (
    cut,
    duration_text,
    minutes_decimal,
    minutes_text,
    percent_cut,
    percent_text,
    round_half_up,
)
from slaportal.money import round_money

TARGET = Fraction(995, 1000)  # 99.5 %
JUST_BELOW = TARGET - Fraction(1, 10**40)  # 99.4999… % with 38 nines


# ---------------------------------------------------------------- percent


def test_availability_exactly_at_the_boundary_shows_the_boundary():
    assert percent_cut(TARGET, 3) == Decimal("99.500")
    assert percent_cut(TARGET, 6) == Decimal("99.500000")
    assert percent_text(TARGET) == "99.500 %"


def test_a_hair_below_the_boundary_is_cut_never_rounded_up_onto_it():
    # A 28-digit Decimal division would give 99.50000…; the cut stays exact.
    assert percent_cut(JUST_BELOW, 3) == Decimal("99.499")
    assert percent_cut(JUST_BELOW, 6) == Decimal("99.499999")
    assert percent_text(JUST_BELOW, 4) == "99.4999 %"


def test_percent_cut_keeps_its_places_at_zero_and_at_a_hundred():
    assert str(percent_cut(Fraction(0), 6)) == "0.000000"
    assert str(percent_cut(Fraction(1), 3)) == "100.000"
    assert percent_text(Fraction(1)) == "100.000 %"


def test_percent_cut_takes_what_is_stored_too():
    assert percent_cut(Decimal("0.99497512"), 3) == Decimal("99.497")
    assert percent_cut("0.9999999", 3) == Decimal("99.999")


def test_cut_and_half_up_differ_only_where_they_should():
    assert cut(Fraction(2999, 1000), 2) == Decimal("2.99")
    assert round_half_up(Fraction(2999, 1000), 2) == Decimal("3.00")
    assert round_half_up(Fraction(2995, 1000), 2) == Decimal("3.00")  # half goes up
    assert round_half_up(Fraction(29949999, 10**7), 2) == Decimal("2.99")  # below half
    assert round_half_up(Fraction(-2995, 1000), 2) == Decimal("-3.00")  # away from zero


def test_money_still_rounds_half_up_to_the_minor_unit():
    assert round_money(Fraction(5, 1000), "USD") == Decimal("0.01")
    assert round_money(Fraction(4999, 10**6), "USD") == Decimal("0.00")
    assert round_money(Fraction(5, 10), "JPY") == Decimal("1")
    assert str(round_money(0, "USD")) == "0.00"


# ---------------------------------------------------------------- minutes


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0"),
        (59, "0.98"),
        (60, "1"),
        (61, "1.02"),
        (90, "1.50"),
        (1440 * 60, "1,440"),
        (1441 * 60 + 30, "1,441.50"),
        (43_200 * 60, "43,200"),
    ],
)
def test_minutes_text_whole_as_they_are_anything_else_to_two_places(seconds, text):
    assert minutes_text(Fraction(seconds, 60)) == text


def test_stored_minutes_have_no_thousands_separator():
    assert minutes_text(Fraction(43_200 * 60, 60), grouped=False) == "43200"
    assert minutes_text(Fraction(5430, 60), grouped=False) == "90.50"


def test_minutes_text_reads_stored_figures_of_either_form():
    assert minutes_text("43200") == "43,200"
    assert minutes_text("90.5") == "90.50"
    assert minutes_text("475.2") == "475.20"
    assert minutes_text("1.666666666666666666666666667") == "1.67"


def test_minutes_round_half_up_at_two_places():
    assert minutes_text(Fraction(216_305, 1000)) == "216.31"
    assert minutes_text(Fraction(216_304_999, 10**6)) == "216.30"
    # Not exactly whole: shown to two places even when they round to .00.
    assert minutes_text(Fraction(216_001, 1000)) == "216.00"


def test_api_minutes_are_decimals_to_two_places():
    assert minutes_decimal(Fraction(180 * 60, 60)) == Decimal("180.00")
    assert str(minutes_decimal(0)) == "0.00"
    assert minutes_decimal(Fraction(100, 60)) == Decimal("1.67")


# ---------------------------------------------------------------- durations


@pytest.mark.parametrize(
    ("minutes", "text", "with_days"),
    [
        (0, "under a minute", "under a minute"),
        (59, "59 min", "59 min"),
        (60, "1 h", "1 h"),
        (61, "1 h 1 min", "1 h 1 min"),
        (1440, "24 h", "1 d"),
        (1441, "24 h 1 min", "1 d 1 min"),
        (1500, "25 h", "1 d 1 h"),
        (3 * 1440 + 125, "74 h 5 min", "3 d 2 h 5 min"),
    ],
)
def test_duration_text_in_hours_and_minutes_days_only_when_asked(minutes, text, with_days):
    assert duration_text(timedelta(minutes=minutes)) == text
    assert duration_text(minutes * 60) == text
    assert duration_text(timedelta(minutes=minutes), days=True) == with_days


def test_under_a_minute_is_never_shown_as_zero_and_seconds_are_dropped():
    assert duration_text(59) == "under a minute"
    assert duration_text(timedelta(seconds=-5)) == "under a minute"
    assert duration_text(timedelta(minutes=5, seconds=59)) == "5 min"


# ---------------------------------------------------------------- template filters


def render(text: str, **context) -> str:
    return Template("{% load formatting %}" + text).render(Context(context))


def test_percent_cut_filter_shows_a_stored_percent_cut_to_three_places():
    assert render("{{ v|percent_cut }}", v=Decimal("99.499999")) == "99.499 %"
    assert render("{{ v|percent_cut }}", v=Decimal("99.500000")) == "99.500 %"
    assert render("{{ v|percent_cut }}", v=None) == "—"


def test_minutes_filter_shows_stored_minutes_as_pages_do():
    assert render("{{ m|minutes }}", m="43200") == "43,200"
    assert render("{{ m|minutes }}", m="90.50") == "90.50"
    assert render("{{ m|minutes }}", m=None) == "—"


def test_money_filters_keep_their_text():
    assert render("{{ a|money:'USD' }}", a=Decimal("1234.5")) == "1,234.50 USD"
    assert render("{{ a|signed_money:'USD' }}", a=Decimal("-120")) == "−120.00 USD"
    assert render("{{ a|signed_money:'JPY' }}", a=Decimal("200")) == "+200 JPY"
