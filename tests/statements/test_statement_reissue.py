"""Re-issue: an outage changed after the month ended gives revision n + 1, the previous
statement superseded, the credit difference as ledger entries once the new credit is
approved, and an e-mail that says which statement it replaces."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError

from audit.models import AuditEntry
from credits.models import Credit, LedgerEntry
from credits.selectors import customer_balance
from credits.services import credit_approve
from outages.models import Outage, ReissueRequest
from outages.services import outage_change
from statements.models import Statement
from statements.selectors import statement_credits
from statements.services import (
    statement_generate,
    statement_reissue,
    statement_reissue_requested,
    statement_render,
    statements_tick,
)

D = Decimal
JUNE = date(2026, 6, 1)
NOW = datetime(2026, 7, 2, 12, tzinfo=UTC)
LATER = NOW + timedelta(days=3)


def _issued_and_granted(contract, manager) -> Statement:
    statement = statement_generate(contract=contract, month=JUNE, now=NOW)
    [credit] = statement_credits(statement)
    credit_approve(credit=credit, actor=manager)
    return statement


def _lengthen_the_ccms_outage(minutes: int) -> Outage:
    outage = Outage.objects.get(title="Heretto CCMS down")
    return outage_change(
        outage=outage,
        actor=None,
        now=LATER,
        ended_at=outage.started_at + timedelta(minutes=minutes),
    )


def test_a_changed_outage_reissues_the_month_and_the_approval_settles_the_difference(
    june_contract, account_manager, celery_eager, django_capture_on_commit_callbacks
):
    first = _issued_and_granted(june_contract, account_manager)
    assert customer_balance(june_contract.customer, "USD") == D("200.00")
    _lengthen_the_ccms_outage(900)  # 945 min down: 97.812 % → the 10 % band → 400.00
    assert ReissueRequest.objects.filter(resolved_at__isnull=True).count() == 1

    with django_capture_on_commit_callbacks(execute=True):
        second = statement_reissue_requested(contract=june_contract, month=JUNE, now=LATER)
    first.refresh_from_db()
    assert (first.status, second.status) == ("superseded", "issued")
    assert (second.revision, second.number) == (2, f"{first.number}-R2")
    assert second.supersedes == first
    assert second.snapshot["replaces"]["number"] == first.number
    assert "Heretto CCMS down" in second.reason
    [request] = ReissueRequest.objects.all()
    assert (request.resolution, request.resolved_at, request.resolved_by) == (
        "reissued",
        LATER,
        None,
    )
    assert request.resolution_note == f"Re-issued as {second.number} (revision 2)."
    [resolved] = AuditEntry.objects.filter(action="reissue_request.reissue")
    assert resolved.changes == {
        "resolution": {"before": None, "after": "reissued"},
        "statement": {"before": first.number, "after": second.number},
    }
    [credit] = statement_credits(second)
    assert (credit.revision, credit.amount, credit.status) == (2, D("400.00"), "pending")
    [entry] = AuditEntry.objects.filter(action="statement.reissue")
    assert entry.changes == {
        "revision": {"before": 1, "after": 2},
        "credit_amount": {"before": "200.00", "after": "400.00"},
    }
    assert entry.reason == second.reason
    assert mail.outbox == []  # waits for the new credit's decision
    assert customer_balance(june_contract.customer, "USD") == D("200.00")

    with django_capture_on_commit_callbacks(execute=True):
        credit_approve(credit=credit, actor=account_manager)
    entries = list(
        LedgerEntry.objects.order_by("pk").values_list("kind", "amount", "credit__revision")
    )
    assert entries == [
        ("credit_granted", D("200.00"), 1),
        ("credit_granted", D("400.00"), 2),
        ("reversal", D("-200.00"), 1),
    ]
    assert customer_balance(june_contract.customer, "USD") == D("400.00")

    [email] = mail.outbox
    assert email.subject == (
        f"Revised service level statement {second.number} — June 2026 (replaces {first.number})"
    )
    assert f"It replaces statement {first.number} (revision 1)" in email.body
    assert "400.00 USD — Approved; not yet on an invoice" in email.body
    assert (
        "Credits granted by this statement: 400.00 USD; previously credited: 200.00 USD; "
        "net change: +200.00 USD." in email.body
    )
    assert [name for name, _, _ in email.attachments] == [f"{second.number}.pdf"]
    second.refresh_from_db()
    assert second.pdf and second.emailed_at is not None


def test_the_reissued_pdf_says_what_it_replaces_previously_credited_and_the_net_change(
    june_contract, account_manager
):
    from tests.support.pdf import pdf_text

    _issued_and_granted(june_contract, account_manager)
    _lengthen_the_ccms_outage(900)
    second = statement_reissue_requested(contract=june_contract, month=JUNE, now=LATER)
    [credit] = statement_credits(second)
    credit_approve(credit=credit, actor=account_manager)
    assert statement_render(statement_id=second.pk) == "rendered"
    second.refresh_from_db()
    text = " ".join(pdf_text(second.pdf.read()).split())
    assert f"This statement replaces statement {second.supersedes.number} (revision 1)" in text
    assert "Credits granted by this statement 400.00 USD" in text
    assert "Previously credited (earlier revisions) 200.00 USD" in text
    assert "Net change +200.00 USD" in text
    assert "Adjustment" not in text  # no invoice line claimed that the ledger lacks
    assert "97.812 %" in text


def test_a_pending_earlier_credit_is_withdrawn_and_the_superseded_statement_never_sent(
    june_contract, account_manager, celery_eager, django_capture_on_commit_callbacks
):
    first = statement_generate(contract=june_contract, month=JUNE, now=NOW)
    [old] = statement_credits(first)
    _lengthen_the_ccms_outage(900)
    with django_capture_on_commit_callbacks(execute=True):
        second = statement_reissue_requested(contract=june_contract, month=JUNE, now=LATER)
    first.refresh_from_db()
    assert first.pdf and first.emailed_at is None  # rendered for the record, never sent
    old.refresh_from_db()
    assert (old.status, old.reason) == (
        "ineligible",
        "Replaced by revision 2 of this month's figures.",
    )
    assert list(old.events.values_list("action", flat=True)) == ["computed", "withdrawn"]
    assert mail.outbox == []  # neither the superseded one nor the new one (pending) is sent
    [new] = statement_credits(second)
    with django_capture_on_commit_callbacks(execute=True):
        credit_approve(credit=new, actor=account_manager)
    assert [e.subject.startswith("Revised") for e in mail.outbox] == [True]
    assert customer_balance(june_contract.customer, "USD") == D("400.00")
    assert not LedgerEntry.objects.filter(kind="reversal").exists()


def test_an_outage_excused_afterwards_withdraws_the_granted_credit_on_approval(
    june_contract, account_manager
):
    _issued_and_granted(june_contract, account_manager)
    for outage in Outage.objects.filter(service__name="Heretto CCMS"):
        outage_change(outage=outage, actor=None, now=LATER, category="customer_authorized")
    second = statement_reissue_requested(contract=june_contract, month=JUNE, now=LATER)
    [zero] = statement_credits(second)
    assert (zero.amount, zero.status, zero.revision) == (D("0.00"), "pending", 2)
    assert second.snapshot["services"][1]["display"] == "100.000 %"
    credit_approve(credit=zero, actor=account_manager)
    assert list(LedgerEntry.objects.order_by("pk").values_list("kind", "amount")) == [
        ("credit_granted", D("200.00")),
        ("reversal", D("-200.00")),
    ]
    assert customer_balance(june_contract.customer, "USD") == D("0.00")


def test_a_change_that_leaves_the_figures_as_they_were_resolves_without_a_revision(
    june_contract, account_manager
):
    first = _issued_and_granted(june_contract, account_manager)
    outage = Outage.objects.get(title="Heretto CCMS down")
    outage_change(outage=outage, actor=None, now=LATER, description="Root cause: a bad deploy.")
    assert ReissueRequest.objects.filter(resolved_at__isnull=True).count() == 1
    again = statement_reissue_requested(
        contract=june_contract, month=JUNE, now=LATER, actor=account_manager
    )
    assert again == first and Statement.objects.count() == 1
    [request] = ReissueRequest.objects.all()
    assert (request.resolution, request.resolved_by) == ("unchanged", account_manager)
    assert request.resolution_note == f"The figures did not change: {first.number} stands."
    forced = statement_reissue(
        contract=june_contract, month=JUNE, now=LATER, reason="Corrected address", force=True
    )
    assert (forced.revision, forced.reason) == (2, "Corrected address")


def test_a_month_without_an_issued_statement_cannot_be_reissued(june_contract):
    with pytest.raises(ValidationError, match="has no issued statement"):
        statement_reissue(contract=june_contract, month=JUNE, now=NOW)


def test_the_tick_resolves_unstated_months_and_leaves_issued_statements_to_staff(
    june_contract, account_manager, celery_eager, django_capture_on_commit_callbacks
):
    may = date(2026, 5, 1)
    ReissueRequest.objects.create(contract=june_contract, month=may, reason="May outage edited")
    first = _issued_and_granted(june_contract, account_manager)
    _lengthen_the_ccms_outage(900)
    with time_machine.travel(LATER, tick=False), django_capture_on_commit_callbacks(execute=True):
        tick = statements_tick()
    assert tick.reissues == 1
    settled = ReissueRequest.objects.get(month=may)
    assert (settled.resolution, settled.resolved_at, settled.resolved_by) == (
        "no_statement",
        LATER,
        None,
    )
    [entry] = AuditEntry.objects.filter(action="reissue_request.settle")
    assert (entry.actor, entry.object_id) == (None, str(settled.pk))
    # June has an issued statement: re-issuing it sends the customer a revised one, which
    # its account manager decides; the tick leaves it as it was.
    waiting = ReissueRequest.objects.get(month=JUNE)
    assert (waiting.resolved_at, waiting.resolution) == (None, "")
    assert list(Statement.objects.filter(month=JUNE).values_list("revision", "status")) == [
        (1, "issued")
    ]
    first.refresh_from_db()
    assert first.status == "issued"
    # May had no statement: the tick planned it (it has ended), measured as it stands.
    assert Statement.objects.filter(month=may, revision=1).count() == 1
    assert Credit.objects.filter(month=may).count() == 0

    with time_machine.travel(LATER + timedelta(hours=1), tick=False):
        again = statements_tick()
    assert again.reissues == 0
    assert ReissueRequest.objects.get(month=JUNE).resolved_at is None
