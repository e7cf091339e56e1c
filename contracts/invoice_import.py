"""Invoices in bulk from the billing system's CSV export: read and validate every row,
write nothing. ``manage.py import_invoices`` then hands a clean file's invoices to
``contracts.services.invoices_import`` (all or nothing).

Columns (a header row names them, in any order): ``number``, ``contract`` (its
reference), ``kind`` (optional, default ``subscription``), ``period_start``,
``period_end``, ``amount``, ``currency`` (optional; when given it must be the
contract's), ``issued_on``, ``due_on`` (ISO dates), ``paid_at`` (optional, ISO 8601 with
its UTC offset).

Each row is checked by the same rules as the API (``invoice_build``); a number already
recorded is compared with ``invoice_differences``, as a re-post through the API is: the
same content is unchanged, the same content with a new ``paid_at`` is a payment, and
different content is an error naming the fields. The contracts and the recorded invoices
are looked up once for the whole file (a query each), not per row.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from django.core.exceptions import ValidationError

from contracts.models import Contract, Invoice
from contracts.services import invoice_build, invoice_differences

REQUIRED = ("number", "contract", "period_start", "period_end", "amount", "issued_on", "due_on")
OPTIONAL = ("kind", "currency", "paid_at")
COLUMNS = REQUIRED + OPTIONAL
DATES = ("period_start", "period_end", "issued_on", "due_on")


class InvoiceFileError(ValueError):
    """The file as a whole cannot be read as an invoice export (no header, a column
    missing or unknown)."""


@dataclass(frozen=True)
class BadRow:
    line: int  # as in the file: the header is line 1
    messages: list[str]  # "field: message", or the message alone when no field is to blame


@dataclass
class InvoiceImport:
    """What a file would do. ``new``: invoices to create (built, not saved);
    ``payments``: recorded invoices and their new ``paid_at``."""

    rows: int = 0
    new: list[Invoice] = field(default_factory=list)
    payments: list[tuple[Invoice, datetime]] = field(default_factory=list)
    unchanged: int = 0
    bad: list[BadRow] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.bad

    def summary(self) -> str:
        return (
            f"{self.rows} invoices: {len(self.new)} created, {self.unchanged} unchanged, "
            f"{len(self.payments)} payments"
        )


@dataclass(frozen=True)
class _Row:
    line: int
    values: dict[str, str]


def _read_rows(lines: Iterable[str]) -> list[_Row]:
    reader = csv.reader(lines)
    try:
        header = next(reader)
    except StopIteration:
        raise InvoiceFileError("The file is empty: expected a header row.") from None
    except csv.Error as exc:
        raise InvoiceFileError(f"line 1: {exc}") from None
    names = [name.strip().lower() for name in header]
    missing = [name for name in REQUIRED if name not in names]
    unknown = [name for name in names if name not in COLUMNS]
    repeated = sorted({name for name in names if names.count(name) > 1})
    problems = []
    if missing:
        problems.append(f"missing column(s) {', '.join(missing)}")
    if unknown:
        problems.append(f"unknown column(s) {', '.join(repr(n) for n in unknown)}")
    if repeated:
        problems.append(f"column(s) named twice: {', '.join(repeated)}")
    if problems:
        raise InvoiceFileError(
            f"Bad header (line 1): {'; '.join(problems)}. "
            f"Expected the columns {', '.join(REQUIRED)} and optionally {', '.join(OPTIONAL)}."
        )
    rows = []
    previous = reader.line_num
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise InvoiceFileError(f"line {previous + 1}: {exc}") from None
        # A record may span lines (a quoted newline): it starts after the previous one.
        line, previous = previous + 1, reader.line_num
        if not cells or all(not cell.strip() for cell in cells):
            continue
        if len(cells) != len(names):
            rows.append(_Row(line, {"": f"{len(cells)} fields, the header has {len(names)}."}))
            continue
        rows.append(_Row(line, dict(zip(names, (cell.strip() for cell in cells), strict=True))))
    return rows


def _parse_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationError(f"{text!r} is not a date (YYYY-MM-DD).") from None


def _parse_paid_at(text: str) -> datetime | None:
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ValidationError(
            f"{text!r} is not a date and time (ISO 8601, e.g. 2026-02-10T09:30:00+00:00)."
        ) from None
    if value.tzinfo is None:
        raise ValidationError(f"{text!r} has no UTC offset (e.g. 2026-02-10T09:30:00+00:00).")
    return value.astimezone(UTC)


def _arguments(
    values: dict[str, str], contracts: dict[str, Contract]
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """``invoice_build``'s arguments from a row, and what could not even be parsed."""
    errors: dict[str, list[str]] = {}
    reference = values["contract"]
    contract = contracts.get(reference)
    if contract is None:
        errors["contract"] = (
            [f"There is no contract {reference!r}."] if reference else ["Give the contract."]
        )
    arguments: dict[str, Any] = {
        "contract": contract,
        "number": values["number"],
        "amount": values["amount"],
        "kind": values.get("kind") or Invoice.Kind.SUBSCRIPTION,
        "currency": values.get("currency") or None,
    }
    for name in DATES:
        try:
            arguments[name] = _parse_date(values[name]) if values[name] else None
        except ValidationError as exc:
            errors[name] = exc.messages
            arguments[name] = None
    try:
        arguments["paid_at"] = _parse_paid_at(values.get("paid_at", ""))
    except ValidationError as exc:
        errors["paid_at"] = exc.messages
        arguments["paid_at"] = None
    return arguments, errors


