"""Generating a month's statement: idempotent (the database keeps one), a snapshot of the
terms and figures it used, the pending credit, drafts, and two workers at once."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from contracts.models import Contract
from credits.models import Credit
from statements.models import Statement
from statements.selectors import statement_credits
from statements.services import statement_generate
from tests.support.factories import TicketFactory
from tickets.models import Ticket

D = Decimal
JUNE = date(2026, 6, 1)
NOW = datetime(2026, 7, 2, 12, tzinfo=UTC)


def test_generating_a_month_twice_gives_one_statement_and_one_credit(june_contract):
    first = statement_generate(contract=june_contract, month=JUNE, now=NOW)
    again = statement_generate(contract=june_contract, month=date(2026, 6, 17), now=NOW)
    assert again.pk == first.pk
    assert Statement.objects.count() == 1
    assert Credit.objects.count() == 1
    assert (first.number, first.revision, first.status) == (
        f"ST-2026-06-{june_contract.pk:06d}",
        1,
        "issued",
    )
    assert first.issued_at == NOW
    assert (first.credit_amount, first.currency) == (D("200.00"), "USD")
    [credit] = statement_credits(first)
    assert (credit.service.name, credit.amount, credit.status) == (
        "Heretto CCMS",
        D("200.00"),
        "pending",
    )


def test_the_database_keeps_one_current_statement_per_contract_and_month(june_contract):
    first = statement_generate(contract=june_contract, month=JUNE, now=NOW)
    copy = {
        "contract": june_contract,
        "month": JUNE,
        "snapshot": {},
        "credit_amount": D("0"),
        "currency": "USD",
        "created_at": NOW,
        "issued_at": NOW,
        "status": "issued",
    }
    with pytest.raises(IntegrityError), transaction.atomic():
        Statement.objects.create(number="ST-COPY-1", revision=1, **copy)
    with pytest.raises(IntegrityError), transaction.atomic():
        Statement.objects.create(number="ST-COPY-2", revision=2, supersedes=first, **copy)
    assert Statement.objects.count() == 1


def test_the_snapshot_keeps_the_terms_and_figures_used(june_contract):
    snapshot = statement_generate(contract=june_contract, month=JUNE, now=NOW).snapshot
    assert snapshot["period"] | {"start": None, "end": None} == {
        "month": "2026-06",
        "label": "June 2026",
        "zone": "America/New_York",
        "start": None,
        "end": None,
        "seconds": 30 * 86400,
        "minutes": "43200",
        "hours": "720",
        "days": 30,
    }
    assert snapshot["period"]["start"] == "2026-06-01T04:00:00+00:00"
    assert snapshot["customer"]["name"] == june_contract.customer.name
    assert snapshot["contract"]["reference"] == "C-JUNE-1"
    policy = snapshot["policy"]
    assert (policy["code"], policy["version"], policy["target_pct"]) == (
        "heretto-ccms",
        1,
        "99.500",
    )
    assert "service credit" in policy["clauses"]["credit"].lower()
    assert {e["category"] for e in policy["exclusions"]} >= {"scheduled_maintenance"}

    publishing, ccms = snapshot["services"]  # by service name
    assert ccms["name"] == "Heretto CCMS"
    assert (ccms["monthly_fee"], ccms["display"], ccms["met"]) == ("4000.00", "99.201 %", False)
    assert ccms["availability"] == "2857/2880"  # (43,200 − 345) / 43,200, exact
    assert ccms["availability_pct"] == "99.201388"
    assert (ccms["denominator_minutes"], ccms["downtime_minutes"]) == ("43200", "345")
    assert [(o["title"], o["minutes"]) for o in ccms["counted"]] == [
        ("Heretto CCMS down", "300"),
        ("Upstream DNS provider", "45"),
    ]
    assert ccms["counted"][0]["started_at"] == "2026-06-10T16:00:00+00:00"
    days = {d["date"]: d["downtime_seconds"] for d in ccms["days"]}
    assert len(days) == 30 and days["2026-06-10"] == 300 * 60 and days["2026-06-20"] == 45 * 60
    assert sum(days.values()) == 345 * 60

    assert publishing["counted"] == []
    [maintenance] = publishing["excluded"]
    assert maintenance["title"] == "Database upgrade"
    assert maintenance["code"] == "removed_from_denominator"
    assert "Scheduled maintenance" in maintenance["reason"]
    assert (publishing["denominator_minutes"], publishing["display"]) == ("43080", "100.000 %")

    [credit] = snapshot["credits"]
    assert (credit["service"], credit["amount"], credit["band"]) == (
        "Heretto CCMS",
        "200.00",
        "[98.000, 99.500)",
    )
    assert credit["working"][-1] == {"label": "Service credit", "value": "200.00 USD", "clause": ""}
    assert (snapshot["credit_total"], snapshot["currency"], snapshot["replaces"]) == (
        "200.00",
        "USD",
        None,
    )


def test_support_attainment_counts_tickets_received_in_the_month_per_severity(june_contract):
    et_midnight = datetime(2026, 6, 1, 4, tzinfo=UTC)
    base = {"contract": june_contract, "status": "resolved"}
    due = et_midnight + timedelta(hours=8)
    # Severity 2: one answered in time, one answered late; severity 3: one still open and
    # not yet due when generated; severity 1: received a second before June (in May).
    TicketFactory(
        severity=2,
        received_at=et_midnight,
        response_target=timedelta(hours=4),
        response_due_at=due,
        responded_at=due - timedelta(hours=1),
        resolved_at=due,
        **base,
    )
    TicketFactory(
        severity=2,
        received_at=et_midnight + timedelta(days=3),
        response_target=timedelta(hours=4),
        response_due_at=due + timedelta(days=3),
        responded_at=due + timedelta(days=3, minutes=1),
        resolved_at=due + timedelta(days=4),
        **base,
    )
    TicketFactory(
        contract=june_contract,
        severity=3,
        received_at=datetime(2026, 6, 30, 20, tzinfo=UTC),
        response_target=timedelta(hours=8),
        response_due_at=NOW + timedelta(hours=1),
    )
    TicketFactory(
        severity=1, received_at=et_midnight - timedelta(seconds=1), resolved_at=et_midnight, **base
    )
    support = statement_generate(contract=june_contract, month=JUNE, now=NOW).snapshot["support"]
    rows = {row["severity"]: row for row in support["severities"]}
    assert rows[1]["tickets"] == 0
    assert rows[2]["tickets"] == 2
    assert rows[2]["response"] == {"met": 1, "breached": 1, "open": 0, "no_target": 0}
    assert rows[3]["response"] == {"met": 0, "breached": 0, "open": 1, "no_target": 0}
    assert rows[2]["response_target"] == "4 hours"
    assert Ticket.objects.count() == 4


def test_a_month_still_running_is_refused_unless_previewed_as_a_draft(june_contract):
    july = date(2026, 7, 1)
    with pytest.raises(ValidationError, match="has not ended yet in America/New_York"):
        statement_generate(contract=june_contract, month=july, now=NOW)
    draft = statement_generate(contract=june_contract, month=july, now=NOW, draft=True)
    assert (draft.status, draft.issued_at) == ("draft", None)
    assert not Credit.objects.filter(month=july).exists()
    again = statement_generate(
        contract=june_contract, month=july, now=NOW + timedelta(hours=1), draft=True
    )
    assert not Statement.objects.filter(pk=draft.pk).exists()  # a draft is replaced
    assert again.snapshot["generated_at"] == (NOW + timedelta(hours=1)).isoformat()


def test_a_draft_previews_the_credit_and_is_replaced_when_the_month_is_issued(june_contract):
    draft = statement_generate(contract=june_contract, month=JUNE, now=NOW, draft=True)
    assert [(p["service"], p["amount"]) for p in draft.snapshot["preview"]] == [
        ("Heretto CCMS", "200.00")
    ]
    assert draft.credit_amount == D("200.00") and not Credit.objects.exists()
    issued = statement_generate(contract=june_contract, month=JUNE, now=NOW)
    assert issued.status == "issued" and issued.number == draft.number
    assert list(Statement.objects.values_list("status", flat=True)) == ["issued"]
    # Once issued, a month does not go back to draft: the issued statement comes back.
    assert statement_generate(contract=june_contract, month=JUNE, now=NOW, draft=True) == issued


def test_a_contract_not_in_force_in_the_month_gets_no_statement(june_contract):
    Contract.objects.filter(pk=june_contract.pk).update(start_date=date(2026, 7, 1))
    june_contract.refresh_from_db()
    with pytest.raises(ValidationError, match="was not in force in June 2026"):
        statement_generate(contract=june_contract, month=JUNE, now=NOW)


def test_two_workers_generating_at_once_make_one_statement(
    postgres, transactional_db, celery_eager, june_contract
):
    barrier = threading.Barrier(4)
    results: list[object] = [None] * 4

    def worker(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            contract = Contract.objects.get(pk=june_contract.pk)
            results[i] = statement_generate(contract=contract, month=JUNE, now=NOW).pk
        except Exception as exc:  # noqa: BLE001 — inspected below
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(set(results)) == 1 and isinstance(results[0], int), results
    assert Statement.objects.count() == 1
    assert Credit.objects.count() == 1
