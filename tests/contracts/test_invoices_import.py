"""``manage.py import_invoices FILE.csv [--dry-run]``: the billing system's invoices in
bulk, all or nothing. A bad row anywhere writes nothing and is named by its line; a clean
file creates every invoice with its charge line; the same file again changes nothing; a
payment column on a later run records (and audit-logs) the payments."""

from __future__ import annotations

import csv
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import ManagementUtility, call_command
from django.core.management.base import CommandError

from audit.models import AuditEntry
from contracts.invoice_import import invoices_read
from contracts.models import Contract, Invoice, InvoiceLine
from tests.support.factories import ContractFactory, InvoiceFactory

D = Decimal
HEADER = [
    "number",
    "contract",
    "kind",
    "period_start",
    "period_end",
    "amount",
    "currency",
    "issued_on",
    "due_on",
    "paid_at",
]


@pytest.fixture
def contracts(policy) -> list[Contract]:
    """Ten contracts, two of them in EUR, each of its own customer."""
    return [
        ContractFactory(policy=policy, reference=f"C-IMP-{k}", currency="EUR" if k < 2 else "USD")
        for k in range(10)
    ]


def invoice_rows(contracts: list[Contract], count: int = 1000) -> list[dict[str, str]]:
    """``count`` good rows spread over the contracts, one invoice a month per contract."""
    rows = []
    for i in range(count):
        contract = contracts[i % len(contracts)]
        month = 1 + (i // len(contracts)) % 12
        year = 2026 + i // (len(contracts) * 12)
        rows.append(
            {
                "number": f"INV-IMP-{i + 1:05d}",
                "contract": contract.reference,
                "kind": "professional_services" if i % 7 == 0 else "",
                "period_start": f"{year}-{month:02d}-01",
                "period_end": f"{year}-{month:02d}-28",
                "amount": f"{100 + i}.{i % 100:02d}",
                "currency": contract.currency if i % 3 == 0 else "",
                "issued_on": f"{year}-{month:02d}-01",
                "due_on": f"{year}-{month:02d}-28",
                "paid_at": "",
            }
        )
    return rows


def write_csv(path: Path, rows: list[dict[str, str]], header: list[str] = HEADER) -> Path:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=header, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def run(path: Path, *args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_invoices", str(path), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def refused(path: Path, *args: str) -> tuple[str, str]:
    """Run the import expecting a refusal: (the CommandError's message, stderr)."""
    err = StringIO()
    with pytest.raises(CommandError) as failed:
        call_command("import_invoices", str(path), *args, stdout=StringIO(), stderr=err)
    return str(failed.value), err.getvalue()


def snapshot() -> tuple[list[dict], list[dict]]:
    return (
        list(Invoice.objects.order_by("number").values()),
        list(InvoiceLine.objects.order_by("pk").values()),
    )


def test_a_thousand_good_rows_create_a_thousand_invoices_each_with_its_charge_line(
    contracts, tmp_path
):
    path = write_csv(tmp_path / "invoices.csv", invoice_rows(contracts))
    out, err = run(path)
    assert out.strip() == "1000 invoices: 1000 created, 0 unchanged, 0 payments"
    assert err == ""
    assert Invoice.objects.count() == 1000
    assert InvoiceLine.objects.filter(kind="charge").count() == 1000
    mismatched = [
        i.number
        for i in Invoice.objects.prefetch_related("lines")
        if [(line.kind, line.amount) for line in i.lines.all()] != [("charge", i.amount)]
    ]
    assert mismatched == []
    first = Invoice.objects.get(number="INV-IMP-00001")
    assert (first.customer, first.contract, first.kind) == (
        contracts[0].customer,
        contracts[0],
        "professional_services",
    )
    assert (first.amount, first.total, first.currency) == (D("100.00"), D("100.00"), "EUR")
    assert (str(first.period_start), str(first.due_on), first.paid_at) == (
        "2026-01-01",
        "2026-01-28",
        None,
    )
    second = Invoice.objects.get(number="INV-IMP-00002")
    assert (second.kind, second.amount, second.currency) == ("subscription", D("101.01"), "EUR")
    assert Invoice.objects.get(number="INV-IMP-00003").currency == "USD"


def test_running_the_same_file_again_changes_nothing(contracts, tmp_path):
    path = write_csv(tmp_path / "invoices.csv", invoice_rows(contracts))
    run(path)
    before = snapshot()
    out, _ = run(path)
    assert out.strip() == "1000 invoices: 0 created, 1000 unchanged, 0 payments"
    assert snapshot() == before
    assert not AuditEntry.objects.exists()


def test_one_bad_row_among_a_thousand_writes_nothing_and_names_its_line(contracts, tmp_path):
    rows = invoice_rows(contracts)
    rows[501]["amount"] = "12,50"  # the header is line 1, so row 502 is on line 503
    path = write_csv(tmp_path / "invoices.csv", rows)
    message, err = refused(path)
    assert err.strip() == "line 503: amount: '12,50' is not a number."
    assert "1 bad row(s)" in message and "nothing was written" in message
    assert not Invoice.objects.exists()
    assert not InvoiceLine.objects.exists()


def test_every_bad_row_is_reported_not_only_the_first(contracts, tmp_path):
    rows = invoice_rows(contracts, count=20)
    rows[3]["contract"] = "C-NOPE"
    rows[10]["due_on"] = "2025-12-31"
    rows[17]["period_start"] = "2026-02-30"
    path = write_csv(tmp_path / "invoices.csv", rows)
    message, err = refused(path)
    assert err.splitlines() == [
        "line 5: contract: There is no contract 'C-NOPE'.",
        "line 12: due_on: An invoice cannot fall due before it is issued.",
        "line 19: period_start: '2026-02-30' is not a date (YYYY-MM-DD).",
    ]
    assert "3 bad row(s)" in message
    assert not Invoice.objects.exists()


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"amount": "-5.00"}, "amount: An invoice amount cannot be negative."),
        ({"amount": "10.005"}, "amount: Ensure that there are no more than 2 decimal places."),
        ({"amount": ""}, "amount: '' is not a number."),
        ({"currency": "USD"}, "currency: Contract C-IMP-0 bills in EUR, not USD."),
        ({"kind": "hardware"}, "kind: Value 'hardware' is not a valid choice."),
        ({"period_end": "2025-12-01"}, "period_end: The period cannot end before it starts."),
        ({"issued_on": ""}, "issued_on: This field cannot be null."),
        ({"number": ""}, "number: This field cannot be blank."),
        ({"contract": ""}, "contract: Give the contract."),
        (
            {"paid_at": "2026-02-01T10:00:00"},
            "paid_at: '2026-02-01T10:00:00' has no UTC offset (e.g. 2026-02-10T09:30:00+00:00).",
        ),
        (
            {"paid_at": "yesterday"},
            "paid_at: 'yesterday' is not a date and time "
            "(ISO 8601, e.g. 2026-02-10T09:30:00+00:00).",
        ),
    ],
)
def test_a_bad_value_is_named_by_line_and_field(contracts, tmp_path, changes, expected):
    rows = invoice_rows(contracts, count=3)
    rows[0].update(changes)
    _, err = refused(write_csv(tmp_path / "invoices.csv", rows))
    assert err.splitlines() == [f"line 2: {expected}"]
    assert not Invoice.objects.exists()


