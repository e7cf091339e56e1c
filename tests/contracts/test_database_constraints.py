"""The database itself refuses contracts data that breaks an invariant, even when the
services' and the admin's validation is bypassed."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from contracts.models import (
    Calendar,
    Contract,
    ContractLine,
    CreditBand,
    Invoice,
    OpeningInterval,
    SLAPolicy,
    User,
)
from tests.support.factories import ContractFactory, ServiceFactory


def _violates(fn) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        fn()


def test_database_refuses_invariant_violations_even_when_validation_is_bypassed(catalog):
    policy = SLAPolicy.objects.get(code="heretto-ccms")
    contract = ContractFactory(policy=policy)
    service = ServiceFactory()
    calendar = Calendar.objects.get(code="heretto-help-desk")
    customer = contract.customer

    _violates(lambda: Contract.objects.filter(pk=contract.pk).update(end_date=date(2025, 1, 1)))
    _violates(lambda: Contract.objects.filter(pk=contract.pk).update(currency="XXX"))
    _violates(
        lambda: ContractLine.objects.create(
            contract=contract, service=service, monthly_fee=Decimal("-1")
        )
    )
    _violates(
        lambda: OpeningInterval.objects.create(
            calendar=calendar, weekday=0, start_minute=600, end_minute=500
        )
    )
    _violates(
        lambda: OpeningInterval.objects.create(
            calendar=calendar, weekday=0, start_minute=600, end_minute=1500
        )
    )
    _violates(
        lambda: OpeningInterval.objects.create(
            calendar=calendar, weekday=9, start_minute=0, end_minute=60
        )
    )
    _violates(
        lambda: CreditBand.objects.create(
            policy=policy, lower_pct=Decimal("50"), upper_pct=Decimal("40"), credit_pct=Decimal("1")
        )
    )
    _violates(
        lambda: CreditBand.objects.create(
            policy=policy, lower_pct=Decimal("99.500"), credit_pct=Decimal("1")
        )
    )
    _violates(
        lambda: SLAPolicy.objects.filter(pk=policy.pk).update(target_availability=Decimal("101"))
    )
    _violates(lambda: SLAPolicy.objects.filter(pk=policy.pk).update(credit_multiplier=Decimal("2")))
    _violates(
        lambda: Invoice.objects.create(
            customer=customer,
            contract=contract,
            number="I-1",
            period_start=date(2026, 2, 1),
            period_end=date(2026, 1, 1),
            amount=Decimal("1"),
            currency="USD",
            issued_on=date(2026, 1, 1),
            due_on=date(2026, 1, 2),
        )
    )
    _violates(
        lambda: Invoice.objects.create(
            customer=customer,
            contract=contract,
            number="I-2",
            period_start=date(2026, 1, 1),
            period_end=date(2026, 1, 31),
            amount=Decimal("-1"),
            currency="USD",
            issued_on=date(2026, 1, 1),
            due_on=date(2026, 1, 2),
        )
    )
    _violates(lambda: User.objects.create(username="x", customer=customer, customer_role=""))
    _violates(
        lambda: User.objects.create(
            username="y", customer=customer, customer_role="user", is_staff=True
        )
    )
    contract.refresh_from_db()
    assert contract.end_date is None and contract.currency == "USD"
