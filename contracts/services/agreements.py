"""Contracts with their service lines, and invoices."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from contracts.models import (
    Calendar,
    Contract,
    ContractLine,
    Customer,
    Invoice,
    InvoiceLine,
    Service,
    SeverityTerm,
    SLAPolicy,
)
from contracts.services._common import _clean, _decimal, _terms
from contracts.services.policies import SeveritySpec, _severity_row
from contracts.terms import check_severities


@transaction.atomic
def contract_create(
    *,
    customer: Customer,
    policy: SLAPolicy,
    reference: str,
    start_date: date,
    currency: str,
    lines: Iterable[tuple[Service, Any]],
    end_date: date | None = None,
    support_calendar: Calendar | None = None,
    severities: Iterable[SeveritySpec] = (),
) -> Contract:
    contract = Contract(
        customer=customer,
        policy=policy,
        reference=reference,
        start_date=start_date,
        end_date=end_date,
        currency=currency,
        support_calendar=support_calendar,
    )
    # Named-field checks first: the constraint-level message would not say which field.
    if end_date is not None and start_date is not None and end_date < start_date:
        raise ValidationError({"end_date": ["The contract cannot end before it starts."]})
    _clean(contract)
    line_list = [(service, _decimal(fee, "lines")) for service, fee in lines]
    if not line_list:
        raise ValidationError({"lines": ["A contract needs at least one service line."]})
    services = [s.pk for s, _ in line_list]
    if len(set(services)) != len(services):
        raise ValidationError({"lines": ["A service appears on two lines."]})
    severity_list = list(severities)
    _terms("severities", check_severities, [s.severity for s in severity_list])
    contract.save()
    rows = [ContractLine(contract=contract, service=s, monthly_fee=fee) for s, fee in line_list]
    for row in rows:
        if row.monthly_fee < 0:
            raise ValidationError({"lines": [f"The fee for {row.service} cannot be negative."]})
        _clean(row, exclude=["contract"], prefix="lines")
    ContractLine.objects.bulk_create(rows)
    severity_rows = [_severity_row(s, contract=contract) for s in severity_list]
    for row in severity_rows:
        _clean(row, exclude=["contract"], prefix="severities")
    SeverityTerm.objects.bulk_create(severity_rows)
    return contract


@transaction.atomic
def invoice_create(
    *,
    contract: Contract,
    number: str,
    period_start: date,
    period_end: date,
    amount: Any,
    issued_on: date,
    due_on: date,
    paid_at=None,
) -> Invoice:
    invoice = Invoice(
        customer=contract.customer,
        contract=contract,
        number=number,
        period_start=period_start,
        period_end=period_end,
        amount=_decimal(amount, "amount"),
        total=_decimal(amount, "amount"),
        currency=contract.currency,
        issued_on=issued_on,
        due_on=due_on,
        paid_at=paid_at,
    )
    if period_start and period_end and period_end < period_start:
        raise ValidationError({"period_end": ["The period cannot end before it starts."]})
    if issued_on and due_on and due_on < issued_on:
        raise ValidationError({"due_on": ["An invoice cannot fall due before it is issued."]})
    if invoice.amount < 0:
        raise ValidationError({"amount": ["An invoice amount cannot be negative."]})
    _clean(invoice)
    invoice.save()
    InvoiceLine.objects.create(
        invoice=invoice,
        kind=InvoiceLine.Kind.CHARGE,
        amount=invoice.amount,
        description=f"Services {period_start:%d %b %Y} – {period_end:%d %b %Y}",
    )
    return invoice
