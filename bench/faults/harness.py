"""What the fault scenarios share: their own database, a broker, an SMTP server, worker and
beat processes, a month of contracts, and the checks of "exactly once".

Each scenario (``python bench/faults/<name>.py``, or ``make faults`` for all four) builds a
fresh PostgreSQL database (``FAULTS_DATABASE_URL``, default slaportal_faults on 127.0.0.1),
uses Redis database 12 as its broker (``FAULTS_BROKER_URL``), starts an SMTP server
(aiosmtpd) on loopback and real ``celery worker`` / ``celery beat`` processes, breaks
something in the middle of a monthly run, and checks afterwards that every contract has
exactly one statement for the month and every statement was e-mailed exactly once. It
prints what it did and what it verified, stops everything it started, and exits non-zero
when a check fails.

Shorter waits than production so a scenario takes a minute or two: Redis hands an
unacknowledged message to another worker after 15 s (``CELERY_VISIBILITY_TIMEOUT``), and
the outbox retries after 5 s, doubling (``OUTBOX_RETRY_BASE_SECONDS``).
"""

from __future__ import annotations

import email
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from calendar import monthrange
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

DATABASE_URL = os.environ.get(
    "FAULTS_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/slaportal_faults"
)
BROKER_URL = os.environ.get("FAULTS_BROKER_URL", "redis://127.0.0.1:6379/12")
WORK = Path(tempfile.mkdtemp(prefix="slaportal-faults-"))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


SMTP_PORT = _free_port()
ENV = {
    **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CELERY_"))},
    "DJANGO_SETTINGS_MODULE": "slaportal.settings",
    "DEBUG": "1",
    "DATABASE_URL": DATABASE_URL,
    "CELERY_BROKER_URL": BROKER_URL,
    "CELERY_VISIBILITY_TIMEOUT": "15",
    "OUTBOX_RETRY_BASE_SECONDS": "5",
    "EMAIL_URL": f"smtp://127.0.0.1:{SMTP_PORT}",
    "EMAIL_TIMEOUT": "5",
    "MEDIA_ROOT": str(WORK / "media"),
    "VAR_DIR": str(WORK / "var"),
    "LOG_LEVEL": "INFO",
}
os.environ.update(ENV)

import django  # noqa: E402

STARTED = time.monotonic()


def say(text: str) -> None:
    print(f"[{time.monotonic() - STARTED:6.1f} s] {text}", flush=True)


def wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    from django.db import close_old_connections, connection

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except Exception:  # noqa: BLE001 — the database may be restarting: look again
            connection.close()
        close_old_connections()
        time.sleep(0.5)
    raise TimeoutError(f"timed out after {seconds:.0f} s waiting for {what}")


# ---------------------------------------------------------------- SMTP


class Smtp:
    """An SMTP server on loopback that can be stopped and started again on the same port;
    it keeps every message it accepted."""

    def __init__(self) -> None:
        self.messages: list[email.message.Message] = []
        self.controller = None

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 — aiosmtpd's hook
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"

    def start(self) -> None:
        import logging

        from aiosmtpd.controller import Controller

        logging.getLogger("mail.log").setLevel(logging.WARNING)
        self.controller = Controller(self, hostname="127.0.0.1", port=SMTP_PORT)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def statement_numbers(self) -> Counter:
        """How many e-mails carried each statement's PDF (by its file name)."""
        return Counter(
            part.get_filename().removesuffix(".pdf")
            for message in self.messages
            for part in message.walk()
            if (part.get_filename() or "").startswith("ST-")
        )


# ---------------------------------------------------------------- processes


class Process:
    """A celery worker or beat in its own process group (SIGKILL takes the whole pool)."""

    def __init__(self, kind: str, name: str, *args: str) -> None:
        self.name = name
        self.log_path = WORK / f"{name}.log"
        command = [sys.executable, "-m", "celery", "-A", "slaportal", kind, "-l", "INFO", *args]
        if kind == "worker":
            command += ["-n", f"{name}@%h", "--without-gossip", "--without-mingle"]
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=ENV,
            stdout=self.log_path.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


def worker_log_count(process: Process, text: str) -> int:
    return process.log().count(text)


def worker(name: str, concurrency: int = 2, queues: list[str] | None = None) -> Process:
    """A worker on ``queues``; by default on every queue (the default one and the
    statements queue, ``CELERY_TASK_ROUTES``), so one worker runs the whole monthly run."""
    from slaportal.celery import routed_queues

    queues = queues or routed_queues()
    started = Process("worker", name, "-c", str(concurrency), "-Q", ",".join(queues))
    wait_for(lambda: "ready." in started.log(), 90, f"worker {name} to start")
    say(
        f"worker {name} started (pid {started.process.pid}, {concurrency} processes, "
        f"queues {', '.join(queues)})"
    )
    return started


def beat(name: str) -> Process:
    started = Process(
        "beat",
        name,
        "-S",
        "django_celery_beat.schedulers:DatabaseScheduler",
        "--max-interval",
        "1",
        "--pidfile=",
    )
    wait_for(lambda: "beat: Starting" in started.log(), 60, f"beat {name} to start")
    say(f"beat {name} started (pid {started.process.pid})")
    return started


# ---------------------------------------------------------------- data


