"""Benchmark outages.selectors.availability_for_month on PostgreSQL.

Run from the project root: ``python bench/availability.py [--rebuild] [--profile]``. Uses
its own database (``BENCH_DATABASE_URL``, default postgres://postgres@127.0.0.1:5432/
slaportal_bench), created, migrated and filled once: 10,000 contracts × 3 services over the
5 catalog policies, 2,000 outages in 2026-10 and 1,000 in 2026-11. Times the month cold and
warm, counts SQL queries at 1k/5k/10k contracts and 2,000/1,000 outages, checks the figures
are plausible and writes ``bench/results/availability.json``. Exits non-zero only on a
correctness failure (query count growing, implausible figures), not on a missed speed target.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import os
import platform
import pstats
import random
import sys
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/slaportal_bench")
os.environ["DATABASE_URL"] = URL  # never the project's own database
os.environ["DJANGO_SETTINGS_MODULE"] = "slaportal.settings"
os.environ.setdefault("SECRET_KEY", "bench-only-not-a-secret")  # so DEBUG can stay off
os.environ["CELERY_BROKER_URL"] = ""

import django  # noqa: E402
from _db import ensure_database  # noqa: E402

CONTRACTS = 10_000
LINES_PER_CONTRACT = 3
MONTH = date(2026, 10, 1)
HALF = date(2026, 11, 1)  # the same contracts with half the outages (and a DST change)
OUTAGES = {MONTH: 2_000, HALF: 1_000}
SIZES = (1_000, 5_000, 10_000)
WARM_RUNS, WARM_BUDGET = 3, 60.0  # best of 3, fewer if they take more than a minute
TARGET = 1_000.0  # contract-months per second on one core
SEED = 20261001
RESULTS = ROOT / "bench" / "results" / "availability.json"

SERVICES = "api web auth search storage sync mail billing export reports sandbox status".split()
OUTAGE_RATES = [16, 14, 12, 11, 10, 9, 8, 7, 6, 4, 3, 0]  # relative; status has a clean month
NON_CRITICAL = {"export", "reports", "sandbox"}
CATEGORIES = dict(
    internal=60,
    third_party=12,
    scheduled_maintenance=12,
    performance_degradation=9,
    customer_authorized=7,
)
FEES = [49, 99, 199, 249, 499, 990, 1_500, 4_900]


def prepare() -> None:
    from django.core.management import call_command

    from contracts.catalog import catalog_load
    from contracts.models import Contract, ContractLine
    from outages.models import Outage

    call_command("migrate", interactive=False, verbosity=0)
    catalog_load()
    counts = (Contract.objects.count(), ContractLine.objects.count(), Outage.objects.count())
    if counts == (CONTRACTS, CONTRACTS * LINES_PER_CONTRACT, sum(OUTAGES.values())):
        print("reusing the data set (--rebuild to start again)")
    elif any(counts):
        sys.exit(f"{URL} holds another data set {counts}: run with --rebuild")
    else:
        started = time.perf_counter()
        build()
        print(f"built the data set in {time.perf_counter() - started:.1f} s")


def _contract_dates(rng: random.Random) -> tuple[date, date | None, date | None]:
    """(start, end, terminated): most run all month, some start or stop inside it."""
    roll = rng.random()
    start = date(2023, 1, 1) + timedelta(days=rng.randrange(1_300))  # up to mid-2026
    if roll < 0.05:  # starts during the month: prorated
        return MONTH + timedelta(days=rng.randrange(31)), None, None
    if roll < 0.07:  # starts later: not active
        return date(2026, 12, 1) + timedelta(days=rng.randrange(60)), None, None
    if roll < 0.09:  # term ended before the month: not active
        return date(2024, 1, 1), MONTH - timedelta(days=1 + rng.randrange(200)), None
    if roll < 0.12:  # terminated during the month
        return start, None, MONTH + timedelta(days=rng.randrange(31))
    if roll < 0.40:  # fixed term ending later
        return start, date(2027, 1, 1) + timedelta(days=rng.randrange(700)), None
    return start, None, None


def _span(rng: random.Random, month: date, n: int) -> tuple[datetime, datetime | None]:
    """Whole seconds. 06:00 UTC on the 1st to 03:00 UTC on the next 1st lies inside the
    local month in both catalog zones, so every outage reaches the month it belongs to."""
    first = datetime(month.year, month.month, 1, 6, tzinfo=UTC)
    following = datetime(month.year + month.month // 12, month.month % 12 + 1, 1, 3, tzinfo=UTC)
    if month == HALF and n < 5:  # still ongoing
        return datetime(2026, 11, 20, tzinfo=UTC) + timedelta(minutes=rng.randrange(2_880)), None
    roll = rng.random()
    if month == MONTH and roll < 0.005:  # began in the previous month
        started = first - timedelta(minutes=rng.randint(360, 2_880))
        return started, first + timedelta(minutes=rng.randint(10, 240))
    if month == MONTH and roll < 0.01:  # runs into the next month
        started = following - timedelta(minutes=rng.randint(1, 360))
        return started, following + timedelta(minutes=rng.randint(60, 480))
    started = first + timedelta(seconds=rng.randrange(int((following - first).total_seconds())))
    roll = rng.random()
    if roll < 0.003:  # closed hours later
        minutes = rng.randint(240, 1_440)
    elif roll < 0.75:
        minutes = rng.randint(1, 5)
    elif roll < 0.95:
        minutes = rng.randint(5, 30)
    else:
        minutes = rng.randint(30, 120)
    return started, started + timedelta(minutes=minutes, seconds=rng.randrange(60))


def build() -> None:
    from django.db import connection, transaction

    from contracts.models import Contract, ContractLine, Customer, Service, SLAPolicy
    from outages.models import Outage

    rng = random.Random(SEED)
    with transaction.atomic():
        services = Service.objects.bulk_create(
            Service(code=code, name=f"{code.title()} service", critical=code not in NON_CRITICAL)
            for code in SERVICES
        )
        customers = Customer.objects.bulk_create(
            Customer(name=f"Bench Customer {i:05d}", billing_emails=f"billing@c{i:05d}.example")
            for i in range(CONTRACTS)
        )
        policies = list(SLAPolicy.objects.order_by("code", "version"))
        contracts = []
        for i, customer in enumerate(customers):
            start, end, terminated = _contract_dates(rng)
            contracts.append(
                Contract(
                    customer=customer,
                    policy=policies[i % len(policies)],
                    reference=f"BENCH-{i:05d}",
                    start_date=start,
                    end_date=end,
                    terminated_on=terminated,
                    currency=rng.choice(["USD"] * 6 + ["EUR", "EUR", "GBP", "CAD"]),
                )
            )
        holders: dict[int, list[int]] = {s.pk: [] for s in services}
        lines = []
        for contract in Contract.objects.bulk_create(contracts):
            for service in rng.sample(services, LINES_PER_CONTRACT):
                fee = Decimal(rng.choice(FEES))
                lines.append(ContractLine(contract=contract, service=service, monthly_fee=fee))
                holders[service.pk].append(contract.customer_id)
        ContractLine.objects.bulk_create(lines, batch_size=10_000)

        outages, scopes = [], []
        for month, count in OUTAGES.items():
            for n in range(count):
                service = rng.choices(services, weights=OUTAGE_RATES)[0]
                category = rng.choices(list(CATEGORIES), weights=list(CATEGORIES.values()))[0]
                started, ended = _span(rng, month, n)
                delay = timedelta(minutes=rng.choice([0, 1, 2, 5, 10, 20]))
                confirmed = started + delay if rng.random() < 0.85 else None  # most confirmed
                maintenance = category == "scheduled_maintenance"
                scoped = rng.random() < 0.30
                outages.append(
                    Outage(
                        service=service,
                        started_at=started,
                        ended_at=ended,
                        confirmed_at=confirmed,
                        announced_at=started - timedelta(days=3) if maintenance else None,
                        category=category,
                        scope=Outage.Scope.CUSTOMERS if scoped else Outage.Scope.ALL,
                        title=f"{service.name} {category.replace('_', ' ')} #{n}",
                    )
                )
                scopes.append(rng.sample(holders[service.pk], rng.randint(1, 50)) if scoped else [])
        through = Outage.customers.through
        pairs = zip(Outage.objects.bulk_create(outages), scopes, strict=True)
        links = [through(outage_id=o.pk, customer_id=c) for o, ids in pairs for c in ids]
        through.objects.bulk_create(links, batch_size=10_000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def measure(month: date, ids: list[int] | None = None) -> tuple[float, int, list[Any]]:
    """(seconds, SQL queries, results) of one list(availability_for_month(...))."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from contracts.models import Contract
    from outages.selectors import availability_for_month

    contracts = None if ids is None else Contract.objects.filter(pk__in=ids)
    gc.collect()
    with CaptureQueriesContext(connection) as ctx:
        started = time.perf_counter()
        results = list(availability_for_month(month, contracts))
        seconds = time.perf_counter() - started
    return seconds, len(ctx.captured_queries), results


