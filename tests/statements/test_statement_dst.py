"""DST months in both policy zones: the statement's month is its real length in the
policy's zone (New York for the tiered SLA, Chicago for the multiplier SLA)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from statements import pdf
from statements.services import statement_generate
from tests.support.factories import catalog_contract
from tests.support.pdf import pdf_text

NOW = datetime(2027, 1, 5, tzinfo=UTC)

CASES = [
    # policy, service, month, (hours, minutes, days), month start in UTC
    ("heretto-ccms", "Heretto CCMS", date(2026, 3, 1), ("743", "44580", 31), "2026-03-01T05:00:00"),
    (
        "heretto-ccms",
        "Heretto CCMS",
        date(2026, 11, 1),
        ("721", "43260", 30),
        "2026-11-01T04:00:00",
    ),
    (
        "balto-uptime",
        "Balto Platform",
        date(2026, 3, 1),
        ("743", "44580", 31),
        "2026-03-01T06:00:00",
    ),
    (
        "balto-uptime",
        "Balto Platform",
        date(2026, 11, 1),
        ("721", "43260", 30),
        "2026-11-01T05:00:00",
    ),
]


@pytest.mark.parametrize(("policy", "service", "month", "length", "start"), CASES)
def test_a_dst_month_has_its_real_length_on_the_statement(
    catalog, customer, statement_media, policy, service, month, length, start
):
    contract = catalog_contract(customer, policy, {service: "3000.00"})
    statement = statement_generate(contract=contract, month=month, now=NOW)
    period = statement.snapshot["period"]
    hours, minutes, days = length
    assert (period["hours"], period["minutes"], period["days"]) == (hours, minutes, days)
    assert period["start"] == start + "+00:00"
    [figures] = statement.snapshot["services"]
    # Both SLAs measure availability over every minute of the month.
    assert figures["denominator_minutes"] == minutes
    assert figures["month_seconds"] == int(minutes) * 60
    assert figures["display"] == "100.000 %"
    text = " ".join(pdf_text(pdf.render_statement_pdf(statement)).split())
    assert f"{int(minutes):,} min" in text
    assert f"{hours} hours" in text
