"""Operations' triage of an outage a monitoring alert opened: confirm it (when, cause,
impact) or dismiss it as a false alarm, in the services and through the API; who may,
what the audit log keeps, what customers then see."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from audit.models import AuditEntry
from outages.models import Outage, ReissueRequest
from outages.services import outage_record
from outages.triage import outage_confirm, outage_dismiss
from tests.support.alert_helpers import ENDS, STARTS
from tests.support.api_helpers import API, client_for

pytestmark = pytest.mark.django_db

CONFIRMED = datetime(2026, 11, 18, 13, 30, tzinfo=UTC)


@pytest.fixture
def service(contract):
    return contract.lines.first().service


def _opened(service, started=STARTS, ended=ENDS) -> Outage:
    """An outage as a routed alert opens it."""
    return outage_record(
        service=service,
        started_at=started,
        ended_at=ended,
        category="internal",
        title="API answers 503",
        source=Outage.Source.ALERT,
        actor=None,
    )


@pytest.fixture
def opened(service) -> Outage:
    return _opened(service)


# ---------------------------------------------------------------- confirm


def test_confirming_records_when_and_may_recategorise(opened, operations):
    outage = outage_confirm(
        outage=opened,
        actor=operations,
        confirmed_at=CONFIRMED,
        category="third_party",
        impact="partial_outage",
    )
    outage.refresh_from_db()
    assert (outage.confirmed_at, outage.category, outage.impact) == (
        CONFIRMED,
        "third_party",
        "partial_outage",
    )
    assert not outage.is_unconfirmed
    entry = AuditEntry.objects.get(action="outage.confirm")
    assert (entry.actor, entry.object_id) == (operations, str(outage.pk))
    assert entry.changes["confirmed_at"]["before"] is None
    assert entry.changes["category"] == {"before": "internal", "after": "third_party"}


def test_confirming_without_a_time_confirms_now(opened, operations, frozen_now):
    assert outage_confirm(outage=opened, actor=operations).confirmed_at == frozen_now


@pytest.mark.parametrize(
    ("when", "message"),
    [
        (STARTS - timedelta(minutes=1), "cannot be confirmed before it starts"),
        (datetime(2026, 11, 18, 16, tzinfo=UTC), "Confirmation cannot be in the future."),
    ],
)
def test_a_confirmation_before_the_start_or_in_the_future_is_refused(
    opened, operations, when, message
):
    with pytest.raises(ValidationError) as refused:
        outage_confirm(outage=opened, actor=operations, confirmed_at=when)
    assert message in str(refused.value.message_dict["confirmed_at"])
    opened.refresh_from_db()
    assert opened.confirmed_at is None and not AuditEntry.objects.filter(action="outage.confirm")


def test_an_outage_is_confirmed_once(opened, operations):
    outage_confirm(outage=opened, actor=operations, confirmed_at=CONFIRMED)
    with pytest.raises(ValidationError, match="confirmed already, at 2026-11-18 13:30 UTC"):
        outage_confirm(outage=opened, actor=operations)


# ---------------------------------------------------------------- dismiss


def test_dismissing_keeps_the_reason_and_who(opened, operations, frozen_now):
    outage = outage_dismiss(outage=opened, actor=operations, reason="  Probe   misconfigured ")
    outage.refresh_from_db()
    assert (outage.dismissed_at, outage.dismissed_by, outage.dismiss_reason) == (
        frozen_now,
        operations,
        "Probe misconfigured",
    )
    assert outage.is_dismissed and not outage.is_unconfirmed
    entry = AuditEntry.objects.get(action="outage.dismiss")
    assert (entry.actor, entry.reason) == (operations, "Probe misconfigured")


def test_a_dismissal_needs_a_reason(opened, operations):
    with pytest.raises(ValidationError) as refused:
        outage_dismiss(outage=opened, actor=operations, reason="  ")
    assert refused.value.message_dict == {"reason": ["Say why the outage is dismissed."]}


def test_only_an_unconfirmed_alert_outage_may_be_dismissed(opened, operations, service):
    outage_confirm(outage=opened, actor=operations, confirmed_at=CONFIRMED)
    manual = outage_record(
        service=service, started_at=STARTS, category="internal", title="By hand", actor=None
    )
    for outage in (opened, manual):
        with pytest.raises(ValidationError, match="Only an outage opened by an alert"):
            outage_dismiss(outage=outage, actor=operations, reason="Oops")


def test_a_dismissed_outage_cannot_be_confirmed(opened, operations):
    outage_dismiss(outage=opened, actor=operations, reason="Probe misconfigured")
    with pytest.raises(ValidationError, match="dismissed"):
        outage_confirm(outage=opened, actor=operations)


@pytest.mark.parametrize("role", ["agent", "account_manager"])
def test_only_operations_and_administrators_triage(opened, role, request, admin_user):
    someone = request.getfixturevalue(role)
    with pytest.raises(PermissionDenied):
        outage_confirm(outage=opened, actor=someone)
    with pytest.raises(PermissionDenied):
        outage_dismiss(outage=opened, actor=someone, reason="Not mine")
    assert outage_confirm(outage=opened, actor=admin_user).confirmed_at is not None
    assert not AuditEntry.objects.filter(actor=someone).exists()


def test_triage_in_an_ended_month_asks_for_its_statements_again(service, contract, operations):
    october = _opened(
        service,
        started=datetime(2026, 10, 20, 13, tzinfo=UTC),
        ended=datetime(2026, 10, 20, 14, tzinfo=UTC),
    )
    ReissueRequest.objects.all().delete()  # the one its recording opened
    outage_dismiss(outage=october, actor=operations, reason="Probe misconfigured")
    [request] = ReissueRequest.objects.filter(resolved_at=None)
    assert (request.contract, request.month.isoformat(), request.outage) == (
        contract,
        "2026-10-01",
        october,
    )


# ---------------------------------------------------------------- the API


def _url(outage: Outage, action: str = "") -> str:
    return f"{API}outages/{outage.pk}/" + (f"{action}/" if action else "")


def test_operations_confirm_through_the_api(opened, operations):
    body = {"confirmed_at": "2026-11-18T08:30:00-05:00", "impact": "degraded"}
    response = client_for(operations).post(_url(opened, "confirm"), body, format="json")
    assert response.status_code == 200, response.json()
    data = response.json()
    assert (data["confirmed_at"], data["impact"], data["source"]) == (
        "2026-11-18T13:30:00Z",
        "degraded",
        "alert",
    )
    assert (data["dismissed_at"], data["dismiss_reason"]) == (None, "")


def test_a_refused_triage_in_the_api_is_a_400_naming_the_field(opened, operations):
    api = client_for(operations)
    early = {"confirmed_at": "2026-11-18T12:00:00Z"}
    response = api.post(_url(opened, "confirm"), early, format="json")
    assert response.status_code == 400
    assert "before it starts" in response.json()["confirmed_at"][0]
    response = api.post(_url(opened, "dismiss"), {"reason": ""}, format="json")
    assert response.json() == {"reason": ["Say why the outage is dismissed."]}
    assert api.post(_url(opened, "confirm"), {"category": "x"}, format="json").status_code == 400


def test_operations_dismiss_through_the_api_and_customers_never_see_it(
    opened, operations, customer_user, agent
):
    response = client_for(operations).post(
        _url(opened, "dismiss"), {"reason": "Probe misconfigured"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["dismiss_reason"] == "Probe misconfigured"
    # Staff read it, with the dismissal; the customer finds no such outage.
    staff = client_for(agent).get(_url(opened)).json()
    assert staff["dismissed_at"] is not None
    customer = client_for(customer_user)
    assert customer.get(_url(opened)).status_code == 404
    assert customer.get(f"{API}outages/").json()["results"] == []


def test_customers_may_not_triage_and_see_a_confirmed_outage_without_staff_fields(
    opened, operations, customer_user
):
    customer = client_for(customer_user)
    assert customer.post(_url(opened, "confirm"), {}, format="json").status_code == 403
    assert customer.post(_url(opened, "dismiss"), {"reason": "x"}, format="json").status_code == 403
    outage_confirm(outage=opened, actor=operations, confirmed_at=CONFIRMED)
    seen = customer.get(_url(opened)).json()
    assert (seen["confirmed_at"], seen["impact"], seen["source"]) == (
        "2026-11-18T13:30:00Z",
        "major_outage",
        "alert",
    )
    assert not {"dismissed_at", "dismiss_reason", "internal_notes"} & set(seen)
    assert [u["stage"] for u in seen["updates"]] == ["investigating"]


def test_updates_take_a_stage_in_the_api(operations, service):
    outage = outage_record(
        service=service, started_at=STARTS, category="internal", title="Down", actor=None
    )
    api = client_for(operations)
    body = {"text": "Found it: a bad deploy.", "stage": "identified"}
    response = api.post(_url(outage, "updates"), body, format="json")
    assert response.status_code == 201 and response.json()["stage"] == "identified"
    bad = api.post(_url(outage, "updates"), {"text": "x", "stage": "scheduled"}, format="json")
    assert bad.status_code == 400 and "stage" in bad.json()
    internal = {"text": "Paged the DBA.", "public": False, "stage": "monitoring"}
    assert "stage" in api.post(_url(outage, "updates"), internal, format="json").json()


def test_an_outage_is_recorded_with_its_impact_in_the_api(operations, service):
    body = {
        "service": service.pk,
        "started_at": "2026-11-18T13:00:00Z",
        "category": "internal",
        "impact": "partial_outage",
        "title": "Search is slow for some",
    }
    response = client_for(operations).post(f"{API}outages/", body, format="json")
    assert response.status_code == 201, response.json()
    assert (response.json()["impact"], response.json()["source"]) == ("partial_outage", "manual")
