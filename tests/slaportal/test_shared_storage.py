"""Files shared by every machine: with STORAGE_URL set to an S3-compatible bucket (moto's
server on loopback) and no MEDIA_ROOT shared between processes, a statements worker
renders the month's PDFs, a second worker (the default queue: the outbox) e-mails them,
and a web process (gunicorn) serves one to its customer, signed in through the login
form; each process has an empty MEDIA_ROOT and VAR_DIR of its own, which stay empty. The
e-mailed attachment, the download and the object in the bucket are the same bytes, the
object is private (an anonymous GET is a 403), and another customer gets a 404.

PostgreSQL, Redis, an SMTP server and the S3 server are real; every process runs on the
test's clock (tests/support/clock.py), which ticks on from the suite's instant."""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import time
import uuid
from calendar import monthrange
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from django.db import connection
from django.utils import timezone

from statements.models import Statement
from statements.selectors import last_ended_month
from tests.support.clock import command
from tests.support.factories import PASSWORD, CustomerUserFactory, catalog_contract
from tests.support.requirements import REQUIRE_SERVICES, need
from tests.support.s3_server import S3Server, s3_server  # noqa: F401 — the fixture
from tests.support.smtp import attachments, free_port

pytestmark = [pytest.mark.services, pytest.mark.ticking]

ROOT = Path(__file__).resolve().parents[2]
BROKER = "redis://127.0.0.1:6379/9"  # a database of its own: no other test's messages
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@dataclass
class Machine:
    """One process of the app, as if on a machine of its own: its own files folders."""

    name: str
    media: Path
    var: Path
    log: Path
    process: subprocess.Popen | None = None
    url: str = ""

    def files(self) -> list[str]:
        """Every file left on this machine's disk by the app (MEDIA_ROOT, VAR_DIR)."""
        return sorted(str(p) for folder in (self.media, self.var) for p in folder.rglob("*"))

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


def _wait(condition: Callable[[], bool], seconds: float, what: str, *machines: Machine) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        for machine in machines:
            if machine.process is not None and machine.process.poll() is not None:
                raise AssertionError(f"{machine.name} exited:\n{machine.output()}")
        time.sleep(0.25)
    logs = "\n".join(f"--- {m.name}\n{m.output()}" for m in machines)
    raise AssertionError(f"timed out waiting for {what}\n{logs}")


def _start(machine: Machine, env: dict[str, str], *args: str) -> None:
    environment = {**env, "MEDIA_ROOT": str(machine.media), "VAR_DIR": str(machine.var)}
    with machine.log.open("w") as log:
        machine.process = subprocess.Popen(
            command(*args),
            cwd=ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: a worker's pool stops with it
        )


def _stop(machine: Machine) -> None:
    process = machine.process
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


@pytest.fixture
def broker():
    import redis

    client = redis.Redis.from_url(BROKER, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError:
        client = None
    need(client is not None, f"needs Redis at {BROKER}", required=REQUIRE_SERVICES)
    client.flushdb()
    yield BROKER
    client.flushdb()


@dataclass(frozen=True)
class Shared:
    """What every process shares: ``env`` (the test database, the broker, the SMTP
    server, the bucket; each process adds a MEDIA_ROOT and VAR_DIR of its own), and the
    prefix of the bucket that is this test's."""

    env: dict[str, str]
    server: S3Server
    prefix: str


@pytest.fixture
def shared(postgres, transactional_db, broker, smtp, s3_server, settings) -> Shared:  # noqa: F811
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    prefix = f"run-{uuid.uuid4().hex[:12]}"
    inherited = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "CELERY_", "AWS_"))
        and k not in {"STORAGE_URL", "MEDIA_ROOT", "VAR_DIR", "EMAIL_URL", "CACHE_URL"}
    }
    env = {
        **inherited,
        "DJANGO_SETTINGS_MODULE": "slaportal.settings",
        "DEBUG": "1",
        "DATABASE_URL": f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "CELERY_BROKER_URL": broker,
        "EMAIL_URL": f"smtp://{settings.EMAIL_HOST}:{settings.EMAIL_PORT}",
        # INFO: the worker's "ready." line (waited for below) is logged at INFO.
        "LOG_LEVEL": "INFO",
        **s3_server.env(prefix),
    }
    return Shared(env, s3_server, prefix)


