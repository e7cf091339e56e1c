"""Fixtures of the contracts tests."""

from __future__ import annotations

import pytest

from tests.support.factories import StaffFactory


@pytest.fixture
def customer_account_manager(customer):
    """The customer's own account manager: only they (and administrators) may record its
    contracts and invoices."""
    manager = StaffFactory(role="account_manager")
    customer.account_managers.add(manager)
    return manager
