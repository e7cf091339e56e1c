"""Operations' pages for alerts: the unconfirmed outages at the top of /ops/, confirming
and dismissing one on its page, and /ops/alerts/ (sources with their one-time token, the
route table with its form errors, recent alerts)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from outages.alert_config import alert_source_create
from outages.models import Alert, AlertRoute, AlertSource, Outage
from outages.services import outage_record
from outages.triage import outage_dismiss
from tests.support.alert_helpers import ENDS, STARTS, alert, deliver, payload, route
from tests.support.factories import ServiceFactory
from tests.support.page_helpers import h1

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(db):
    return ServiceFactory(name="Public API", code="api")


@pytest.fixture
def ops(client, operations):
    operations.time_zone = "America/New_York"
    operations.save()
    client.force_login(operations)
    return client


def _opened(service, title="API answers 503", ended=None) -> Outage:
    return outage_record(
        service=service,
        started_at=STARTS,
        ended_at=ended,
        category="internal",
        title=title,
        source=Outage.Source.ALERT,
        actor=None,
    )


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


# ---------------------------------------------------------------- /ops/


def test_unconfirmed_outages_are_listed_at_the_top_of_ops(ops, api):
    opened = _opened(api)
    outage_record(service=api, started_at=STARTS, category="internal", title="Typed", actor=None)
    html = _text(ops.get(reverse("ops-home")))
    card = html[html.index('data-testid="unconfirmed"') : html.index("Filter outages")]
    assert "Unconfirmed outages" in card and "customers see none of them yet" in card
    assert f'href="/ops/outages/{opened.pk}/">API answers 503</a>' in card
    assert "Public API" in card and "18 Nov 2026, 08:00" in card  # 13:00 UTC in New York
    assert "2 h" in card and "Ongoing" in card
    assert "Typed" not in card


def test_without_unconfirmed_outages_there_is_no_card(ops, api):
    _opened(api, ended=ENDS)
    outage_dismiss(outage=Outage.objects.get(), actor=None, reason="Flapping probe")
    html = _text(ops.get(reverse("ops-home")))
    assert 'data-testid="unconfirmed"' not in html and "Unconfirmed outages" not in html
    assert 'href="/ops/alerts/"' in html  # the header's link


# ---------------------------------------------------------------- the outage page


def test_the_outage_page_offers_confirm_and_dismiss_for_an_unconfirmed_outage(ops, api):
    outage = _opened(api)
    html = _text(ops.get(reverse("ops-outage", args=[outage.pk])))
    assert f'action="/ops/outages/{outage.pk}/confirm/"' in html
    assert f'action="/ops/outages/{outage.pk}/dismiss/"' in html
    # Now (15:00 UTC) in the viewer's zone, to the minute; the cause and impact it has.
    assert 'name="confirm-confirmed_at" value="2026-11-18T10:00"' in html
    assert '<option value="internal" selected>' in html


def test_confirming_on_the_page_reads_the_time_in_the_viewers_zone(ops, api, operations):
    outage = _opened(api)
    data = {
        "confirm-confirmed_at": "2026-11-18T08:30",
        "confirm-category": "third_party",
        "confirm-impact": "degraded",
    }
    response = ops.post(reverse("ops-outage-confirm", args=[outage.pk]), data)
    assert response.status_code == 302
    outage.refresh_from_db()
    assert outage.confirmed_at == datetime(2026, 11, 18, 13, 30, tzinfo=UTC)
    assert (outage.category, outage.impact) == ("third_party", "degraded")
    html = _text(ops.get(reverse("ops-outage", args=[outage.pk])))
    assert "affected customers can see it now" in html and "/confirm/" not in html


def test_a_refused_confirmation_shows_its_error_on_the_outage_page(ops, api):
    outage = _opened(api)
    data = {
        "confirm-confirmed_at": "2026-11-18T07:59",  # a minute before it started
        "confirm-category": "internal",
        "confirm-impact": "major_outage",
    }
    response = ops.post(reverse("ops-outage-confirm", args=[outage.pk]), data)
    assert response.status_code == 200 and h1(response) == "API answers 503"
    assert "An outage cannot be confirmed before it starts." in _text(response)
    assert 'value="2026-11-18T07:59"' in _text(response)  # what was typed stays
    outage.refresh_from_db()
    assert outage.confirmed_at is None


def test_dismissing_needs_a_reason_then_the_page_says_dismissed(ops, api):
    outage = _opened(api)
    url = reverse("ops-outage-dismiss", args=[outage.pk])
    response = ops.post(url, {"dismiss-reason": ""})
    assert response.status_code == 200 and "This field is required." in _text(response)
    response = ops.post(url, {"dismiss-reason": "Probe pointed at staging"})
    assert response.status_code == 302
    html = _text(ops.get(reverse("ops-outage", args=[outage.pk])))
    assert "Dismissed as a false alarm" in html and "Probe pointed at staging" in html
    assert "/confirm/" not in html and "/dismiss/" not in html


def test_a_recorded_outage_has_no_triage_forms(ops, api):
    outage = outage_record(
        service=api, started_at=STARTS, category="internal", title="Typed", actor=None
    )
    html = _text(ops.get(reverse("ops-outage", args=[outage.pk])))
    assert "/confirm/" not in html and "Dismissed" not in html


def test_confirming_an_outage_dismissed_meanwhile_says_so(ops, api):
    outage = _opened(api)
    outage_dismiss(outage=outage, actor=None, reason="Flapping probe")
    data = {
        "confirm-confirmed_at": "2026-11-18T08:30",
        "confirm-category": "internal",
        "confirm-impact": "major_outage",
    }
    response = ops.post(reverse("ops-outage-confirm", args=[outage.pk]), data, follow=True)
    assert "This outage was dismissed: it stays so." in _text(response)


# ---------------------------------------------------------------- /ops/alerts/


def test_a_new_source_shows_its_token_once_and_keeps_only_its_hash(ops, client, api):
    response = ops.post(reverse("ops-alert-source-new"), {"name": "Alertmanager (prod)"})
    assert response.status_code == 302
    html = ops.get(reverse("ops-alerts")).content.decode()
    token = re.search(r'data-testid="alert-source-token">([^<]+)<', html).group(1)
    source = AlertSource.objects.get()
    assert token not in source.token_sha256 and len(source.token_sha256) == 64
    assert "alert-source-token" not in ops.get(reverse("ops-alerts")).content.decode()
    route(api)
    assert deliver(client, payload(alert()), token).json()["opened"] == 1


def test_a_source_name_is_needed_and_unique(ops):
    alert_source_create(name="Prod", actor=None)
    for name, message in (("", "This field is required."), ("prod", "exists already")):
        response = ops.post(reverse("ops-alert-source-new"), {"name": name})
        assert response.status_code == 200 and message in _text(response)
    assert AlertSource.objects.count() == 1


def test_a_deactivated_sources_alerts_are_refused(ops, client, api):
    source, token = alert_source_create(name="Prod", actor=None)
    response = ops.post(reverse("ops-alert-source-deactivate", args=[source.pk]), follow=True)
    assert "deactivated" in _text(response)
    assert deliver(client, payload(alert()), token).status_code == 403


def _route_form(service, **changes):
    data = {"label": "service", "value": "api", "service": service.pk, "category": "internal"}
    return {"impact": "", "source": "", "position": "100", **data, **changes}


def test_routes_are_added_with_clear_errors(ops, api):
    response = ops.post(reverse("ops-alert-route-new"), _route_form(api))
    assert response.status_code == 302
    [added] = AlertRoute.objects.all()
    assert (added.value, added.service, added.impact) == ("api", api, "major_outage")
    again = ops.post(reverse("ops-alert-route-new"), _route_form(api))
    assert again.status_code == 200 and "A route for service=api from this source exists" in _text(
        again
    )
    blank = ops.post(reverse("ops-alert-route-new"), _route_form(api, value=" ", position="-1"))
    text = _text(blank)
    assert "This field is required." in text and "greater than or equal to 0" in text
    assert AlertRoute.objects.count() == 1


def test_a_route_is_edited_and_deleted(ops, api):
    existing = route(api)
    url = reverse("ops-alert-route-edit", args=[existing.pk])
    assert 'value="api"' in ops.get(url).content.decode()
    response = ops.post(url, _route_form(api, value="public-api", category="third_party"))
    assert response.status_code == 302
    existing.refresh_from_db()
    assert (existing.value, existing.category) == ("public-api", "third_party")
    ops.post(reverse("ops-alert-route-delete", args=[existing.pk]))
    assert not AlertRoute.objects.exists()


def test_the_alerts_page_lists_routes_and_unrouted_alerts(ops, client, api):
    _, token = alert_source_create(name="Prod", actor=None)
    route(api)
    labels = {"alertname": "DiskFull", "service": "billing"}
    stray = alert("0123456789abcdef", labels=labels, summary="Disk full on billing-db")
    deliver(client, payload(alert(), stray), token)
    html = _text(ops.get(reverse("ops-alerts")))
    assert "<code>service=api</code>" in html and "Public API" in html
    assert "Unrouted" in html and "<code>service=billing</code>" in html
    assert f'href="/ops/outages/{Outage.objects.get().pk}/">API answers 503</a>' in html
    only = _text(ops.get(reverse("ops-alerts"), {"unrouted": "1"}))
    assert "Disk full on billing-db" in only and "API answers 503" not in only
    assert Alert.objects.count() == 2


@pytest.mark.parametrize("name", ["ops-alerts", "ops-alert-source-new"])
def test_alert_pages_are_for_operations(client, agent, name):
    client.force_login(agent)
    assert client.get(reverse(name)).status_code == 403


def test_recent_alerts_are_paged_newest_first(ops):
    source, _ = alert_source_create(name="Prod", actor=None)
    for minute in range(30):
        Alert.objects.create(
            source=source,
            fingerprint=f"{minute:016x}",
            starts_at=STARTS - timedelta(minutes=minute),
            labels={"alertname": f"Probe{minute:02d}"},
            received_at=STARTS,
            updated_at=STARTS,
        )
    first = _text(ops.get(reverse("ops-alerts")))
    assert "Probe00" in first and "Probe24" in first and "Probe25" not in first
    assert "30 in all" in first
    after = re.search(r'href="\?(after=[^"]+)" rel="next"', first).group(1)
    second = _text(ops.get(f"{reverse('ops-alerts')}?{after}"))
    assert "Probe25" in second and "Probe29" in second and "Probe24" not in second