@pytest.fixture
def machines(shared, tmp_path) -> Iterator[dict[str, Machine]]:
    """Three machines: a statements worker, a worker on the default queue (the outbox
    sends e-mail there) and a web process; started together, stopped at the end."""
    started: dict[str, Machine] = {}
    for name in ("statements-worker", "worker", "web"):
        (tmp_path / name / "media").mkdir(parents=True)
        (tmp_path / name / "var").mkdir()
        started[name] = Machine(
            name, tmp_path / name / "media", tmp_path / name / "var", tmp_path / f"{name}.log"
        )
    port = free_port()
    web = started["web"]
    web.url = f"http://127.0.0.1:{port}"
    celery = ("-m", "celery", "-A", "slaportal", "worker", "-c", "1", "-l", "INFO")
    celery += ("--without-gossip", "--without-mingle", "--without-heartbeat")
    gunicorn = ("-m", "gunicorn", "slaportal.wsgi", "--bind", f"127.0.0.1:{port}")
    try:
        _start(started["statements-worker"], shared.env, *celery, "-n", "st@%h", "-Q", "statements")
        _start(started["worker"], shared.env, *celery, "-n", "default@%h", "-Q", "celery")
        _start(
            web, shared.env, *gunicorn, "--workers", "1", "--threads", "4", "--no-control-socket"
        )
        for name in ("statements-worker", "worker"):
            machine = started[name]
            _wait(lambda m=machine: "ready." in m.log.read_text(), 90, f"{name}", machine)
        _wait(lambda: _answers(f"{web.url}/accounts/login/"), 60, "the web process", web)
        yield started
    finally:
        for machine in started.values():
            _stop(machine)


def _signed_in(base: str, user) -> requests.Session:
    """A browser's session: the login form, with its CSRF token, as the user."""
    session = requests.Session()
    form = session.get(f"{base}/accounts/login/", timeout=30)
    token = CSRF.search(form.text).group(1)
    done = session.post(
        f"{base}/accounts/login/",
        data={"username": user.username, "password": PASSWORD, "csrfmiddlewaretoken": token},
        headers={"Referer": f"{base}/accounts/login/"},
        allow_redirects=False,
        timeout=30,
    )
    assert done.status_code == 302, done.text[:2000]
    return session


def _sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def test_a_pdf_rendered_on_one_machine_is_mailed_by_another_and_served_by_a_third(
    shared, machines, catalog, customer, other_customer, smtp, settings, tmp_path
):
    server, prefix = shared.server, shared.prefix
    month = last_ended_month("America/Chicago", timezone.now() - timedelta(hours=2))
    end = month.replace(day=monthrange(month.year, month.month)[1])
    # No outages: no credit awaits a decision, so each statement is rendered and sent.
    own = catalog_contract(
        customer, "heretto-ccms", {"Heretto CCMS": "4000.00"}, start=month, end_date=end
    )
    catalog_contract(
        other_customer, "balto-uptime", {"Balto Platform": "3000.00"}, start=month, end_date=end
    )
    # Passwords hashed as the web process checks them (the suite's own hasher is MD5).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    person = CustomerUserFactory(customer=customer)
    stranger = CustomerUserFactory(customer=other_customer)
    every = list(machines.values())

    subprocess.run(
        command("-m", "celery", "-A", "slaportal", "call", "statements.tasks.statements_tick_task"),
        cwd=ROOT,
        env={**shared.env, "MEDIA_ROOT": str(tmp_path / "media"), "VAR_DIR": str(tmp_path)},
        check=True,
        capture_output=True,
        timeout=60,
    )
    _wait(lambda: len(smtp.received) == 2, 120, "both statements e-mailed", *every)
    statement = Statement.objects.get(contract=own)
    foreign = Statement.objects.exclude(pk=statement.pk).get()

    # The e-mail the default-queue worker sent carries the PDF the statements worker
    # stored (each with an empty MEDIA_ROOT of its own).
    [mailed] = [
        files[f"{statement.number}.pdf"]
        for files in map(attachments, smtp.received)
        if f"{statement.number}.pdf" in files
    ]
    assert mailed.startswith(b"%PDF-") and _sha256(mailed) == statement.pdf_sha256

    # The web process serves those bytes to the customer, signed in.
    web = machines["web"].url
    response = _signed_in(web, person).get(f"{web}/portal/statements/{statement.pk}/pdf/")
    assert response.status_code == 200, response.text[:2000]
    assert response.headers["Content-Type"] == "application/pdf"
    assert _sha256(response.content) == _sha256(mailed)

    # In the bucket, and on no machine's disk.
    stored = server.objects(prefix)
    assert set(stored) == {statement.pdf.name, foreign.pdf.name}
    assert _sha256(stored[statement.pdf.name]) == statement.pdf_sha256
    for machine in every:
        assert machine.files() == [], machine.name

    # Private: the object's URL without a signature is refused.
    for name in stored:
        assert server.anonymous_get(f"{prefix}/{name}") == 403

    # Another customer, signed in on the same web process: a 404 for it, their own is served.
    other = _signed_in(web, stranger)
    assert other.get(f"{web}/portal/statements/{statement.pk}/pdf/").status_code == 404
    theirs = other.get(f"{web}/portal/statements/{foreign.pk}/pdf/")
    assert theirs.status_code == 200 and _sha256(theirs.content) == foreign.pdf_sha256
