"""The monthly job end to end on real parts: a Celery worker process on Redis, PostgreSQL,
and an SMTP server (aiosmtpd) on loopback. One statement per contract; each e-mailed
once with a PDF that shows customer, month, availability per service, credit and
adjustment; running the job again and delivering the same task twice change nothing.
The worker and the other processes run on the test's clock (tests/support/clock.py), which
ticks on from the suite's instant here: nothing depends on the real date."""

from __future__ import annotations

import io
import os
import subprocess
import time
from calendar import monthrange
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.utils import timezone
from pypdf import PdfReader

from credits.models import Credit
from outbox.models import OutboxMessage
from slaportal.celery import routed_queues
from slaportal.months import month_bounds
from statements.models import Statement
from statements.selectors import last_ended_month
from tests.support.clock import command
from tests.support.factories import catalog_contract, record_outage
from tests.support.requirements import REQUIRE_SERVICES, need
from tests.support.smtp import attachments

pytestmark = [pytest.mark.services, pytest.mark.ticking]

ROOT = Path(__file__).resolve().parents[2]
BROKER = "redis://127.0.0.1:6379/13"  # a database of its own: no other test's messages


def _redis():
    import redis

    client = redis.Redis.from_url(BROKER, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError:
        return None
    return client


@pytest.fixture
def broker():
    client = _redis()
    need(client is not None, f"needs Redis at {BROKER}", required=REQUIRE_SERVICES)
    client.flushdb()
    yield BROKER
    client.flushdb()


@pytest.fixture
def env(broker, smtp, tmp_path, settings):  # noqa: F811
    settings.MEDIA_ROOT = tmp_path / "media"
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CELERY_"))},
        "DJANGO_SETTINGS_MODULE": "slaportal.settings",
        "DEBUG": "1",
        "DATABASE_URL": f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "CELERY_BROKER_URL": broker,
        "EMAIL_URL": f"smtp://{settings.EMAIL_HOST}:{settings.EMAIL_PORT}",
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "VAR_DIR": str(tmp_path / "var"),
        # INFO: the worker's "ready." line (the fixture waits for it) is logged at INFO.
        "LOG_LEVEL": "INFO",
    }


@pytest.fixture
def worker(env, tmp_path):
    log = (tmp_path / "worker.log").open("w")
    process = subprocess.Popen(
        command(
            "-m",
            "celery",
            "-A",
            "slaportal",
            "worker",
            "-c",
            "2",
            "-l",
            "INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            "it@%h",
            # Both queues (the statement tasks have their own, CELERY_TASK_ROUTES).
            "-Q",
            ",".join(routed_queues()),
        ),
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait(lambda: "ready." in (tmp_path / "worker.log").read_text(), 60, "worker start")
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def _wait(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


def _run(env, *args: str) -> None:
    subprocess.run(command(*args), cwd=ROOT, env=env, check=True, capture_output=True, timeout=60)


def call_task(env, name: str, *args) -> None:
    import json

    _run(env, "-m", "celery", "-A", "slaportal", "call", name, "--args", json.dumps(list(args)))


def test_the_monthly_job_on_a_real_worker_sends_one_statement_per_contract(
    postgres,
    transactional_db,
    catalog,
    customer,
    other_customer,
    account_manager,
    smtp,  # noqa: F811
    env,
    worker,
):
    # The last month ended in both zones at the suite's instant; contracts only for it.
    month = last_ended_month("America/Chicago", timezone.now() - timedelta(hours=2))
    end = month.replace(day=monthrange(month.year, month.month)[1])
    customer.account_managers.add(account_manager)
    ny = catalog_contract(
        customer, "heretto-ccms", {"Heretto CCMS": "4000.00"}, start=month, end_date=end
    )
    chicago = catalog_contract(
        other_customer, "balto-uptime", {"Balto Platform": "3000.00"}, start=month, end_date=end
    )
    et = ZoneInfo("America/New_York")
    record_outage(ny, "Heretto CCMS", datetime(month.year, month.month, 10, 12, tzinfo=et), 300)

    call_task(env, "statements.tasks.statements_tick_task")
    _wait(lambda: Statement.objects.count() == 2, 90, "two statements")
    _wait(lambda: len(smtp.received) == 1, 90, "the creditless statement's e-mail")
    # The credited one waits for its account manager.
    credit = Credit.objects.get(contract=ny)
    _run(
        env,
        "manage.py",
        "shell",
        "-c",
        "from credits.models import Credit; from contracts.models import User; "
        "from credits.services import credit_approve; "
        f"credit_approve(credit=Credit.objects.get(pk={credit.pk}), "
        f"actor=User.objects.get(pk={account_manager.pk}))",
    )
    _wait(lambda: len(smtp.received) == 2, 90, "the credited statement's e-mail")

    label = f"{month:%B %Y}"
    start, stop = month_bounds(month, "America/New_York")
    minutes = int((stop - start).total_seconds()) // 60
    down = Fraction(minutes - 300, minutes) * 100  # cut to 3 places, as statements show it
    ny_availability = f"{Decimal(int(down * 1000)) / 1000:.3f} %"
    for contract, service, availability in (
        (ny, "Heretto CCMS", ny_availability),
        (chicago, "Balto Platform", "100.000 %"),
    ):
        statement = Statement.objects.get(contract=contract)
        [content] = [
            files[f"{statement.number}.pdf"]
            for files in map(attachments, smtp.received)
            if f"{statement.number}.pdf" in files
        ]
        text = " ".join(
            " ".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages).split()
        )
        assert contract.customer.name in text and label in text
        assert service in text and availability in text
        if contract == ny:
            # No invoice is open: granted, on no invoice yet (no credit note claimed).
            assert "Heretto CCMS: 200.00 USD — Approved, not yet on an invoice" in text
            assert "Credits granted by this statement 200.00 USD" in text
        else:
            assert "No credit note is issued for this statement" in text

    # Again: the tick, and the same task delivered twice, create and send nothing.
    call_task(env, "statements.tasks.statements_tick_task")
    for _ in range(2):
        call_task(env, "statements.tasks.statement_generate_task", ny.pk, month.isoformat())
    time.sleep(5)
    assert Statement.objects.count() == 2
    assert OutboxMessage.objects.count() == 2
    assert len(smtp.received) == 2
