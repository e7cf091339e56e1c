"""Shared fixtures. Service-bound and browser tests skip when their part is missing,
unless REQUIRE_SERVICES=1 / REQUIRE_BROWSER=1 (as in CI), where a skip is a failure."""

from __future__ import annotations

import os
import shutil

import pytest
from django.core.management import call_command
from django.db import connection

from tests.factories import CustomerFactory, CustomerUserFactory, StaffFactory

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"
REQUIRE_BROWSER = os.environ.get("REQUIRE_BROWSER") == "1"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def need(condition: bool, why: str, *, required: bool) -> None:
    """Skip (or, when the part is required in this run, fail) unless ``condition``."""
    if condition:
        return
    if required:
        pytest.fail(f"required but unavailable: {why}")
    pytest.skip(why)


@pytest.fixture
def postgres(db):
    """For tests that need PostgreSQL itself (triggers, row locks, concurrency)."""
    need(
        connection.vendor == "postgresql",
        "needs PostgreSQL (set DATABASE_URL=postgres://…)",
        required=REQUIRE_SERVICES,
    )


@pytest.fixture(scope="session")
def chromium_path() -> str:
    need(
        os.path.exists(CHROMIUM) and shutil.which(CHROMIUM) is not None,
        f"needs Chromium at {CHROMIUM}",
        required=REQUIRE_BROWSER,
    )
    return CHROMIUM


@pytest.fixture
def catalog(db):
    """The built-in SLA catalog, loaded as `make demo` loads it."""
    call_command("load_sla_catalog", verbosity=0)


@pytest.fixture
def customer(db):
    return CustomerFactory()


@pytest.fixture
def other_customer(db):
    return CustomerFactory()


@pytest.fixture
def customer_user(customer):
    return CustomerUserFactory(customer=customer)


@pytest.fixture
def customer_admin(customer):
    return CustomerUserFactory(customer=customer, customer_role="admin")


@pytest.fixture
def agent(db):
    return StaffFactory(role="agent")


@pytest.fixture
def operations(db):
    return StaffFactory(role="operations")


@pytest.fixture
def account_manager(db):
    return StaffFactory(role="account_manager")


@pytest.fixture
def admin_user(db):
    return StaffFactory(role="admin")
