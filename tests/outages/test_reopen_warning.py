"""The ops outage form warns before it saves an outage (new or edited) that touches a month
already stated: it names exactly the contracts whose issued statement it reopens, saves
nothing until the person confirms that list, and saves at once when nothing is stated."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from django.urls import reverse

from outages.models import Outage, ReissueRequest
from statements.models import Statement
from statements.services import statement_generate
from tests.support.factories import catalog_contract, record_outage

pytestmark = pytest.mark.django_db

JUNE, JULY, MAY = date(2026, 6, 1), date(2026, 7, 1), date(2026, 5, 1)
SERVICE = "Heretto CCMS"


@pytest.fixture
def acme(catalog, customer, statement_media):
    customer.name = "Acme"
    customer.save()
    return catalog_contract(customer, "heretto-ccms", {SERVICE: "4000.00"}, reference="C-ACME")


@pytest.fixture
def globex(catalog, other_customer):
    other_customer.name = "Globex"
    other_customer.save()
    return catalog_contract(
        other_customer, "heretto-ccms", {SERVICE: "2500.00"}, reference="C-GLOBEX"
    )


@pytest.fixture
def ops(client, operations):
    operations.time_zone = "UTC"
    operations.save()
    client.force_login(operations)
    return client


def _issue(contract, month) -> Statement:
    return statement_generate(contract=contract, month=month)


def _form(contract, **overrides) -> dict:
    data = {
        "title": "Editor will not load",
        "service": contract.lines.get().service_id,
        "category": "internal",
        "started_at": "2026-06-10T12:00",
        "ended_at": "2026-06-10T14:00",
        "scope": "all",
        "description": "",
        "internal_notes": "",
    }
    return {**data, **overrides}


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html)).strip()


def warning(response) -> list[str]:
    """The contracts the warning names, one line each; [] when there is no warning."""
    html = response.content.decode()
    match = re.search(r'<ul class="reopen-list">(.*?)</ul>', html, re.S)
    if not match:
        return []
    return [_text(item) for item in re.findall(r"<li>(.*?)</li>", match.group(1), re.S)]


def confirmation(response) -> str:
    """The value the "Save and reopen" button sends."""
    html = response.content.decode()
    match = re.search(r'name="reopen_confirmed" value="([^"]*)"', html)
    assert match, "no confirmation button"
    return match.group(1)


def _line(contract, month: date, statement: Statement) -> str:
    return (
        f"{contract.customer.name} · contract {contract.reference} · {month:%B %Y} · "
        f"statement {statement.number}, revision {statement.revision}"
    )


# ---------------------------------------------------------------- a new outage


def test_a_new_outage_in_a_stated_month_names_only_the_stated_contract_and_waits(ops, acme, globex):
    stated = _issue(acme, JUNE)  # Globex has no June statement
    response = ops.post(reverse("ops-outage-new"), _form(acme))
    assert response.status_code == 200
    assert warning(response) == [_line(acme, JUNE, stated)]
    assert "Nothing is saved yet." in _text(response.content.decode())
    # The form keeps what was typed.
    assert 'value="Editor will not load"' in response.content.decode()
    assert not Outage.objects.exists() and not ReissueRequest.objects.exists()

    confirmed = ops.post(
        reverse("ops-outage-new"),
        {**_form(acme), "reopen_confirmed": confirmation(response)},
        follow=True,
    )
    outage = Outage.objects.get()
    assert confirmed.request["PATH_INFO"] == reverse("ops-outage", args=[outage.pk])
    assert "1 issued statement waits for the account managers" in _text(confirmed.content.decode())
    # Requests for every ended contract-month it touches, as before; only Acme's was stated.
    assert sorted(ReissueRequest.objects.values_list("contract__reference", "month")) == [
        ("C-ACME", JUNE),
        ("C-GLOBEX", JUNE),
    ]


def test_an_outage_scoped_to_one_customer_warns_only_for_that_customers_statement(
    ops, acme, globex
):
    _issue(acme, JUNE)
    only_globex = _form(acme, scope="customers", customers=[globex.customer_id])
    response = ops.post(reverse("ops-outage-new"), only_globex)
    assert response.status_code == 302  # Globex's June is not stated: saved at once
    assert list(ReissueRequest.objects.values_list("contract__reference", flat=True)) == [
        "C-GLOBEX"
    ]

    only_acme = _form(acme, title="Acme only", scope="customers", customers=[acme.customer_id])
    response = ops.post(reverse("ops-outage-new"), only_acme)
    assert [line.split(" · ")[0] for line in warning(response)] == ["Acme"]
    assert not Outage.objects.filter(title="Acme only").exists()


def test_a_confirmation_for_another_list_does_not_save(ops, acme, globex):
    _issue(acme, JUNE)
    _issue(globex, JUNE)
    only_acme = _form(acme, scope="customers", customers=[acme.customer_id])
    token = confirmation(ops.post(reverse("ops-outage-new"), only_acme))
    # Widened to every customer after confirming Acme alone: Globex is reopened too.
    response = ops.post(reverse("ops-outage-new"), {**_form(acme), "reopen_confirmed": token})
    assert [line.split(" · ")[0] for line in warning(response)] == ["Acme", "Globex"]
    assert "not the ones you confirmed" in response.content.decode()
    assert not Outage.objects.exists()


def test_nothing_stated_saves_at_once_without_a_warning(ops, acme, globex, frozen_now):
    _issue(acme, JUNE)
    # May has ended but nobody has a May statement; an outage going on now is in a
    # month still running.
    ongoing = (frozen_now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    for start, end in (("2026-05-10T12:00", "2026-05-10T13:00"), (ongoing, "")):
        response = ops.post(reverse("ops-outage-new"), _form(acme, started_at=start, ended_at=end))
        assert response.status_code == 302, warning(response)
    assert Outage.objects.count() == 2
    assert sorted(ReissueRequest.objects.values_list("contract__reference", "month")) == [
        ("C-ACME", MAY),
        ("C-GLOBEX", MAY),
    ]


def test_the_new_outage_page_shows_no_warning_before_anything_is_entered(ops, acme):
    _issue(acme, JUNE)
    response = ops.get(reverse("ops-outage-new"))
    assert warning(response) == [] and "Record outage" in response.content.decode()


# ---------------------------------------------------------------- an edit


def test_moving_an_outage_across_months_names_the_stated_contracts_of_both_months(
    ops, acme, globex
):
    outage = record_outage(acme, SERVICE, datetime(2026, 7, 8, 12, tzinfo=UTC), 60)
    acme_june = _issue(acme, JUNE)
    globex_july = _issue(globex, JULY)  # Acme's July and Globex's June are not stated
    moved = _form(acme, title=outage.title, started_at="2026-06-08T12:00")
    moved["ended_at"] = "2026-06-08T13:00"
    url = reverse("ops-outage-edit", args=[outage.pk])
    response = ops.post(url, moved)
    assert warning(response) == [
        _line(acme, JUNE, acme_june),
        _line(globex, JULY, globex_july),
    ]
    assert "Save and reopen these statements" in response.content.decode()
    outage.refresh_from_db()
    assert outage.started_at == datetime(2026, 7, 8, 12, tzinfo=UTC)  # nothing saved
    assert not ReissueRequest.objects.exists()

    saved = ops.post(url, {**moved, "reopen_confirmed": confirmation(response)})
    assert saved.status_code == 302
    outage.refresh_from_db()
    assert outage.started_at == datetime(2026, 6, 8, 12, tzinfo=UTC)
    assert sorted(ReissueRequest.objects.values_list("contract__reference", "month")) == [
        ("C-ACME", JUNE),
        ("C-ACME", JULY),
        ("C-GLOBEX", JUNE),
        ("C-GLOBEX", JULY),
    ]


def test_narrowing_the_scope_still_names_the_customer_dropped_from_it(ops, acme, globex):
    outage = record_outage(acme, SERVICE, datetime(2026, 6, 8, 12, tzinfo=UTC), 60)
    globex_june = _issue(globex, JUNE)
    narrowed = _form(
        acme,
        title=outage.title,
        started_at="2026-06-08T12:00",
        ended_at="2026-06-08T13:00",
        scope="customers",
        customers=[acme.customer_id],
    )
    # Globex no longer counts the outage: its June statement said it did.
    response = ops.post(reverse("ops-outage-edit", args=[outage.pk]), narrowed)
    assert warning(response) == [_line(globex, JUNE, globex_june)]
    assert Outage.objects.get().scope == "all"


def test_an_edit_of_a_month_nobody_was_stated_for_saves_without_a_warning(ops, acme, globex):
    outage = record_outage(acme, SERVICE, datetime(2026, 6, 8, 12, tzinfo=UTC), 60)
    _issue(acme, JULY)  # another month
    edited = _form(
        acme, title="Renamed", started_at="2026-06-08T12:00", ended_at="2026-06-08T13:30"
    )
    response = ops.post(reverse("ops-outage-edit", args=[outage.pk]), edited)
    assert response.status_code == 302
    assert Outage.objects.get().title == "Renamed"