def outages_in(month: date) -> int:
    from outages.models import Outage
    from slaportal.months import month_bounds

    start, end = month_bounds(month, "America/New_York")
    return Outage.objects.filter(started_at__lt=end).exclude(ended_at__lte=start).count()


def sanity(results: list[Any], month: date) -> list[str]:
    """Reasons the figures are implausible; empty when they look right."""
    from contracts.models import Contract
    from outages.selectors import contract_availability
    from slaportal.months import month_days

    problems = []
    figures = [r.result for r in results]
    if any(not 0 <= f.availability <= 1 for f in figures):
        problems.append("availability outside 0–100 %")
    if any(not 0 <= f.downtime_seconds <= f.denominator_seconds for f in figures):
        problems.append("downtime negative or longer than the denominator")
    if all(f.availability < 1 for f in figures) or all(f.availability == 1 for f in figures):
        problems.append("expected some services below 100 % and some at exactly 100 %")
    codes = Counter(v.code for f in figures for v in f.verdicts)
    for code in ("counted", "removed_from_denominator", "excluded_category", "overlap"):
        if not codes[code]:
            problems.append(f"no outage ever got the verdict {code!r}")
    expected = Contract.objects.in_force_during(*month_days(month)).count()
    by_contract: dict[int, list[Any]] = {}
    for r in results:
        by_contract.setdefault(r.contract.pk, []).append(r)
    if len(by_contract) != expected:
        problems.append(f"{len(by_contract)} contracts measured, {expected} in force")
    for pk in random.Random(SEED).sample(sorted(by_contract), 20):
        alone = contract_availability(by_contract[pk][0].contract, month)
        if [r.result for r in alone] != [r.result for r in by_contract[pk]]:
            problems.append(f"contract {pk}: bulk figures differ from a one-contract run")
    return problems


