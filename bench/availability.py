"""Benchmark outages.selectors.availability_for_month on PostgreSQL.

Run from the project root: ``python bench/availability.py [--rebuild] [--profile]``.
Uses its own database (``BENCH_DATABASE_URL``, default
``postgres://postgres@127.0.0.1:5432/slaportal_bench``), created and migrated if
missing; the data set (10,000 contracts × 3 services over the 5 catalog policies,
2,000 outages in 2026-10 and 1,000 in 2026-11 with mixed categories and scopes) is
built once and reused. Times the whole month cold (empty calendar caches) and warm
(best of 3), counts SQL queries at 1k/5k/10k contracts and at 2,000/1,000 outages,
and checks the figures are plausible. Writes ``bench/results/availability.json``;
exits non-zero only on a correctness failure (queries growing, implausible figures),
never on a missed speed target.
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
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/slaportal_bench"
URL = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
os.environ["DATABASE_URL"] = URL  # never the project's own database
os.environ["DJANGO_SETTINGS_MODULE"] = "slaportal.settings"
os.environ.setdefault("SECRET_KEY", "bench-only-not-a-secret")  # DEBUG stays off
os.environ["CELERY_BROKER_URL"] = ""

import django  # noqa: E402

CONTRACTS = 10_000
LINES_PER_CONTRACT = 3
MONTH = date(2026, 10, 1)
HALF_MONTH = date(2026, 11, 1)  # same contracts, half the outages (and the DST change)
OUTAGES = {MONTH: 2_000, HALF_MONTH: 1_000}
SIZES = (1_000, 5_000, 10_000)
WARM_RUNS = 3
TARGET = 1_000.0  # contract-months per second, one core
SEED = 20261001
RESULTS = ROOT / "bench" / "results" / "availability.json"

# (code, name, critical, relative outage rate): rates differ by service, and two
# services have a clean month, so some figures are exactly 100 %.
SERVICES = [
    ("api", "Public API", True, 30),
    ("web", "Web application", True, 22),
    ("auth", "Single sign-on", True, 14),
    ("search", "Search", True, 10),
    ("storage", "File storage", True, 8),
    ("sync", "Data sync", True, 6),
    ("mail", "Outbound e-mail", True, 4),
    ("billing", "Billing portal", True, 3),
    ("export", "Bulk export", False, 2),
    ("reports", "Reporting", False, 1),
    ("sandbox", "Sandbox environment", False, 0),
    ("status", "Status page", True, 0),
]
CATEGORIES = [
    ("internal", 60),
    ("third_party", 12),
    ("scheduled_maintenance", 12),
    ("performance_degradation", 9),
    ("customer_authorized", 7),
]


def ensure_database(url: str, *, drop: bool) -> None:
    name = conninfo_to_dict(url)["dbname"]
    with psycopg.connect(make_conninfo(url, dbname="postgres"), autocommit=True) as admin:
        if drop:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
        found = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not found:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"created database {name}")


def prepare(*, rebuild: bool) -> None:
    from django.core.management import call_command

    from contracts.catalog import catalog_load

    call_command("migrate", interactive=False, verbosity=0)
    catalog_load()
    if rebuild or not data_present():
        started = time.perf_counter()
        build()
        print(f"built the data set in {time.perf_counter() - started:.1f} s")
    else:
        print("reusing the data set (--rebuild to start again)")


def data_present() -> bool:
    from contracts.models import Contract, ContractLine
    from outages.models import Outage

    counts = (Contract.objects.count(), ContractLine.objects.count(), Outage.objects.count())
    if counts == (CONTRACTS, CONTRACTS * LINES_PER_CONTRACT, sum(OUTAGES.values())):
        return True
    if any(counts):
        sys.exit(f"{URL} holds another data set {counts}: run with --rebuild")
    return False


def _utc(day: date, hour: float = 0) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(hours=hour)


def _contract_dates(rng: random.Random) -> tuple[date, date | None, date | None]:
    """Mostly running all month; some start or end inside it, a few are not active."""
    roll = rng.random()
    start = date(2023, 1, 1) + timedelta(days=rng.randrange(1_300))  # up to mid-2026
    if roll < 0.05:  # starts during the month: prorated
        return MONTH + timedelta(days=rng.randrange(31)), None, None
    if roll < 0.07:  # starts later: not active in October
        return date(2026, 12, 1) + timedelta(days=rng.randrange(60)), None, None
    if roll < 0.09:  # term ended before the month
        return date(2024, 1, 1), date(2026, 9, 30) - timedelta(days=rng.randrange(200)), None
    if roll < 0.12:  # terminated during the month
        return start, None, MONTH + timedelta(days=rng.randrange(31))
    if roll < 0.40:  # fixed term ending after the month
        return start, date(2027, 1, 1) + timedelta(days=rng.randrange(700)), None
    return start, None, None


def _duration(rng: random.Random) -> timedelta:
    roll = rng.random()
    if roll < 0.75:
        return timedelta(minutes=rng.randint(1, 15))
    if roll < 0.95:
        return timedelta(minutes=rng.randint(15, 90))
    return timedelta(minutes=rng.randint(90, 360))


def build() -> None:
    from django.db import connection, transaction

    from contracts.models import Contract, ContractLine, Customer, Service, SLAPolicy
    from outages.models import Outage

    rng = random.Random(SEED)
    with transaction.atomic():
        services = Service.objects.bulk_create(
            Service(code=code, name=name, critical=critical) for code, name, critical, _ in SERVICES
        )
        customers = Customer.objects.bulk_create(
            Customer(name=f"Bench Customer {i:05d}", billing_emails=f"billing@c{i:05d}.example")
            for i in range(CONTRACTS)
        )
        policies = list(SLAPolicy.objects.order_by("code", "version"))
        assert len(policies) == 5, [p.code for p in policies]
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
        contracts = Contract.objects.bulk_create(contracts)
        holders: dict[int, list[int]] = {s.pk: [] for s in services}
        lines = []
        for contract in contracts:
            for service in rng.sample(services, LINES_PER_CONTRACT):
                fee = Decimal(rng.choice([49, 99, 199, 249, 499, 990, 1_500, 4_900]))
                lines.append(ContractLine(contract=contract, service=service, monthly_fee=fee))
                holders[service.pk].append(contract.customer_id)
        ContractLine.objects.bulk_create(lines, batch_size=10_000)

        rates = [rate for *_, rate in SERVICES]
        outages, scopes = [], []
        for month, count in OUTAGES.items():
            days = (date(month.year + month.month // 12, month.month % 12 + 1, 1) - month).days
            for n in range(count):
                service = rng.choices(services, weights=rates)[0]
                category = rng.choices(*zip(*CATEGORIES, strict=True))[0]
                # Some start before local midnight (New York is UTC-4) or run past the
                # month's end; November's start after October's selector window ends.
                first = -6 if month == MONTH else 12
                started = _utc(month, rng.uniform(first, days * 24 + 6))
                ended: datetime | None = started + _duration(rng)
                if rng.random() < 0.015:
                    ended = started + timedelta(hours=rng.uniform(12, 60))  # closed days later
                if month == HALF_MONTH and n < 5:  # still ongoing this month
                    started, ended = _utc(date(2026, 11, 20), rng.uniform(0, 48)), None
                confirmed = None
                if rng.random() < 0.85:
                    confirmed = started + timedelta(minutes=rng.choice([0, 1, 2, 5, 10, 20]))
                scoped = rng.random() < 0.30
                outages.append(
                    Outage(
                        service=service,
                        started_at=started,
                        ended_at=ended,
                        confirmed_at=confirmed,
                        announced_at=started - timedelta(days=3)
                        if category == "scheduled_maintenance"
                        else None,
                        category=category,
                        scope=Outage.Scope.CUSTOMERS if scoped else Outage.Scope.ALL,
                        title=f"{service.name} {category.replace('_', ' ')} #{n}",
                    )
                )
                scopes.append(rng.sample(holders[service.pk], rng.randint(1, 50)) if scoped else [])
        outages = Outage.objects.bulk_create(outages)
        through = Outage.customers.through
        through.objects.bulk_create(
            (
                through(outage_id=outage.pk, customer_id=customer_id)
                for outage, ids in zip(outages, scopes, strict=True)
                for customer_id in ids
            ),
            batch_size=10_000,
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    gc.collect()
    started = time.perf_counter()
    value = fn()
    return time.perf_counter() - started, value


def run(month: date, contract_ids: list[int] | None = None) -> list[Any]:
    from contracts.models import Contract
    from outages.selectors import availability_for_month

    contracts = None if contract_ids is None else Contract.objects.filter(pk__in=contract_ids)
    return list(availability_for_month(month, contracts))


def count_queries(month: date, contract_ids: list[int] | None) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        run(month, contract_ids)
    return len(ctx.captured_queries)


def outages_touching(month: date) -> int:
    from outages.models import Outage
    from outages.selectors import _month_window

    start, end = _month_window(month)
    return Outage.objects.filter(started_at__lt=end, ended_at__gt=start).count() + (
        Outage.objects.filter(started_at__lt=end, ended_at__isnull=True).count()
    )


def server_version() -> str:
    from django.db import connection

    connection.ensure_connection()
    return connection.connection.info.parameter_status("server_version") or "?"


def sanity(results: list[Any], month: date) -> list[str]:
    """Reasons the figures are implausible; empty when they look right."""
    from contracts.models import Contract
    from outages.selectors import contract_availability

    problems = []
    figures = [r.result for r in results]
    if any(not 0 <= f.availability <= 1 for f in figures):
        problems.append("availability outside 0–100 %")
    if any(f.downtime_seconds > f.denominator_seconds or f.downtime_seconds < 0 for f in figures):
        problems.append("downtime longer than the denominator, or negative")
    if not any(f.availability < 1 for f in figures) or not any(
        f.availability == 1 for f in figures
    ):
        problems.append("expected some services below 100 % and some at exactly 100 %")
    codes = Counter(v.code for f in figures for v in f.verdicts)
    for code in ("counted", "removed_from_denominator", "excluded_category", "overlap"):
        if not codes[code]:
            problems.append(f"no outage ever got the verdict {code!r}")
    following = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    expected = (
        Contract.objects.filter(start_date__lt=following)
        .exclude(end_date__lt=month)
        .exclude(terminated_on__lt=month)
        .count()
    )
    if len({r.contract.pk for r in results}) != expected:
        problems.append(
            f"{len({r.contract.pk for r in results})} active contracts, expected {expected}"
        )
    by_contract: dict[int, list[Any]] = {}
    for r in results:
        by_contract.setdefault(r.contract.pk, []).append(r)
    for pk in random.Random(SEED).sample(sorted(by_contract), 20):
        alone = contract_availability(by_contract[pk][0].contract, month)
        if [r.result for r in alone] != [r.result for r in by_contract[pk]]:
            problems.append(f"contract {pk}: the bulk figures differ from a one-contract run")
    return problems


def examples(results: list[Any]) -> None:
    per_policy: dict[str, list[Any]] = {}
    for r in results:
        per_policy.setdefault(r.contract.policy.code, []).append(r.result)
    print(f"\n{'policy':<22}{'lines':>7}{'at 100 %':>10}{'mean %':>10}{'worst %':>10}")
    for code, figures in sorted(per_policy.items()):
        perfect = sum(f.availability == 1 for f in figures)
        mean = float(sum(f.availability for f in figures) / len(figures)) * 100
        worst = float(min(f.availability for f in figures)) * 100
        print(f"{code:<22}{len(figures):>7}{perfect:>10}{mean:>10.3f}{worst:>10.3f}")
    worst = min(results, key=lambda r: r.result.availability)
    prorated = next(r for r in results if r.result.share_of_month < 1)
    for label, r in (("worst", worst), ("prorated", prorated)):
        f = r.result
        print(
            f"  {label}: {r.contract.reference} {r.service.code} ({r.contract.policy.code}) "
            f"{f.display}, downtime {f.downtime_seconds / 60:.0f} of {f.denominator_seconds / 60:.0f} "
            f"min, {sum(v.counted for v in f.verdicts)}/{len(f.verdicts)} outages counted"
        )


def profile(month: date) -> None:
    profiler = cProfile.Profile()
    profiler.runcall(run, month)
    stats = pstats.Stats(profiler).sort_stats("tottime")
    print("\nprofile of one warm run (top 20 by own time):")
    stats.print_stats(20)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rebuild", action="store_true", help="drop and rebuild the data set")
    parser.add_argument("--profile", action="store_true", help="cProfile one warm run")
    args = parser.parse_args()
    ensure_database(URL, drop=args.rebuild)
    django.setup()
    prepare(rebuild=args.rebuild)

    from contracts.models import Contract
    from contracts.selectors import _engine

    ids = list(Contract.objects.order_by("pk").values_list("pk", flat=True))
    _engine.cache_clear()  # cold: no calendar engine, no per-date spans yet
    cold, results = timed(lambda: run(MONTH))
    warm = min(timed(lambda: run(MONTH))[0] for _ in range(WARM_RUNS))
    contract_months = len({r.contract.pk for r in results})
    service_months = len(results)

    queries = {
        month: {
            size: count_queries(month, None if size == len(ids) else ids[:size]) for size in SIZES
        }
        for month in OUTAGES
    }
    outage_counts = {month: outages_touching(month) for month in OUTAGES}
    flat = [n for per_size in queries.values() for n in per_size.values()]
    constant = len(set(flat)) == 1
    problems = sanity(results, MONTH)
    if not constant:
        problems.append(f"query count varies: {flat}")

    per_s_warm, per_s_cold = contract_months / warm, contract_months / cold
    print(
        f"\navailability_for_month({MONTH:%Y-%m}) on PostgreSQL: {len(ids)} contracts × "
        f"{LINES_PER_CONTRACT} services, {outage_counts[MONTH]} outages touching the month"
    )
    print(f"active: {contract_months} contract-months, {service_months} service-months")
    print(f"{'':<6}{'seconds':>10}{'contract-months/s':>20}{'service-months/s':>19}")
    for label, seconds in (("cold", cold), ("warm", warm)):
        print(
            f"{label:<6}{seconds:>10.3f}{contract_months / seconds:>20.0f}"
            f"{service_months / seconds:>19.0f}"
        )
    speed_ok = per_s_warm >= TARGET
    print(
        f"target ≥ {TARGET:.0f} contract-months/s (warm): {'PASS' if speed_ok else 'FAIL'}"
        f"{'' if per_s_cold >= TARGET else f' (cold {per_s_cold:.0f}/s is below)'}"
    )
    print(f"\nSQL queries{'contracts':>12}" + "".join(f"{n:>8}" for n in SIZES))
    for month, per_size in queries.items():
        label = f"{month:%Y-%m}, {outage_counts[month]} outages"
        print(f"{label:<23}" + "".join(f"{per_size[n]:>8}" for n in SIZES))
    print(f"constant query count: {'PASS' if constant else 'FAIL'}")
    examples(results)
    for problem in problems:
        print(f"IMPLAUSIBLE: {problem}")

    report = {
        "python": platform.python_version(),
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": f"PostgreSQL {server_version()}",
        "contracts": len(ids),
        "services_per_contract": LINES_PER_CONTRACT,
        "month": f"{MONTH:%Y-%m}",
        "outages": outage_counts[MONTH],
        "contract_months": contract_months,
        "service_months": service_months,
        "timing": f"wall clock, list(availability_for_month(month)); cold = first run with "
        f"empty calendar caches, warm = best of {WARM_RUNS}",
        "cold_seconds": round(cold, 3),
        "warm_seconds": round(warm, 3),
        "contract_months_per_s": {"warm": round(per_s_warm), "cold": round(per_s_cold)},
        "service_months_per_s": {
            "warm": round(service_months / warm),
            "cold": round(service_months / cold),
        },
        "queries": queries[MONTH][len(ids)],
        "queries_by_contracts": {
            f"{month:%Y-%m} ({outage_counts[month]} outages)": {
                str(n): q for n, q in per_size.items()
            }
            for month, per_size in queries.items()
        },
        "targets": {
            "contract_months_per_s": TARGET,
            "contract_months_per_s_pass": speed_ok,
            "constant_queries": True,
            "constant_queries_pass": constant,
        },
        "plausible": not [p for p in problems if not p.startswith("query count")],
        "problems": problems,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(f"\nwrote {RESULTS.relative_to(ROOT)}")
    if args.profile:
        profile(MONTH)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