def test_a_number_twice_in_the_file_is_an_error_naming_the_first_line(contracts, tmp_path):
    rows = invoice_rows(contracts, count=5)
    rows[4]["number"] = rows[1]["number"]
    _, err = refused(write_csv(tmp_path / "invoices.csv", rows))
    assert err.splitlines() == ["line 6: number: INV-IMP-00002 is already on line 3 of this file."]
    assert not Invoice.objects.exists()


def test_a_recorded_invoice_with_other_content_is_an_error_naming_each_field(contracts, tmp_path):
    rows = invoice_rows(contracts, count=10)
    path = write_csv(tmp_path / "invoices.csv", rows)
    run(path)
    before = snapshot()
    rows[6]["amount"] = "999.00"
    rows[6]["due_on"] = "2026-01-27"
    rows.extend(invoice_rows(contracts, count=12)[10:])  # two new ones, not written either
    _, err = refused(write_csv(path, rows))
    assert err.splitlines() == [
        "line 8: amount: invoice INV-IMP-00007 is recorded with 106.06, not 999.00 "
        "(an issued invoice cannot change)",
        "line 8: due_on: invoice INV-IMP-00007 is recorded with 2026-01-28, not 2026-01-27 "
        "(an issued invoice cannot change)",
    ]
    assert snapshot() == before


