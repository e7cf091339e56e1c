"""The SLA attainment report's test data and readers (tests/portal/test_attainment_*.py):
tickets written with their stored clocks, the June case whose first-response times are
known by hand, and the report page's table read back as cells."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

from contracts.models import Contract
from tests.support.factories import TicketFactory
from tickets.models import Ticket, TicketPause
from tickets.services._common import save_clocks

ET = ZoneInfo("America/New_York")
JUNE, JULY = date(2026, 6, 1), date(2026, 7, 1)
# 2 July, 08:00 in New York: June is over everywhere, its statements are due.
NOW = datetime(2026, 7, 2, 12, tzinfo=UTC)
H = timedelta(hours=1)


def et(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=ET)


def make_ticket(
    contract: Contract,
    *,
    severity: int,
    received: datetime,
    responded: datetime | None = None,
    resolved: datetime | None = None,
    pauses: Iterable[tuple[datetime, datetime]] = (),
    now: datetime = NOW,
) -> Ticket:
    """A ticket as the services leave it: its times, its pauses waiting on the customer,
    and its stored clock columns computed from them (``tickets.services``)."""
    status = "resolved" if resolved else ("open" if responded else "new")
    ticket = TicketFactory(
        contract=contract,
        severity=severity,
        received_at=received,
        responded_at=responded,
        resolved_at=resolved,
        status=status,
    )
    for start, end in pauses:
        TicketPause.objects.create(ticket=ticket, kind="waiting", started_at=start, ended_at=end)
    save_clocks(ticket, now=now)
    return ticket


def foreign_customer():
    """Another customer with a June ticket of their own (severity 1, answered in an hour)."""
    from tests.support.factories import CustomerFactory, catalog_contract

    other = CustomerFactory(name="Foreign Co")
    contract = catalog_contract(other, "balto-uptime", {"Balto Platform": "3000.00"})
    make_ticket(contract, severity=1, received=et(2026, 6, 3, 9), responded=et(2026, 6, 3, 10))
    return other


def june_tickets(contract: Contract) -> dict[str, Ticket]:
    """June 2026 under the Heretto CCMS SLA (help desk 03:00–20:00 ET on weekdays, US
    federal holidays; severity 2: first response within 4 hours of support time;
    severity 1: 30 minutes around the clock). Severity 2's first responses took, in
    business time, 1, 2, 3, 4 and 10 hours (wall clock: 1, 57, 82, 6 and 10): median 3 h,
    90th percentile 10 h. One more is never answered (breached, no time)."""
    return {
        # Monday, in hours: 1 h.
        "quick": make_ticket(
            contract,
            severity=2,
            received=et(2026, 6, 8, 10),
            responded=et(2026, 6, 8, 11),
            resolved=et(2026, 6, 9, 10),
        ),
        # Friday 19:00 → Monday 04:00: 1 h on Friday + 1 h on Monday.
        "weekend": make_ticket(
            contract, severity=2, received=et(2026, 6, 12, 19), responded=et(2026, 6, 15, 4)
        ),
        # Thursday 19:30 → Monday 05:30, Friday 19 June (Juneteenth) closed: 0.5 h + 2.5 h.
        "holiday": make_ticket(
            contract,
            severity=2,
            received=et(2026, 6, 18, 19, 30),
            responded=et(2026, 6, 22, 5, 30),
        ),
        # 10:00 → 16:00 with two hours waiting on the customer: 4 h, met on the dot.
        "paused": make_ticket(
            contract,
            severity=2,
            received=et(2026, 6, 23, 10),
            responded=et(2026, 6, 23, 16),
            pauses=[(et(2026, 6, 23, 11), et(2026, 6, 23, 13))],
        ),
        # 08:00 → 18:00: 10 h, breached (due at 12:00).
        "late": make_ticket(
            contract, severity=2, received=et(2026, 6, 24, 8), responded=et(2026, 6, 24, 18)
        ),
        # Never answered: breached, and no time to first response.
        "unanswered": make_ticket(contract, severity=2, received=et(2026, 6, 25, 10)),
        # Saturday 02:00 → 02:20, severity 1 runs around the clock: 20 minutes (0 on the
        # help desk's calendar, which is closed).
        "night": make_ticket(
            contract, severity=1, received=et(2026, 6, 13, 2), responded=et(2026, 6, 13, 2, 20)
        ),
    }


# ---------------------------------------------------------------- the page's table


class _TableCells(HTMLParser):
    """The cells (text) of the rows of ``<table data-testid="attainment-table">``."""

    def __init__(self) -> None:
        super().__init__()
        self.inside, self.row, self.cell = False, None, None
        self.headers: list[str] = []
        self.rows: list[list[str]] = []

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag == "table" and ("data-testid", "attainment-table") in attrs:
            self.inside = True
        elif self.inside and tag == "tr":
            self.row = []
        elif self.inside and tag in ("td", "th") and self.row is not None:
            self.cell = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self.inside = False
        elif self.inside and tag in ("td", "th") and self.cell is not None:
            self.row.append(self.cell.strip())
            self.cell = None
        elif self.inside and tag == "tr" and self.row is not None:
            if not self.headers:
                self.headers = self.row
            else:
                self.rows.append(self.row)
            self.row = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell += data


def page_table(html: str) -> tuple[list[str], list[list[str]]]:
    """The attainment table's header and body cells, as the page shows them."""
    parser = _TableCells()
    parser.feed(html)
    return parser.headers, parser.rows
