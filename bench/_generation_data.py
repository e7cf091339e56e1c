"""The data set of bench/generation.py: N contracts × 3 services over the 5 catalog
policies, 2,000 outages in 2026-10 (30 % scoped to some customers), written with COPY.

(Not a benchmark itself: ``make bench`` runs ``bench/[!_]*.py``.)"""

from __future__ import annotations

import random
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

MONTH = date(2026, 10, 1)
LINES_PER_CONTRACT = 3
OUTAGES = 2_000
SCOPED_SHARE = 0.30
SEED = 20261002

SERVICES = "api web auth search storage sync mail billing export reports sandbox status".split()
OUTAGE_RATES = [16, 14, 12, 11, 10, 9, 8, 7, 6, 4, 3, 0]  # relative; status has a clean month
NON_CRITICAL = {"export", "reports", "sandbox"}
CATEGORIES = {"internal": 60, "third_party": 12, "scheduled_maintenance": 12}
CATEGORIES |= {"performance_degradation": 9, "customer_authorized": 7}
FEES = [49, 99, 199, 249, 499, 990, 1_500, 4_900]
CURRENCIES = ["USD"] * 6 + ["EUR", "EUR", "GBP", "CAD"]


def counts() -> tuple[int, int, int]:
    from contracts.models import Contract, ContractLine
    from outages.models import Outage

    return Contract.objects.count(), ContractLine.objects.count(), Outage.objects.count()


def expected(contracts: int) -> tuple[int, int, int]:
    return contracts, contracts * LINES_PER_CONTRACT, OUTAGES


def _contract_dates(rng: random.Random) -> tuple[date, date | None, date | None]:
    """(start, end, terminated): most run all month, some start or stop inside it."""
    roll = rng.random()
    start = date(2023, 1, 1) + timedelta(days=rng.randrange(1_300))  # up to mid-2026
    if roll < 0.05:  # starts during the month: prorated
        return MONTH + timedelta(days=rng.randrange(31)), None, None
    if roll < 0.07:  # term ended before the month: not in force
        return date(2024, 1, 1), MONTH - timedelta(days=1 + rng.randrange(200)), None
    if roll < 0.10:  # terminated during the month
        return start, None, MONTH + timedelta(days=rng.randrange(31))
    if roll < 0.40:  # fixed term ending later
        return start, date(2027, 1, 1) + timedelta(days=rng.randrange(700)), None
    return start, None, None


def _outage(rng: random.Random, n: int) -> dict[str, Any]:
    """Whole seconds, inside the local month in both catalog zones."""
    first = datetime(2026, 10, 1, 6, tzinfo=UTC)
    started = first + timedelta(seconds=rng.randrange(30 * 86_400 - 6 * 3_600))
    roll = rng.random()
    if roll < 0.003:
        minutes = rng.randint(240, 1_440)
    elif roll < 0.75:
        minutes = rng.randint(1, 5)
    elif roll < 0.95:
        minutes = rng.randint(5, 30)
    else:
        minutes = rng.randint(30, 120)
    ended = started + timedelta(minutes=minutes, seconds=rng.randrange(60))
    confirmed = started + timedelta(minutes=rng.choice([0, 1, 2, 5, 10, 20]))
    category = rng.choices(list(CATEGORIES), weights=list(CATEGORIES.values()))[0]
    return {
        "started_at": started,
        "ended_at": ended,
        "confirmed_at": confirmed if rng.random() < 0.85 else None,
        "announced_at": started - timedelta(days=3)
        if category == "scheduled_maintenance"
        else None,
        "category": category,
        "n": n,
    }


def _copy(cursor: Any, table: str, columns: list[str], rows: list[tuple]) -> None:
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def build(contracts: int) -> float:
    """Fill an empty, migrated database; returns the seconds it took."""
    from django.db import connection, transaction

    from contracts.models import Contract, ContractLine, Customer, Service, SLAPolicy
    from outages.models import Outage

    started = time.perf_counter()
    rng = random.Random(SEED)
    now = datetime(2026, 9, 1, tzinfo=UTC)
    with transaction.atomic():
        services = Service.objects.bulk_create(
            Service(code=code, name=f"{code.title()} service", critical=code not in NON_CRITICAL)
            for code in SERVICES
        )
        policies = list(SLAPolicy.objects.order_by("code", "version").values_list("pk", flat=True))
        cursor = connection.cursor().cursor  # psycopg's own, for COPY
        customer_rows = [
            (f"Bench Customer {i:05d}", f"billing@c{i:05d}.example", "UTC", True, now)
            for i in range(contracts)
        ]
        _copy(
            cursor,
            Customer._meta.db_table,
            ["name", "billing_emails", "time_zone", "is_active", "created_at"],
            customer_rows,
        )
        customer_ids = list(Customer.objects.order_by("pk").values_list("pk", flat=True))
        contract_rows = []
        for i, customer_id in enumerate(customer_ids):
            start, end, terminated = _contract_dates(rng)
            contract_rows.append(
                (
                    customer_id,
                    policies[i % len(policies)],
                    f"GEN-{i:05d}",
                    start,
                    end,
                    terminated,
                    rng.choice(CURRENCIES),
                    now,
                )
            )
        _copy(
            cursor,
            Contract._meta.db_table,
            [
                "customer_id",
                "policy_id",
                "reference",
                "start_date",
                "end_date",
                "terminated_on",
                "currency",
                "created_at",
            ],
            contract_rows,
        )
        holders: dict[int, list[int]] = {s.pk: [] for s in services}
        line_rows = []
        for contract_id, customer_id in Contract.objects.order_by("pk").values_list(
            "pk", "customer_id"
        ):
            for service in rng.sample(services, LINES_PER_CONTRACT):
                line_rows.append((contract_id, service.pk, Decimal(rng.choice(FEES))))
                holders[service.pk].append(customer_id)
        _copy(
            cursor,
            ContractLine._meta.db_table,
            ["contract_id", "service_id", "monthly_fee"],
            line_rows,
        )
        outages, scopes = [], []
        for n in range(OUTAGES):
            service = rng.choices(services, weights=OUTAGE_RATES)[0]
            fields = _outage(rng, n)
            scoped = rng.random() < SCOPED_SHARE
            title = f"{service.name} {fields['category'].replace('_', ' ')} #{fields.pop('n')}"
            outages.append(
                Outage(
                    service=service,
                    scope=Outage.Scope.CUSTOMERS if scoped else Outage.Scope.ALL,
                    title=title,
                    **fields,
                )
            )
            held = holders[service.pk]
            scopes.append(rng.sample(held, min(len(held), rng.randint(1, 50))) if scoped else [])
        through = Outage.customers.through
        pairs = zip(Outage.objects.bulk_create(outages), scopes, strict=True)
        links = [through(outage_id=o.pk, customer_id=c) for o, ids in pairs for c in ids]
        through.objects.bulk_create(links, batch_size=10_000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return time.perf_counter() - started
