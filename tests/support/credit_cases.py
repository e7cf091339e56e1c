"""Contracts on the catalog's policies with lines and outages, for the credit tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from contracts.models import Contract, SLAPolicy
from outages.services import outage_record
from tests.support.factories import ContractFactory, ContractLineFactory, ServiceFactory

D = Decimal
ET = ZoneInfo("America/New_York")
CT = ZoneInfo("America/Chicago")
NOW = datetime(2026, 7, 2, 12, tzinfo=UTC)


def contract_with_lines(customer, code: str, lines: dict[str, str], **kw) -> Contract:
    policy = SLAPolicy.objects.get(code=code, version=1)
    contract = ContractFactory(customer=customer, policy=policy, start_date=date(2026, 1, 1), **kw)
    for name, fee in lines.items():
        service = ServiceFactory(name=name, code=name.lower().replace(" ", "-"))
        ContractLineFactory(contract=contract, service=service, monthly_fee=D(fee))
    return contract


def record_down(contract: Contract, service_name: str, start: datetime, minutes: int, **kw):
    service = contract.services.get(name=service_name)
    end = start + timedelta(minutes=minutes)
    return outage_record(
        service=service,
        started_at=start,
        ended_at=end,
        category="internal",
        title=f"{service_name} down",
        actor=None,
        now=NOW,
        **kw,
    )
