"""Benchmark the monthly statement run without PDFs, and the availability page and API.

Run from the project root: ``python bench/generation.py [--rebuild] [--sizes 1000,10000,50000]
[--sample 2000]``. Each size has its own PostgreSQL database (``BENCH_DATABASE_URL``, default
postgres://postgres@127.0.0.1:5432/slaportal_bench_generation, its name suffixed ``_<size>``),
created, migrated and filled once with COPY (``bench/_generation_data.py``): N contracts × 3
services over the 5 catalog policies, 2,000 outages in 2026-10, 30 % of them scoped to 1–50
customers. Later runs reuse it.

Generation is the job's own path: ``statements_plan`` for the month (which stores the month's
shared facts), then the tasks it dispatches, each ``statement_run_item_process`` on its batch's
first item, in one process started cold. All in a transaction rolled back afterwards, so the
data set stays as built and no render task runs. Above ``--sample`` contracts, whole batches
spread evenly over the run are processed ("sampled": how many statements); the plan is always
whole. Figures per statement: CPU (``time.process_time`` of this process: the database
server's CPU is not in it), wall, and SQL statements (a connection ``execute_wrapper``), the
plan's share included (plan CPU / contracts planned). Each size runs in a process of its own.

Then the availability page and the API endpoint for 20 contracts spread over the largest
data set, through Django's test ``Client`` as an operations user: CPU per request, median
(after one warm-up request; the first, cold, is reported too).

Writes the keys ``generation`` and ``availability_page``, and ``generation_cpu_seconds``,
``generation_wall_seconds``, ``generation_load_average`` with other ``generation_*`` details
(the plain ``cpu_seconds``, ``wall_seconds`` and ``load_average`` are bench/statements.py's),
into ``bench/results/statements.json``, leaving its other keys as they are. Exits non-zero only on a correctness failure (a statement
failed, a page did not answer 200), not on a missed target.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/slaportal_bench_generation"
BASE_URL = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
RESULTS = ROOT / "bench" / "results" / "statements.json"
SIZES = (1_000, 10_000, 50_000)
SAMPLE = 2_000
PAGES = 20
NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
TARGETS = {"cpu_ms_per_contract_at_50k": 5.0, "ratio_50k_to_1k": 1.5, "page_and_api_cpu_ms": 20.0}


def database_url(size: int) -> str:
    parts = urlsplit(BASE_URL)
    return urlunsplit(parts._replace(path=f"{parts.path.rstrip('/')}_{size}"))


class Rollback(Exception):
    """Undoes the measured run."""


def setup(size: int, rebuild: bool) -> dict[str, Any]:
    """Django on this size's database, migrated and filled; returns how it was built."""
    from _db import ensure_database

    url = database_url(size)
    ensure_database(url, drop=rebuild)
    os.environ["DATABASE_URL"] = url  # never the project's own database
    os.environ["DJANGO_SETTINGS_MODULE"] = "slaportal.settings"
    os.environ.setdefault("SECRET_KEY", "bench-only-not-a-secret")  # so DEBUG can stay off
    os.environ.setdefault("ALLOWED_HOSTS", "localhost")  # the test Client's requests
    os.environ["CELERY_BROKER_URL"] = ""
    import django

    django.setup()
    import _generation_data as data
    from django.core.management import call_command

    from contracts.catalog import catalog_load

    call_command("migrate", interactive=False, verbosity=0)
    catalog_load()
    found = data.counts()
    if found == data.expected(size):
        return {"built": False}
    if any(found):
        sys.exit(f"{url} holds another data set {found}: run with --rebuild")
    return {"built": True, "build_seconds": round(data.build(size), 1)}


