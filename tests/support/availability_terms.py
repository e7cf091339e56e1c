"""The catalog's two policies as engine terms, built by hand from the seed documents.

``tests/outages/test_outage_services.py`` checks these equal what the selector builds from
the loaded catalog, so the pure tests exercise the real terms without a database.
"""

from __future__ import annotations

import itertools
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from contracts.calendars import WEEKDAYS, BusinessCalendar
from outages.availability import OutageFact, Terms

ET = ZoneInfo("America/New_York")
CT = ZoneInfo("America/Chicago")

# 004: 24x7, month in US Eastern; Required Monthly Availability removes scheduled and
# excused (customer-authorised) downtime from the denominator.
TIERED = Terms(
    zone="America/New_York",
    measurement=BusinessCalendar("America/New_York", {d: [("00:00", "24:00")] for d in WEEKDAYS}),
    denominator_basis="calendar_minutes",
    exclusions={"scheduled_maintenance": "removed", "customer_authorized": "removed"},
)

# 000: downtime counts only 06:00–21:00 Central every day, from confirmation, for critical
# services; uptime is over all minutes of the month; the permitted-downtime list.
MULTIPLIER = Terms(
    zone="America/Chicago",
    measurement=BusinessCalendar("America/Chicago", {d: [("06:00", "21:00")] for d in WEEKDAYS}),
    denominator_basis="calendar_minutes",
    downtime_from_confirmation=True,
    exclusions={
        c: "permitted"
        for c in (
            "third_party",
            "performance_degradation",
            "beta_feature",
            "external_network",
            "reporting_config",
            "non_critical_workflow",
        )
    },
    significant_subset_pct=Decimal("10.00"),
    counts_only_critical_services=True,
)

_ids = itertools.count(1)


def outage(
    start: datetime,
    end: datetime | None,
    category: str = "internal",
    *,
    confirmed: datetime | None = None,
    affected: int | None = None,
    of: int = 20,
    critical: bool = True,
    title: str = "",
) -> OutageFact:
    """An outage fact; confirmed at its start unless said otherwise."""
    number = next(_ids)
    return OutageFact(
        id=number,
        title=title or f"outage {number}",
        category=category,
        started_at=start,
        ended_at=end,
        confirmed_at=confirmed or start,
        affected_accounts=affected,
        service_accounts=of,
        service_critical=critical,
    )
