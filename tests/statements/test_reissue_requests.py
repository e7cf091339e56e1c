"""The re-issue requests page (/backoffice/reissues/): the requests waiting for staff with
their cause, each re-issued (revision 2 when the figures changed; said so when they did
not) or dismissed with a reason, both audit-logged; only the viewer's own customers'
requests (every customer's for an administrator); another account manager's customer's
request is a 404 on the page and refused by the services."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from audit.models import AuditEntry
from outages.models import Outage, ReissueRequest
from outages.services import outage_change
from statements.models import Statement
from statements.services import statement_reissue_requested
from statements.services.reissues import reissue_request_dismiss, reissue_request_reissue
from tests.support.concurrency import run_concurrently
from tests.support.factories import StaffFactory
from tests.support.page_helpers import h1

pytestmark = pytest.mark.django_db

JUNE, MAY = date(2026, 6, 1), date(2026, 5, 1)
LATER = datetime(2026, 7, 5, 12, tzinfo=UTC)
PAGE = "staff-reissue-requests"


def _lengthen(minutes: int, actor, **changes) -> Outage:
    outage = Outage.objects.get(title="Heretto CCMS down")
    if minutes:
        changes["ended_at"] = outage.started_at + timedelta(minutes=minutes)
    return outage_change(outage=outage, actor=actor, now=LATER, **changes)


@pytest.fixture
def waiting(statement, operations) -> ReissueRequest:
    """Operations lengthened June's CCMS outage after June was stated: 945 minutes down
    (97.812 %, the 10 % band instead of the 5 % one)."""
    operations.first_name, operations.last_name = "Olga", "Ops"
    operations.save()
    _lengthen(900, operations)
    return ReissueRequest.objects.get()


@pytest.fixture
def foreign_waiting(foreign_statement, foreign_contract) -> ReissueRequest:
    foreign_contract.customer.account_managers.add(StaffFactory(role="account_manager"))
    return ReissueRequest.objects.create(
        contract=foreign_contract, month=JUNE, reason="Balto outage changed after June ended"
    )


def _text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def _open(client, user):
    client.force_login(user)
    return client.get(reverse(PAGE))


def _post(client, user, name, reissue, data=None, **kw):
    client.force_login(user)
    return client.post(reverse(name, args=[reissue.pk]), data or {}, **kw)


# ---------------------------------------------------------------- the list


def test_an_account_manager_sees_their_customers_waiting_requests_with_their_cause(
    client, account_manager, waiting, foreign_waiting, statement, customer
):
    response = _open(client, account_manager)
    text = _text(response)
    assert response.status_code == 200 and h1(response) == "Re-issue requests"
    assert f"{customer.name} · June 2026" in text
    assert "Contract C-JUNE-1" in text and "by Olga Ops" in text
    assert "Heretto CCMS down" in text and waiting.reason in text
    assert f"{statement.number} revision 1" in text
    # Outage pages are operations': an account manager reads the title, unlinked.
    assert reverse("ops-outage", args=[waiting.outage_id]) not in response.content.decode()
    assert foreign_waiting.contract.customer.name not in text
    assert foreign_waiting.reason not in text


def test_an_administrator_sees_every_customers_requests_and_their_outages(
    client, admin_user, waiting, foreign_waiting
):
    response = _open(client, admin_user)
    text = _text(response)
    assert waiting.reason in text and foreign_waiting.reason in text
    assert reverse("ops-outage", args=[waiting.outage_id]) in response.content.decode()


@pytest.mark.parametrize("role", ["operations", "agent", "customer_user"])
def test_nobody_else_may_open_the_page(client, request, role, waiting):
    assert _open(client, request.getfixturevalue(role)).status_code == 403
    response = _post(
        client, request.getfixturevalue(role), "staff-reissue-request-reissue", waiting
    )
    assert response.status_code == 403


def test_anonymous_visitors_sign_in_first(client):
    response = client.get(reverse(PAGE))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_nothing_waiting_says_so_and_what_brings_requests(client, account_manager):
    text = _text(_open(client, account_manager))
    assert "No re-issue requests are waiting" in text
    assert "No re-issue request resolved yet." in text


def test_the_waiting_list_pages_by_25(client, admin_user, june_contract):
    for n in range(26):
        ReissueRequest.objects.create(
            contract=june_contract, month=date(2020 + n // 12, n % 12 + 1, 1), reason=f"Edit {n}"
        )
    first = _text(_open(client, admin_user))
    assert "Page 1 of 2 · 26 in all" in first and "Edit 0 " in first and "Edit 25 " not in first
    second = _text(client.get(reverse(PAGE) + "?page=2"))
    assert "Edit 25 " in second


def test_the_statements_list_links_the_page_for_those_who_act(
    client, account_manager, operations, statement
):
    client.force_login(account_manager)
    html = client.get(reverse("staff-statements")).content.decode()
    assert reverse(PAGE) in html
    client.force_login(operations)
    assert reverse(PAGE) not in client.get(reverse("staff-statements")).content.decode()


# ---------------------------------------------------------------- re-issue


def test_reissuing_a_changed_month_issues_revision_2_and_is_audit_logged(
    client, account_manager, waiting, statement
):
    response = _post(client, account_manager, "staff-reissue-request-reissue", waiting, follow=True)
    second = Statement.objects.get(revision=2)
    assert (second.status, second.supersedes) == ("issued", statement)
    assert f"Re-issued as {second.number} (revision 2)." in _text(response)
    waiting.refresh_from_db()
    assert (waiting.resolution, waiting.resolved_by) == ("reissued", account_manager)
    [entry] = AuditEntry.objects.filter(action="reissue_request.reissue")
    assert (entry.actor, entry.object_id) == (account_manager, str(waiting.pk))
    assert entry.changes["statement"] == {"before": statement.number, "after": second.number}
    # Gone from the waiting list, listed as resolved by whom.
    text = _text(response)
    assert "No re-issue requests are waiting" in text
    assert "Re-issued" in text and account_manager.get_full_name() in text


def test_reissuing_unchanged_figures_says_so_and_issues_nothing(
    client, account_manager, statement, operations
):
    _lengthen(0, operations, description="Root cause: a bad deploy.")
    waiting = ReissueRequest.objects.get()
    response = _post(client, account_manager, "staff-reissue-request-reissue", waiting, follow=True)
    assert f"The figures did not change: {statement.number} stands." in _text(response)
    assert list(Statement.objects.values_list("revision", "status")) == [(1, "issued")]
    waiting.refresh_from_db()
    assert waiting.resolution == "unchanged"


def test_reissuing_a_month_without_an_issued_statement_resolves_it_as_such(
    client, account_manager, june_contract
):
    may = ReissueRequest.objects.create(contract=june_contract, month=MAY, reason="May edited")
    response = _post(client, account_manager, "staff-reissue-request-reissue", may, follow=True)
    assert "No issued statement" in _text(response)
    may.refresh_from_db()
    assert (may.resolution, may.resolved_by) == ("no_statement", account_manager)
    assert not Statement.objects.exists()


# ---------------------------------------------------------------- dismiss


def test_dismissing_needs_a_reason_and_writes_nothing_without_one(client, account_manager, waiting):
    response = _post(
        client, account_manager, "staff-reissue-request-dismiss", waiting, {"note": " "}
    )
    assert response.status_code == 200
    assert "Say why the request is dismissed." in _text(response)
    waiting.refresh_from_db()
    assert waiting.resolved_at is None
    assert not AuditEntry.objects.filter(action__startswith="reissue_request").exists()


def test_dismissing_with_a_reason_keeps_the_statement_and_is_audit_logged(
    client, account_manager, waiting, statement
):
    note = "Only the timeline wording changed; figures checked by hand."
    response = _post(
        client,
        account_manager,
        "staff-reissue-request-dismiss",
        waiting,
        {"note": note},
        follow=True,
    )
    assert "Dismissed: the re-issue request for" in _text(response)
    waiting.refresh_from_db()
    assert (waiting.resolution, waiting.resolution_note, waiting.resolved_by) == (
        "dismissed",
        note,
        account_manager,
    )
    [entry] = AuditEntry.objects.filter(action="reissue_request.dismiss")
    assert (entry.actor, entry.reason) == (account_manager, note)
    assert list(Statement.objects.values_list("revision", "status")) == [(1, "issued")]
    assert note in _text(response)  # in the recently resolved list


def test_a_request_resolved_meanwhile_is_not_resolved_again(client, account_manager, waiting):
    _post(client, account_manager, "staff-reissue-request-dismiss", waiting, {"note": "Checked"})
    response = _post(client, account_manager, "staff-reissue-request-reissue", waiting, follow=True)
    assert "This request was resolved already (Dismissed)." in _text(response)
    assert not Statement.objects.filter(revision=2).exists()


def test_a_reissue_and_a_dismissal_at_once_resolve_the_request_once(
    postgres, transactional_db, celery_eager, waiting, account_manager, admin_user
):
    actions = [
        lambda: reissue_request_reissue(reissue_request=waiting, actor=account_manager),
        lambda: reissue_request_dismiss(reissue_request=waiting, actor=admin_user, note="Checked"),
    ]
    results = run_concurrently(lambda i: actions[i](), 2)
    refused = [r for r in results if isinstance(r, ValidationError)]
    assert len(refused) == 1, results
    assert "This request was resolved already" in refused[0].messages[0]
    waiting.refresh_from_db()
    entries = AuditEntry.objects.filter(action__startswith="reissue_request")
    assert [e.action.split(".")[1] for e in entries] == [
        {"reissued": "reissue", "dismissed": "dismiss"}[waiting.resolution]
    ]
    revised = Statement.objects.filter(revision=2).count()
    assert revised == (1 if waiting.resolution == "reissued" else 0)


# ---------------------------------------------------------------- another customer's


@pytest.mark.parametrize(
    ("name", "data"),
    [("staff-reissue-request-reissue", {}), ("staff-reissue-request-dismiss", {"note": "No"})],
    ids=["reissue", "dismiss"],
)
def test_another_account_managers_customers_request_is_a_404(
    client, account_manager, foreign_waiting, name, data
):
    assert _post(client, account_manager, name, foreign_waiting, data).status_code == 404
    foreign_waiting.refresh_from_db()
    assert foreign_waiting.resolved_at is None


def test_the_services_refuse_an_account_manager_of_another_customer(
    account_manager, foreign_waiting, foreign_contract
):
    with pytest.raises(PermissionDenied):
        reissue_request_reissue(reissue_request=foreign_waiting, actor=account_manager)
    with pytest.raises(PermissionDenied):
        reissue_request_dismiss(reissue_request=foreign_waiting, actor=account_manager, note="No")
    with pytest.raises(PermissionDenied):
        statement_reissue_requested(contract=foreign_contract, month=JUNE, actor=account_manager)
    foreign_waiting.refresh_from_db()
    assert foreign_waiting.resolved_at is None
    assert not AuditEntry.objects.filter(action__startswith="reissue_request").exists()


def test_an_administrator_resolves_any_customers_request(
    client, admin_user, foreign_waiting, foreign_statement
):
    response = _post(client, admin_user, "staff-reissue-request-reissue", foreign_waiting)
    assert response.status_code == 302
    foreign_waiting.refresh_from_db()
    assert (foreign_waiting.resolution, foreign_waiting.resolved_by) == ("unchanged", admin_user)


def test_the_statements_list_counts_the_waiting_requests_of_the_viewers_customers(
    client, account_manager, waiting, foreign_waiting
):
    client.force_login(account_manager)
    assert "Re-issue requests 1 waiting" in _text(client.get(reverse("staff-statements")))