class Counter:
    """Counts the SQL statements this connection sends."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def measure(size: int, sample: int) -> dict[str, Any]:
    """Plan the month and process (a sample of) its batches, cold; rolled back."""
    import _generation_data as data
    from django.db import connection, transaction

    import outages.baselines
    import outages.shared_facts
    import statements.snapshot
    from contracts.calendar_engines import clear_engines
    from outages.models import Outage
    from statements.models import StatementRunItem
    from statements.services.runs import batch_size, statement_run_item_process, statements_plan

    # A new worker process: nothing decoded, computed or encoded yet.
    outages.shared_facts.forget()
    outages.baselines.forget()
    statements.snapshot.forget()
    clear_engines()
    counter = Counter()
    window = outages.shared_facts.month_window(data.MONTH)
    figures: dict[str, Any] = {}
    try:
        with transaction.atomic(), connection.execute_wrapper(counter):
            cpu, wall = time.process_time(), time.perf_counter()
            run = statements_plan(month=data.MONTH, trigger="schedule", now=NOW, dispatch=False)
            plan = (time.process_time() - cpu, time.perf_counter() - wall, counter.count)
            items = list(run.items.order_by("pk").values_list("pk", flat=True))
            size_of_batch = batch_size(run.planned)
            leaders = items[::size_of_batch]
            wanted = max(1, math.ceil(sample / size_of_batch))
            if len(leaders) > wanted:  # whole batches, spread evenly over the run
                leaders = [leaders[i * len(leaders) // wanted] for i in range(wanted)]
            counter.count = 0
            cpu, wall = time.process_time(), time.perf_counter()
            for leader in leaders:
                statement_run_item_process(item_id=leader, now=NOW)
            work = (time.process_time() - cpu, time.perf_counter() - wall, counter.count)
            closed = run.items.exclude(status=StatementRunItem.Status.PENDING)
            done = closed.filter(status=StatementRunItem.Status.DONE).count()
            figures = {
                "planned": run.planned,
                "processed": closed.count(),
                "done": done,
                "failed": closed.count() - done,
                "batch": size_of_batch,
                "outages": Outage.objects.filter(
                    started_at__lt=window.end, ended_at__gt=window.start
                ).count(),
                "plan": plan,
                "work": work,
            }
            raise Rollback
    except Rollback:
        pass
    planned, processed = figures["planned"], figures["processed"]
    (plan_cpu, plan_wall, plan_queries), (cpu, wall, queries) = figures["plan"], figures["work"]
    row: dict[str, Any] = {
        "contracts": size,
        "outages": figures["outages"],
        "cpu_ms_per_contract": round((plan_cpu / planned + cpu / processed) * 1000, 2),
        "queries_per_contract": round(plan_queries / planned + queries / processed, 2),
        "wall_ms_per_contract": round((plan_wall / planned + wall / processed) * 1000, 2),
    }
    if processed < planned:
        row["sampled"] = processed
    row |= {
        "statements_planned": planned,
        "batch": figures["batch"],
        "failed": figures["failed"],
        "plan_cpu_seconds": round(plan_cpu, 3),
        "plan_wall_seconds": round(plan_wall, 3),
        "plan_queries": plan_queries,
        "statements_cpu_ms": round(cpu / processed * 1000, 2),
        "statements_queries": round(queries / processed, 2),
    }
    return row


def pages(count: int) -> dict[str, Any]:
    """CPU per request of the availability page and the API, for ``count`` contracts."""
    from django.contrib.auth.models import Group
    from django.db import transaction
    from django.test import Client
    from django.urls import reverse

    from contracts.models import Contract, User

    ids = list(Contract.objects.order_by("pk").values_list("pk", flat=True))
    chosen = [ids[i * len(ids) // count] for i in range(count)]
    page_cpu, api_cpu, problems = [], [], []
    first: dict[str, float] = {}
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                username="bench-ops", email="bench-ops@example.test", password="x" * 20
            )
            user.groups.add(Group.objects.get_or_create(name="operations")[0])
            client = Client(HTTP_HOST="localhost")
            client.force_login(user)
            targets = {
                "page": lambda pk: reverse("ops-contract-availability", args=[pk]),
                "api": lambda pk: reverse("contract-availability", args=[pk]),
            }
            for name, url in targets.items():
                cpu = time.process_time()
                response = client.get(url(chosen[0]), {"month": "2026-10"}, secure=True)
                first[name] = (time.process_time() - cpu) * 1000
                if response.status_code != 200:
                    problems.append(f"{name}: {response.status_code}")
            for pk in chosen:
                for name, url in targets.items():
                    cpu = time.process_time()
                    response = client.get(url(pk), {"month": "2026-10"}, secure=True)
                    (page_cpu if name == "page" else api_cpu).append(
                        (time.process_time() - cpu) * 1000
                    )
                    if response.status_code != 200:
                        problems.append(f"{name} {pk}: {response.status_code}")
            raise Rollback
    except Rollback:
        pass
    return {
        "contracts": len(ids),
        "page_cpu_ms": round(statistics.median(page_cpu), 2),
        "api_cpu_ms": round(statistics.median(api_cpu), 2),
        "page_cpu_ms_max": round(max(page_cpu), 2),
        "api_cpu_ms_max": round(max(api_cpu), 2),
        "first_page_cpu_ms": round(first["page"], 2),
        "first_api_cpu_ms": round(first["api"], 2),
        "requests": len(page_cpu) + len(api_cpu),
        "problems": problems,
    }


def one(size: int, sample: int, rebuild: bool, with_pages: bool) -> dict[str, Any]:
    """One size, in this process (the parent runs each in a process of its own)."""
    built = setup(size, rebuild)
    report = {"row": measure(size, sample) | built}
    if with_pages:
        report["pages"] = pages(PAGES)
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rebuild", action="store_true", help="drop and rebuild the data sets")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="contracts per set")
    parser.add_argument("--sample", type=int, default=SAMPLE, help="statements per size, at most")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # a child: one size
    parser.add_argument("--pages", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args.sample, args.rebuild, args.pages)))
        return 0

    sizes = sorted(int(size) for size in args.sizes.split(","))
    load = [os.getloadavg()]
    cpu, wall = time.process_time(), time.perf_counter()
    rows, page, problems = [], None, []
    for size in sizes:
        command = [sys.executable, __file__, "--one", str(size), "--sample", str(args.sample)]
        command += ["--rebuild"] if args.rebuild else []
        command += ["--pages"] if size == sizes[-1] else []
        child = subprocess.run(command, capture_output=True, text=True, check=False)
        if child.returncode:
            print(child.stdout, child.stderr, sep="\n")
            return child.returncode
        report = json.loads(child.stdout.strip().splitlines()[-1])
        rows.append(report["row"])
        print(f"{size} contracts: {report['row']}")
        if report["row"]["failed"]:
            problems.append(f"{size}: {report['row']['failed']} statement(s) failed")
        if "pages" in report:
            page = report["pages"]
            problems += page.pop("problems")
            print(f"availability page and API: {page}")
        load.append(os.getloadavg())
    for problem in problems:
        print(f"PROBLEM: {problem}")
    children = os.times()  # the children's CPU: where the work ran
    cpu_seconds = time.process_time() - cpu + children.children_user + children.children_system

    by_size = {row["contracts"]: row for row in rows}
    verdicts: dict[str, bool] = {}
    if 50_000 in by_size:
        verdicts["cpu_ms_per_contract_at_50k"] = (
            by_size[50_000]["cpu_ms_per_contract"] <= TARGETS["cpu_ms_per_contract_at_50k"]
        )
        if 1_000 in by_size:
            ratio = by_size[50_000]["cpu_ms_per_contract"] / by_size[1_000]["cpu_ms_per_contract"]
            verdicts["ratio_50k_to_1k"] = ratio <= TARGETS["ratio_50k_to_1k"]
    per_batch = [row["statements_queries"] for row in rows]
    verdicts["constant_queries"] = max(per_batch) - min(per_batch) < 1
    if page is not None:
        slowest = max(page["page_cpu_ms"], page["api_cpu_ms"])
        verdicts["page_and_api_cpu_ms"] = slowest <= TARGETS["page_and_api_cpu_ms"]
    print("\n".join(f"{name}: {'PASS' if ok else 'FAIL'}" for name, ok in verdicts.items()))

    report = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    report["generation"] = rows
    if page is not None:
        report["availability_page"] = page
    # bench/statements.py owns the plain cpu_seconds, wall_seconds and load_average.
    report["generation_cpu_seconds"] = round(cpu_seconds, 2)
    report["generation_wall_seconds"] = round(time.perf_counter() - wall, 2)
    report["generation_load_average"] = [round(x, 2) for x in os.getloadavg()]
    report["generation_load_average_samples"] = [[round(x, 2) for x in sample] for sample in load]
    report["generation_method"] = (
        "statements_plan (shared facts stored) then statement_run_item_process on each "
        "batch's first item, in one process started cold, in a transaction rolled back; "
        "no PDF, no render task. CPU is time.process_time of that process (the database "
        "server's CPU is not in it); per contract = plan CPU / contracts planned + batches' "
        "CPU / statements processed; queries counted with a connection execute_wrapper. "
        "generation_cpu_seconds and generation_wall_seconds: the whole benchmark, data set "
        "builds included."
    )
    report["generation_targets"] = TARGETS
    report["generation_verdicts"] = verdicts
    report["generation_problems"] = problems
    report["generation_python"] = platform.python_version()
    report["generation_timestamp"] = datetime.now(UTC).isoformat(timespec="seconds")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(f"\nwrote {RESULTS.relative_to(ROOT)}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
