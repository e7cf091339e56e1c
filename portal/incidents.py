"""The customer's incidents page (``/portal/incidents/``): the incidents and maintenance
that reach the requester's organisation, ongoing and of the last ``RECENT_DAYS`` days,
with their public updates and stages (``selectors.active_incidents``: never another
customer's scoped outage, never a dismissed or unconfirmed one, never an internal note).
The incident e-mails sent to the customer's people link here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from outages.models import Outage, Stage
from portal import selectors
from slaportal.pages import paginate, render_zoned
from slaportal.permissions import customer_required

RECENT_DAYS = 90
PER_PAGE = 10
STAGES = dict(Stage.choices)


@dataclass(frozen=True)
class IncidentRow:
    outage: Outage
    now: datetime

    @property
    def phase(self) -> str:
        """Where it stands, in words: ahead, going on, or over."""
        outage = self.outage
        if outage.started_at > self.now:
            return "Scheduled"
        if outage.ended_at is None or outage.ended_at > self.now:
            return "In progress" if outage.is_maintenance else "Ongoing"
        return "Completed" if outage.is_maintenance else "Resolved"

    @property
    def badge(self) -> str:
        if self.phase in ("Resolved", "Completed"):
            return "success"
        return "neutral" if self.outage.is_maintenance else "danger"

    @property
    def stage(self) -> str:
        return STAGES.get(getattr(self.outage, "latest_stage", "") or "", "")

    @property
    def scoped(self) -> bool:
        return self.outage.scope == Outage.Scope.CUSTOMERS


@customer_required
def customer_incidents(request: HttpRequest) -> HttpResponse:
    customer = request.user.customer
    now = timezone.now()
    since = now - timedelta(days=RECENT_DAYS)
    incidents = selectors.active_incidents(customer, now, since=since)
    page, query = paginate(request, incidents, per_page=PER_PAGE)
    page.object_list = [IncidentRow(outage, now) for outage in page.object_list]
    return render_zoned(
        request,
        "portal/incidents.html",
        {"customer": customer, "page": page, "query": query, "days": RECENT_DAYS},
    )