def fresh_database() -> None:
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    name = conninfo_to_dict(DATABASE_URL)["dbname"]
    with psycopg.connect(make_conninfo(DATABASE_URL, dbname="postgres"), autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    import redis

    redis.Redis.from_url(BROKER_URL).flushdb()
    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    call_command("load_sla_catalog", verbosity=0)
    call_command("setup_schedules", verbosity=0)
    say(f"fresh database {name}, broker {BROKER_URL}, SMTP on 127.0.0.1:{SMTP_PORT}")


def month_to_run() -> date:
    """The last month that has ended in every policy zone."""
    from django.utils import timezone

    from statements.selectors import last_ended_month

    return last_ended_month("America/Los_Angeles", timezone.now() - timedelta(hours=2))


def build(contracts: int = 24, credited_every: int = 3) -> dict:
    """``contracts`` customers with a contract each for the month; every ``credited_every``
    th one has a five-hour outage (a credit for its account manager to approve)."""
    from tests.support.factories import (
        CustomerFactory,
        StaffFactory,
        catalog_contract,
        record_outage,
    )

    month = month_to_run()
    end = month.replace(day=monthrange(month.year, month.month)[1])
    manager = StaffFactory(role="account_manager")
    ids = []
    for n in range(contracts):
        customer = CustomerFactory(name=f"Fault customer {n:02d}")
        customer.account_managers.add(manager)
        if n % 2:
            contract = catalog_contract(
                customer, "balto-uptime", {"Balto Platform": "3000.00"}, start=month, end_date=end
            )
            service, zone = "Balto Platform", "America/Chicago"
        else:
            contract = catalog_contract(
                customer, "heretto-ccms", {"Heretto CCMS": "4000.00"}, start=month, end_date=end
            )
            service, zone = "Heretto CCMS", "America/New_York"
        if n % credited_every == 0:
            start = datetime(month.year, month.month, 10, 12, tzinfo=ZoneInfo(zone))
            record_outage(contract, service, start, 300)
        ids.append(contract.pk)
    say(
        f"{contracts} contracts for {month:%B %Y}, {len(range(0, contracts, credited_every))} with an outage"
    )
    return {"month": month, "contracts": ids, "manager": manager}


def approve_pending(manager) -> int:
    from credits.models import Credit
    from credits.services import credit_approve

    approved = 0
    for credit in Credit.objects.filter(status=Credit.Status.PENDING):
        credit_approve(credit=credit, actor=manager)
        approved += 1
    return approved


def tick() -> None:
    from statements.tasks import statements_tick_task

    statements_tick_task.delay()


def statements_done(data: dict) -> bool:
    from statements.models import Statement

    return Statement.objects.filter(
        month=data["month"], status=Statement.Status.ISSUED
    ).count() >= len(data["contracts"])


def run_to_the_end(data: dict, smtp: Smtp, seconds: float = 240) -> None:
    """Approve the credits as statements appear, until every statement has been e-mailed."""
    expected = len(data["contracts"])

    def finished() -> bool:
        approve_pending(data["manager"])
        return statements_done(data) and len(smtp.statement_numbers()) >= expected

    wait_for(finished, seconds, f"{expected} statements e-mailed")


# ---------------------------------------------------------------- checks


def verify(data: dict, smtp: Smtp, *, settle: float = 10) -> bool:
    """Exactly one statement per contract for the month, each e-mailed exactly once."""
    from django.db import connection

    from outbox.models import OutboxMessage
    from statements.models import Statement

    time.sleep(settle)  # anything redelivered late would show now
    connection.close()
    rows = Statement.objects.filter(month=data["month"])
    per_contract = Counter(rows.values_list("contract_id", flat=True))
    numbers = set(rows.values_list("number", flat=True))
    sent = smtp.statement_numbers()
    outbox = Counter(
        OutboxMessage.objects.filter(dedupe_key__startswith="statement:").values_list(
            "status", flat=True
        )
    )
    checks = {
        "every contract has a statement": set(per_contract) == set(data["contracts"]),
        "no contract has two": all(n == 1 for n in per_contract.values()),
        "every statement is issued with its PDF": not rows.exclude(
            status=Statement.Status.ISSUED
        ).exists()
        and not rows.filter(pdf="").exists(),
        "every statement was e-mailed": set(sent) == numbers,
        "none was e-mailed twice": all(n == 1 for n in sent.values()),
        "the outbox holds one sent message per statement": outbox
        == Counter({OutboxMessage.Status.SENT: len(numbers)}),
    }
    say(
        f"{len(numbers)} statements for {len(per_contract)} of {len(data['contracts'])} "
        f"contracts; {sum(sent.values())} statement e-mails received; outbox {dict(outbox)}"
    )
    for label, ok in checks.items():
        say(f"  {'OK  ' if ok else 'FAIL'} {label}")
    return all(checks.values())


def scenario(main: Callable[[], bool]) -> None:
    """Run a scenario and exit 0 when every check held."""
    try:
        ok = main()
    except Exception as exc:  # noqa: BLE001 — reported, exit 1
        say(f"FAILED: {type(exc).__name__}: {exc} (logs in {WORK})")
        ok = False
    say("PASS" if ok else f"FAIL (logs in {WORK})")
    sys.exit(0 if ok else 1)
