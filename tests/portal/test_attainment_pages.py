"""The SLA attainment report's pages and downloads: the customer's and the staff's, the
CSV and the Excel workbook carrying exactly the page's figures, who sees whose figures,
helpful empty states, and bad filters answered with a form error (never a 500)."""

from __future__ import annotations

import csv
import io

import pytest
import time_machine
from django.urls import reverse
from openpyxl import load_workbook

from statements.services import statement_generate
from tests.support.attainment import (
    JUNE,
    NOW,
    foreign_customer,
    june_tickets,
    page_table,
)
from tests.support.factories import (
    CustomerUserFactory,
    StaffFactory,
    catalog_contract,
)
from tests.support.page_helpers import h1, nav_labels

pytestmark = pytest.mark.django_db

JUNE_ONLY = {"start": "2026-06", "end": "2026-06"}


@pytest.fixture(autouse=True)
def at_now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def foreign(catalog):
    """Another customer with a June ticket of their own, managed by someone else."""
    other = foreign_customer()
    other.account_managers.add(StaffFactory(role="account_manager"))
    return other


@pytest.fixture
def june(june_contract, foreign):
    june_tickets(june_contract)
    statement_generate(contract=june_contract, month=JUNE, now=NOW)
    return june_contract


def _get(client, user, name, query=None):
    client.force_login(user)
    return client.get(reverse(name), query or {})


def _csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def _xlsx(response) -> list[list]:
    book = load_workbook(io.BytesIO(response.content))
    return [list(row) for row in book["SLA attainment"].iter_rows(values_only=True)]


def test_the_csv_and_the_workbook_carry_exactly_the_page_s_figures(client, june, account_manager):
    person = CustomerUserFactory(customer=june.customer)
    for user, name in ((person, "portal"), (account_manager, "staff")):
        page = _get(client, user, f"{name}-attainment", JUNE_ONLY)
        assert page.status_code == 200
        headers, rows = page_table(page.content.decode())
        assert len(rows) == 2  # severities 1 and 2 of June
        width = len(headers)
        csv_rows = _csv(_get(client, user, f"{name}-attainment-csv", JUNE_ONLY))
        xlsx_rows = _xlsx(_get(client, user, f"{name}-attainment-xlsx", JUNE_ONLY))
        assert [row[:width] for row in csv_rows] == [headers, *rows]
        assert [[str(v) for v in row[:width]] for row in xlsx_rows] == [headers, *rows]
        # Counts are numbers in the workbook; the times in seconds close each row.
        severity_2 = xlsx_rows[2]
        assert severity_2[width - 10 : width - 7] == [6, 4, 2]  # tickets, met, breached
        assert severity_2[width:] == [3 * 3600, 10 * 3600]
        assert csv_rows[2][width:] == ["10800", "36000"]
    assert rows[1][1:] == [
        "June 2026",
        "2 — Critical business process blocked",
        "6",
        "4",
        "2",
        "66.7 %",
        "3 h",
        "10 h",
        "1",
        "5",
        "16.7 %",
        f"ST-2026-06-{june.pk:06d}",
    ]


def test_a_customer_sees_their_own_organisation_only(client, june, foreign):
    person = CustomerUserFactory(customer=june.customer)
    page = _get(client, person, "portal-attainment", {**JUNE_ONLY, "customer": foreign.pk})
    assert page.status_code == 200 and h1(page) == "SLA attainment"
    html = page.content.decode()
    assert "Foreign Co" not in html and june.customer.name in html
    headers, rows = page_table(html)
    assert headers[0] == "Month"  # no customer column: it is theirs
    assert [row[2] for row in rows] == ["1", "6"]  # their tickets only
    assert "SLA report" in nav_labels(page)
    download = _get(client, person, "portal-attainment-csv", JUNE_ONLY)
    assert "Foreign Co" not in download.content.decode("utf-8-sig")


