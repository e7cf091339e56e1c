"""Atom feed of public incidents and maintenance; public text only (see selectors)."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.urls import reverse
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed

from status import selectors
from status.selectors import Incident


class IncidentFeed(Feed):
    feed_type = Atom1Feed
    title = "Service status: incidents"
    subtitle = "Incidents and scheduled maintenance of every service, with their public updates."
    description_template = "status/feed_entry.html"

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or timezone.now()

    def author_name(self) -> str:
        return settings.PROVIDER_NAME

    def link(self) -> str:
        return reverse("status-page")

    def items(self) -> list[Incident]:
        return selectors.feed_incidents(self.now)

    def item_title(self, item: Incident) -> str:
        return f"[{item.phase}] {item.outage.service.name}: {item.outage.title}"

    def item_link(self, item: Incident) -> str:
        return reverse("status-incident", args=[item.outage.pk])

    def item_pubdate(self, item: Incident) -> datetime:
        # An upcoming maintenance window was published when it was announced.
        outage = item.outage
        return outage.started_at if outage.started_at <= self.now else outage.announced_at

    def item_updateddate(self, item: Incident) -> datetime:
        moments = [self.item_pubdate(item)] + [update.posted_at for update in item.updates]
        if item.outage.ended_at and item.outage.ended_at <= self.now:
            moments.append(item.outage.ended_at)
        return max(moment for moment in moments if moment <= self.now)

    def item_categories(self, item: Incident) -> tuple[str, ...]:
        return (item.outage.service.name, item.state_label)
