"""The June statement case the statements' API and page tests share: ``customer``'s June
(``june_contract``) issued on 2 July, July's draft, and another customer's June."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from statements.models import Statement
from statements.services import statement_generate
from tests.support.factories import catalog_contract

JUNE = date(2026, 6, 1)
JULY = date(2026, 7, 1)
NOW = datetime(2026, 7, 2, 12, tzinfo=UTC)


@pytest.fixture
def statement(june_contract) -> Statement:
    return statement_generate(contract=june_contract, month=JUNE, now=NOW)


@pytest.fixture
def foreign_contract(catalog, other_customer):
    return catalog_contract(
        other_customer, "balto-uptime", {"Balto Platform": "3000.00"}, reference="C-OTHER"
    )


@pytest.fixture
def foreign_statement(foreign_contract) -> Statement:
    return statement_generate(contract=foreign_contract, month=JUNE, now=NOW)


@pytest.fixture
def draft(june_contract) -> Statement:
    return statement_generate(contract=june_contract, month=JULY, now=NOW, draft=True)