def test_an_account_manager_sees_their_customers_only(client, june, foreign, account_manager):
    page = _get(client, account_manager, "staff-attainment", JUNE_ONLY)
    html = page.content.decode()
    assert page.status_code == 200
    assert {row[0] for row in page_table(html)[1]} == {june.customer.name}
    assert "Foreign Co" not in html
    chosen = _get(
        client, account_manager, "staff-attainment", {**JUNE_ONLY, "customer": foreign.pk}
    )
    assert chosen.status_code == 400 and "Foreign Co" not in chosen.content.decode()
    assert "Select a valid choice" in chosen.content.decode()
    download = _get(client, account_manager, "staff-attainment-xlsx", {"customer": foreign.pk})
    assert download.status_code == 400 and "Foreign Co" not in download.content.decode()


@pytest.mark.parametrize("role", ["agent", "operations", "admin"])
def test_agents_operations_and_administrators_see_every_customer(client, june, foreign, role):
    page = _get(client, StaffFactory(role=role), "staff-attainment", JUNE_ONLY)
    names = {row[0] for row in page_table(page.content.decode())[1]}
    assert names == {june.customer.name, "Foreign Co"}
    one = _get(
        client, StaffFactory(role=role), "staff-attainment", {**JUNE_ONLY, "customer": foreign.pk}
    )
    assert {row[0] for row in page_table(one.content.decode())[1]} == {"Foreign Co"}


def test_customers_and_staff_each_have_their_own_page(client, june, account_manager):
    person = CustomerUserFactory(customer=june.customer)
    assert _get(client, person, "staff-attainment").status_code == 403
    assert _get(client, account_manager, "portal-attainment").status_code == 403
    client.logout()
    response = client.get(reverse("portal-attainment-csv"))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize(
    "query, field, message",
    [
        ({"start": "0001-01"}, "start", "give a year from 1900 to 2999"),
        ({"end": "9999-12"}, "end", "give a year from 1900 to 2999"),
        ({"start": "2026-13"}, "start", "13 is not 01–12"),
        ({"end": "2027-01"}, "end", "January 2027 has not started yet"),
        ({"start": "2026-06", "end": "2026-05"}, "end", "The last month comes before the first"),
        ({"start": "2025-01", "end": "2026-06"}, "end", "Choose at most 12 months"),
        ({"severity": "5"}, "severity", "Select a valid choice"),
        ({"start": "june"}, "start", "is not a month; use YYYY-MM"),
    ],
)
def test_bad_filters_are_a_form_error_on_the_page_and_the_downloads(
    client, june, query, field, message
):
    person = CustomerUserFactory(customer=june.customer)
    for name in ("portal-attainment", "portal-attainment-csv", "portal-attainment-xlsx"):
        response = _get(client, person, name, query)
        html = response.content.decode()
        assert response.status_code == 400, name
        assert f'data-testid="error-{field}"' in html and message in html, name


def test_empty_states_say_why_and_what_to_do(client, catalog, customer, account_manager):
    person = CustomerUserFactory(customer=customer)
    page = _get(client, person, "portal-attainment", JUNE_ONLY).content.decode()
    assert "No contract was in force from June 2026 to June 2026" in page
    catalog_contract(customer, "heretto-ccms", {"Heretto CCMS": "100.00"})
    page = _get(client, person, "portal-attainment", {**JUNE_ONLY, "severity": "1"})
    html = page.content.decode()
    assert "No tickets were received from June 2026 to June 2026 with severity 1" in html
    assert "Show every severity" in html and "file a ticket" in html
    assert 'data-testid="download-csv"' in html  # an empty download is still one
    lonely = _get(client, account_manager, "staff-attainment").content.decode()
    assert "No customers to report on" in lonely


def test_the_default_is_the_last_six_months_up_to_this_one(client, june):
    person = CustomerUserFactory(customer=june.customer)
    page = _get(client, person, "portal-attainment").content.decode()
    assert "February 2026 to July 2026" in page
    assert [row[0] for row in page_table(page)[1]] == ["June 2026", "June 2026"]