def _messages(errors: dict[str, list[str]]) -> list[str]:
    return [
        message if name in ("", "non_field_errors", "__all__") else f"{name}: {message}"
        for name, messages in errors.items()
        for message in messages
    ]


def invoices_read(lines: Iterable[str]) -> InvoiceImport:
    """Validate a whole CSV export (``lines``: an open text file); write nothing.

    Raises ``InvoiceFileError`` when the file itself cannot be read (header); every bad
    row is reported in ``InvoiceImport.bad`` with its line and messages, and the rows
    that are fine are still sorted into new / unchanged / payments."""
    rows = _read_rows(lines)
    report = InvoiceImport(rows=len(rows))
    parsed = [row for row in rows if "" not in row.values]
    references = {row.values["contract"] for row in parsed}
    numbers = {row.values["number"] for row in parsed}
    contracts = {
        c.reference: c
        for c in Contract.objects.filter(reference__in=references).select_related("customer")
    }
    recorded = {
        i.number: i
        for i in Invoice.objects.filter(number__in=numbers).select_related("customer", "contract")
    }
    first_line: dict[str, int] = {}
    for row in rows:
        if "" in row.values:
            report.bad.append(BadRow(row.line, [row.values[""]]))
            continue
        arguments, errors = _arguments(row.values, contracts)
        number = row.values["number"]
        if number and number in first_line:
            errors.setdefault("number", []).append(
                f"{number} is already on line {first_line[number]} of this file."
            )
        elif number:
            first_line[number] = row.line
        stored = recorded.get(number)
        built = None
        try:
            built = invoice_build(looked_up=True, **arguments)
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                errors.setdefault(name, messages)
        if errors:
            report.bad.append(BadRow(row.line, _messages(errors)))
            continue
        assert built is not None
        built.customer = built.contract.customer  # no query to name it, or to apply credits
        if stored is None:
            report.new.append(built)
            continue
        differing = invoice_differences(stored, built)
        if differing:
            report.bad.append(
                BadRow(
                    row.line,
                    [
                        f"{name}: invoice {number} is recorded with {d['stored']}, "
                        f"not {d['sent']} (an issued invoice cannot change)"
                        for name, d in differing.items()
                    ],
                )
            )
        elif built.paid_at is not None and built.paid_at != stored.paid_at:
            report.payments.append((stored, built.paid_at))
        else:
            report.unchanged += 1
    return report
