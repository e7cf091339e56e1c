"""``manage.py db_grant_app_role ROLE``: give the application's database role what it
needs and nothing more (PostgreSQL).

Migrations run as the owner of the tables (``DATABASE_URL`` of ``migrate``); the web and
worker processes connect as ROLE, a login role that is neither owner nor superuser (see
README, "Production"). ROLE may read and write rows (SELECT, INSERT, UPDATE, DELETE) and
use the sequences; it has no TRUNCATE, TRIGGER or REFERENCES privilege, and owning
nothing it can neither disable a trigger nor alter a table; not being a superuser it
cannot set ``session_replication_role``. So the append-only and immutability triggers
hold for it whatever SQL it sends. Run it after each ``migrate`` (new tables get the
same grants through default privileges as well). Idempotent.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import connections
from psycopg import sql

TABLE_PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE"


def grant_statements(role: str, database: str, schema: str = "public") -> list[sql.Composed]:
    r, d, s = sql.Identifier(role), sql.Identifier(database), sql.Identifier(schema)
    return [
        sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(d, r),
        sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(s, r),
        sql.SQL("REVOKE CREATE ON SCHEMA {} FROM {}").format(s, r),
        sql.SQL("REVOKE ALL ON ALL TABLES IN SCHEMA {} FROM {}").format(s, r),
        sql.SQL("GRANT " + TABLE_PRIVILEGES + " ON ALL TABLES IN SCHEMA {} TO {}").format(s, r),
        sql.SQL("GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA {} TO {}").format(s, r),
        sql.SQL(
            "ALTER DEFAULT PRIVILEGES IN SCHEMA {} GRANT " + TABLE_PRIVILEGES + " ON TABLES TO {}"
        ).format(s, r),
        sql.SQL(
            "ALTER DEFAULT PRIVILEGES IN SCHEMA {} GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {}"
        ).format(s, r),
    ]


def grant_app_role(role: str, *, using: str = "default") -> None:
    connection = connections[using]
    if connection.vendor != "postgresql":
        raise CommandError(
            f"database roles are a PostgreSQL matter; this database is {connection.vendor}"
        )
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper, rolcanlogin FROM pg_roles WHERE rolname = %s", [role])
        row = cursor.fetchone()
        if row is None:
            raise CommandError(
                f"there is no database role {role!r}: create it first "
                f"(CREATE ROLE {role} LOGIN PASSWORD '…')"
            )
        if row[0]:
            raise CommandError(f"{role} is a superuser: the application's role must not be")
        cursor.execute("SELECT current_user")
        if cursor.fetchone()[0] == role:
            raise CommandError(f"{role} is the role this command runs as: run it as the owner")
        for statement in grant_statements(role, connection.settings_dict["NAME"]):
            cursor.execute(statement)


class Command(BaseCommand):
    help = "Grant the application's PostgreSQL role row access only (run as the owner)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("role", help="the login role the web and worker processes use")

    def handle(self, *args, role: str, **options) -> None:
        grant_app_role(role)
        self.stdout.write(f"{role}: {TABLE_PRIVILEGES} on every table, no TRUNCATE or TRIGGER.")
