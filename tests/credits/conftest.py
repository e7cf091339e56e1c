"""The two catalog contracts the credit tests measure: a tiered one (Heretto) and a
multiplier one (Balto), each with June's outage."""

from __future__ import annotations

from datetime import datetime

import pytest

from contracts.models import Contract
from tests.support.credit_cases import CT, ET, contract_with_lines, record_down


@pytest.fixture
def heretto(catalog, customer, account_manager) -> Contract:
    customer.account_managers.add(account_manager)
    contract = contract_with_lines(
        customer, "heretto-ccms", {"Heretto CCMS": "4000.00", "Cloud Publishing": "1500.00"}
    )
    record_down(contract, "Heretto CCMS", datetime(2026, 6, 10, 12, tzinfo=ET), 300)
    return contract


@pytest.fixture
def balto(catalog, customer, account_manager) -> Contract:
    """Multiplier SLA: 360 business minutes down (10:00–16:00 CT, confirmed at once);
    allowed 216 of 43,200 → excess 144 → 10 × 3,000.00 × 144 / 43,200 = 100.00."""
    customer.account_managers.add(account_manager)
    contract = contract_with_lines(customer, "balto-uptime", {"Balto Platform": "3000.00"})
    start = datetime(2026, 6, 10, 10, tzinfo=CT)
    record_down(contract, "Balto Platform", start, 360, confirmed_at=start)
    return contract
