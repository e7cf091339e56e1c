"""``manage.py import_invoices FILE.csv [--dry-run]``: the billing system's invoices in
bulk, all or nothing. Every row is validated first (``contracts.invoice_import``); one
bad row and nothing is written, each bad row is named by its line on stderr, and the
command exits non-zero. Running the same file again changes nothing."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError, transaction

from contracts.invoice_import import InvoiceFileError, invoices_read
from contracts.services import invoices_import


class Command(BaseCommand):
    help = (
        "Import invoices from a CSV file (columns: number, contract, kind, period_start, "
        "period_end, amount, currency, issued_on, due_on, paid_at); nothing is written "
        "when any row is bad."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="the CSV file (UTF-8, a header row)")
        parser.add_argument(
            "--dry-run", action="store_true", help="validate and report; write nothing"
        )

    def handle(self, *args, file: str, dry_run: bool, **options) -> None:
        path = Path(file)
        # One transaction from the look-ups to the writes: a number recorded by another
        # writer in between fails the unique constraint and rolls the whole file back.
        try:
            with transaction.atomic():
                report = self._read(path)
                if not report.ok:
                    for bad in report.bad:
                        for message in bad.messages:
                            self.stderr.write(f"line {bad.line}: {message}")
                    raise CommandError(
                        f"{len(report.bad)} bad row(s) in {path} of {report.rows}; "
                        "nothing was written."
                    )
                if not dry_run:
                    invoices_import(
                        new=report.new, payments=report.payments, reason=f"import_invoices {path}"
                    )
        except IntegrityError as exc:
            raise CommandError(
                f"Nothing was written: the database refused the import ({exc}). Another "
                "writer may have recorded one of these numbers meanwhile; run it again."
            ) from None
        if dry_run:
            self.stdout.write(f"{report.summary()} (dry run: nothing written)")
        else:
            self.stdout.write(report.summary())

    def _read(self, path: Path):
        try:
            # utf-8-sig: spreadsheets often start their CSV export with a byte-order mark.
            with path.open(newline="", encoding="utf-8-sig") as lines:
                return invoices_read(lines)
        except FileNotFoundError:
            raise CommandError(f"{path}: no such file.") from None
        except IsADirectoryError:
            raise CommandError(f"{path} is a directory, not a CSV file.") from None
        except UnicodeDecodeError as exc:
            raise CommandError(f"{path} is not UTF-8 text ({exc.reason}).") from None
        except InvoiceFileError as exc:
            raise CommandError(f"{path}: {exc}") from None
