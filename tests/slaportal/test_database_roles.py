"""The application's PostgreSQL role (``manage.py db_grant_app_role``) reads and writes rows
and nothing more: TRUNCATE, disabling a trigger and ``session_replication_role`` are
refused, so the append-only rules hold whatever SQL it sends. The owner cannot TRUNCATE
an issued-record table either (statement-level triggers).

CI creates the role (``DATABASE_APP_ROLE``, see .ci/run); elsewhere the test creates one
of its own when the test run may create roles."""

from __future__ import annotations

import os

import psycopg
import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from psycopg import errors

from audit.models import AuditEntry
from audit.services import audit_record
from slaportal.append_only import NO_TRUNCATE
from tests.support.factories import CustomerFactory
from tests.support.requirements import REQUIRE_SERVICES, need

pytestmark = pytest.mark.services


@pytest.fixture
def app_role(postgres, transactional_db) -> str:
    """The application's role, granted on this test database (committed: the role's own
    connection must see the grants)."""
    role = os.environ.get("DATABASE_APP_ROLE") or (
        f"slaportal_app_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        if cursor.fetchone() is None:
            cursor.execute(
                "SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user"
            )
            need(
                cursor.fetchone()[0],
                f"needs a role {role} (set DATABASE_APP_ROLE) or a test role that may create it",
                required=REQUIRE_SERVICES,
            )
            cursor.execute(f'CREATE ROLE "{role}" LOGIN')
    call_command("db_grant_app_role", role, stdout=open(os.devnull, "w"))
    return role


def _connect(role: str) -> psycopg.Connection:
    settings = connection.settings_dict
    return psycopg.connect(
        host=settings["HOST"] or "127.0.0.1",
        port=settings["PORT"] or 5432,
        dbname=settings["NAME"],
        user=role,
        password=os.environ.get("DATABASE_APP_PASSWORD") or None,
        autocommit=True,
    )


def test_the_application_role_works_with_rows_but_cannot_lift_the_append_only_rules(app_role):
    customer = CustomerFactory()
    entry = audit_record(actor=None, action="test.recorded", obj=customer)

    with _connect(app_role) as app:
        # What the application does: read and write rows.
        assert app.execute("SELECT count(*) FROM audit_auditentry").fetchone() == (1,)
        app.execute("UPDATE contracts_customer SET name = name || '' WHERE id = %s", [customer.pk])
        # What it may not do: change or delete an issued record (the triggers)…
        with pytest.raises(errors.IntegrityConstraintViolation, match="append-only"):
            app.execute("UPDATE audit_auditentry SET action = 'forged' WHERE id = %s", [entry.pk])
        with pytest.raises(errors.IntegrityConstraintViolation, match="append-only"):
            app.execute("DELETE FROM audit_auditentry WHERE id = %s", [entry.pk])
        # …nor lift the triggers, nor empty the table past them.
        for table in ("audit_auditentry", "credits_ledgerentry", "statements_statement"):
            with pytest.raises(errors.InsufficientPrivilege):
                app.execute(f"TRUNCATE {table}")
            with pytest.raises(errors.InsufficientPrivilege):
                app.execute(f"ALTER TABLE {table} DISABLE TRIGGER ALL")
        with pytest.raises(errors.InsufficientPrivilege):
            app.execute("SET session_replication_role = replica")
        with pytest.raises(errors.InsufficientPrivilege):
            app.execute("CREATE TABLE sneaky (id int)")

    assert AuditEntry.objects.get(pk=entry.pk).action == "test.recorded"


@pytest.mark.parametrize("table", NO_TRUNCATE)
def test_not_even_the_owner_truncates_an_issued_record_table(postgres, table):
    with pytest.raises(IntegrityError, match="cannot be truncated"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {table} CASCADE")


def test_the_grant_refuses_a_superuser_or_a_missing_role(postgres):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="no database role"):
        call_command("db_grant_app_role", "no_such_role_anywhere")
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolname FROM pg_roles WHERE rolsuper LIMIT 1")
        superuser = cursor.fetchone()[0]
    with pytest.raises(CommandError, match="superuser"):
        call_command("db_grant_app_role", superuser)
