"""The Statuspage JSON tests' world and helpers: public incidents in every stage and
impact, maintenance ahead, in progress and done, and every kind of outage the public must
never see (scoped to a customer, customer-authorised, dismissed, unconfirmed)."""

from __future__ import annotations

from datetime import UTC, datetime

from outages.models import Outage
from outages.services import outage_close, outage_post_update, outage_record
from tests.support.factories import CustomerFactory, ServiceFactory, make_contract

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
V2 = "/status/api/v2/"
SECRETS = ("SECRET-NOTE", "SECRET-UPDATE", "Wonka")
HIDDEN_TITLES = ("Tenant shard down", "Requested restore", "False alarm", "Unconfirmed alert")


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def record(service, start, end=None, *, category="internal", title="Outage", **kw) -> Outage:
    return outage_record(
        service=service,
        started_at=start,
        ended_at=end,
        category=category,
        title=title,
        actor=None,
        **kw,
    )


def get(client, path: str) -> dict:
    response = client.get(V2 + path)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    assert response["Access-Control-Allow-Origin"] == "*"
    return response.json()


def build_world() -> dict:
    """Public incidents in every stage and impact, maintenance ahead, in progress and
    done, and every kind of outage the public must never see."""
    docs = ServiceFactory(name="Document Store", description="Stores the documents.")
    api = ServiceFactory(name="Publishing API")
    search = ServiceFactory(name="Search")
    ServiceFactory(name="Webhooks")
    ongoing = record(
        docs,
        at(20, 9),
        title="Uploads failing",
        impact="partial_outage",
        description="Some uploads fail.",
        internal_notes="SECRET-NOTE: disk full on db-7.",
        now=at(20, 9, 5),
    )
    outage_post_update(
        outage=ongoing,
        text="Cause found.",
        public=True,
        stage="identified",
        actor=None,
        now=at(20, 10),
    )
    outage_post_update(
        outage=ongoing,
        text="SECRET-UPDATE: page Sam.",
        public=False,
        actor=None,
        now=at(20, 10, 30),
    )
    outage_post_update(
        outage=ongoing,
        text="Fix deployed.",
        public=True,
        stage="monitoring",
        actor=None,
        now=at(20, 11),
    )
    slow = record(api, at(20, 8), title="Slow publishing", category="performance_degradation")
    resolved = record(api, at(19, 8), title="API errors", now=at(19, 8, 2))
    outage_close(outage=resolved, ended_at=at(19, 9), actor=None, text="All clear.", now=at(19, 9))
    upcoming = record(
        search,
        at(22, 2),
        at(22, 4),
        title="Index upgrade",
        category="scheduled_maintenance",
        announced_at=at(18, 9),
        now=at(18, 9),
    )
    unannounced = record(
        search,
        at(23, 2),
        at(23, 4),
        title="Quiet window",
        category="scheduled_maintenance",
        announced_at=at(21, 9),
        now=at(18, 9),
    )
    done = record(
        search,
        at(10, 2),
        at(10, 3),
        title="Certificate rotation",
        category="scheduled_maintenance",
        announced_at=at(8, 9),
        now=at(8, 9),
    )
    wonka = CustomerFactory(name="Wonka Industries")
    private = make_contract(wonka).lines.get().service
    private.name = "Tenant Store"  # a service is public; who buys it is not
    private.save()
    hidden = [
        record(
            private, at(20, 10), title="Tenant shard down", scope="customers", customers=[wonka]
        ),
        record(
            docs, at(20, 7), at(20, 8), title="Requested restore", category="customer_authorized"
        ),
        record(search, at(20, 6), title="False alarm", source="alert"),
        record(search, at(20, 7), title="Unconfirmed alert", source="alert"),
    ]
    Outage.objects.filter(pk=hidden[2].pk).update(
        dismissed_at=at(20, 6, 30), dismiss_reason="Monitoring blip"
    )
    return {
        "docs": docs,
        "api": api,
        "search": search,
        "ongoing": ongoing,
        "slow": slow,
        "resolved": resolved,
        "upcoming": upcoming,
        "unannounced": unannounced,
        "done": done,
        "hidden": hidden,
    }


def ids(items: list[dict]) -> list[str]:
    return [item["id"] for item in items]
