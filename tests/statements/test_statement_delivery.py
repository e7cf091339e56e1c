"""Delivery of issued statements: statements picks up credit decisions itself (credits
never calls it), and the hourly tick renders and sends every statement still owed its
PDF or e-mail — one whose task was lost to a broker outage at commit included. However
many paths dispatch it, a statement is rendered once and e-mailed once."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from celery.app.task import Task
from django.core import mail
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from kombu.exceptions import OperationalError as BrokerError

from contracts.models import Contract
from credits.models import Credit
from credits.services import credit_approve, credit_reject
from outbox.models import OutboxMessage
from statements.models import Statement
from statements.selectors import statement_credits
from statements.services import delivery, statement_generate, statement_render, statements_tick
from tests.support.factories import CustomerFactory, catalog_contract, record_outage

JUNE = date(2026, 6, 1)
NOW = datetime(2026, 7, 2, 12, tzinfo=UTC)
NEXT_TICK = datetime(2026, 7, 2, 13, 5, tzinfo=UTC)


@contextmanager
def broker_down(monkeypatch):
    """Every task dispatch fails as kombu fails when it cannot reach the broker."""

    def unreachable(self, *args, **kwargs):
        raise BrokerError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    with monkeypatch.context() as patch:
        patch.setattr(Task, "apply_async", unreachable)
        yield


@pytest.fixture
def renders(monkeypatch) -> list[int]:
    """The ids of the statements the PDF renderer was run for, in order."""
    seen: list[int] = []
    real = delivery.render_statement_pdf

    def counting(statement: Statement) -> bytes:
        seen.append(statement.pk)
        return real(statement)

    monkeypatch.setattr(delivery, "render_statement_pdf", counting)
    return seen


@pytest.fixture
def creditless(catalog, customer, statement_media) -> Contract:
    """A June contract with no outage: its statement has no credit to wait for."""
    return catalog_contract(
        customer, "heretto-ccms", {"Heretto CCMS": "4000.00"}, start=JUNE, reference="C-NY"
    )


@pytest.fixture
def june_only(june_contract) -> Contract:
    """``june_contract`` from June only, so a tick owes it no earlier month."""
    Contract.objects.filter(pk=june_contract.pk).update(start_date=JUNE)
    june_contract.refresh_from_db()
    return june_contract


def tick(at: datetime, capture):
    """One tick at ``at``, the tasks it dispatches run in-process at that (frozen) time."""
    with time_machine.travel(at, tick=False), capture(execute=True):
        return statements_tick()


def statement_mails() -> list:
    return [m for m in mail.outbox if "statement" in m.subject.lower()]


def test_a_render_lost_to_a_broker_outage_at_commit_is_delivered_by_the_next_tick(
    creditless, celery_eager, django_capture_on_commit_callbacks, monkeypatch, client, settings
):
    settings.CELERY_BROKER_URL = None
    settings.HEALTHZ_TOKEN = "monitor-token-for-tests"  # the monitor sees each check
    client.defaults["HTTP_AUTHORIZATION"] = "Bearer monitor-token-for-tests"
    with broker_down(monkeypatch), django_capture_on_commit_callbacks(execute=True):
        statement = statement_generate(contract=creditless, month=JUNE, now=NOW)
    statement.refresh_from_db()
    # The statement stands (robust on_commit), but its render task never left.
    assert statement.status == "issued"
    assert not statement.pdf and statement.emailed_at is None
    assert mail.outbox == [] and not OutboxMessage.objects.exists()

    # Monitoring sees it once two ticks should have delivered it.
    with time_machine.travel(NOW + timedelta(hours=1), tick=False):
        assert client.get("/healthz").json()["checks"]["statements"]["ok"] is True
    with time_machine.travel(NOW + timedelta(hours=3), tick=False):
        check = client.get("/healthz").json()["checks"]["statements"]
    assert check["ok"] is False and check["statements_undelivered"] == 1
    assert "1 statement(s) still have no PDF or e-mail 2 h after" in check["error"]

    outcome = tick(NOW + timedelta(hours=3), django_capture_on_commit_callbacks)
    assert outcome.deliveries == 1 and outcome.runs == []
    statement.refresh_from_db()
    assert statement.pdf_rendered_at == statement.emailed_at == NOW + timedelta(hours=3)
    [email] = mail.outbox
    assert email.to == creditless.customer.billing_email_list
    [(name, content, kind)] = email.attachments
    assert (name, kind) == (f"{statement.number}.pdf", "application/pdf")
    assert content == statement.pdf.read()
    with time_machine.travel(NOW + timedelta(hours=3), tick=False):
        check = client.get("/healthz").json()["checks"]["statements"]
    assert check["ok"] is True and check["statements_undelivered"] == 0


def test_a_broker_down_at_a_real_commit_neither_fails_nor_undoes_the_statement(
    postgres, transactional_db, creditless, celery_eager, monkeypatch, caplog
):
    # Django 5.2's robust on_commit crashed on a partial's missing __qualname__ while
    # logging the broker's error, so the caller got an AttributeError after the commit.
    with broker_down(monkeypatch):
        statement = statement_generate(contract=creditless, month=JUNE, now=NOW)
    assert Statement.objects.get(pk=statement.pk).status == "issued"
    assert "Error calling dispatch_render in on_commit()" in caplog.text
    assert "Connection refused" in caplog.text


def test_running_the_tick_again_renders_and_sends_nothing_again(
    creditless, celery_eager, django_capture_on_commit_callbacks, monkeypatch, renders
):
    with broker_down(monkeypatch), django_capture_on_commit_callbacks(execute=True):
        statement = statement_generate(contract=creditless, month=JUNE, now=NOW)
    assert tick(NEXT_TICK, django_capture_on_commit_callbacks).deliveries == 1
    for hours in (1, 2, 30):
        again = tick(NEXT_TICK + timedelta(hours=hours), django_capture_on_commit_callbacks)
        assert again.deliveries == 0
    assert renders == [statement.pk]
    assert len(mail.outbox) == 1 and OutboxMessage.objects.count() == 1


def test_a_stored_pdf_whose_email_is_missing_is_sent_by_the_tick_without_a_new_render(
    creditless, celery_eager, django_capture_on_commit_callbacks, monkeypatch, renders
):
    with broker_down(monkeypatch), django_capture_on_commit_callbacks(execute=True):
        statement = statement_generate(contract=creditless, month=JUNE, now=NOW)
    # As a worker that stored the PDF and died before queueing the e-mail left it.
    name = default_storage.save("statements/2026/06/stored.pdf", ContentFile(b"%PDF-1.7 x"))
    Statement.objects.filter(pk=statement.pk).update(
        pdf=name, pdf_sha256="0" * 64, pdf_rendered_at=NOW
    )
    assert tick(NEXT_TICK, django_capture_on_commit_callbacks).deliveries == 1
    assert renders == []
    [email] = mail.outbox
    assert email.attachments == [(f"{statement.number}.pdf", b"%PDF-1.7 x", "application/pdf")]
    assert statement_render(statement_id=statement.pk) == "already"


def test_the_sweep_finds_every_owed_statement_in_one_query(
    catalog,
    statement_media,
    celery_eager,
    django_capture_on_commit_callbacks,
    monkeypatch,
    django_assert_num_queries,
):
    owed = []
    for _ in range(3):
        contract = catalog_contract(
            CustomerFactory(), "heretto-ccms", {"Heretto CCMS": "4000.00"}, start=JUNE
        )
        with broker_down(monkeypatch), django_capture_on_commit_callbacks(execute=True):
            owed.append(statement_generate(contract=contract, month=JUNE, now=NOW).pk)
    with django_assert_num_queries(1), django_capture_on_commit_callbacks() as dispatched:
        assert delivery.statements_deliver_owed() == 3
    assert [d.args for d in dispatched] == [(pk,) for pk in owed]


def test_two_ticks_at_once_dispatch_twice_but_render_and_send_once(
    creditless, celery_eager, django_capture_on_commit_callbacks, monkeypatch, renders
):
    """Two beats by mistake: both find the statement owed before either task has run."""
    with broker_down(monkeypatch), django_capture_on_commit_callbacks(execute=True):
        statement = statement_generate(contract=creditless, month=JUNE, now=NOW)
    with time_machine.travel(NEXT_TICK, tick=False):
        with django_capture_on_commit_callbacks() as first:
            statements_tick()
        with django_capture_on_commit_callbacks() as second:
            statements_tick()
        assert len(first) == len(second) == 1
        with django_capture_on_commit_callbacks(execute=True):  # the two tasks, in turn
            for dispatch in first + second:
                dispatch()
    assert renders == [statement.pk]
    assert len(mail.outbox) == 1 and OutboxMessage.objects.count() == 1
    assert statement_render(statement_id=statement.pk) == "already"


def test_the_tick_leaves_a_statement_whose_credit_awaits_the_account_manager(
    june_only, celery_eager, django_capture_on_commit_callbacks, renders
):
    with django_capture_on_commit_callbacks(execute=True):
        statement_generate(contract=june_only, month=JUNE, now=NOW)
    assert tick(NEXT_TICK, django_capture_on_commit_callbacks).deliveries == 0
    assert renders == [] and mail.outbox == []


def test_approving_the_credit_delivers_the_statement_right_after_the_commit(
    june_only, account_manager, celery_eager, django_capture_on_commit_callbacks, renders
):
    with django_capture_on_commit_callbacks(execute=True):
        statement = statement_generate(contract=june_only, month=JUNE, now=NOW)
    [credit] = statement_credits(statement)
    with django_capture_on_commit_callbacks() as after_commit:
        credit_approve(credit=credit, actor=account_manager)
    assert renders == [] and mail.outbox == []  # nothing before the decision commits
    with django_capture_on_commit_callbacks(execute=True):  # the commit, and its tasks
        for callback in after_commit:
            callback()
    # No tick ran: the decision's signal did it.
    assert renders == [statement.pk]
    [email] = statement_mails()
    assert "200.00 USD — Approved; not yet on an invoice" in email.body
    statement.refresh_from_db()
    assert statement.pdf and statement.emailed_at is not None


def test_a_statement_waits_for_every_credit_and_goes_out_after_the_last_decision(
    june_only, account_manager, celery_eager, django_capture_on_commit_callbacks, renders
):
    et = ZoneInfo("America/New_York")
    record_outage(june_only, "Cloud Publishing", datetime(2026, 6, 3, 9, tzinfo=et), 600)
    with django_capture_on_commit_callbacks(execute=True):
        statement = statement_generate(contract=june_only, month=JUNE, now=NOW)
    publishing, ccms = sorted(statement_credits(statement), key=lambda c: c.service.name)
    assert (publishing.service.name, ccms.service.name) == ("Cloud Publishing", "Heretto CCMS")

    with django_capture_on_commit_callbacks(execute=True):
        credit_approve(credit=ccms, actor=account_manager)
    assert renders == [] and mail.outbox == []  # the other credit is still pending
    with django_capture_on_commit_callbacks(execute=True):
        credit_reject(credit=publishing, actor=account_manager, reason="Planned with the customer")
    assert renders == [statement.pk]
    [email] = statement_mails()
    assert "Rejected: Planned with the customer" in email.body
    assert "200.00 USD — Approved; not yet on an invoice" in email.body


def test_a_decision_whose_render_task_is_lost_is_delivered_by_the_next_tick(
    june_only, account_manager, celery_eager, django_capture_on_commit_callbacks, monkeypatch
):
    with django_capture_on_commit_callbacks(execute=True):
        statement = statement_generate(contract=june_only, month=JUNE, now=NOW)
    [credit] = statement_credits(statement)
    with broker_down(monkeypatch), django_capture_on_commit_callbacks(execute=True):
        credit_reject(credit=credit, actor=account_manager, reason="Customer already compensated")
    assert Credit.objects.get(pk=credit.pk).status == "rejected"  # the decision stands
    assert mail.outbox == []
    assert tick(NEXT_TICK, django_capture_on_commit_callbacks).deliveries == 1
    [email] = statement_mails()
    assert "Rejected: Customer already compensated" in email.body


def test_two_workers_rendering_one_statement_at_once_render_it_once(
    postgres, transactional_db, creditless, celery_eager, monkeypatch
):
    """On PostgreSQL's row locks: the second worker skips the statement the first holds."""
    with broker_down(monkeypatch):
        statement = statement_generate(contract=creditless, month=JUNE, now=NOW)
    seen: list[int] = []
    real = delivery.render_statement_pdf

    def slow(statement: Statement) -> bytes:
        seen.append(statement.pk)
        content = real(statement)
        threading.Event().wait(0.5)  # the other worker arrives while this one renders
        return content

    monkeypatch.setattr(delivery, "render_statement_pdf", slow)
    barrier = threading.Barrier(2)
    outcomes: list[object] = [None, None]

    def worker(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            outcomes[i] = statement_render(statement_id=statement.pk)
        except Exception as exc:  # noqa: BLE001 — inspected below
            outcomes[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(map(str, outcomes)) == ["busy", "rendered"], outcomes
    assert seen == [statement.pk]
    assert OutboxMessage.objects.count() == 1 and len(mail.outbox) == 1
