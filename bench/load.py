"""Load test: the web tier as deployed, under an open-loop arrival rate.

Run from the project root: ``python bench/load.py [--rebuild] [--users 50] [--interval 1]
[--duration 60] [--rates 55,60,65,70,75,80,90] [--step-duration 30] [--workers 4]
[--threads 1]``.

- **Data** (``bench/_load_data.py``, own database ``BENCH_DATABASE_URL``, default
  slaportal_bench_load, built once): 200,000 tickets across 2,000 customers of very
  different sizes, with conversations, files and each ticket's history; 300 outages;
  last month's statements for every contract, with PDFs for the customers signed in.
- **Serving**: the Procfile's processes — ``gunicorn slaportal.wsgi`` (``--workers``,
  ``--threads``; DEBUG off, ``CONN_MAX_AGE=60``), a Celery worker taking both queues
  (``-Q celery,statements``) on Redis (``LOAD_BROKER_URL``, default database 7), and an
  SMTP server on loopback it sends the e-mails to (filings, replies, status changes).
- **Load** (``bench/load/locustfile.py``, Locust headless): ``--users`` sessions — customer
  people, agents and API clients with tokens, 3:1:1 — each acting as a Poisson process
  with a mean gap of ``--interval`` s, started on time whether or not earlier requests
  have finished (open loop), with sign-ins in the figures (one action in 60 is a new visit).
- **Main run** for ``--duration`` s, then **steps** of higher arrival rates (the same users,
  shorter gaps) for ``--step-duration`` s each until a step fails to keep up: p95 over
  500 ms, an error, or more than 2 % of its arrivals still in flight at the end. The
  saturation throughput is the highest request rate completed by a step that kept up.

Figures: requests/s and p50/p95/p99 (ms, client side) overall and per request type; CPU
seconds of gunicorn, the worker, PostgreSQL and Locust over each window (psutil), the
machine's wall time and load average. Targets: ≥ 45 req/s, p95 ≤ 300 ms, 0 errors at
50 users with 1 s think time. Exits non-zero when a target is missed. Writes
``bench/results/load.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import ExitStack
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/slaportal_bench_load"
URL = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
BROKER = os.environ.get("LOAD_BROKER_URL", "redis://127.0.0.1:6379/7")
VAR = ROOT / "var" / "bench-load"  # media (files, PDFs) shared by the builder and the server
SERVER_ENV = {
    "DATABASE_URL": URL,  # never the project's own database
    "ALLOWED_HOSTS": "127.0.0.1,testserver",
    "DEBUG": "0",
    "SECRET_KEY": "load-bench-secret-key-not-for-production-0123456789",
    "SECURE_SSL_REDIRECT": "0",
    "SESSION_COOKIE_SECURE": "0",
    "CSRF_COOKIE_SECURE": "0",
    "LOG_LEVEL": "WARNING",
    "VAR_DIR": str(VAR),
}
os.environ.update(SERVER_ENV)
os.environ.pop("CELERY_BROKER_URL", None)  # the builder runs tasks eagerly

import _load_data as data  # noqa: E402
import django  # noqa: E402
from _db import ensure_database  # noqa: E402
from _load_serve import CpuMeter, serve  # noqa: E402

data.tickets_bench.URL = URL
os.environ.update(SERVER_ENV)  # bench/tickets.py, imported by the data module, sets its own

USERS, INTERVAL, DURATION, VISIT = 50, 1.0, 60, 60
RATES, STEP_DURATION = "55,60,65,70,75,80,90", 30
WORKERS, THREADS, CONN_MAX_AGE = 4, 1, 60
TARGETS = {"rps_min": 45.0, "p95_ms_max": 300.0, "errors": 0}
HELD_P95_MS, BACKLOG_SHARE = 500.0, 0.02
LOCUSTFILE = ROOT / "bench" / "load" / "locustfile.py"
RESULTS = ROOT / "bench" / "results" / "load.json"


def locust(host: str, workdir: Path, users: int, interval: float, duration: float) -> dict:
    """One headless Locust run; its raw statistics (see the locustfile)."""
    stats = workdir / f"stats-{users}-{interval}.json"
    env = os.environ | {"LOAD_PLAN": str(workdir / "plan.json"), "LOAD_STATS": str(stats)}
    env |= {"LOAD_INTERVAL": str(interval), "LOAD_DURATION": str(duration)}
    env |= {"LOAD_VISIT": str(VISIT)}
    command = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless"]
    command += ["--host", host, "-u", str(users), "-r", str(min(users, 10))]
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
        while share is not None and seen * 100 >= share * total:
            out[name] = float(ms)
            share, name = next(wanted, (None, None))
    return out


def summarise(raw: dict[str, Any]) -> dict[str, Any]:
    """Requests/s and p50/p95/p99 (ms) over the window, overall and per request type."""
    seconds, merged, types = raw["window_seconds"], Counter(), {}
    for name, entry in sorted(raw["entries"].items()):
        histogram = Counter({int(ms): n for ms, n in entry["response_times"].items()})
        merged += histogram
        figures = {"requests": entry["requests"], "failures": entry["failures"]}
        figures["requests_per_s"] = round(entry["requests"] / seconds, 1)
        types[name] = figures | _percentiles(histogram) | {"max_ms": round(entry["max_ms"] or 0)}
    requests = sum(t["requests"] for t in types.values())
    overall = {"requests": requests, "failures": sum(t["failures"] for t in types.values())}
    overall["requests_per_s"] = round(requests / seconds, 1)
    overall |= _percentiles(merged) | {
        "max_ms": max((t["max_ms"] for t in types.values()), default=0)
    }
    logins = sum(t["requests"] for n, t in types.items() if n.startswith("login"))
    return {
        "window_seconds": round(seconds, 1),
        "arrivals": raw["arrivals"],
        "arrivals_per_s": round(raw["arrivals"] / seconds, 1),
        "in_flight_at_end": raw["in_flight_at_end"],
        "in_flight_max": raw["in_flight_max"],
        "conflicts": raw["conflicts"],
        "logins_in_window": logins // 2,
        "overall": overall,
        "by_type": types,
        "first_logins": {
            n: {"requests": e["requests"], "failures": e["failures"]}
            for n, e in raw["first_logins"].items()
        },
        "login_failures": raw["login_failures"],
        "errors": raw["errors"],
    }


def show(title: str, figures: dict[str, Any]) -> None:
    print(
        f"\n{title} ({figures['window_seconds']} s, {figures['arrivals_per_s']} actions/s "
        f"offered, {figures['in_flight_at_end']} in flight at the end)"
    )
    print(f"{'request':<40}{'count':>7}{'fail':>6}{'req/s':>8}{'p50':>7}{'p95':>7}{'p99':>7}")
    for name, row in [*figures["by_type"].items(), ("all", figures["overall"])]:
        times = "".join(f"{row.get(k, 0):>7.0f}" for k in ("p50_ms", "p95_ms", "p99_ms"))
        print(
            f"{name[:39]:<40}{row['requests']:>7}{row['failures']:>6}"
            f"{row['requests_per_s']:>8}{times}"
        )
    if "cpu_seconds" in figures:
        print(f"CPU s: {figures['cpu_seconds']}; load average {figures['load_average']}")
    for error in figures["errors"] + [{"error": e} for e in figures["login_failures"]]:
        print(f"  ERROR {error}")


def measured(meter: CpuMeter, raw: dict, figures: dict) -> dict:
    start = raw["window_start"]
    cpu = meter.between(start, start + raw["window_seconds"])
    requests = figures["overall"]["requests"] or 1
    figures["cpu_seconds"] = cpu
    figures["gunicorn_cpu_ms_per_request"] = round(cpu["gunicorn"] * 1000 / requests, 1)
    figures["load_average"] = [round(x, 2) for x in os.getloadavg()]
    return figures


def kept_up(figures: dict) -> bool:
    overall = figures["overall"]
    return (
        not overall["failures"]
        and not figures["login_failures"]
        and overall.get("p95_ms", 0) <= HELD_P95_MS
        and figures["in_flight_at_end"] <= BACKLOG_SHARE * figures["arrivals"]
    )


def machine() -> dict[str, Any]:
    info = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    models = [line.split(":", 1)[1].strip() for line in info.splitlines() if "model name" in line]
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    figures = {"platform": platform.platform(), "cpus": os.cpu_count()}
    return figures | {"cpu_model": models[0] if models else "", "memory_gb": round(memory, 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rebuild", action="store_true", help="drop and rebuild the data set")
    parser.add_argument("--users", type=int, default=USERS, help="sessions of the main run")
    parser.add_argument("--interval", type=float, default=INTERVAL, help="mean think time, s")
    parser.add_argument("--duration", type=float, default=DURATION, help="s, main run")
    parser.add_argument("--rates", default=RATES, help="actions/s of the steps ('' skips)")
    parser.add_argument("--step-duration", type=float, default=STEP_DURATION, help="s per step")
    parser.add_argument("--workers", type=int, default=WORKERS, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=THREADS, help="gunicorn threads")
    parser.add_argument("--keep", action="store_true", help="keep the logs and statistics")
    args = parser.parse_args()
    wall = time.perf_counter()
    ensure_database(URL, drop=args.rebuild)
    django.setup()
    now = datetime.now(UTC).replace(microsecond=0)
    data.prepare(now)
    from django.db import connection

    report: dict[str, Any] = {"python": platform.python_version(), "machine": machine()}
    connection.ensure_connection()
    server_version = connection.connection.info.parameter_status("server_version")
    report |= {"database": f"PostgreSQL {server_version}"}
    report["server"] = {
        "gunicorn": version("gunicorn"),
        "workers": args.workers,
        "threads": args.threads,
        "debug": False,
        "conn_max_age": CONN_MAX_AGE,
        "celery_worker": "-Q celery,statements --concurrency 2 (Redis)",
        "email": "SMTP on loopback (aiosmtpd)",
    }
    report["load_generator"] = {
        "locust": version("locust"),
        "same_machine": True,
        "model": "open loop: Poisson arrivals per session",
        "new_visit_every_actions": VISIT,
    }
    load = {"before": [round(x, 2) for x in os.getloadavg()]}
    rates = [float(n) for n in args.rates.split(",") if n.strip()]
    with ExitStack() as stack:
        if args.keep:
            workdir = Path(tempfile.mkdtemp(prefix="slaportal-load-"))
            print(f"logs and statistics in {workdir}")
        else:
            workdir = Path(
                stack.enter_context(tempfile.TemporaryDirectory(prefix="slaportal-load-"))
            )
        report["plan"] = data.write_plan(workdir / "plan.json", now)
        report["data_set"] = data.data_set()
        connection.close()
        host, roots = serve(
            stack, workdir, args, SERVER_ENV | {"CONN_MAX_AGE": str(CONN_MAX_AGE)}, BROKER
        )
        meter = CpuMeter(roots)
        raw = locust(host, workdir, args.users, args.interval, args.duration)
        main_run = measured(meter, raw, summarise(raw))
        main_run |= {"users": args.users, "interval_s": args.interval}
        show(f"{args.users} users, one action per {args.interval} s each", main_run)
        print(f"removed {data.remove_written()} written rows")
        steps, saturation = [], None
        for rate in rates:
            interval = args.users / rate
            raw = locust(host, workdir, args.users, interval, args.step_duration)
            figures = measured(meter, raw, summarise(raw)) | {"offered_actions_per_s": rate}
            steps.append(figures)
            show(f"step: {rate:g} actions/s offered", figures)
            data.remove_written()
            if not kept_up(figures):
                break
            rps = figures["overall"]["requests_per_s"]
            saturation = max(saturation or 0, rps)
        meter.stop.set()
    overall = main_run["overall"]
    errors = overall["failures"] + len(main_run["login_failures"])
    summary = {"users": args.users, "rps": overall["requests_per_s"]}
    summary |= {k: overall.get(k) for k in ("p50_ms", "p95_ms", "p99_ms")}
    summary |= {"errors": errors, "saturation_rps": saturation}
    verdicts = {
        "rps_at_least_45": overall["requests_per_s"] >= TARGETS["rps_min"],
        "p95_at_most_300_ms": (overall.get("p95_ms") or 1e9) <= TARGETS["p95_ms_max"],
        "no_errors": errors == 0,
    }
    load["after"] = [round(x, 2) for x in os.getloadavg()]
    report = (
        summary
        | report
        | {
            "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
            "wall_seconds": round(time.perf_counter() - wall, 1),
            "cpu_seconds_main_run": main_run["cpu_seconds"],
            "load_average": load,
            "timing": "client ms (Locust, same machine), every request completed in the window; "
            "saturation: highest req/s of a step that kept up (p95 <= 500 ms, no error, "
            "<= 2 % of arrivals in flight at its end)",
            "main_run": main_run,
            "steps": steps,
            "targets": TARGETS,
            "pass": verdicts,
        }
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(f"\n{json.dumps(summary)}")
    for name, passed in verdicts.items():
        print(f"{name}: {'PASS' if passed else 'FAIL'}")
    print(f"wrote {RESULTS.relative_to(ROOT)}")
    return 0 if all(verdicts.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
