"""POST /hooks/alertmanager/: Alertmanager's webhook (payload version 4), each source with
its own bearer token. A routed firing alert opens one unconfirmed outage from its
startsAt; repeats and regroupings change nothing; its resolution ends the outage."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client

from outages.alert_config import alert_source_create, alert_source_deactivate
from outages.models import Alert, Outage, OutageUpdate, Stage
from outages.selectors import unconfirmed_outages
from outages.triage import outage_dismiss
from tests.support.alert_helpers import (
    ENDS,
    FINGERPRINT,
    STARTS,
    alert,
    alert_source_fixture,  # noqa: F401  (the alert_source fixture)
    deliver,
    payload,
    route,
)
from tests.support.api_helpers import API, client_for
from tests.support.concurrency import run_concurrently
from tests.support.factories import ServiceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def service(contract):
    return contract.lines.first().service


@pytest.fixture
def token(alert_source, service):
    route(service)
    return alert_source[1]


def _outages():
    return list(Outage.objects.all())


# ---------------------------------------------------------------- who may send


def test_no_token_is_a_401_with_a_bearer_challenge(client, token):
    response = deliver(client, payload(alert()), None)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "Authorization: Bearer" in response.json()["detail"]
    assert _outages() == [] and not Alert.objects.exists()


@pytest.mark.parametrize("header", ["Bearer not-the-token", "Token {token}", "Bearer "])
def test_a_wrong_token_is_a_401(client, token, header):
    response = deliver(
        client, payload(alert()), None, HTTP_AUTHORIZATION=header.format(token=token)
    )
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert _outages() == []


def test_an_inactive_sources_token_is_a_403(client, token, alert_source):
    alert_source_deactivate(source=alert_source[0], actor=None)
    response = deliver(client, payload(alert()), token)
    assert response.status_code == 403
    assert response.json() == {"detail": "This alert source is inactive."}
    assert _outages() == []


def test_the_webhook_takes_only_a_post(client, token):
    response = client.get("/hooks/alertmanager/", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 405


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ("{not json", "non_field_errors", "The body is not JSON"),
        ([], "non_field_errors", "Expected a dictionary"),
        ({**payload(alert()), "version": "3"}, "version", "Only version 4 payloads are read."),
        ({"version": "4"}, "alerts", "This field is required."),
        (payload({**alert(), "status": "pending"}), "alerts", "not a valid choice"),
        (payload({**alert(), "startsAt": "yesterday"}), "alerts", "Datetime has wrong format"),
        (payload({**alert(), "startsAt": "2026-11-18T13:00:00"}), "alerts", "time zone"),
        (payload({**alert(), "fingerprint": ""}), "alerts", "may not be blank"),
        (payload({**alert(), "labels": {"service": {"x": 1}}}), "alerts", "Not a valid string"),
        (payload({**alert(), "status": "resolved"}), "alerts", "A resolved alert gives its end."),
    ],
)
def test_a_malformed_payload_is_a_400_naming_the_field_and_writes_nothing(
    client, token, body, field, message
):
    good = alert("0000000000000001")
    if isinstance(body, dict) and "alerts" in body:
        body = {**body, "alerts": [good, *body["alerts"]]}  # a good alert beside it
    response = deliver(client, body, token)
    assert response.status_code == 400
    errors = response.json()
    assert field in errors and message in str(errors[field])
    assert _outages() == [] and not Alert.objects.exists()


# ---------------------------------------------------------------- firing, repeats, resolution


def test_a_firing_alert_opens_one_unconfirmed_outage_from_its_start(client, token, service):
    response = deliver(client, payload(alert()), token)
    assert response.status_code == 200
    assert response.json() == {
        "opened": 1,
        "resolved": 0,
        "unchanged": 0,
        "unrouted": 0,
        "refused": [],
    }
    [outage] = _outages()
    assert (outage.service, outage.started_at, outage.ended_at) == (service, STARTS, None)
    assert (outage.source, outage.confirmed_at, outage.is_unconfirmed) == ("alert", None, True)
    assert (outage.category, outage.impact, outage.title) == (
        "internal",
        "major_outage",
        "API answers 503",
    )
    assert "service=api" in outage.internal_notes and "prometheus.example" in outage.internal_notes
    assert list(unconfirmed_outages()) == [outage]
    row = Alert.objects.get()
    assert (row.fingerprint, row.starts_at, row.ends_at, row.outage) == (
        FINGERPRINT,
        STARTS,
        None,
        outage,
    )


def test_customers_see_nothing_of_an_unconfirmed_outage(client, token, customer_user):
    deliver(client, payload(alert()), token)
    outage = Outage.objects.get()
    api = client_for(customer_user)
    assert api.get(f"{API}outages/").json()["results"] == []
    assert api.get(f"{API}outages/{outage.pk}/").status_code == 404


def test_the_same_alert_again_changes_nothing(client, token):
    deliver(client, payload(alert()), token)
    response = deliver(client, payload(alert(summary="API answers 503 (still)")), token)
    assert response.json()["unchanged"] == 1 and response.json()["opened"] == 0
    [outage] = _outages()
    assert outage.title == "API answers 503"
    assert OutageUpdate.objects.filter(outage=outage).count() == 1
    assert Alert.objects.get().annotations["summary"] == "API answers 503 (still)"


def test_a_regrouped_alert_changes_nothing(client, token, service):
    deliver(client, payload(alert()), token)
    # The same alert in another route's group, beside an alert of its own.
    other = alert("77aa77aa77aa77aa", labels={"alertname": "ApiSlow", "service": "api"})
    regrouped = payload(alert(), other, group_key='{}/{service="api"}:{service="api"}')
    response = deliver(client, regrouped, token)
    assert (response.json()["opened"], response.json()["unchanged"]) == (1, 1)
    assert Outage.objects.count() == 2
    assert Alert.objects.get(fingerprint=FINGERPRINT).outage.title == "API answers 503"


def test_a_resolved_alert_ends_its_outage_at_its_end(client, token):
    resolved = payload(alert(status="resolved", ends=ENDS))
    deliver(client, payload(alert()), token)
    assert deliver(client, resolved, token).json()["resolved"] == 1
    [outage] = _outages()
    assert outage.ended_at == ENDS
    last = outage.updates.order_by("-posted_at", "-pk").first()
    assert (last.public, last.stage) == (True, Stage.RESOLVED)
    # Resolved again (another group): the end stays, nothing is posted.
    assert deliver(client, resolved, token).json()["unchanged"] == 1
    # A stale firing delivery from a slower group does not reopen it.
    assert deliver(client, payload(alert()), token).json()["unchanged"] == 1
    outage.refresh_from_db()
    assert outage.ended_at == ENDS and outage.updates.count() == 2


def test_an_alert_first_seen_resolved_opens_an_ended_outage(client, token):
    deliver(client, payload(alert(status="resolved", ends=ENDS)), token)
    [outage] = _outages()
    assert (outage.started_at, outage.ended_at, outage.is_unconfirmed) == (STARTS, ENDS, True)


def test_a_dismissed_outage_is_still_ended_when_its_alert_resolves(client, token, operations):
    deliver(client, payload(alert()), token)
    outage_dismiss(outage=Outage.objects.get(), actor=operations, reason="Probe misconfigured")
    deliver(client, payload(alert(status="resolved", ends=ENDS)), token)
    outage = Outage.objects.get()
    assert outage.is_dismissed and outage.ended_at == ENDS


# ---------------------------------------------------------------- routing


def test_an_unrouted_alert_is_kept_and_routed_once_a_route_exists(client, token, service):
    stray = alert("0123456789abcdef", labels={"alertname": "DiskFull", "service": "billing"})
    assert deliver(client, payload(stray), token).json()["unrouted"] == 1
    row = Alert.objects.get()
    assert (row.outage, row.route, row.labels["service"]) == (None, None, "billing")
    assert _outages() == []

    billing = route(service, value="billing", category="performance_degradation")
    assert deliver(client, payload(stray), token).json()["opened"] == 1
    row.refresh_from_db()
    assert row.route == billing and row.outage.category == "performance_degradation"
    assert row.outage.impact == "degraded"  # from the cause, as the route left it


def test_routes_are_tried_by_position_and_a_sources_route_only_for_it(client, token, alert_source):
    first, second, elsewhere = ServiceFactory(), ServiceFactory(), ServiceFactory()
    other_source, _ = alert_source_create(name="Staging", actor=None)
    labels = {"alertname": "QueueStuck", "team": "core", "queue": "mail"}
    route(elsewhere, label="queue", value="mail", position=1, source=other_source)
    route(second, label="team", value="core", position=20)
    route(first, label="queue", value="mail", position=10, source=alert_source[0])
    deliver(client, payload(alert("feedfeedfeedfeed", labels=labels)), token)
    assert Outage.objects.get().service == first


# ---------------------------------------------------------------- refused alerts


def test_an_alert_starting_in_the_future_is_refused_and_the_others_are_stored(
    client, token, frozen_now
):
    future = alert("00000000000000ff", starts=frozen_now + timedelta(hours=1))
    response = deliver(client, payload(future, alert()), token)
    assert response.status_code == 200
    body = response.json()
    assert body["opened"] == 1
    [refused] = body["refused"]
    assert refused["fingerprint"] == "00000000000000ff"
    assert "starts in the future" in refused["errors"]["startsAt"][0]
    assert list(Alert.objects.values_list("fingerprint", flat=True)) == [FINGERPRINT]


def test_an_alert_that_ends_before_it_starts_is_refused(client, token):
    backwards = alert(status="resolved", starts=ENDS, ends=STARTS)
    [refused] = deliver(client, payload(backwards), token).json()["refused"]
    assert refused["errors"] == {"endsAt": ["An alert must end after it starts."]}
    assert _outages() == [] and not Alert.objects.exists()


def test_a_start_a_little_ahead_of_our_clock_reads_as_now(client, token, frozen_now):
    deliver(client, payload(alert(starts=frozen_now + timedelta(minutes=2))), token)
    assert Outage.objects.get().started_at == frozen_now


def test_deliveries_of_one_alert_at_once_open_one_outage(postgres, transactional_db, token):
    body = payload(alert())
    results = run_concurrently(lambda _: deliver(Client(), body, token).json(), 4)
    assert sorted(r["opened"] for r in results) == [0, 0, 0, 1], results
    assert Outage.objects.count() == 1 and Alert.objects.count() == 1
