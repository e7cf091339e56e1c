"""What every benchmark shares: its own PostgreSQL database, created on first use.

(Not a benchmark itself: ``make bench`` runs ``bench/[!_]*.py``.)"""

from __future__ import annotations

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo


def ensure_database(url: str, *, drop: bool) -> None:
    """Create the database named by ``url`` unless it exists (drop it first with ``drop``)."""
    name = conninfo_to_dict(url)["dbname"]
    ident = sql.Identifier(name)
    with psycopg.connect(make_conninfo(url, dbname="postgres"), autocommit=True) as admin:
        if drop:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(ident))
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            admin.execute(sql.SQL("CREATE DATABASE {}").format(ident))
            print(f"created database {name}")
