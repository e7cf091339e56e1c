"""The public status page (/status/), its incident pages and Atom feed: public, provider-
wide, exact uptime, cached, and never a word of internal notes or customer names."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from outages.models import OutageUpdate
from outages.services import outage_close, outage_post_update, outage_record
from status import selectors
from status.uptime import DEGRADED, MAINTENANCE, OPERATIONAL, OUTAGE
from tests.support.factories import CustomerFactory, ServiceFactory, make_contract
from tests.support.processes import manage

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
ATOM = "{http://www.w3.org/2005/Atom}"
STATUS = "/status/"
FEED = "/status/feed.atom"


@pytest.fixture(autouse=True)
def frozen():
    cache.clear()
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller
    cache.clear()


@pytest.fixture
def docs(db):
    return ServiceFactory(name="Document Store")


@pytest.fixture
def api(db):
    return ServiceFactory(name="Publishing API")


def record(service, start, end=None, *, category="internal", title="Outage", **kw):
    return outage_record(
        service=service,
        started_at=start,
        ended_at=end,
        category=category,
        title=title,
        actor=None,
        **kw,
    )


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def page_html(client, url: str = STATUS) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


# ---------------------------------------------------------------- page content and states


def test_status_page_is_public_and_every_service_is_operational_without_outages(client, docs, api):
    html = page_html(client)
    assert "All systems operational" in html
    assert "Document Store" in html and "Publishing API" in html
    assert html.count(" Operational</span>") == 2
    assert "100%</strong> uptime" in html
    assert f'href="{FEED}"' in html and 'type="application/atom+xml"' in html


def test_current_state_comes_from_ongoing_outages_and_their_category(client, db):
    down, slow, maint, fine = (
        ServiceFactory(name=n) for n in ("Alpha", "Bravo", "Charlie", "Delta")
    )
    record(down, at(20, 11), title="Alpha unreachable")
    record(down, at(20, 9), title="Alpha slow", category="performance_degradation")
    record(slow, at(20, 10), title="Bravo slow", category="performance_degradation")
    record(maint, at(20, 11), at(20, 13), title="Charlie upgrade", category="scheduled_maintenance")
    record(fine, at(19, 8), at(19, 9), title="Delta was down")

    states = {s.service.name: s.state for s in selectors.status_overview(NOW)["services"]}
    assert states == {
        "Alpha": OUTAGE,
        "Bravo": DEGRADED,
        "Charlie": MAINTENANCE,
        "Delta": OPERATIONAL,
    }
    html = page_html(client)
    assert "Some services are unavailable" in html
    for label in ("Major outage", "Degraded performance", "Under maintenance", "Operational"):
        assert label in html
    active = html.split('id="active-heading"')[1].split('id="maintenance-heading"')[0]
    assert "Alpha unreachable" in active and "Bravo slow" in active
    assert "Charlie upgrade" not in active and "Delta was down" not in active


def test_active_incident_shows_its_public_updates_and_the_day_bar_its_downtime(client, docs):
    outage = record(docs, at(19, 23, 30), title="Search unavailable", now=at(19, 23, 35))
    outage_post_update(outage=outage, text="Fix deployed, monitoring.", public=True, actor=None)
    html = page_html(client)
    assert "Search unavailable" in html and "Fix deployed, monitoring." in html
    assert "19 Nov 2026: 97.916% uptime — outage 30 min" in html  # 84,600 / 86,400 s
    assert "20 Nov 2026: 0.000% uptime — outage 12 h" in html  # down since midnight
    # 89 days and 12 h measured, 12 h 30 min of it down.
    assert "99.418%</strong> uptime" in html


def test_upcoming_maintenance_is_shown_once_announced_and_hidden_before(client, docs):
    announced = record(
        docs,
        at(22, 2),
        at(22, 4),
        title="Database upgrade",
        category="scheduled_maintenance",
        announced_at=at(18, 9),
    )
    secret = record(
        docs,
        at(23, 2),
        at(23, 4),
        title="Unannounced window",
        category="scheduled_maintenance",
        announced_at=at(21, 9),  # announcement not yet out
    )
    html = page_html(client)
    section = html.split('id="maintenance-heading"')[1]
    assert "Database upgrade" in section and "Scheduled" in section
    assert "Unannounced window" not in html
    assert "All systems operational" in html
    assert client.get(reverse("status-incident", args=[announced.pk])).status_code == 200
    assert client.get(reverse("status-incident", args=[secret.pk])).status_code == 404


def test_history_lists_ended_incidents_newest_first_ten_per_page(client, docs):
    for day in range(1, 13):
        record(docs, at(day, 8), at(day, 9), title=f"Incident of day {day:02d}")
    record(docs, at(20, 11), title="Still ongoing")

    first = page_html(client).split('id="history-heading"')[1]
    assert "Still ongoing" not in first
    titles = [f"Incident of day {d:02d}" for d in range(12, 2, -1)]
    positions = [first.index(t) for t in titles]
    assert positions == sorted(positions)
    assert "Incident of day 02" not in first and "Page 1 of 2" in first
    second = page_html(client, STATUS + "?page=2").split('id="history-heading"')[1]
    assert "Incident of day 02" in second and "Incident of day 01" in second
    assert "Incident of day 03" not in second
    assert "Incident of day 12" in page_html(client, STATUS + "?page=abc")
    assert "Incident of day 01" in page_html(client, STATUS + "?page=999")


def test_incident_page_shows_the_public_timeline_and_unknown_ids_are_404(client, docs):
    outage = record(
        docs,
        at(20, 8),
        title="Login errors",
        description="Some sign-ins fail.",
        internal_notes="Root cause: expired certificate on lb-7.",
        now=at(20, 8, 5),
    )
    outage_post_update(outage=outage, text="Certificate renewed.", public=True, actor=None)
    outage_post_update(outage=outage, text="Blame the night shift.", public=False, actor=None)
    outage_close(outage=outage, ended_at=at(20, 9), actor=None, text="All clear.")

    html = page_html(client, reverse("status-incident", args=[outage.pk]))
    assert "Login errors" in html and "Some sign-ins fail." in html
    assert html.index("All clear.") < html.index("Certificate renewed.")  # newest first
    assert "Resolved" in html and "1 h" in html
    assert "expired certificate" not in html and "night shift" not in html
    assert client.get("/status/incidents/987654/").status_code == 404


def test_customer_scoped_and_customer_authorised_outages_never_appear(client, docs):
    wonka = CustomerFactory(name="Wonka Industries")
    service = make_contract(wonka).lines.get().service
    scoped = record(
        service, at(20, 10), title="Tenant shard down", scope="customers", customers=[wonka]
    )
    authorised = record(
        service, at(20, 9), at(20, 10), title="Requested restore", category="customer_authorized"
    )
    public = record(
        docs,
        at(20, 10),
        title="Docs outage",
        internal_notes="Wonka Industries reported it first.",
    )
    outage_post_update(
        outage=public, text="Wonka Industries says it is back.", public=False, actor=None
    )

    for url in (STATUS, reverse("status-incident", args=[public.pk]), FEED):
        body = client.get(url).content.decode()
        assert "Docs outage" in body
        assert "Wonka" not in body
        assert "Tenant shard down" not in body and "Requested restore" not in body
    states = {s.service.pk: s.state for s in selectors.status_overview(NOW)["services"]}
    assert states[service.pk] == OPERATIONAL
    for outage in (scoped, authorised):
        assert client.get(reverse("status-incident", args=[outage.pk])).status_code == 404


# ---------------------------------------------------------------- feed


def test_feed_is_valid_atom_with_public_text_linking_each_incident(client, docs):
    ended = record(
        docs,
        at(19, 8),
        at(19, 9),
        title="Yesterday's outage",
        description="Uploads failed.",
        internal_notes="SECRET-NOTE-1",
    )
    ongoing = record(docs, at(20, 11), title="Today's outage", now=at(20, 11, 1))
    outage_post_update(outage=ongoing, text="Investigating <b>now</b>.", public=True, actor=None)
    outage_post_update(outage=ongoing, text="SECRET-UPDATE-2", public=False, actor=None)

    response = client.get(FEED)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    body = response.content.decode()
    assert "SECRET-NOTE-1" not in body and "SECRET-UPDATE-2" not in body

    root = ET.fromstring(response.content)
    assert root.tag == f"{ATOM}feed"
    assert root.find(f"{ATOM}title").text == "Service status: incidents"
    assert root.find(f"{ATOM}updated").text and root.find(f"{ATOM}id").text
    entries = root.findall(f"{ATOM}entry")
    assert [e.find(f"{ATOM}title").text for e in entries] == [
        "[Ongoing] Document Store: Today's outage",
        "[Resolved] Document Store: Yesterday's outage",
    ]
    links = [e.find(f"{ATOM}link").get("href") for e in entries]
    assert links == [
        f"http://testserver/status/incidents/{ongoing.pk}/",
        f"http://testserver/status/incidents/{ended.pk}/",
    ]
    summary = entries[0].find(f"{ATOM}summary")
    assert summary.get("type") == "html"
    assert "Investigating &lt;b&gt;now&lt;/b&gt;." in summary.text  # user text escaped
    assert all(e.find(f"{ATOM}updated").text for e in entries)


# ---------------------------------------------------------------- caching


def test_a_cache_hit_costs_only_the_fingerprint_query(client, docs, django_assert_num_queries):
    record(docs, at(20, 11), title="Cached outage")
    page_html(client)
    with django_assert_num_queries(1):
        assert "Cached outage" in page_html(client)
    client.get(FEED)
    with django_assert_num_queries(1):
        assert b"Cached outage" in client.get(FEED).content


def test_posting_an_update_rebuilds_the_page_and_feed(client, docs):
    outage = record(docs, at(20, 11), title="Queue stuck", now=at(20, 11))
    page_html(client)
    client.get(FEED)
    incident_url = reverse("status-incident", args=[outage.pk])
    page_html(client, incident_url)

    outage_post_update(outage=outage, text="Workers restarted.", public=True, actor=None)
    assert "Workers restarted." in page_html(client)
    assert "Workers restarted." in page_html(client, incident_url)
    assert b"Workers restarted." in client.get(FEED).content

    outage_close(outage=outage, ended_at=at(20, 12), actor=None, text="Queue drained.")
    html = page_html(client)
    assert (
        "All systems operational" in html
        and "Queue drained." not in html.split('id="history-heading"')[0]
    )


def test_current_state_moves_on_with_the_clock_without_any_change(client, docs, frozen):
    record(
        docs,
        NOW + timedelta(minutes=1),
        NOW + timedelta(hours=1),
        title="Quick patch",
        category="scheduled_maintenance",
        announced_at=at(19, 9),
    )
    assert "All systems operational" in page_html(client)
    frozen.shift(timedelta(minutes=2))
    assert "Scheduled maintenance in progress" in page_html(client)


def test_status_links_from_the_footer_and_the_login_page(client, db):
    html = page_html(client, reverse("login"))
    auth_links = html.split('class="auth-links"')[1].split("</p>")[0]
    footer = html.split('class="site-footer"')[1]
    assert 'href="/status/"' in auth_links and 'href="/status/"' in footer


def test_cache_url_selects_redis_and_rejects_other_schemes():
    shell = "from django.conf import settings; print(settings.CACHES['default']['BACKEND'])"
    result = manage("shell", "-c", shell, DEBUG="1", CACHE_URL="redis://127.0.0.1:6379/1")
    assert result.stdout.split()[-1] == "django.core.cache.backends.redis.RedisCache", result.stderr
    result = manage("shell", "-c", shell, DEBUG="1")
    assert result.stdout.split()[-1] == "django.core.cache.backends.locmem.LocMemCache", (
        result.stderr
    )
    result = manage("shell", "-c", shell, DEBUG="1", CACHE_URL="memcached://x")
    assert result.returncode != 0 and "CACHE_URL" in result.stderr


def test_unpublishing_an_update_removes_it_at_once(client, docs):
    outage = record(docs, at(20, 11), title="Mail delayed", now=at(20, 11))
    update = outage_post_update(outage=outage, text="Posted by mistake.", public=True, actor=None)
    assert "Posted by mistake." in page_html(client)
    OutageUpdate.objects.filter(pk=update.pk).update(public=False)  # as an admin edit would
    assert "Posted by mistake." not in page_html(client)


def test_building_the_page_takes_the_same_queries_however_many_incidents(client, docs, api):
    def misses() -> int:
        cache.clear()
        with CaptureQueriesContext(connection) as queries:
            page_html(client)
        return len(queries)

    record(docs, at(20, 11), title="First")
    record(docs, at(19, 8), at(19, 9), title="Ended")
    few = misses()
    for day in range(1, 15):
        record(api if day % 2 else docs, at(day, 8), at(day, 9), title=f"Day {day}")
    record(api, at(20, 10), title="Second", category="performance_degradation")
    assert misses() == few <= 6


def test_the_cached_body_never_carries_a_signed_in_visitors_header(client, customer_user):
    customer_user.customer.name = "Globex Holdings"
    customer_user.customer.save()
    client.force_login(customer_user)
    assert "Globex Holdings" in page_html(client)  # their own header
    client.logout()
    assert "Globex Holdings" not in page_html(client)


def test_status_pages_only_answer_reads(client, db):
    assert client.post(STATUS).status_code == 405
    assert client.post(FEED).status_code == 405
    assert client.head(STATUS).status_code == 200
