"""The contracts REST API: tenancy, permissions, bad input, pagination, filters, auth."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from contracts import services
from contracts.models import Calendar, Contract, ContractLine, Customer, Invoice, SLAPolicy
from tests.factories import (
    ContractFactory,
    ContractLineFactory,
    CustomerFactory,
    CustomerUserFactory,
    InvoiceFactory,
    ServiceFactory,
    StaffFactory,
)

API = "/api/v1/"
WEEKDAY_HOURS = {day: [("03:00", "20:00")] for day in ("mon", "tue", "wed", "thu", "fri")}
BANDS = [
    {"lower_pct": "99.500", "upper_pct": None, "credit_pct": "0.00"},
    {"lower_pct": "98.000", "upper_pct": "99.500", "credit_pct": "5.00"},
    {"lower_pct": "95.000", "upper_pct": "98.000", "credit_pct": "10.00"},
    {"lower_pct": "90.000", "upper_pct": "95.000", "credit_pct": "35.00"},
    {"lower_pct": "0.000", "upper_pct": "90.000", "credit_pct": "50.00"},
]


def client_for(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


# ---------------------------------------------------------------- data


@pytest.fixture
def calendar(db) -> Calendar:
    return services.calendar_upsert(
        services.CalendarSpec(
            code="help-desk",
            name="Help desk",
            time_zone="America/New_York",
            hours=WEEKDAY_HOURS,
            holiday_country="US",
        )
    )


def policy_terms(calendar: Calendar, **changes) -> dict:
    return {
        "code": "tiered",
        "version": 1,
        "name": "Tiered SLA",
        "effective_from": date(2026, 1, 1),
        "target_availability": Decimal("99.500"),
        "measurement_calendar": calendar,
        "denominator_basis": "calendar_minutes",
        "downtime_starts_at": "detection",
        "credit_rule": "tiered",
        "support_calendar": calendar,
        **changes,
    }


def band_tuples() -> list[tuple]:
    return [(b["lower_pct"], b["upper_pct"], b["credit_pct"]) for b in BANDS]


@pytest.fixture
def policy(calendar) -> SLAPolicy:
    return services.policy_upsert(
        terms=policy_terms(calendar),
        bands=band_tuples(),
        exclusions=[services.ExclusionSpec("scheduled_maintenance", "removed", "§2.1")],
        severities=[
            services.SeveritySpec(
                1, "Critical", "Down", True, (60, "minutes"), (4, "business_days")
            )
        ],
    )


@pytest.fixture
def contract(customer, policy) -> Contract:
    contract = ContractFactory(customer=customer, policy=policy, start_date=date(2026, 1, 1))
    ContractLineFactory(contract=contract, monthly_fee=Decimal("1200.00"))
    return contract


@pytest.fixture
def other_contract(other_customer, policy) -> Contract:
    contract = ContractFactory(customer=other_customer, policy=policy)
    ContractLineFactory(contract=contract)
    return contract


@pytest.fixture
def invoice(contract) -> Invoice:
    return InvoiceFactory(contract=contract, due_on=date(2026, 1, 31))


@pytest.fixture
def other_invoice(other_contract) -> Invoice:
    return InvoiceFactory(contract=other_contract)


def calendar_payload(**changes) -> dict:
    return {
        "code": "ops-desk",
        "name": "Operations desk",
        "time_zone": "America/Chicago",
        "hours": {"mon": [["06:00", "12:00"], ["13:00", "24:00"]], "sat": [["00:00", "24:00"]]},
        "holiday_country": "US",
        "holiday_subdivision": "",
        "custom_holidays": [{"date": "2026-12-24", "name": "Christmas Eve"}],
        **changes,
    }


def policy_payload(**changes) -> dict:
    return {
        "code": "api-tiered",
        "version": 1,
        "name": "API tiered SLA",
        "effective_from": "2026-01-01",
        "target_availability": "99.500",
        "measurement_calendar": "help-desk",
        "denominator_basis": "calendar_minutes",
        "downtime_starts_at": "confirmation",
        "credit_rule": "tiered",
        "credit_cap_pct": "50.00",
        "support_calendar": "help-desk",
        "bands": BANDS,
        "exclusions": [
            {"category": "third_party", "treatment": "permitted", "clause": "Third parties."}
        ],
        "severities": [
            {
                "severity": 1,
                "name": "Critical",
                "description": "Production down.",
                "around_the_clock": True,
                "response": {"value": 60, "unit": "minutes"},
                "resolution": {"value": None, "unit": "none"},
            }
        ],
        **changes,
    }


def contract_payload(customer, service, **changes) -> dict:
    return {
        "customer": customer.pk,
        "policy": "tiered",
        "reference": "C-API-1",
        "start_date": "2026-02-01",
        "end_date": "2027-01-31",
        "currency": "USD",
        "lines": [{"service": service.pk, "monthly_fee": "1200.00"}],
        **changes,
    }


def errors_text(response) -> str:
    return str(response.json())


# ---------------------------------------------------------------- tenancy


@pytest.mark.parametrize("kind", ["customers", "contracts", "invoices"])
def test_customer_person_sees_only_their_own_organisation(
    kind, customer, other_customer, customer_user, invoice, other_invoice
):
    own = {"customers": customer, "contracts": invoice.contract, "invoices": invoice}[kind]
    foreign = {
        "customers": other_customer,
        "contracts": other_invoice.contract,
        "invoices": other_invoice,
    }[kind]
    client = client_for(customer_user)

    listed = client.get(f"{API}{kind}/").json()
    assert [row["id"] for row in listed["results"]] == [own.pk]
    assert listed["count"] == 1
    assert client.get(f"{API}{kind}/{own.pk}/").status_code == 200
    assert client.get(f"{API}{kind}/{foreign.pk}/").status_code == 404


def test_customer_person_cannot_reach_another_organisation_through_filters(
    customer_user, invoice, other_invoice
):
    client = client_for(customer_user)
    other = other_invoice.customer_id
    assert client.get(f"{API}contracts/", {"customer": other}).json()["count"] == 0
    assert client.get(f"{API}invoices/", {"customer": other}).json()["count"] == 0
    assert client.get(f"{API}invoices/", {"contract": other_invoice.contract_id}).json() == {
        "count": 0,
        "next": None,
        "previous": None,
        "results": [],
    }


@pytest.mark.parametrize("role", ["agent", "operations", "account_manager", "admin"])
def test_every_staff_role_reads_every_organisation(role, invoice, other_invoice):
    client = client_for(StaffFactory(role=role))
    for kind in ("customers", "contracts", "invoices"):
        assert client.get(f"{API}{kind}/").json()["count"] == 2
    assert client.get(f"{API}invoices/{other_invoice.pk}/").status_code == 200


def test_a_person_with_neither_organisation_nor_role_sees_no_customer_data(invoice):
    client = client_for(StaffFactory(role="unrelated-group"))
    for kind in ("customers", "contracts", "invoices"):
        assert client.get(f"{API}{kind}/").json()["count"] == 0
    assert client.get(f"{API}invoices/{invoice.pk}/").status_code == 404


def test_customers_read_the_shared_catalog_but_not_calendars(customer_user, policy):
    service = ServiceFactory()
    client = client_for(customer_user)
    assert client.get(f"{API}services/{service.pk}/").status_code == 200
    assert client.get(f"{API}policies/tiered/").status_code == 200
    assert client.get(f"{API}calendars/").status_code == 403
    assert client.get(f"{API}calendars/help-desk/").status_code == 403
    assert client_for(StaffFactory(role="agent")).get(f"{API}calendars/").status_code == 200


# ---------------------------------------------------------------- permissions


ENDPOINTS = ["customers", "services", "calendars", "policies", "contracts", "invoices"]


@pytest.mark.parametrize("kind", ENDPOINTS)
def test_anonymous_callers_are_refused(kind, invoice):
    client = client_for()
    assert client.get(f"{API}{kind}/").status_code in (401, 403)
    assert client.post(f"{API}{kind}/", {}, format="json").status_code in (401, 403)


@pytest.mark.parametrize("kind", ENDPOINTS)
def test_customer_people_never_write(kind, customer_user, customer_admin, contract):
    before = {m: m.objects.count() for m in (Customer, Calendar, SLAPolicy, Contract, Invoice)}
    for person in (customer_user, customer_admin):
        response = client_for(person).post(f"{API}{kind}/", {}, format="json")
        assert response.status_code == 403
    assert {m: m.objects.count() for m in before} == before


def test_customer_admin_cannot_edit_their_own_organisation(customer, customer_admin):
    response = client_for(customer_admin).patch(
        f"{API}customers/{customer.pk}/", {"name": "Renamed"}, format="json"
    )
    assert response.status_code == 403
    customer.refresh_from_db()
    assert customer.name != "Renamed"


@pytest.mark.parametrize(
    ("role", "kind", "allowed"),
    [
        ("agent", "contracts", False),
        ("operations", "invoices", False),
        ("account_manager", "customers", False),
        ("account_manager", "policies", False),
        ("account_manager", "contracts", True),
        ("account_manager", "invoices", True),
        ("admin", "customers", True),
    ],
)
def test_only_the_right_staff_roles_write(role, kind, allowed, customer):
    response = client_for(StaffFactory(role=role)).post(f"{API}{kind}/", {}, format="json")
    # Allowed callers get past the permission and fail on the empty payload instead.
    assert response.status_code == (400 if allowed else 403)


# ---------------------------------------------------------------- writes


def test_admin_creates_and_updates_a_customer_with_account_managers(admin_user, account_manager):
    client = client_for(admin_user)
    response = client.post(
        f"{API}customers/",
        {
            "name": "Acme",
            "billing_emails": ["ap@acme.test", "cfo@acme.test"],
            "time_zone": "Europe/Berlin",
            "account_managers": [account_manager.pk],
        },
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["billing_emails"] == ["ap@acme.test", "cfo@acme.test"]
    assert body["account_managers"] == [account_manager.pk]

    response = client.patch(
        f"{API}customers/{body['id']}/", {"time_zone": "Europe/London"}, format="json"
    )
    assert response.status_code == 200
    assert Customer.objects.get(name="Acme").time_zone == "Europe/London"
    assert response.json()["account_managers"] == [account_manager.pk]

    response = client.patch(
        f"{API}customers/{body['id']}/", {"account_managers": []}, format="json"
    )
    assert response.json()["account_managers"] == []
    assert not Customer.objects.get(name="Acme").account_managers.exists()


def test_account_managers_must_hold_the_role(admin_user, agent):
    response = client_for(admin_user).post(
        f"{API}customers/",
        {"name": "Acme", "billing_emails": ["ap@acme.test"], "account_managers": [agent.pk]},
        format="json",
    )
    assert response.status_code == 400
    assert "is not an account manager" in response.json()["account_managers"][0]
    assert not Customer.objects.exists()


def test_unknown_time_zone_on_a_customer_is_refused(admin_user, customer):
    client = client_for(admin_user)
    payload = {"name": "Acme", "billing_emails": ["ap@acme.test"], "time_zone": "Mars/Olympus"}
    response = client.post(f"{API}customers/", payload, format="json")
    assert response.status_code == 400
    assert "not a known IANA time zone" in response.json()["time_zone"][0]
    assert Customer.objects.count() == 1

    response = client.patch(
        f"{API}customers/{customer.pk}/", {"time_zone": "Mars/Olympus"}, format="json"
    )
    assert response.status_code == 400
    customer.refresh_from_db()
    assert customer.time_zone == "America/Chicago"


def test_admin_creates_a_service(admin_user):
    response = client_for(admin_user).post(
        f"{API}services/", {"code": "api", "name": "Public API"}, format="json"
    )
    assert response.status_code == 201
    assert response.json() == {
        "id": response.json()["id"],
        "code": "api",
        "name": "Public API",
        "critical": True,
        "description": "",
    }


def test_a_calendar_reads_back_in_the_shape_it_was_written(admin_user):
    client = client_for(admin_user)
    response = client.post(f"{API}calendars/", calendar_payload(), format="json")
    assert response.status_code == 201
    body = client.get(f"{API}calendars/ops-desk/").json()
    assert body["hours"] == {
        "mon": [["06:00", "12:00"], ["13:00", "24:00"]],
        "tue": [],
        "wed": [],
        "thu": [],
        "fri": [],
        "sat": [["00:00", "24:00"]],
        "sun": [],
    }
    assert body["custom_holidays"] == [{"date": "2026-12-24", "name": "Christmas Eve"}]
    assert body["time_zone"] == "America/Chicago"


def test_a_calendar_is_replaced_by_post_or_put(admin_user, calendar):
    client = client_for(admin_user)
    replaced = calendar_payload(code="help-desk", hours={"sun": [["10:00", "11:00"]]})
    response = client.post(f"{API}calendars/", replaced, format="json")
    assert response.status_code == 200
    assert response.json()["hours"]["sun"] == [["10:00", "11:00"]]
    assert response.json()["hours"]["mon"] == []

    del replaced["code"]
    replaced["hours"] = {"tue": [["09:00", "17:00"]]}
    response = client.put(f"{API}calendars/help-desk/", replaced, format="json")
    assert response.status_code == 200
    assert response.json()["hours"]["tue"] == [["09:00", "17:00"]]
    assert Calendar.objects.count() == 1
    assert client.put(f"{API}calendars/nope/", replaced, format="json").status_code == 404


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"time_zone": "Mars/Olympus"}, "time_zone", "not a known IANA time zone"),
        (
            {"hours": {"mon": [["08:00", "12:00"], ["11:00", "14:00"]]}},
            "hours",
            "overlapping intervals on mon",
        ),
        ({"hours": {"tue": [["17:00", "09:00"]]}}, "hours", "reversed interval 17:00-09:00"),
        ({"hours": {"funday": [["09:00", "17:00"]]}}, "hours", "funday"),
        ({"hours": {"mon": [["9am", "17:00"]]}}, "hours", "9am"),
    ],
)
def test_a_bad_calendar_is_refused_and_nothing_saved(admin_user, changes, field, words):
    response = client_for(admin_user).post(
        f"{API}calendars/", calendar_payload(**changes), format="json"
    )
    assert response.status_code == 400
    assert words in " ".join(response.json()[field])
    assert not Calendar.objects.exists()


def test_admin_publishes_a_policy_and_reads_it_back(admin_user, calendar):
    client = client_for(admin_user)
    payload = policy_payload()
    del payload["version"]
    response = client.post(f"{API}policies/", payload, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["version"] == 1
    # Posting the same terms again changes nothing.
    assert client.post(f"{API}policies/", payload, format="json").status_code == 200
    assert SLAPolicy.objects.count() == 1
    body = client.get(f"{API}policies/api-tiered/").json()
    assert body["bands"] == BANDS
    assert body["measurement_calendar"] == "help-desk"
    assert body["downtime_starts_at"] == "confirmation"
    assert body["credit_cap_pct"] == "50.00"
    assert body["exclusions"] == policy_payload()["exclusions"]
    assert body["severities"] == policy_payload()["severities"]


def test_a_policy_code_reads_its_latest_version_or_the_one_asked_for(customer_user, policy):
    services.policy_upsert(
        terms=policy_terms(policy.measurement_calendar, version=2, name="Tiered SLA 2027"),
        bands=band_tuples(),
    )
    client = client_for(customer_user)
    assert client.get(f"{API}policies/tiered/").json()["version"] == 2
    assert client.get(f"{API}policies/tiered/", {"version": 1}).json()["name"] == "Tiered SLA"
    assert client.get(f"{API}policies/tiered/", {"version": 9}).status_code == 404
    assert client.get(f"{API}policies/tiered/", {"version": "x"}).status_code == 400
    assert client.get(f"{API}policies/nope/").status_code == 404
    listed = client.get(f"{API}policies/", {"code": "tiered"}).json()
    assert [(p["code"], p["version"]) for p in listed["results"]] == [("tiered", 2), ("tiered", 1)]


@pytest.mark.parametrize(
    ("bands", "words"),
    [
        (
            [b for b in BANDS if b["lower_pct"] != "95.000"],
            "Bands leave a gap: nothing covers [95.000, 98.000)",
        ),
        (
            [*BANDS[:2], {**BANDS[2], "upper_pct": "98.500"}, *BANDS[3:]],
            "Band [95.000, 98.500) overlaps band [98.000, 99.500)",
        ),
    ],
)
def test_bad_credit_bands_are_refused_and_nothing_saved(admin_user, calendar, bands, words):
    response = client_for(admin_user).post(
        f"{API}policies/", policy_payload(bands=bands), format="json"
    )
    assert response.status_code == 400
    assert words in response.json()["bands"][0]
    assert not SLAPolicy.objects.exists()


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"credit_rule": "multiplier", "bands": []}, "needs a positive multiplier"),
        (
            {
                "severities": [
                    {
                        "severity": 1,
                        "name": "Critical",
                        "description": "Down.",
                        "response": {"value": None, "unit": "minutes"},
                        "resolution": {"value": None, "unit": "none"},
                    }
                ]
            },
            "A response target needs a positive value",
        ),
        ({"measurement_calendar": "nope"}, "nope"),
    ],
)
def test_incomplete_policy_terms_are_refused_and_nothing_saved(
    admin_user, calendar, changes, words
):
    response = client_for(admin_user).post(
        f"{API}policies/", policy_payload(**changes), format="json"
    )
    assert response.status_code == 400
    assert words in errors_text(response)
    assert not SLAPolicy.objects.exists()


def test_account_manager_creates_a_contract_on_the_latest_policy_version(
    account_manager, customer, policy
):
    newer = services.policy_upsert(
        terms=policy_terms(policy.measurement_calendar, version=2), bands=band_tuples()
    )
    service = ServiceFactory()
    response = client_for(account_manager).post(
        f"{API}contracts/", contract_payload(customer, service), format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["policy"], body["policy_version"]) == ("tiered", 2)
    assert body["lines"] == [{"service": service.pk, "monthly_fee": "1200.00"}]
    assert Contract.objects.get().policy == newer


def test_a_contract_can_name_an_older_policy_version(admin_user, customer, policy):
    services.policy_upsert(
        terms=policy_terms(policy.measurement_calendar, version=2), bands=band_tuples()
    )
    payload = contract_payload(customer, ServiceFactory(), policy_version=1)
    response = client_for(admin_user).post(f"{API}contracts/", payload, format="json")
    assert response.status_code == 201
    assert Contract.objects.get().policy == policy


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        (
            {"start_date": "2026-03-01", "end_date": "2026-02-01"},
            None,
            "The contract cannot end before it starts.",
        ),
        ({"currency": "XYZ"}, "currency", "XYZ is not a supported currency"),
        ({"policy": "nope"}, "policy", "There is no SLA policy nope."),
        ({"policy_version": 7}, "policy", "There is no SLA policy tiered v7."),
        ({"lines": []}, "lines", "at least one service line"),
    ],
)
def test_a_bad_contract_is_refused_and_nothing_saved(
    admin_user, customer, policy, changes, field, words
):
    payload = contract_payload(customer, ServiceFactory(), **changes)
    response = client_for(admin_user).post(f"{API}contracts/", payload, format="json")
    assert response.status_code == 400
    errors = response.json()
    assert words in (errors_text(response) if field is None else " ".join(errors[field]))
    assert not Contract.objects.exists()
    assert not ContractLine.objects.exists()


def test_a_negative_fee_is_refused_and_nothing_saved(admin_user, customer, policy):
    service = ServiceFactory(name="Reporting")
    payload = contract_payload(customer, service)
    payload["lines"] = [{"service": service.pk, "monthly_fee": "-5.00"}]
    response = client_for(admin_user).post(f"{API}contracts/", payload, format="json")
    assert response.status_code == 400
    assert "The fee for Reporting cannot be negative." in response.json()["lines"]
    assert not Contract.objects.exists()
    assert not ContractLine.objects.exists()


def test_account_manager_creates_an_invoice_in_the_contract_currency(account_manager, contract):
    response = client_for(account_manager).post(
        f"{API}invoices/",
        {
            "contract": contract.pk,
            "number": "INV-2026-02",
            "period_start": "2026-02-01",
            "period_end": "2026-02-28",
            "amount": "1200.00",
            "issued_on": "2026-02-01",
            "due_on": "2026-03-03",
        },
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["customer"], body["amount"], body["currency"]) == (
        contract.customer_id,
        "1200.00",
        "USD",
    )
    assert body["paid_at"] is None


def test_an_invoice_due_before_it_is_issued_is_refused(admin_user, contract):
    response = client_for(admin_user).post(
        f"{API}invoices/",
        {
            "contract": contract.pk,
            "number": "INV-BAD",
            "period_start": "2026-02-01",
            "period_end": "2026-02-28",
            "amount": "1200.00",
            "issued_on": "2026-03-01",
            "due_on": "2026-02-01",
        },
        format="json",
    )
    assert response.status_code == 400
    assert "cannot fall due before it is issued" in errors_text(response)
    assert not Invoice.objects.exists()


# ---------------------------------------------------------------- lists


@pytest.mark.parametrize("kind", ENDPOINTS)
def test_every_list_is_paginated(kind, admin_user, invoice):
    body = client_for(admin_user).get(f"{API}{kind}/").json()
    assert {"count", "next", "previous", "results"} <= set(body)
    assert body["count"] == len(body["results"]) >= 1


def test_page_size_can_be_asked_for_up_to_200(admin_user):
    for _ in range(3):
        ServiceFactory()
    client = client_for(admin_user)
    body = client.get(f"{API}services/", {"page_size": 2}).json()
    assert (body["count"], len(body["results"])) == (3, 2)
    assert "page=2" in body["next"]
    assert len(client.get(body["next"]).json()["results"]) == 1


def test_lists_default_to_pages_of_50_and_cap_page_size_at_200(admin_user):
    ServiceFactory.create_batch(201)
    client = client_for(admin_user)
    assert len(client.get(f"{API}services/").json()["results"]) == 50
    assert len(client.get(f"{API}services/", {"page_size": 500}).json()["results"]) == 200


def test_list_queries_do_not_grow_with_the_rows(
    admin_user, contract, other_contract, invoice, django_assert_max_num_queries
):
    client = client_for(admin_user)
    for _ in range(5):
        ContractLineFactory(contract=ContractFactory(policy=contract.policy))
    # session, user, roles, count, page, then one query per prefetched relation
    for kind, most in (("contracts", 7), ("policies", 8), ("customers", 6), ("calendars", 7)):
        with django_assert_max_num_queries(most):
            assert client.get(f"{API}{kind}/").status_code == 200


def test_contract_filters(agent, contract, other_contract, policy):
    ended = ContractFactory(
        customer=contract.customer,
        policy=policy,
        start_date=date(2025, 1, 1),
        end_date=date(2025, 12, 31),
    )
    client = client_for(agent)

    def ids(**params) -> set[int]:
        return {c["id"] for c in client.get(f"{API}contracts/", params).json()["results"]}

    assert ids(customer=contract.customer_id) == {contract.pk, ended.pk}
    assert ids(policy="tiered") == {contract.pk, other_contract.pk, ended.pk}
    assert ids(policy="other") == set()
    assert ids(active_on="2025-12-31") == {ended.pk}
    assert ids(active_on="2026-01-01", customer=contract.customer_id) == {contract.pk}
    assert client.get(f"{API}contracts/", {"active_on": "soon"}).status_code == 400


def test_invoice_filters(agent, invoice, other_invoice):
    paid = InvoiceFactory(contract=invoice.contract, due_on=date(2026, 3, 31))
    paid.paid_at = timezone.now()
    paid.save()
    client = client_for(agent)

    def ids(**params) -> set[int]:
        return {i["id"] for i in client.get(f"{API}invoices/", params).json()["results"]}

    assert ids(customer=invoice.customer_id) == {invoice.pk, paid.pk}
    assert ids(contract=other_invoice.contract_id) == {other_invoice.pk}
    assert ids(paid="true") == {paid.pk}
    assert ids(paid="false") == {invoice.pk, other_invoice.pk}
    assert ids(due_after="2026-02-01") == {paid.pk}
    assert ids(due_before="2026-01-31", customer=invoice.customer_id) == {invoice.pk}


def test_policy_filters(agent, policy, calendar):
    services.policy_upsert(
        terms=policy_terms(
            calendar, code="multiplier", credit_rule="multiplier", credit_multiplier=10
        )
    )
    client = client_for(agent)
    listed = client.get(f"{API}policies/", {"credit_rule": "multiplier"}).json()["results"]
    assert [p["code"] for p in listed] == ["multiplier"]
    assert listed[0]["credit_multiplier"] == "10.00"
    assert listed[0]["bands"] == []


def test_customer_filter_by_name(agent, customer, other_customer):
    listed = client_for(agent).get(f"{API}customers/", {"name": customer.name}).json()
    assert [c["id"] for c in listed["results"]] == [customer.pk]


# ---------------------------------------------------------------- auth & schema


def test_a_script_authenticates_with_a_token(invoice):
    token = Token.objects.create(user=StaffFactory(role="account_manager"))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get(f"{API}invoices/").json()["count"] == 1
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert client.get(f"{API}invoices/").status_code in (401, 403)


def test_a_customer_token_is_scoped_like_the_browser(customer_user, invoice, other_invoice):
    token = Token.objects.create(user=customer_user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert [i["id"] for i in client.get(f"{API}invoices/").json()["results"]] == [invoice.pk]
    assert client.get(f"{API}invoices/{other_invoice.pk}/").status_code == 404


def test_schema_and_docs_are_served(db):
    client = client_for(CustomerUserFactory(customer=CustomerFactory()))
    schema = client.get(f"{API}schema/")
    assert schema.status_code == 200
    assert b"/api/v1/policies/{code}/" in schema.content
    assert client.get(f"{API}docs/").status_code == 200
