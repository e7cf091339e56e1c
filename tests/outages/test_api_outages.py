"""The REST API's outages: operations record and manage them; customers read only the
outages that reach their organisation, and only their public part."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from outages import services as outage_services
from outages.models import Outage, OutageUpdate
from tests.support.api_helpers import API, client_for
from tests.support.factories import ContractLineFactory, StaffFactory

URL = f"{API}outages/"


def record(service, **changes) -> Outage:
    now = timezone.now()
    terms = {
        "service": service,
        "started_at": now - timedelta(hours=2),
        "category": "internal",
        "title": "Search is down",
        "actor": None,
        "now": now,
        **changes,
    }
    return outage_services.outage_record(**terms)


def ids(response) -> list[int]:
    assert response.status_code == 200, response.json()
    return [row["id"] for row in response.json()["results"]]


@pytest.fixture
def service(contract):
    """The customer's service (the `contract` fixture's only line)."""
    return contract.lines.get().service


@pytest.fixture
def shared(service, other_contract):
    """The other customer holds the same service too."""
    ContractLineFactory(contract=other_contract, service=service)
    return service


def payload(service, **changes) -> dict:
    start = timezone.now() - timedelta(hours=3)
    return {
        "service": service.pk,
        "started_at": start.isoformat(),
        "category": "internal",
        "title": "Editor unavailable",
        "description": "Users cannot open the editor.",
        "internal_notes": "Disk full on db-2.",
        **changes,
    }


# ---------------------------------------------------------------- recording


def test_operations_records_an_outage_with_its_first_public_update(operations, service):
    response = client_for(operations).post(URL, payload(service), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    outage = Outage.objects.get()
    assert body["id"] == outage.pk
    assert (body["service"], body["category"], body["scope"], body["customers"]) == (
        service.pk,
        "internal",
        "all",
        [],
    )
    assert body["ended_at"] is None
    assert body["internal_notes"] == "Disk full on db-2."
    assert outage.created_by == operations
    assert [(u["text"], u["public"]) for u in body["updates"]] == [
        ("Users cannot open the editor.", True)
    ]


def test_operations_records_an_outage_scoped_to_chosen_customers(
    operations, shared, customer, other_customer
):
    data = payload(shared, scope="customers", customers=[customer.pk, other_customer.pk])
    response = client_for(operations).post(URL, data, format="json")
    assert response.status_code == 201, response.json()
    assert sorted(response.json()["customers"]) == sorted([customer.pk, other_customer.pk])
    assert set(Outage.objects.get().customers.all()) == {customer, other_customer}


def test_admin_may_record_an_outage(admin_user, service):
    assert client_for(admin_user).post(URL, payload(service), format="json").status_code == 201


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"ended_at": "2026-01-01T00:00:00Z"}, "ended_at", "must end after it starts"),
        ({"started_at": "2999-01-01T00:00:00Z"}, "started_at", "cannot start in the future"),
        ({"category": "gremlins"}, "category", "gremlins"),
        ({"scope": "customers", "customers": []}, "customers", "at least one customer"),
        ({"scope": "customers"}, "customers", "at least one customer"),
        ({"scope": "everyone"}, "scope", "everyone"),
        ({"started_at": "2026-06-01T10:00:00"}, "started_at", "time zone"),
    ],
)
def test_a_bad_outage_is_refused_naming_the_field_and_nothing_saved(
    operations, service, changes, field, words
):
    response = client_for(operations).post(URL, payload(service, **changes), format="json")
    assert response.status_code == 400
    assert words in " ".join(response.json()[field])
    assert not Outage.objects.exists()
    assert not OutageUpdate.objects.exists()


def test_a_scope_naming_a_customer_without_the_service_is_refused(
    operations, service, customer, other_customer, other_contract
):
    data = payload(service, scope="customers", customers=[customer.pk, other_customer.pk])
    response = client_for(operations).post(URL, data, format="json")
    assert response.status_code == 400
    assert f"{other_customer.name} has no contract for" in " ".join(response.json()["customers"])
    assert not Outage.objects.exists()


def test_maintenance_may_be_announced_ahead(operations, service):
    start = timezone.now() + timedelta(days=3)
    data = payload(
        service,
        category="scheduled_maintenance",
        started_at=start.isoformat(),
        ended_at=(start + timedelta(hours=2)).isoformat(),
        announced_at=timezone.now().isoformat(),
    )
    response = client_for(operations).post(URL, data, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["announced_at"] is not None


@pytest.mark.parametrize("who", ["customer_user", "customer_admin", "agent", "account_manager"])
def test_only_operations_and_admins_record_outages(who, request, service):
    client = client_for(request.getfixturevalue(who))
    assert client.post(URL, payload(service), format="json").status_code == 403
    assert not Outage.objects.exists()


def test_anonymous_callers_are_refused(service):
    outage = record(service)
    client = client_for(None)
    assert client.get(URL).status_code in (401, 403)
    assert client.get(f"{URL}{outage.pk}/").status_code in (401, 403)
    assert client.post(URL, payload(service), format="json").status_code in (401, 403)


# ---------------------------------------------------------------- changing, updates, closing


def test_operations_changes_an_outage(operations, shared, customer):
    outage = record(shared)
    response = client_for(operations).patch(
        f"{URL}{outage.pk}/",
        {"title": "Editor slow", "scope": "customers", "customers": [customer.pk]},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert (response.json()["title"], response.json()["customers"]) == (
        "Editor slow",
        [customer.pk],
    )
    outage.refresh_from_db()
    assert (outage.title, outage.scope) == ("Editor slow", "customers")


def test_a_bad_change_is_refused_and_nothing_changes(operations, service):
    outage = record(service)
    response = client_for(operations).patch(
        f"{URL}{outage.pk}/", {"ended_at": "2020-01-01T00:00:00Z"}, format="json"
    )
    assert response.status_code == 400
    assert "ended_at" in response.json()
    outage.refresh_from_db()
    assert outage.ended_at is None


def test_operations_posts_public_and_internal_updates(operations, customer_user, service):
    outage = record(service)
    client = client_for(operations)
    public = client.post(f"{URL}{outage.pk}/updates/", {"text": "Fix deploying."}, format="json")
    assert public.status_code == 201, public.json()
    assert (public.json()["text"], public.json()["public"]) == ("Fix deploying.", True)
    internal = client.post(
        f"{URL}{outage.pk}/updates/", {"text": "Root cause: db-2.", "public": False}
    )
    assert internal.status_code == 201
    blank = client.post(f"{URL}{outage.pk}/updates/", {"text": "  "}, format="json")
    assert blank.status_code == 400
    assert "text" in blank.json()

    staff_view = client.get(f"{URL}{outage.pk}/").json()
    assert [u["text"] for u in staff_view["updates"]][1:] == ["Fix deploying.", "Root cause: db-2."]
    customer_view = client_for(customer_user).get(f"{URL}{outage.pk}/").json()
    assert "Root cause: db-2." not in str(customer_view)
    assert [u["text"] for u in customer_view["updates"]][1:] == ["Fix deploying."]


def test_operations_closes_an_outage_with_a_public_update(operations, service):
    outage = record(service)
    ended = timezone.now() - timedelta(minutes=5)
    client = client_for(operations)
    response = client.post(
        f"{URL}{outage.pk}/close/",
        {"ended_at": ended.isoformat(), "text": "Restored."},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["updates"][-1]["text"] == "Restored."
    outage.refresh_from_db()
    assert outage.ended_at == ended
    again = client.post(f"{URL}{outage.pk}/close/", {"ended_at": ended.isoformat()}, format="json")
    assert again.status_code == 400
    assert "already closed" in " ".join(again.json()["ended_at"])


def test_closing_needs_an_end_after_the_start(operations, service):
    outage = record(service)
    client = client_for(operations)
    missing = client.post(f"{URL}{outage.pk}/close/", {}, format="json")
    assert "ended_at" in missing.json()
    early = client.post(
        f"{URL}{outage.pk}/close/", {"ended_at": "2020-01-01T00:00:00Z"}, format="json"
    )
    assert early.status_code == 400
    assert "must end after it starts" in " ".join(early.json()["ended_at"])
    outage.refresh_from_db()
    assert outage.ended_at is None
    assert outage.updates.count() == 1


@pytest.mark.parametrize("who", ["customer_user", "agent", "account_manager"])
def test_only_operations_and_admins_change_update_and_close(who, request, service):
    outage = record(service)
    client = client_for(request.getfixturevalue(who))
    assert client.patch(f"{URL}{outage.pk}/", {"title": "x"}, format="json").status_code == 403
    assert client.post(f"{URL}{outage.pk}/updates/", {"text": "x"}).status_code == 403
    closing = {"ended_at": timezone.now().isoformat()}
    assert client.post(f"{URL}{outage.pk}/close/", closing).status_code == 403
    outage.refresh_from_db()
    assert (outage.title, outage.ended_at, outage.updates.count()) == ("Search is down", None, 1)


# ---------------------------------------------------------------- what customers see


def test_customer_sees_only_outages_that_reach_their_organisation(
    customer_user, customer, other_customer, shared, other_contract
):
    theirs_only = other_contract.lines.exclude(service=shared).get().service
    everyone = record(shared, title="Everyone on the shared service")
    for_them = record(shared, scope="customers", customers=[customer], title="Just them")
    for_both = record(shared, scope="customers", customers=[customer, other_customer], title="Both")
    for_other = record(shared, scope="customers", customers=[other_customer], title="Other")
    elsewhere = record(theirs_only, title="A service they do not have")

    client = client_for(customer_user)
    assert sorted(ids(client.get(URL))) == sorted([everyone.pk, for_them.pk, for_both.pk])
    for hidden in (for_other, elsewhere):
        assert client.get(f"{URL}{hidden.pk}/").status_code == 404
    both = client.get(f"{URL}{for_both.pk}/").json()
    assert (both["scope"], both["customers"]) == ("customers", [customer.pk])
    assert client.get(f"{URL}{everyone.pk}/").json()["customers"] == []


def test_customer_never_sees_internal_notes(customer_user, operations, service):
    outage = record(service, internal_notes="Blame the intern.", description="Down.")
    body = client_for(customer_user).get(f"{URL}{outage.pk}/").json()
    assert "internal_notes" not in body
    assert "Blame the intern." not in str(client_for(customer_user).get(URL).json())
    assert client_for(operations).get(f"{URL}{outage.pk}/").json()["internal_notes"] == (
        "Blame the intern."
    )


@pytest.mark.parametrize("role", ["agent", "operations", "account_manager", "admin"])
def test_every_staff_role_reads_every_outage(role, service, other_contract, other_customer):
    other_service = other_contract.lines.get().service
    mine = record(service)
    theirs = record(other_service, scope="customers", customers=[other_customer])
    client = client_for(StaffFactory(role=role))
    assert sorted(ids(client.get(URL))) == sorted([mine.pk, theirs.pk])
    assert client.get(f"{URL}{theirs.pk}/").json()["customers"] == [other_customer.pk]


def test_a_person_with_neither_organisation_nor_role_sees_no_outage(service):
    outage = record(service)
    client = client_for(StaffFactory(role="unrelated-group"))
    assert ids(client.get(URL)) == []
    assert client.get(f"{URL}{outage.pk}/").status_code == 404


@pytest.mark.parametrize("method", ["get", "patch", "updates", "close"])
def test_another_customers_outage_is_out_of_reach_on_every_endpoint(
    method, customer_user, contract, other_contract
):
    outage = record(other_contract.lines.get().service)
    client = client_for(customer_user)
    calls = {
        "get": lambda: client.get(f"{URL}{outage.pk}/"),
        "patch": lambda: client.patch(f"{URL}{outage.pk}/", {"title": "x"}, format="json"),
        "updates": lambda: client.post(f"{URL}{outage.pk}/updates/", {"text": "x"}),
        "close": lambda: client.post(f"{URL}{outage.pk}/close/", {"ended_at": "2026-01-01"}),
    }
    # Reads are a 404; writes are refused outright (customers never write outages).
    assert calls[method]().status_code == (404 if method == "get" else 403)
    outage.refresh_from_db()
    assert (outage.title, outage.ended_at, outage.updates.count()) == ("Search is down", None, 1)


# ---------------------------------------------------------------- filters and pages


def test_outage_filters(agent, customer, other_customer, shared, other_contract):
    now = timezone.now()
    other_service = other_contract.lines.exclude(service=shared).get().service
    old = record(shared, started_at=now - timedelta(days=10), ended_at=now - timedelta(days=9))
    open_ = record(shared, category="third_party")
    scoped = record(shared, scope="customers", customers=[other_customer])
    theirs = record(other_service)
    client = client_for(agent)

    def found(**params) -> set[int]:
        return set(ids(client.get(URL, params)))

    assert found(service=other_service.pk) == {theirs.pk}
    assert found(category="third_party") == {open_.pk}
    assert found(scope="customers") == {scoped.pk}
    assert found(customer=customer.pk) == {old.pk, open_.pk}
    assert found(customer=other_customer.pk) == {old.pk, open_.pk, scoped.pk, theirs.pk}
    assert found(ongoing="true") == {open_.pk, scoped.pk, theirs.pk}
    assert found(ongoing="false") == {old.pk}
    cut = (now - timedelta(days=5)).isoformat()
    assert found(started_before=cut) == {old.pk}
    assert found(started_after=cut) == {open_.pk, scoped.pk, theirs.pk}
    assert client.get(URL, {"category": "gremlins"}).status_code == 400


def test_customer_filter_tells_a_customer_nothing_about_another(
    customer_user, customer, other_customer, shared
):
    outage = record(shared)
    client = client_for(customer_user)
    assert ids(client.get(URL, {"customer": customer.pk})) == [outage.pk]
    assert ids(client.get(URL, {"customer": other_customer.pk})) == []


def test_outages_are_paginated_newest_first(agent, service):
    now = timezone.now()
    made = [record(service, started_at=now - timedelta(hours=h)) for h in (3, 2, 1)]
    client = client_for(agent)
    body = client.get(URL, {"page_size": 2}).json()
    assert (ids_of(body), body["previous"]) == ([made[2].pk, made[1].pk], None)
    last = client.get(body["next"]).json()
    assert (ids_of(last), last["next"]) == ([made[0].pk], None)
    assert ids_of(client.get(last["previous"]).json()) == [made[2].pk, made[1].pk]


def ids_of(body) -> list[int]:
    return [row["id"] for row in body["results"]]


def test_list_queries_do_not_grow_with_the_outages(agent, shared, customer, other_customer):
    client = client_for(agent)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(URL).status_code == 200
        return len(captured)

    record(shared)
    few = queries()
    for _ in range(4):
        outage = record(shared, scope="customers", customers=[customer, other_customer])
        outage_services.outage_post_update(outage=outage, text="More.", public=False, actor=None)
    assert queries() == few