def examples(results: list[Any]) -> list[str]:
    per_policy: dict[str, list[Any]] = {}
    for r in results:
        per_policy.setdefault(r.contract.policy.code, []).append(r.result)
    rows = [f"{'policy':<20}{'services':>9}{'at 100 %':>10}{'mean %':>9}{'worst %':>9}"]
    for code, figures in sorted(per_policy.items()):
        mean = float(sum(f.availability for f in figures) / len(figures)) * 100
        worst = float(min(f.availability for f in figures)) * 100
        perfect = sum(f.availability == 1 for f in figures)
        rows.append(f"{code:<20}{len(figures):>9}{perfect:>10}{mean:>9.3f}{worst:>9.3f}")
    worst = min(results, key=lambda r: r.result.availability)
    prorated = next(r for r in results if r.result.share_of_month < 1)
    for label, r in (("worst", worst), ("prorated", prorated)):
        f = r.result
        rows.append(
            f"  {label}: {r.contract.reference} {r.service.code} ({r.contract.policy.code}) "
            f"{f.display}, {f.downtime_seconds // 60} of {f.denominator_seconds // 60} min down, "
            f"{sum(v.counted for v in f.verdicts)} of {len(f.verdicts)} outages counted"
        )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rebuild", action="store_true", help="drop and rebuild the data set")
    parser.add_argument("--profile", action="store_true", help="cProfile one more warm run")
    args = parser.parse_args()
    ensure_database(URL, drop=args.rebuild)
    django.setup()
    prepare()

    from django.db import connection

    from contracts.calendar_engines import clear_engines
    from contracts.models import Contract

    ids = list(Contract.objects.order_by("pk").values_list("pk", flat=True))
    outages = {month: outages_in(month) for month in OUTAGES}
    clear_engines()  # cold: no calendar engine and no per-date spans yet
    cold, cold_queries, results = measure(MONTH)
    contract_months = len({r.contract.pk for r in results})
    service_months = len(results)
    problems, sample = sanity(results, MONTH), examples(results)
    del results
    warm_runs: list[float] = []
    queries = {(MONTH, len(ids)): cold_queries}
    while len(warm_runs) < WARM_RUNS and (not warm_runs or sum(warm_runs) < WARM_BUDGET):
        seconds, queries[MONTH, len(ids)], _ = measure(MONTH)
        warm_runs.append(seconds)
    warm = min(warm_runs)
    for month in OUTAGES:
        for size in SIZES:
            if (month, size) not in queries:
                queries[month, size] = measure(month, None if size == len(ids) else ids[:size])[1]
    constant = len(set(queries.values())) == 1 and cold_queries == queries[MONTH, len(ids)]
    implausible = list(problems)
    if not constant:
        problems.append(f"query count varies: {sorted(queries.values())}")

    times = {"cold": cold, "warm": warm}
    rates = {k: contract_months / s for k, s in times.items()}
    fast = rates["warm"] >= TARGET
    print(
        f"\navailability_for_month({MONTH:%Y-%m}), PostgreSQL: {len(ids)} contracts × "
        f"{LINES_PER_CONTRACT} services, {outages[MONTH]} outages in the month\n"
        f"active: {contract_months} contract-months, {service_months} service-months\n"
        f"{'':<6}{'seconds':>9}{'contract-months/s':>19}{'service-months/s':>18}"
    )
    for k, s in times.items():
        print(f"{k:<6}{s:>9.2f}{rates[k]:>19.0f}{service_months / s:>18.0f}")
    print(
        f"warm = best of {len(warm_runs)}: {', '.join(f'{s:.2f}' for s in warm_runs)} s\n"
        f"target ≥ {TARGET:.0f} contract-months/s (warm): {'PASS' if fast else 'FAIL'}\n"
        f"\n{'SQL queries / contracts':<26}" + "".join(f"{n:>8}" for n in SIZES)
    )
    for month in OUTAGES:
        label = f"{month:%Y-%m} ({outages[month]} outages)"
        print(f"{label:<26}" + "".join(f"{queries[month, n]:>8}" for n in SIZES))
    print(f"constant query count: {'PASS' if constant else 'FAIL'}\n", *sample, sep="\n")
    for problem in problems:
        print(f"IMPLAUSIBLE: {problem}")

    connection.ensure_connection()
    report = {
        "python": platform.python_version(),
        "database": f"PostgreSQL {connection.connection.info.parameter_status('server_version')}",
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "contracts": len(ids),
        "services_per_contract": LINES_PER_CONTRACT,
        "month": f"{MONTH:%Y-%m}",
        "outages": outages[MONTH],
        "contract_months": contract_months,
        "service_months": service_months,
        "timing": "wall clock of list(availability_for_month(month)); cold: first run, empty "
        f"calendar caches; warm: best of {len(warm_runs)}",
        "cold_seconds": round(cold, 3),
        "warm_seconds": round(warm, 3),
        "warm_runs_seconds": [round(s, 3) for s in warm_runs],
        "contract_months_per_s": {k: round(v) for k, v in rates.items()},
        "service_months_per_s": {k: round(service_months / s) for k, s in times.items()},
        "queries": cold_queries,
        "queries_by_contracts": {
            f"{month:%Y-%m} ({outages[month]} outages)": {str(n): queries[month, n] for n in SIZES}
            for month in OUTAGES
        },
        "targets": {
            "contract_months_per_s": TARGET,
            "contract_months_per_s_pass": fast,
            "constant_queries": "equal at 1k/5k/10k contracts and 2,000/1,000 outages",
            "constant_queries_pass": constant,
        },
        "plausible": not implausible,
        "problems": problems,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(f"\nwrote {RESULTS.relative_to(ROOT)}")
    if not fast:
        print(f"speed target missed ({rates['warm']:.0f}/s); not a failure of this script")
    if args.profile:
        profiler = cProfile.Profile()
        profiler.runcall(measure, MONTH)
        print("\nprofile of one warm run, top 20 by own time:")
        pstats.Stats(profiler).sort_stats("tottime").print_stats(20)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
