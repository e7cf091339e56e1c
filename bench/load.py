"""Load test: gunicorn (4 workers) on PostgreSQL under Locust, customers and agents.

Run from the project root: ``python bench/load.py [--rebuild] [--users 50] [--duration 60]
[--steps 5,10,20,40,80,160] [--step-duration 30]``. Own database (``BENCH_DATABASE_URL``,
default slaportal_bench_load), filled once by ``bench/tickets.py``'s builder (imported):
200,000 tickets across 2,000 customers of very different sizes, 3 people each, 20 agents;
then one password hash for everyone and conversations on a third of the tickets.

Serves ``gunicorn slaportal.wsgi -w 4`` (DEBUG off, plain HTTP) and runs Locust headless
(``bench/load/locustfile.py``): customer people (ticket list, a ticket page, filing a ticket
through the form) and agents (desk queue, filtered, a ticket from it), signed in through
the login form before the measured window. Reports requests/s and p50/p95/p99 at
``--users`` users (1 s mean think time) for ``--duration`` s, overall and per request
type; then steps of users with no think time until p95 reaches 500 ms or a request fails
(the highest rate held). Targets (p95 < 300 ms at 50 users, no errors) PASS/FAIL; exits
non-zero only when a request failed. Filed tickets are deleted afterwards. Writes
``bench/results/load.json``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import random
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# bench/tickets.py builds the data set; loaded by path (its module name is the app's).
_spec = importlib.util.spec_from_file_location("bench_tickets", ROOT / "bench" / "tickets.py")
tickets_bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tickets_bench)

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/slaportal_bench_load"
URL = tickets_bench.URL = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
os.environ["DATABASE_URL"] = URL  # never the project's own database
os.environ["ALLOWED_HOSTS"] = "127.0.0.1"

import django  # noqa: E402
from _db import ensure_database  # noqa: E402

CUSTOMERS, TICKETS = 2_000, tickets_bench.TICKETS
PASSWORD = "load-bench-password"  # bench users of a bench database
MESSAGE_SHARE, PLAN_PEOPLE, PLAN_TICKETS = 0.3, 500, 30
USERS, DURATION, THINK, STEPS, STEP_DURATION = 50, 60, 1.0, "5,10,20,40,80,160", 30
WORKERS, CONN_MAX_AGE = 4, 60
TARGET_P95_MS, HELD_P95_MS = 300.0, 500.0
MARK = "[load test]"  # starts the description of every ticket the run files
SEED = 20261123
LOCUSTFILE = ROOT / "bench" / "load" / "locustfile.py"
RESULTS = ROOT / "bench" / "results" / "load.json"


# ---------------------------------------------------------------- the data set


def prepare() -> None:
    from django.core.management import call_command

    from contracts.catalog import catalog_load
    from contracts.models import Customer
    from tickets.models import Ticket

    call_command("migrate", interactive=False, verbosity=0)
    catalog_load()
    remove_filed()  # whatever an interrupted run left
    counts = (Customer.objects.count(), Ticket.objects.count())
    if counts == (CUSTOMERS, TICKETS):
        print("reusing the data set (--rebuild to start again)")
    elif any(counts):
        sys.exit(f"{URL} holds another data set {counts}: run with --rebuild")
    else:
        started = time.perf_counter()
        build()
        print(f"built the data set in {time.perf_counter() - started:.1f} s")


def build() -> None:
    from django.contrib.auth.hashers import make_password
    from django.db import connection

    from contracts.models import User

    tickets_bench.CUSTOMERS = CUSTOMERS
    tickets_bench.NOW = datetime.now(UTC).replace(microsecond=0)
    tickets_bench.build()
    User.objects.update(password=make_password(PASSWORD))  # one PBKDF2 for everyone
    conversations(random.Random(SEED), tickets_bench.NOW)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def conversations(rng: random.Random, now: datetime) -> None:
    """About a third of the tickets past 'new' get 1–6 messages: the customer, then the
    desk (now and then an internal note), in turn, between receipt and resolution."""
    from datetime import timedelta

    from contracts.models import User
    from tickets.models import Ticket, TicketMessage

    agents = list(User.objects.filter(username__startswith="agent").values_list("pk", flat=True))
    rows = Ticket.objects.exclude(status=Ticket.Status.NEW).values_list(
        "pk", "requester_id", "assignee_id", "received_at", "resolved_at"
    )
    messages = []
    for pk, requester, assignee, received, resolved in rows.iterator(chunk_size=10_000):
        if rng.random() >= MESSAGE_SHARE:
            continue
        at, end = received, resolved or now
        for n in range(rng.randint(1, 6)):
            at = min(at + timedelta(minutes=rng.randint(5, 600)), end)
            staff = n % 2 == 1
            author = (assignee or rng.choice(agents)) if staff else requester
            public = not staff or rng.random() > 0.15
            body = "Could you send the log from the failing run?" if staff else "Still failing."
            row = {"ticket_id": pk, "author_id": author, "from_staff": staff, "public": public}
            messages.append(TicketMessage(**row, body=body, created_at=at))
    TicketMessage.objects.bulk_create(messages, batch_size=10_000)


def remove_filed() -> int:
    from django.contrib.sessions.models import Session

    from tickets.models import Ticket

    Session.objects.all().delete()  # the bench's own database: only its users' sessions
    return Ticket.objects.filter(description__startswith=MARK).delete()[1].get("tickets.Ticket", 0)


def data_set() -> dict[str, Any]:
    from django.db.models import Count

    from contracts.models import Customer, User
    from tickets.models import Ticket, TicketMessage

    sizes = sorted(Customer.objects.annotate(n=Count("tickets")).values_list("n", flat=True))
    return {
        "customers": len(sizes),
        "customer_people": User.objects.filter(customer__isnull=False).count(),
        "agents": User.objects.filter(groups__name="agent").count(),
        "tickets": sum(sizes),
        "open_tickets": Ticket.objects.filter(status__in=Ticket.OPEN_STATUSES).count(),
        "messages": TicketMessage.objects.count(),
        "tickets_per_customer": {"largest": sizes[-1], "median": sizes[len(sizes) // 2]}
        | {"smallest": sizes[0], "top_10_share": round(sum(sizes[-10:]) / sum(sizes), 3)},
    }


def write_plan(path: Path) -> dict[str, Any]:
    """Who the Locust users sign in as: people drawn with weight √(their customer's
    tickets), busier customers being busier on the portal, each with a sample of their
    organisation's tickets to open; and the agents."""
    from django.db.models import Count

    from contracts.models import User
    from tickets.models import Ticket

    rng = random.Random(SEED)
    sizes = dict(Ticket.objects.values_list("customer_id").annotate(n=Count("id")).order_by())
    people = list(User.objects.filter(customer__isnull=False).values_list("username", "customer"))
    weights = [sizes.get(customer, 0) ** 0.5 for _, customer in people]
    chosen = rng.choices(people, weights=weights, k=PLAN_PEOPLE)
    samples = {}
    for customer in {c for _, c in chosen}:
        ids = list(Ticket.objects.filter(customer_id=customer).values_list("pk", flat=True))
        samples[customer] = rng.sample(ids, min(PLAN_TICKETS, len(ids)))
    agents = User.objects.filter(groups__name="agent").values_list("username", flat=True)
    plan = {"password": PASSWORD, "mark": MARK, "agents": list(agents)}
    plan["people"] = [{"username": u, "tickets": samples[c]} for u, c in chosen if samples[c]]
    path.write_text(json.dumps(plan))
    tickets = sorted(sizes[c] for _, c in chosen)
    return {
        "people": len(plan["people"]),
        "their_customers_median_tickets": tickets[len(tickets) // 2],
    }


# ---------------------------------------------------------------- serving and loading


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn(workdir: Path, workers: int, conn_max_age: int):
    """The app under gunicorn, production settings (DEBUG off) over plain HTTP."""
    port = free_port()
    env = os.environ | {
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "CONN_MAX_AGE": str(conn_max_age),
        "LOG_LEVEL": "WARNING",
        "VAR_DIR": str(workdir),  # mail and media of the run, thrown away
    }
    log = (workdir / "gunicorn.log").open("w")
    command = [sys.executable, "-m", "gunicorn", "slaportal.wsgi", "-w", str(workers)]
    server = subprocess.Popen(
        [*command, "-b", f"127.0.0.1:{port}"], cwd=ROOT, env=env, stdout=log, stderr=log
    )
    host = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            if server.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {(workdir / 'gunicorn.log').read_text()}")
            try:
                with urllib.request.urlopen(f"{host}/accounts/login/", timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.2)
        else:
            raise RuntimeError("gunicorn did not answer within a minute")
        yield host
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def locust(host: str, workdir: Path, users: int, duration: float, think: float) -> dict:
    """One headless Locust run; its raw statistics (see the locustfile)."""
    stats = workdir / f"stats-{users}-{think}.json"
    env = os.environ | {"LOAD_PLAN": str(workdir / "plan.json"), "LOAD_STATS": str(stats)}
    env |= {"LOAD_THINK": str(think), "LOAD_DURATION": str(duration)}
    spawn_rate = min(users, 25)
    command = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless"]
    command += ["--host", host, "-u", str(users), "-r", str(spawn_rate)]
    command += ["-t", f"{int(duration) + 600}s", "--only-summary", "--loglevel", "WARNING"]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    if not stats.exists():
        raise RuntimeError(f"locust wrote no statistics:\n{done.stdout}\n{done.stderr}")
    return json.loads(stats.read_text())


def _percentiles(histogram: Counter) -> dict[str, float]:
    total, seen, out = sum(histogram.values()), 0, {}
    wanted = iter([(50, "p50_ms"), (95, "p95_ms"), (99, "p99_ms")])
    share, name = next(wanted)
    for ms in sorted(histogram):
        seen += histogram[ms]
        while seen * 100 >= share * total:
            out[name] = float(ms)
            share, name = next(wanted, (None, None))
            if share is None:
                return out
    return out


def summarise(raw: dict[str, Any]) -> dict[str, Any]:
    """Requests/s and p50/p95/p99 (ms) over the measured window, overall and per type."""
    seconds, merged, types = raw["window_seconds"] or 0, Counter(), {}
    for name, entry in sorted(raw["entries"].items()):
        if name.startswith("login"):  # a straggler's, counted after the reset
            continue
        histogram = Counter({int(ms): n for ms, n in entry["response_times"].items()})
        merged += histogram
        figures = {"requests": entry["requests"], "failures": entry["failures"]}
        figures["requests_per_s"] = round(entry["requests"] / seconds, 1) if seconds else None
        types[name] = figures | _percentiles(histogram) | {"max_ms": round(entry["max_ms"])}
    requests = sum(t["requests"] for t in types.values())
    overall = {"requests": requests, "failures": sum(t["failures"] for t in types.values())}
    overall["requests_per_s"] = round(requests / seconds, 1) if seconds else None
    overall |= _percentiles(merged) | {
        "max_ms": max((t["max_ms"] for t in types.values()), default=0)
    }
    return {
        "window_seconds": round(seconds, 1),
        "overall": overall,
        "by_type": types,
        "logins": raw["logins"],
        "login_failures": raw["login_failures"],
        "errors": raw["errors"],
    }


def show(title: str, figures: dict[str, Any]) -> None:
    print(f"\n{title} ({figures['window_seconds']} s)")
    print(f"{'request':<28}{'count':>7}{'fail':>6}{'req/s':>8}{'p50':>7}{'p95':>7}{'p99':>7}")
    for name, row in [*figures["by_type"].items(), ("all", figures["overall"])]:
        times = "".join(f"{row.get(k, 0):>7.0f}" for k in ("p50_ms", "p95_ms", "p99_ms"))
        print(
            f"{name:<28}{row['requests']:>7}{row['failures']:>6}{row['requests_per_s']:>8}{times}"
        )
    for error in figures["errors"] + [{"error": e} for e in figures["login_failures"]]:
        print(f"  ERROR {error}")


def machine() -> dict[str, Any]:
    info = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    models = [line.split(":", 1)[1].strip() for line in info.splitlines() if "model name" in line]
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    figures = {"platform": platform.platform(), "cpus": os.cpu_count()}
    return figures | {"cpu_model": models[0] if models else "", "memory_gb": round(memory, 1)}


def stepped(host: str, workdir: Path, steps: list[int], seconds: float) -> tuple[list, Any]:
    """Steps of users with no think time until p95 reaches 500 ms or a request fails;
    the highest request rate of a step under both limits."""
    held, runs = None, []
    for users in steps:
        figures = summarise(locust(host, workdir, users, seconds, 0))
        runs.append(figures | {"users": users, "think_s": 0})
        show(f"step: {users} users, no think time", figures)
        remove_filed()
        overall = figures["overall"]
        if overall["failures"] or figures["login_failures"]:
            break
        if overall.get("p95_ms", 0) >= HELD_P95_MS:
            break
        if held is None or overall["requests_per_s"] > held["requests_per_s"]:
            held = {"users": users, **overall}
    if held:
        held = {k: held[k] for k in ("requests_per_s", "users", "p50_ms", "p95_ms", "p99_ms")}
    return runs, held


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rebuild", action="store_true", help="drop and rebuild the data set")
    parser.add_argument("--users", type=int, default=USERS, help="users of the main run")
    parser.add_argument("--duration", type=float, default=DURATION, help="s, main run")
    parser.add_argument("--think", type=float, default=THINK, help="mean think time, s")
    parser.add_argument("--steps", default=STEPS, help="users per step, no think time ('' skips)")
    parser.add_argument("--step-duration", type=float, default=STEP_DURATION, help="s per step")
    parser.add_argument("--workers", type=int, default=WORKERS, help="gunicorn workers")
    parser.add_argument("--conn-max-age", type=int, default=CONN_MAX_AGE, help="CONN_MAX_AGE")
    args = parser.parse_args()
    ensure_database(URL, drop=args.rebuild)
    django.setup()
    prepare()
    from django.db import connection

    report: dict[str, Any] = {"python": platform.python_version(), "machine": machine()}
    connection.ensure_connection()
    server_version = connection.connection.info.parameter_status("server_version")
    report |= {"database": f"PostgreSQL {server_version}", "data_set": data_set()}
    report["server"] = {"gunicorn": version("gunicorn"), "workers": args.workers, "debug": False}
    report["server"]["conn_max_age"] = args.conn_max_age
    report["load_generator"] = {"locust": version("locust"), "same_machine": True}
    load = {"before": os.getloadavg()}
    steps = [int(n) for n in args.steps.split(",") if n.strip()]
    with tempfile.TemporaryDirectory(prefix="slaportal-load-") as tmp:
        workdir = Path(tmp)
        report["plan"] = write_plan(workdir / "plan.json")
        connection.close()
        with gunicorn(workdir, args.workers, args.conn_max_age) as host:
            raw = locust(host, workdir, args.users, args.duration, args.think)
            main_run = summarise(raw) | {"users": args.users, "think_s": args.think}
            show(f"{args.users} users, think {args.think} s", main_run)
            print(f"removed {remove_filed()} filed tickets")
            load["after_main_run"] = os.getloadavg()
            steps_run, held = stepped(host, workdir, steps, args.step_duration)
            load["after_steps"] = os.getloadavg()
    failures = main_run["overall"]["failures"] + len(main_run["login_failures"])
    failures += sum(s["overall"]["failures"] + len(s["login_failures"]) for s in steps_run)
    p95 = main_run["overall"].get("p95_ms")
    verdicts = {"p95_under_300_ms": p95 is not None and p95 < TARGET_P95_MS}
    verdicts["no_errors"] = failures == 0
    report |= {
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "load_average": {k: [round(x, 2) for x in v] for k, v in load.items()},
        "timing": "client ms (Locust, same machine) from every user signed in for the "
        "window; logins apart; steps: no think time, until p95 >= 500 ms or an error",
        "main_run": main_run,
        "steps": steps_run,
        "highest_rate_held": held,
        "targets": {"p95_ms_at_main_run": TARGET_P95_MS, "held_p95_ms": HELD_P95_MS},
        "pass": verdicts,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(f"\nhighest rate held with p95 < {HELD_P95_MS:.0f} ms: {held}")
    for name, passed in verdicts.items():
        print(f"{name}: {'PASS' if passed else 'FAIL'}")
    print(f"wrote {RESULTS.relative_to(ROOT)}")
    return 0 if verdicts["no_errors"] else 1


if __name__ == "__main__":
    sys.exit(main())
