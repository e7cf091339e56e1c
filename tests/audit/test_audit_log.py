"""The audit log: each staff action on an outage, a credit, an adjustment or a ticket's
severity writes exactly one entry (who, what, which fields before/after, why, when),
in the service's own transaction; entries cannot be changed or deleted; admins read
them on /backoffice/audit/."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import IntegrityError, InternalError, connection, transaction
from django.test import RequestFactory
from django.utils import timezone

from audit.models import AuditEntry
from audit.services import audit_record
from credits.services import adjustment_decide, adjustment_request, credit_approve, credit_reject
from outages.services import outage_change, outage_close, outage_post_update, outage_record
from tests.support.factories import StaffFactory, pending_credit
from tickets.services import ticket_file, ticket_reclassify

NOW = datetime(2026, 7, 2, 12, tzinfo=UTC)


@pytest.fixture
def service(contract):
    return contract.lines.first().service


@pytest.fixture
def outage(service, operations):
    return outage_record(
        service=service,
        started_at=NOW - timedelta(hours=2),
        category="internal",
        title="Database failover",
        actor=operations,
        now=NOW,
    )


def only_entry(**lookup) -> AuditEntry:
    (entry,) = AuditEntry.objects.filter(**lookup)
    return entry


# ---------------------------------------------------------------- outages


def test_recording_an_outage_writes_one_entry_naming_the_operator(outage, operations):
    entry = only_entry()
    assert (entry.actor, entry.actor_label, entry.action) == (
        operations,
        operations.email,
        "outage.record",
    )
    assert (entry.object_type, entry.object_id, entry.object_label) == (
        "outage",
        str(outage.pk),
        "Database failover",
    )
    assert entry.changes["title"] == {"before": None, "after": "Database failover"}
    assert entry.at.tzinfo is not None and abs(entry.at - timezone.now()) < timedelta(minutes=1)


def test_changing_an_outage_records_only_the_changed_fields_before_and_after(outage, operations):
    outage_change(outage=outage, actor=operations, title="Primary database failover", now=NOW)
    entry = only_entry(action="outage.change")
    assert entry.changes == {
        "title": {"before": "Database failover", "after": "Primary database failover"}
    }
    assert entry.object_label == "Primary database failover"


def test_posting_an_update_and_closing_write_one_entry_each(outage, operations):
    outage_post_update(outage=outage, text="Failover in progress.", public=True, actor=operations)
    outage_close(outage=outage, ended_at=NOW - timedelta(minutes=5), actor=operations, now=NOW)
    actions = list(AuditEntry.objects.order_by("pk").values_list("action", flat=True))
    assert actions == ["outage.record", "outage.post_update", "outage.close"]
    update = only_entry(action="outage.post_update")
    assert update.changes["update"]["after"] == "Failover in progress."
    close = only_entry(action="outage.close")
    assert list(close.changes) == ["ended_at"]
    assert close.changes["ended_at"]["before"] is None
    assert close.changes["ended_at"]["after"].startswith("2026-07-02T11:55:00")
    assert close.reason == "Service restored. This incident is resolved."


def test_a_refused_change_writes_no_entry(outage, operations):
    with pytest.raises(ValidationError):
        outage_change(outage=outage, actor=operations, ended_at=NOW - timedelta(hours=3), now=NOW)
    assert AuditEntry.objects.filter(action="outage.change").count() == 0


# ---------------------------------------------------------------- credits


@pytest.fixture
def managed(contract, customer, account_manager):
    customer.account_managers.add(account_manager)
    return contract


def test_approving_a_credit_writes_one_entry_with_the_manager_and_status(managed, account_manager):
    credit = pending_credit(managed, "200.00")
    credit_approve(credit=credit, actor=account_manager)
    entry = only_entry()
    assert (entry.actor, entry.action, entry.object_type, entry.object_id) == (
        account_manager,
        "credit.approve",
        "credit",
        str(credit.pk),
    )
    assert entry.changes["status"] == {"before": "pending", "after": "approved"}
    assert entry.changes["amount"]["after"] == "200.00"


def test_rejecting_a_credit_keeps_the_reason(managed, account_manager):
    credit = pending_credit(managed, "200.00")
    credit_reject(credit=credit, actor=account_manager, reason="Customer caused the outage")
    entry = only_entry()
    assert entry.action == "credit.reject"
    assert entry.reason == "Customer caused the outage"
    assert entry.changes["status"] == {"before": "pending", "after": "rejected"}


def test_a_manual_adjustment_is_audited_when_asked_for_and_when_decided(
    managed, customer, account_manager
):
    second = StaffFactory(role="account_manager")
    customer.account_managers.add(second)
    adjustment = adjustment_request(
        customer=customer,
        amount=Decimal("50.00"),
        currency="USD",
        reason="Goodwill for the June migration",
        actor=account_manager,
    )
    adjustment_decide(adjustment=adjustment, actor=second, approve=True, note="Agreed")
    request, decision = AuditEntry.objects.order_by("pk")
    assert (request.action, request.actor, request.reason) == (
        "adjustment.request",
        account_manager,
        "Goodwill for the June migration",
    )
    assert request.changes["amount"]["after"] == "50.00 USD"
    assert (decision.action, decision.actor, decision.reason) == (
        "adjustment.approve",
        second,
        "Agreed",
    )
    assert decision.changes["status"] == {"before": "pending", "after": "approved"}


# ---------------------------------------------------------------- tickets


def test_reclassifying_a_ticket_writes_one_entry_with_old_and_new_severity(
    customer_user, ticket_service, agent
):
    ticket = ticket_file(
        actor=customer_user,
        service=ticket_service,
        subject="Publishing fails",
        description="Error 500.",
        severity=3,
        now=NOW,
    )
    assert not AuditEntry.objects.exists()  # a customer filing a ticket is not staff work
    ticket_reclassify(ticket=ticket, severity=1, reason="Whole site down", actor=agent, now=NOW)
    entry = only_entry()
    assert (entry.actor, entry.action, entry.object_type, entry.object_id) == (
        agent,
        "ticket.reclassify",
        "ticket",
        str(ticket.pk),
    )
    assert entry.changes == {"severity": {"before": 3, "after": 1}}
    assert entry.reason == "Whole site down"
    assert entry.object_label.startswith(ticket.reference)


# ---------------------------------------------------------------- append-only


def _save_changed(entry):
    entry.reason = "nothing happened"
    entry.save()


def _queryset_update(entry):
    AuditEntry.objects.filter(pk=entry.pk).update(actor_label="someone@else.example")


def _instance_delete(entry):
    entry.delete()


def _raw_delete(entry):
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {AuditEntry._meta.db_table} WHERE id = %s", [entry.pk])


@pytest.mark.parametrize(
    "attempt", [_save_changed, _queryset_update, _instance_delete, _raw_delete]
)
def test_the_database_refuses_to_change_or_delete_an_entry(outage, attempt):
    entry = only_entry()
    with pytest.raises((IntegrityError, InternalError)), transaction.atomic():
        attempt(entry)
    entry.refresh_from_db()
    assert entry.reason == "" and entry.actor_label
    assert AuditEntry.objects.count() == 1


def test_an_entry_rolls_back_with_the_action_that_failed(outage, operations):
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_record(actor=operations, action="outage.change", obj=outage)
        raise RuntimeError("the rest of the service failed")
    assert AuditEntry.objects.filter(action="outage.change").count() == 0


def test_the_admin_shows_entries_read_only(outage, admin_user):
    model_admin = admin.site._registry[AuditEntry]
    request = RequestFactory().get("/")
    request.user = admin_user
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, only_entry())
    assert not model_admin.has_delete_permission(request, only_entry())


# ---------------------------------------------------------------- the page


def test_the_page_is_for_administrators_only(client, db, operations, customer_admin):
    for person in (operations, customer_admin):
        client.force_login(person)
        assert client.get("/backoffice/audit/").status_code in (403, 404)


def test_the_page_says_so_when_nothing_is_recorded(client, admin_user):
    client.force_login(admin_user)
    response = client.get("/backoffice/audit/")
    assert response.status_code == 200
    assert "Nothing recorded yet." in response.content.decode()


def test_the_page_lists_filters_and_pages_entries(client, admin_user, outage, operations, agent):
    for n in range(55):
        audit_record(actor=agent, action="ticket.reclassify", obj=outage, label=f"Ticket {n}")
    client.force_login(admin_user)

    page = client.get("/backoffice/audit/", {"actor": operations.pk}).content.decode()
    assert "Database failover" in page and "Ticket 3" not in page
    assert "outage.record" in page and operations.email in page

    first = client.get("/backoffice/audit/").content.decode()
    assert "Page 1 of 2" in first and "56 in all" in first
    second = client.get("/backoffice/audit/", {"page": 2}).content.decode()
    assert "outage.record" in second  # the oldest, on the last page

    empty = client.get("/backoffice/audit/", {"object_type": "outage", "object_id": "999999"})
    assert "No entries match these filters." in empty.content.decode()
    bad = client.get("/backoffice/audit/", {"object_type": "spaceship"})
    assert bad.status_code == 200
    assert "Select a valid choice" in bad.content.decode()


@pytest.mark.browser
def test_an_administrator_reads_and_filters_the_log_in_the_browser(
    page, live_server, admin_user, outage, operations, agent
):
    from playwright.sync_api import expect

    from tests.support.accessibility import assert_accessible
    from tests.support.browser import login, screenshot

    outage_close(outage=outage, ended_at=NOW - timedelta(minutes=5), actor=operations, now=NOW)
    ticket_like = StaffFactory(role="agent")
    audit_record(
        actor=agent,
        action="ticket.reclassify",
        obj=ticket_like,
        changes={"severity": {"before": 3, "after": 1}},
        reason="Whole site down",
        label="T-000042 Publishing fails",
    )
    login(page, live_server, admin_user)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Audit log")
    expect(page.get_by_role("row")).to_have_count(4)  # header + three entries
    expect(page.get_by_role("row").filter(has_text="T-000042")).to_contain_text("3 → 1")
    assert_accessible(page, "audit log")
    screenshot(page, "audit-log")

    page.get_by_label("Who").select_option(label=operations.email)
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("row")).to_have_count(3)
    closed = page.get_by_role("row").filter(has_text="outage.close")
    expect(closed).to_contain_text("ended at: — → 2 Jul 2026, 11:55 UTC")
    recorded = page.get_by_role("row").filter(has_text="outage.record")
    expect(recorded).to_contain_text("title: — → Database failover")
    expect(recorded).not_to_contain_text("description")  # empty on a new outage: no change