def test_a_row_for_another_contract_than_the_recorded_one_names_customer_and_contract(
    contracts, tmp_path
):
    rows = invoice_rows(contracts, count=3)
    path = write_csv(tmp_path / "invoices.csv", rows)
    run(path)
    rows[2]["contract"] = contracts[3].reference  # USD, like the recorded C-IMP-2
    _, err = refused(write_csv(path, rows))
    assert (
        f"line 4: customer: invoice INV-IMP-00003 is recorded with {contracts[2].customer.name}"
        in err
    )
    assert "line 4: contract: invoice INV-IMP-00003 is recorded with C-IMP-2, not C-IMP-3" in err
    assert Invoice.objects.get(number="INV-IMP-00003").contract == contracts[2]


def test_dry_run_reports_what_it_would_do_and_writes_nothing(contracts, tmp_path):
    path = write_csv(tmp_path / "invoices.csv", invoice_rows(contracts))
    out, _ = run(path, "--dry-run")
    assert out.strip() == (
        "1000 invoices: 1000 created, 0 unchanged, 0 payments (dry run: nothing written)"
    )
    assert not Invoice.objects.exists()
    run(path)
    rows = invoice_rows(contracts)
    rows[0]["paid_at"] = "2026-02-03T09:30:00+01:00"
    out, _ = run(write_csv(path, rows), "--dry-run")
    assert out.startswith("1000 invoices: 0 created, 999 unchanged, 1 payments")
    assert not Invoice.objects.filter(paid_at__isnull=False).exists()
    assert not AuditEntry.objects.exists()


def test_a_payment_column_on_a_second_run_records_the_payments_audit_logged(contracts, tmp_path):
    rows = invoice_rows(contracts)
    path = write_csv(tmp_path / "invoices.csv", rows)
    run(path)
    for row in rows[:25]:
        row["paid_at"] = "2026-02-03T09:30:00+01:00"
    out, _ = run(write_csv(path, rows))
    assert out.strip() == "1000 invoices: 0 created, 975 unchanged, 25 payments"
    paid = Invoice.objects.filter(paid_at__isnull=False)
    assert paid.count() == 25
    assert {i.paid_at.isoformat() for i in paid} == {"2026-02-03T08:30:00+00:00"}
    entries = AuditEntry.objects.filter(action="invoice.pay")
    assert entries.count() == 25
    entry = entries.get(object_label="Invoice INV-IMP-00001")
    assert entry.actor is None
    assert entry.changes == {"paid_at": {"before": None, "after": "2026-02-03T08:30:00Z"}}
    assert entry.reason == f"import_invoices {path}"
    # The same payments again are no change, and a blank paid_at never clears one.
    out, _ = run(path)
    assert out.strip() == "1000 invoices: 0 created, 1000 unchanged, 0 payments"
    out, _ = run(write_csv(path, invoice_rows(contracts)))
    assert out.strip() == "1000 invoices: 0 created, 1000 unchanged, 0 payments"
    assert Invoice.objects.filter(paid_at__isnull=False).count() == 25
    assert AuditEntry.objects.count() == 25


def test_a_file_mixes_new_invoices_payments_and_unchanged_ones(contracts, tmp_path):
    recorded = InvoiceFactory(contract=contracts[5], number="INV-OLD-1", amount=D("50.00"))
    rows = [
        {
            "number": "INV-OLD-1",
            "contract": "C-IMP-5",
            "period_start": "2026-01-01",
            "period_end": "2026-01-31",
            "amount": "50",
            "issued_on": "2026-01-01",
            "due_on": "2026-01-31",
            "paid_at": "2026-01-20T12:00:00Z",
        },
        *invoice_rows(contracts, count=2),
    ]
    out, _ = run(write_csv(tmp_path / "invoices.csv", rows))
    assert out.strip() == "3 invoices: 2 created, 0 unchanged, 1 payments"
    recorded.refresh_from_db()
    assert recorded.paid_at.isoformat() == "2026-01-20T12:00:00+00:00"


