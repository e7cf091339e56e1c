"""Contracts with their service lines.

A contract's money inputs (its monthly fees, its policy version, its dates and its
termination) change only through ``contract_change``, which writes the audit log's
before and after.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from audit.services import audit_record, changed
from contracts.models import (
    Calendar,
    Contract,
    ContractLine,
    Customer,
    Service,
    SeverityTerm,
    SLAPolicy,
    User,
)
from contracts.services._common import _clean, _decimal, _terms
from contracts.services.policies import SeveritySpec, _severity_row
from contracts.terms import check_severities
from slaportal import authority


def _line_list(lines: Iterable[tuple[Service, Any]]) -> list[tuple[Service, Decimal]]:
    line_list = [(service, _decimal(fee, "lines")) for service, fee in lines]
    if not line_list:
        raise ValidationError({"lines": ["A contract needs at least one service line."]})
    services = [s.pk for s, _ in line_list]
    if len(set(services)) != len(services):
        raise ValidationError({"lines": ["A service appears on two lines."]})
    for service, fee in line_list:
        if fee < 0:
            raise ValidationError({"lines": [f"The fee for {service} cannot be negative."]})
    return line_list


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
    actor: User | None = None,
) -> Contract:
    """A new contract of ``customer``; ``actor`` (None: the system, e.g. the demo) must
    be an administrator or one of the customer's account managers."""
    _require_contract_staff(actor, customer)
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
    line_list = _line_list(lines)
    severity_list = list(severities)
    _terms("severities", check_severities, [s.severity for s in severity_list])
    contract.save()
    rows = [ContractLine(contract=contract, service=s, monthly_fee=fee) for s, fee in line_list]
    for row in rows:
        _clean(row, exclude=["contract"], prefix="lines")
    ContractLine.objects.bulk_create(rows)
    severity_rows = [_severity_row(s, contract=contract) for s in severity_list]
    for row in severity_rows:
        _clean(row, exclude=["contract"], prefix="severities")
    SeverityTerm.objects.bulk_create(severity_rows)
    return contract


# What ``contract_change`` may change; the customer and the currency are fixed (the
# invoices and the ledger are the customer's, in that currency).
CONTRACT_CHANGEABLE = (
    "reference",
    "policy",
    "start_date",
    "end_date",
    "terminated_on",
    "support_calendar",
)


def _require_contract_staff(actor: User | None, customer: Customer) -> None:
    """An administrator, or an account manager of this customer (or the system)."""
    authority.require_acts_for(actor, customer.pk, what="change its contracts")


def _audited(contract: Contract) -> dict[str, Any]:
    """The contract's money inputs as the audit log compares them, a fee per service."""
    fields: dict[str, Any] = {
        "reference": contract.reference,
        "policy": f"{contract.policy.code} v{contract.policy.version}",
        "start_date": contract.start_date,
        "end_date": contract.end_date,
        "terminated_on": contract.terminated_on,
        "support_calendar": contract.support_calendar.code if contract.support_calendar else None,
    }
    for line in contract.lines.select_related("service").order_by("service__name"):
        fields[f"monthly_fee[{line.service.name}]"] = f"{line.monthly_fee:.2f}"
    return fields


@transaction.atomic
def contract_change(
    *,
    contract: Contract,
    actor: User | None,
    lines: Iterable[tuple[Service, Any]] | None = None,
    reason: str = "",
    **changes: Any,
) -> Contract:
    """Change a contract's terms (``CONTRACT_CHANGEABLE``) and, when ``lines`` is given, its service
    lines as a whole (fees changed in place, services added and removed). One audit entry
    lists every changed input before and after; no change, no entry."""
    locked = Contract.objects.select_for_update().select_related("customer").get(pk=contract.pk)
    _require_contract_staff(actor, locked.customer)
    unknown = sorted(set(changes) - set(CONTRACT_CHANGEABLE))
    if unknown:
        raise ValidationError({name: ["This cannot be changed on a contract."] for name in unknown})
    before = _audited(locked)
    for name, value in changes.items():
        setattr(locked, name, value)
    if locked.end_date is not None and locked.start_date and locked.end_date < locked.start_date:
        raise ValidationError({"end_date": ["The contract cannot end before it starts."]})
    if (
        locked.terminated_on is not None
        and locked.start_date
        and locked.terminated_on < locked.start_date
    ):
        raise ValidationError(
            {"terminated_on": ["The contract cannot be terminated before it starts."]}
        )
    _clean(locked)
    line_list = None if lines is None else _line_list(lines)
    locked.save()
    if line_list is not None:
        current = {row.service_id: row for row in locked.lines.all()}
        wanted = {service.pk: (service, fee) for service, fee in line_list}
        locked.lines.exclude(service_id__in=wanted).delete()
        for service_id, (service, fee) in wanted.items():
            row = current.get(service_id) or ContractLine(contract=locked, service=service)
            if row.pk is None or row.monthly_fee != fee:
                row.monthly_fee = fee
                _clean(row, exclude=["contract"], prefix="lines")
                row.save()
    differences = changed(before, _audited(locked))
    if differences:
        audit_record(
            actor=actor,
            action="contract.change",
            obj=locked,
            changes=differences,
            reason=reason,
            label=f"Contract {locked.reference} ({locked.customer})",
        )
    return locked
