"""Shared fixtures. Service-bound and browser tests skip when their part is missing,
unless REQUIRE_SERVICES=1 / REQUIRE_BROWSER=1 (as in CI), where a skip is a failure; so
do the catalog tests that read the SLA source documents (SLA_DOCUMENTS_DIR), unless
REQUIRE_SLA_DOCUMENTS=1. Every test runs at the instant SLA_TEST_NOW (tests/support/clock.py)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from importlib import import_module
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection

from contracts import services
from contracts.models import Calendar, Contract, Invoice, SLAPolicy
from tests.support.api_helpers import WEEKDAY_HOURS, band_tuples
from tests.support.clock import suite_instants, suite_now
from tests.support.factories import (
    ContractFactory,
    ContractLineFactory,
    CustomerFactory,
    CustomerUserFactory,
    InvoiceFactory,
    StaffFactory,
    policy_terms,
)
from tests.support.requirements import (
    CHROMIUM,
    REQUIRE_BROWSER,
    REQUIRE_SERVICES,
    REQUIRE_SLA_DOCUMENTS,
    need,
)

# Playwright fixtures (browser, page) for the browser tests; listed here, once, so pytest
# loads and assert-rewrites the module before any test module imports its helpers.
pytest_plugins = [
    "tests.support.browser",
    "tests.support.smtp",
    "tests.support.webhook_receiver",
    "tests.support.metrics_scrape",
]
# Helper modules with asserts of their own get pytest's assert messages too.
pytest.register_assert_rewrite("tests.support.page_helpers")

NOW = suite_now()
# ``make test-edges``: the date-sensitive tests (marker ``edges``) once per instant of
# SLA_TEST_INSTANTS, in one run (one collection, one test database), each id naming its
# instant; every other test stays at NOW.
EDGE_INSTANTS = suite_instants()


def pytest_report_header(config) -> str:
    header = f"clock: every test starts at {NOW:%Y-%m-%dT%H:%M:%SZ} (SLA_TEST_NOW)"
    if EDGE_INSTANTS:
        header += f"; tests marked edges at each of {len(EDGE_INSTANTS)} SLA_TEST_INSTANTS"
    return header


def pytest_generate_tests(metafunc) -> None:
    if EDGE_INSTANTS and metafunc.definition.get_closest_marker("edges"):
        metafunc.parametrize(
            "suite_instant",
            EDGE_INSTANTS,
            ids=[f"{i:%Y-%m-%dT%H:%M:%SZ}" for i in EDGE_INSTANTS],
            indirect=True,
        )


@pytest.fixture
def suite_instant(request) -> datetime:
    """The instant this test starts at: NOW, or one of SLA_TEST_INSTANTS (edges)."""
    return getattr(request, "param", NOW)


@pytest.fixture(autouse=True)
def frozen_now(request, suite_instant: datetime) -> Iterator[datetime]:
    """Every test runs at NOW, never at the real date or time: the clock stands still
    there, so a test sees exactly the instant it asked for. With a live server or real
    worker processes (marker ``ticking``) it runs on from NOW instead: requests, pages
    and workers take real time, and what one request writes must be older than what the
    next one does. A test that travels to an instant of its own still does (time-machine
    nests); ``frozen_now`` is the value for tests written relative to the suite's
    instant (``make test-edges`` runs those at month ends, DST changes, 29 February…)."""
    ticking = "live_server" in request.fixturenames or request.node.get_closest_marker("ticking")
    with time_machine.travel(suite_instant, tick=bool(ticking)):
        yield suite_instant


@pytest.fixture(autouse=True)
def _append_only_tables_emptied_after(request):
    """A transactional test (a live server's) ends by emptying every table; SQLite does it
    with DELETE, which the ledger's and the audit log's append-only triggers refuse
    (PostgreSQL truncates, firing no row trigger). On SQLite their rows go first, each
    trigger lifted for that one statement. Requesting ``transactional_db`` here makes
    this run before its flush."""
    marker = request.node.get_closest_marker("django_db")
    transactional = {"transactional_db", "live_server"} & set(request.fixturenames) or (
        marker is not None and marker.kwargs.get("transaction")
    )
    if not transactional:
        yield
        return
    request.getfixturevalue("transactional_db")
    yield
    if connection.vendor != "sqlite":
        return
    from slaportal.append_only import TABLES, sqlite_empty

    with connection.cursor() as cursor:
        for table in TABLES:
            sqlite_empty(cursor, table)


@pytest.fixture(scope="session", autouse=True)
def _flush_lifts_the_truncate_triggers():
    """A transactional test ends with Django's flush, one TRUNCATE of every table, which
    the issued-record tables refuse on PostgreSQL (slaportal.append_only.NO_TRUNCATE): the
    test run, as the tables' owner, lifts those triggers around it in its transaction."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    from slaportal.append_only import flush_sql_with_truncate_allowed

    original = DatabaseOperations.execute_sql_flush

    def execute_sql_flush(self, sql_list):
        return original(self, flush_sql_with_truncate_allowed(list(sql_list)))

    DatabaseOperations.execute_sql_flush = execute_sql_flush
    yield
    DatabaseOperations.execute_sql_flush = original


@pytest.fixture
def statements_emptied_after(transactional_db):
    """The live server's test ends by emptying every table with DELETE on SQLite, which
    the statements' immutability triggers refuse (PostgreSQL truncates, firing no row
    trigger): on SQLite the test's statements go first, with the triggers lifted."""
    yield
    if connection.vendor != "sqlite":
        return
    from statements.models import Statement

    migration = import_module("statements.migrations.0002_statement_immutable")
    with connection.cursor() as cursor:
        for sql in migration.SQLITE_DOWN:
            cursor.execute(sql)
        cursor.execute(f"DELETE FROM {migration.LINKS}")
        cursor.execute(f"UPDATE {migration.TABLE} SET supersedes_id = NULL")
        cursor.execute("DELETE FROM statements_statementrunitem")
        cursor.execute(f"DELETE FROM {migration.TABLE}")
        for sql in migration.sqlite_sql(Statement):
            cursor.execute(sql)
        # 0004 re-installs the edit trigger with the PDF's stored credit states.
        latest = import_module("statements.migrations.0004_statement_pdf_credits")
        for sql in latest.sqlite_sql(Statement):
            cursor.execute(sql)


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


@pytest.fixture(scope="session")
def sla_documents() -> Path:
    """The folder with the two SLA source documents (SLA_DOCUMENTS_DIR), which the
    clause-by-clause catalog tests read; they are not part of this repository."""
    from tests.support.sla_clauses import MULTIPLIER_DOC, TIERED_DOC

    setting = os.environ.get("SLA_DOCUMENTS_DIR", "")
    folder = Path(setting).resolve() if setting else None
    missing = [d for d in (TIERED_DOC, MULTIPLIER_DOC) if not folder or not (folder / d).is_file()]
    why = (
        "set SLA_DOCUMENTS_DIR=…/seeds (the folder with the SLA source documents "
        f"{TIERED_DOC} and {MULTIPLIER_DOC}) to run the clause-by-clause catalog tests"
    )
    if folder is not None:
        why = f"SLA_DOCUMENTS_DIR={setting} has no {' or '.join(missing)}; {why}"
    need(not missing, why, required=REQUIRE_SLA_DOCUMENTS)
    return folder


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


# ---------------------------------------------------------------- API data (test_api_*.py)


@pytest.fixture
def calendar(db) -> Calendar:
    return services.calendar_upsert(
        services.CalendarSpec(
            code="help-desk",
            name="Help desk",
            time_zone="America/New_York",
            hours=WEEKDAY_HOURS,
            holiday_country="US",
        )
    )


@pytest.fixture
def policy(calendar) -> SLAPolicy:
    return services.policy_upsert(
        terms=policy_terms(calendar),
        bands=band_tuples(),
        exclusions=[services.ExclusionSpec("scheduled_maintenance", "removed", "§2.1")],
        severities=[
            services.SeveritySpec(
                1, "Critical", "Down", True, (60, "minutes"), (4, "business_days")
            )
        ],
    )


@pytest.fixture
def contract(customer, policy) -> Contract:
    contract = ContractFactory(customer=customer, policy=policy, start_date=date(2026, 1, 1))
    ContractLineFactory(contract=contract, monthly_fee=Decimal("1200.00"))
    return contract


@pytest.fixture
def other_contract(other_customer, policy) -> Contract:
    contract = ContractFactory(customer=other_customer, policy=policy)
    ContractLineFactory(contract=contract)
    return contract


@pytest.fixture
def invoice(contract) -> Invoice:
    return InvoiceFactory(contract=contract, due_on=date(2026, 1, 31))


@pytest.fixture
def other_invoice(other_contract) -> Invoice:
    return InvoiceFactory(contract=other_contract)


# ---------------------------------------------------------------- tickets


@pytest.fixture
def tiered_contract(catalog, customer):
    """``customer``'s contract under the tiered catalog policy (Heretto CCMS: help desk
    03:00–20:00 ET on weekdays, US federal holidays, severity 1 around the clock)."""
    from tests.support.factories import ticket_contract

    return ticket_contract(customer, policy_code="heretto-ccms")


@pytest.fixture
def ticket_service(tiered_contract):
    return tiered_contract.lines.first().service


@pytest.fixture
def celery_eager():
    """Tasks dispatched by the code under test run in-process, whatever broker this run
    has configured (CI sets one): nothing is left queued for a worker that never comes."""
    from slaportal.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = previous


# ---------------------------------------------------------------- statements


@pytest.fixture
def statement_media(settings, tmp_path):
    """Statement PDFs stored under a throwaway MEDIA_ROOT."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def june_contract(catalog, customer, account_manager, statement_media):
    """``customer``'s tiered contract (Heretto CCMS SLA, 24x7 New York) with two services
    and a June 2026 of outages: 300 + 45 minutes counted on CCMS (99.201 % → the 5 %
    band → 200.00 USD), 120 minutes of scheduled maintenance on Cloud Publishing
    (removed from its denominator, not counted)."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from tests.support.factories import catalog_contract, record_outage

    customer.account_managers.add(account_manager)
    contract = catalog_contract(
        customer,
        "heretto-ccms",
        {"Heretto CCMS": "4000.00", "Cloud Publishing": "1500.00"},
        reference="C-JUNE-1",
    )
    et = ZoneInfo("America/New_York")
    # Each recorded as it ended, in June: no re-issue request.
    record_outage(contract, "Heretto CCMS", datetime(2026, 6, 10, 12, tzinfo=et), 300)
    record_outage(
        contract,
        "Heretto CCMS",
        datetime(2026, 6, 20, 2, tzinfo=et),
        45,
        category="third_party",
        title="Upstream DNS provider",
    )
    record_outage(
        contract,
        "Cloud Publishing",
        datetime(2026, 6, 14, 1, tzinfo=et),
        120,
        category="scheduled_maintenance",
        title="Database upgrade",
    )
    return contract