def test_validation_looks_contracts_and_numbers_up_once_for_the_whole_file(
    contracts, tmp_path, django_assert_num_queries
):
    path = write_csv(tmp_path / "invoices.csv", invoice_rows(contracts, count=300))
    run(path)
    rows = invoice_rows(contracts, count=600)
    rows[3]["paid_at"] = "2026-02-03T09:30:00Z"
    with path.open("w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=HEADER)
        writer.writeheader()
        writer.writerows(rows)
    with django_assert_num_queries(2), path.open(newline="") as lines:
        report = invoices_read(lines)
    assert (len(report.new), report.unchanged, len(report.payments)) == (300, 299, 1)


def test_line_numbers_count_blank_lines_and_quoted_line_breaks(contracts, tmp_path):
    path = tmp_path / "invoices.csv"
    path.write_text(
        "number,contract,period_start,period_end,amount,issued_on,due_on\n"
        "\n"
        '"INV-\nX",C-IMP-3,2026-01-01,2026-01-31,10.00,2026-01-01,2026-01-31\n'
        "INV-Y,C-IMP-3,2026-01-01,2026-01-31,ten,2026-01-01,2026-01-31\n"
        "INV-Z,C-IMP-3,2026-01-01\n"
    )
    _, err = refused(path)
    assert err.splitlines() == [
        "line 5: amount: 'ten' is not a number.",
        "line 6: 3 fields, the header has 7.",
    ]


def test_columns_may_come_in_any_order_and_the_optional_ones_may_be_left_out(contracts, tmp_path):
    header = ["due_on", "amount", "number", "issued_on", "contract", "period_end", "period_start"]
    path = write_csv(tmp_path / "invoices.csv", invoice_rows(contracts, count=4), header=header)
    out, _ = run(path)
    assert out.strip() == "4 invoices: 4 created, 0 unchanged, 0 payments"
    assert set(Invoice.objects.values_list("kind", flat=True)) == {"subscription"}
    assert list(Invoice.objects.order_by("number").values_list("currency", flat=True)) == [
        "EUR",
        "EUR",
        "USD",
        "USD",
    ]


def test_a_spreadsheet_s_byte_order_mark_is_not_part_of_the_first_column(contracts, tmp_path):
    path = write_csv(tmp_path / "invoices.csv", invoice_rows(contracts, count=2))
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    out, _ = run(path)
    assert out.strip() == "2 invoices: 2 created, 0 unchanged, 0 payments"


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("", "The file is empty: expected a header row."),
        (
            "number,contract,amount\nINV-1,C-IMP-1,10\n",
            "Bad header (line 1): missing column(s) period_start, period_end, issued_on, due_on.",
        ),
        (
            ",".join([*HEADER, "ammount"]) + "\n",
            "Bad header (line 1): unknown column(s) 'ammount'.",
        ),
        (",".join([*HEADER, "amount"]) + "\n", "column(s) named twice: amount."),
    ],
)
def test_a_file_without_a_usable_header_is_refused_with_a_clear_error(
    contracts, tmp_path, content, words
):
    path = tmp_path / "invoices.csv"
    path.write_text(content)
    message, _ = refused(path)
    assert message.startswith(f"{path}: ")
    assert words in message
    assert not Invoice.objects.exists()


def test_a_missing_file_or_one_that_is_not_text_is_a_clear_error(db, tmp_path):
    message, _ = refused(tmp_path / "nope.csv")
    assert message == f"{tmp_path / 'nope.csv'}: no such file."
    binary = tmp_path / "invoices.xlsx"
    binary.write_bytes(b"PK\x03\x04\xff\xfe\x00")
    message, _ = refused(binary)
    assert message.startswith(f"{binary} is not UTF-8 text")


def test_the_command_exits_non_zero_and_prints_the_bad_lines(contracts, tmp_path, capsys):
    rows = invoice_rows(contracts, count=3)
    rows[1]["amount"] = "lots"
    path = write_csv(tmp_path / "invoices.csv", rows)
    with pytest.raises(SystemExit) as exited:
        ManagementUtility(["manage.py", "import_invoices", str(path)]).execute()
    assert exited.value.code == 1
    err = capsys.readouterr().err
    assert "line 3: amount: 'lots' is not a number." in err
    assert "CommandError: 1 bad row(s)" in err
    # (No database check after it: run_from_argv closes the test's connection.)
