"""Credit services end to end: compute from outages, decide, grant, apply, expire, adjust."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from contracts.models import Contract
from credits.models import Balance, Credit, LedgerEntry, ManualAdjustment
from credits.selectors import customer_balance, ledger_for, pending_credits_for
from credits.services import (
    adjustment_decide,
    adjustment_request,
    credit_approve,
    credit_compute,
    credit_reject,
)
from tests.support.credit_cases import NOW
from tests.support.factories import (
    CustomerUserFactory,
    InvoiceFactory,
    StaffFactory,
)

D = Decimal
JUNE = date(2026, 6, 1)


# ------------------------------------------------------------------ compute


def test_300_minutes_down_on_ccms_gives_one_pending_credit_of_200_and_none_for_publishing(
    heretto,
):
    credits = credit_compute(contract=heretto, month=JUNE, now=NOW)
    assert len(credits) == 1
    credit = credits[0]
    assert credit.service.name == "Heretto CCMS"
    assert credit.amount == D("200.00")
    assert credit.status == Credit.Status.PENDING
    # (43,200 − 300) / 43,200 = 99.30555…% — cut, not rounded.
    assert credit.availability_pct == D("99.305555")
    assert credit.working["amount"] == "200.00"
    assert credit.working["band"] == "[98.000, 99.500)"
    assert credit.working["availability"]["denominator_minutes"] == "43200"
    assert credit.working["availability"]["downtime_minutes"] == "300"
    assert credit.working["policy"] == {"code": "heretto-ccms", "version": 1}
    assert [e.action for e in credit.events.all()] == ["computed"]


def test_computing_a_month_twice_changes_nothing(heretto):
    first = credit_compute(contract=heretto, month=JUNE, now=NOW)
    second = credit_compute(contract=heretto, month=JUNE, now=NOW + timedelta(days=3))
    assert [c.pk for c in second] == [c.pk for c in first]
    assert Credit.objects.count() == 1
    assert heretto.credits.get().events.count() == 1


def test_an_unpaid_invoice_due_before_the_downtime_makes_the_credit_ineligible(balto):
    InvoiceFactory(contract=balto, number="INV-B-0601", issued_on=date(2026, 5, 15), due_on=JUNE)
    (credit,) = credit_compute(contract=balto, month=JUNE, now=NOW)
    assert credit.status == Credit.Status.INELIGIBLE
    assert credit.amount == D("0.00")
    assert "INV-B-0601" in credit.reason
    assert credit.working["eligible"] is False
    with pytest.raises(ValidationError, match="not eligible"):
        credit_approve(credit=credit, actor=balto.customer.account_managers.get())


def test_an_invoice_paid_before_the_downtime_keeps_the_credit(balto):
    InvoiceFactory(
        contract=balto,
        issued_on=date(2026, 5, 15),
        due_on=JUNE,
        paid_at=datetime(2026, 6, 2, tzinfo=UTC),
    )
    (credit,) = credit_compute(contract=balto, month=JUNE, now=NOW)
    assert (credit.status, credit.amount) == (Credit.Status.PENDING, D("100.00"))


def test_a_terminated_contract_whose_credits_expire_gets_an_ineligible_credit(balto):
    Contract.objects.filter(pk=balto.pk).update(terminated_on=date(2026, 6, 30))
    balto.refresh_from_db()
    (credit,) = credit_compute(contract=balto, month=JUNE, now=NOW)
    assert credit.status == Credit.Status.INELIGIBLE
    assert "terminated" in credit.reason


def test_a_contract_on_its_termination_day_is_still_in_force_and_keeps_its_credit(balto):
    # NOW is 07:00 on 2 July in Chicago, Balto's policy zone: the last day in force.
    Contract.objects.filter(pk=balto.pk).update(terminated_on=date(2026, 7, 2))
    balto.refresh_from_db()
    (credit,) = credit_compute(contract=balto, month=JUNE, now=NOW)
    assert (credit.status, credit.amount) == (Credit.Status.PENDING, D("100.00"))


# ------------------------------------------------------------------ decide


def test_approval_grants_the_credit_once_and_records_who_and_when(heretto, account_manager):
    (credit,) = credit_compute(contract=heretto, month=JUNE, now=NOW)
    assert list(pending_credits_for(account_manager)) == [credit]
    assert not pending_credits_for(StaffFactory(role="account_manager")).exists()
    credit_approve(credit=credit, actor=account_manager, now=NOW)
    credit.refresh_from_db()
    assert (credit.status, credit.decided_by, credit.decided_at) == (
        "approved",
        account_manager,
        NOW,
    )
    (entry,) = ledger_for(heretto.customer)
    assert (entry.kind, entry.amount, entry.credit) == ("credit_granted", D("200.00"), credit)
    assert customer_balance(heretto.customer, "USD") == D("200.00")
    assert [(e.action, e.actor) for e in credit.events.all()] == [
        ("computed", None),
        ("approved", account_manager),
    ]
    assert not pending_credits_for(account_manager).exists()


def test_a_decided_credit_cannot_be_decided_again_and_nothing_is_saved(heretto, account_manager):
    (credit,) = credit_compute(contract=heretto, month=JUNE, now=NOW)
    credit_approve(credit=credit, actor=account_manager)
    with pytest.raises(ValidationError) as approving:
        credit_approve(credit=credit, actor=account_manager)
    assert approving.value.message_dict == {"status": ["This credit is already approved."]}
    with pytest.raises(ValidationError, match="already approved"):
        credit_reject(credit=credit, actor=account_manager, reason="changed my mind")
    assert LedgerEntry.objects.count() == 1
    assert credit.events.count() == 2


def test_rejecting_needs_a_reason_and_records_it(heretto, account_manager):
    (credit,) = credit_compute(contract=heretto, month=JUNE, now=NOW)
    with pytest.raises(ValidationError) as blank:
        credit_reject(credit=credit, actor=account_manager, reason="  ")
    assert "reason" in blank.value.message_dict
    credit.refresh_from_db()
    assert credit.status == Credit.Status.PENDING
    credit_reject(credit=credit, actor=account_manager, reason="Outage was customer-caused")
    credit.refresh_from_db()
    assert (credit.status, credit.reason) == ("rejected", "Outage was customer-caused")
    assert credit.events.last().note == "Outage was customer-caused"
    assert not LedgerEntry.objects.exists()


@pytest.mark.parametrize("who", ["customer_user", "other_manager", "agent", "admin"])
def test_only_an_account_manager_of_that_customer_may_decide(heretto, who):
    actor = {
        "customer_user": lambda: CustomerUserFactory(customer=heretto.customer),
        "other_manager": lambda: StaffFactory(role="account_manager"),
        "agent": lambda: StaffFactory(role="agent"),
        "admin": lambda: StaffFactory(role="admin"),
    }[who]()
    (credit,) = credit_compute(contract=heretto, month=JUNE, now=NOW)
    with pytest.raises(PermissionDenied):
        credit_approve(credit=credit, actor=actor)
    with pytest.raises(PermissionDenied):
        credit_reject(credit=credit, actor=actor, reason="no")
    credit.refresh_from_db()
    assert credit.status == Credit.Status.PENDING
    assert not LedgerEntry.objects.exists() and not Balance.objects.exists()


# ------------------------------------------------------------------ manual adjustments


def test_a_manual_adjustment_needs_a_second_person(heretto, account_manager, admin_user):
    adjustment = adjustment_request(
        customer=heretto.customer,
        amount=D("25.00"),
        currency="USD",
        reason="Goodwill",
        actor=account_manager,
    )
    with pytest.raises(ValidationError, match="second person must approve"):
        adjustment_decide(adjustment=adjustment, actor=account_manager, approve=True)
    assert not LedgerEntry.objects.exists()
    adjustment = adjustment_decide(adjustment=adjustment, actor=admin_user, approve=True)
    assert adjustment.status == ManualAdjustment.Status.APPROVED
    assert (adjustment.entry.kind, adjustment.entry.amount) == ("manual_adjustment", D("25.00"))
    assert customer_balance(heretto.customer, "USD") == D("25.00")
    with pytest.raises(ValidationError, match="already approved"):
        adjustment_decide(adjustment=adjustment, actor=admin_user, approve=False)


def test_bad_adjustments_are_refused_with_the_field_named(heretto, account_manager, admin_user):
    with pytest.raises(ValidationError) as refused:
        adjustment_request(
            customer=heretto.customer, amount=D("0"), currency="EUR", reason="", actor=admin_user
        )
    errors = refused.value.message_dict
    assert errors["currency"] == [
        f"{heretto.customer} bills in USD; an adjustment in EUR cannot be posted."
    ]
    assert set(errors) == {"currency", "amount", "reason"}
    with pytest.raises(PermissionDenied):
        adjustment_request(
            customer=heretto.customer,
            amount=D("5.00"),
            currency="USD",
            reason="x",
            actor=CustomerUserFactory(customer=heretto.customer),
        )
    debit = adjustment_request(
        customer=heretto.customer, amount=D("-5.00"), currency="USD", reason="Fix", actor=admin_user
    )
    with pytest.raises(ValidationError, match="already been used"):
        adjustment_decide(adjustment=debit, actor=account_manager, approve=True)
    debit.refresh_from_db()
    assert debit.status == ManualAdjustment.Status.PENDING
    assert not LedgerEntry.objects.exists()
