"""The restore drill (scripts/restore-drill), as CI runs it: books written to this test's
PostgreSQL database (committed, so pg_dump sees them) are dumped, restored into a scratch
database and checked with check_ledger there; the drill passes, and the scratch database
is gone afterwards. A backup whose books do not balance fails the drill, which still
drops its scratch database."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

from contracts.models import Customer
from credits.models import Balance
from credits.services import credits_apply
from tests.support.factories import CustomerFactory, InvoiceFactory, grant, make_contract
from tests.support.requirements import REQUIRE_SERVICES, need

pytestmark = pytest.mark.services

ROOT = Path(__file__).resolve().parents[2]
DRILL = ROOT / "scripts" / "restore-drill"
SCRATCH = re.compile(r"slaportal_drill_\w+")


@pytest.fixture
def books(postgres, transactional_db, account_manager) -> Customer:
    """Committed books: a grant of 300.00, 120.00 of it applied to an invoice, another
    invoice (the case tests/credits/test_check_ledger.py checks in-process)."""
    need(
        shutil.which("pg_dump") is not None and shutil.which("pg_restore") is not None,
        "needs the PostgreSQL client tools (pg_dump, pg_restore)",
        required=REQUIRE_SERVICES,
    )
    customer = CustomerFactory(name="Drill Ltd")
    customer.account_managers.add(account_manager)
    contract = make_contract(customer)
    grant(contract, account_manager, "300.00")
    InvoiceFactory(contract=contract, number="INV-DRILL-A", amount=Decimal("120.00"))
    credits_apply(customer=customer)
    InvoiceFactory(contract=contract, number="INV-DRILL-B")
    return customer


def _database_url() -> str:
    """This test's own database, as a URL the PostgreSQL tools and the portal both read."""
    s = connection.settings_dict
    password = f":{quote(s['PASSWORD'], safe='')}" if s["PASSWORD"] else ""
    credentials = f"{quote(s['USER'], safe='')}{password}@" if s["USER"] else ""
    return f"postgres://{credentials}{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def drill(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL"}}
    return subprocess.run(
        [str(DRILL), *args],
        cwd=ROOT,
        env={**env, "PYTHON": sys.executable},
        capture_output=True,
        text=True,
        timeout=300,
    )


def _scratch(result: subprocess.CompletedProcess[str]) -> str:
    [name] = set(SCRATCH.findall(result.stdout + result.stderr))
    return name


def _exists(database: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database])
        return cursor.fetchone() is not None


def test_the_drill_restores_the_books_into_a_scratch_database_checks_them_and_drops_it(books):
    result = drill(_database_url())
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "dumping the source database (pg_dump -Fc)" in out
    assert "restored rows: 2 ledger entries, 1 balances, 2 invoices" in out
    assert "Ledger OK: 1 balance(s), 2 invoice(s) checked." in out
    assert "every balance equals its ledger entries and every invoice its lines" in out
    assert out.rstrip().endswith("PASSED")
    scratch = _scratch(result)
    assert f"dropped the scratch database {scratch}" in out
    assert scratch != connection.settings_dict["NAME"] and not _exists(scratch)


def test_a_backup_whose_books_do_not_balance_fails_the_drill_and_leaves_no_scratch_database(
    books, tmp_path
):
    # A balance that disagrees with its ledger entries (the ledger itself is append-only),
    # then last night's backup of it: the drill restores that file.
    Balance.objects.filter(customer=books).update(amount=Decimal("999.00"))
    backup = tmp_path / "nightly.dump"
    subprocess.run(
        ["pg_dump", "--format=custom", f"--file={backup}", f"--dbname={_database_url()}"],
        check=True,
        timeout=120,
    )
    result = drill("--dump", str(backup), "--server", _database_url())
    assert result.returncode == 1, result.stdout + result.stderr
    assert "restoring the existing dump" in result.stdout
    assert (
        "MISMATCH customer 'Drill Ltd'"
        f" ({books.pk}): balance 999.00 USD != sum of ledger entries 180.00 USD"
    ) in result.stderr
    assert "FAILED: check_ledger found the restored books inconsistent" in result.stderr
    scratch = _scratch(result)
    assert f"dropped the scratch database {scratch}" in result.stdout
    assert not _exists(scratch)


def test_the_drill_refuses_to_run_without_a_database_to_restore():
    result = drill()
    assert result.returncode == 2
    assert "give the database to dump" in result.stderr
