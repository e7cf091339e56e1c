"""bench/statements.py's data set (not a benchmark itself: ``make bench`` runs
``bench/[!_]*.py``): 1,000 contracts × 3 services, 60 outages in 2026-10, 30 % of them
scoped to some customers, built once in the bench's own database."""

import random
import sys
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

CONTRACTS, LINES_PER_CONTRACT, OUTAGES = 1_000, 3, 60
MONTH = date(2026, 10, 1)
SEED = 20261123
SERVICES = "api web auth search storage sync mail billing export reports sandbox status".split()
NON_CRITICAL = {"export", "reports", "sandbox"}
CATEGORIES = {"internal": 60, "third_party": 12, "scheduled_maintenance": 12}
CATEGORIES |= {"performance_degradation": 9, "customer_authorized": 7}
FEES = [49, 99, 199, 249, 499, 990, 1_500, 4_900]


def prepare(url: str) -> None:
    """Migrate, load the SLA catalog, and build the data set unless it is there."""
    from django.core.management import call_command

    from contracts.catalog import catalog_load
    from contracts.models import Contract
    from outages.models import Outage
    from statements.models import Statement

    call_command("migrate", interactive=False, verbosity=0)
    catalog_load()
    counts = (Contract.objects.count(), Outage.objects.count(), Statement.objects.count())
    if any(counts) and counts != (CONTRACTS, OUTAGES, 0):
        sys.exit(f"{url} holds another data set {counts}: run with --rebuild")
    if not any(counts):
        build()


def build() -> None:
    from django.db import connection, transaction

    from contracts.models import Contract, ContractLine, Customer, Service, SLAPolicy
    from outages.models import Outage

    rng = random.Random(SEED)
    with transaction.atomic():
        services = Service.objects.bulk_create(
            Service(code=c, name=f"{c.title()} service", critical=c not in NON_CRITICAL)
            for c in SERVICES
        )
        customers = Customer.objects.bulk_create(
            Customer(name=f"Bench Customer {i:04d}", billing_emails=f"billing@c{i:04d}.example")
            for i in range(CONTRACTS)
        )
        policies = list(SLAPolicy.objects.order_by("code", "version"))
        currencies = ["USD"] * 6 + ["EUR", "EUR", "GBP", "CAD"]
        contracts = []
        for i, customer in enumerate(customers):  # one in 20 starts in the month: prorated
            start = MONTH if i % 20 == 7 else date(2024, 1, 1)
            start += timedelta(days=rng.randrange(1, 28) if i % 20 == 7 else rng.randrange(600))
            contract = Contract(customer=customer, policy=policies[i % len(policies)])
            contract.reference, contract.start_date = f"ST-BENCH-{i:04d}", start
            contract.currency = rng.choice(currencies)
            contracts.append(contract)
        Contract.objects.bulk_create(contracts)
        holders: dict[int, list[int]] = {s.pk: [] for s in services}
        lines = []
        for contract in contracts:
            for service in rng.sample(services, LINES_PER_CONTRACT):
                fee = Decimal(rng.choice(FEES))
                lines.append(ContractLine(contract=contract, service=service, monthly_fee=fee))
                holders[service.pk].append(contract.customer_id)
        ContractLine.objects.bulk_create(lines, batch_size=10_000)
        first = datetime(2026, 10, 1, 6, tzinfo=UTC)  # inside the month in every zone
        outages, scopes = [], []
        for n in range(OUTAGES):
            service = services[n % len(services)]
            category = rng.choices(list(CATEGORIES), weights=list(CATEGORIES.values()))[0]
            started = first + timedelta(seconds=rng.randrange(30 * 86_400 - 6 * 3_600))
            minutes = rng.choice([2, 4, 8, 15, 30, 45, 90, 240])
            scoped = rng.random() < 0.3
            announced = started - timedelta(days=3) if category == "scheduled_maintenance" else None
            end = started + timedelta(minutes=minutes, seconds=rng.randrange(60))
            outage = Outage(service=service, started_at=started, ended_at=end, category=category)
            outage.confirmed_at = started + timedelta(minutes=rng.choice([0, 2, 5]))
            outage.announced_at = announced
            outage.title = f"{service.name} {category.replace('_', ' ')} #{n}"
            outage.scope = Outage.Scope.CUSTOMERS if scoped else Outage.Scope.ALL
            outages.append(outage)
            scopes.append(rng.sample(holders[service.pk], rng.randint(5, 60)) if scoped else [])
        through = Outage.customers.through
        pairs = zip(Outage.objects.bulk_create(outages), scopes, strict=True)
        through.objects.bulk_create(
            through(outage_id=o.pk, customer_id=c) for o, ids in pairs for c in ids
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
