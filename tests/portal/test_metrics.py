"""/metrics for Prometheus: a scraper with METRICS_TOKEN sees django-prometheus's request
and database metrics and the portal's own figures (statement runs, statements owed and
issued, the outbox, webhooks, escalations, Celery queues), computed when it scrapes;
anyone else gets a 403, and everyone does while no token is configured."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests
import time_machine
from django.db import OperationalError, connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from prometheus_client.parser import text_string_to_metric_families

from outbox.models import OutboxMessage
from outbox.services import (
    outbox_deliver,
    outbox_enqueue,
    webhook_deliver,
    webhook_emit,
    webhook_endpoint_create,
)
from portal.metrics import PortalCollector
from slaportal.celery import app
from statements.services import runs as runs_module
from statements.services import statement_run_item_process, statements_plan
from tests.support.factories import CustomerFactory, catalog_contract
from tests.support.requirements import REQUIRE_SERVICES, need
from tickets.services import ticket_file, tickets_escalate

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "scraper-token-for-tests"
JUNE = date(2026, 6, 1)
# June has ended in every zone; the last three ended months are June, May and April.
JULY_2ND = datetime(2026, 7, 2, 12, tzinfo=UTC)
ET = ZoneInfo("America/New_York")
BROKER = "redis://127.0.0.1:6379/6"  # a database of its own: no other test's messages


@pytest.fixture
def scraper(settings) -> Client:
    """Prometheus: a client presenting the configured token."""
    settings.METRICS_TOKEN = TOKEN
    settings.CELERY_BROKER_URL = None
    return Client(headers={"Authorization": f"Bearer {TOKEN}"})


def scrape(client: Client) -> dict[tuple[str, tuple], float]:
    """Every sample of one scrape, by name and sorted labels."""
    response = client.get("/metrics")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    return samples(response.content.decode())


def samples(text: str) -> dict[tuple[str, tuple], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def series(found: dict[tuple[str, tuple], float], name: str) -> dict[tuple, float]:
    """The samples of one metric, by their labels' values (label names sorted)."""
    return {tuple(value for _, value in labels): v for (n, labels), v in found.items() if n == name}


# ---------------------------------------------------------------- who may scrape


def test_without_a_configured_token_metrics_is_refused_to_everyone(db, settings, admin_user):
    settings.METRICS_TOKEN = ""
    anonymous = Client()
    assert anonymous.get("/metrics").status_code == 403
    # An empty token does not match an empty setting.
    assert anonymous.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 403
    staff = Client()
    staff.force_login(admin_user, backend="contracts.backends.PortalBackend")
    assert staff.get("/metrics").status_code == 403


def test_a_missing_or_wrong_token_is_a_403_that_shows_no_figure(db, settings):
    settings.METRICS_TOKEN = TOKEN
    for headers in (
        {},
        {"Authorization": "Bearer not-the-token"},
        {"Authorization": f"Bearer {TOKEN}x"},
        {"Authorization": f"Token {TOKEN}"},  # another scheme
        {"Authorization": TOKEN},  # no scheme
    ):
        response = Client().get("/metrics", headers=headers)
        assert response.status_code == 403, headers
        assert b"slaportal_" not in response.content and b"django_" not in response.content
    # The scheme's name is case-insensitive (RFC 9110).
    answer = Client().get("/metrics", headers={"Authorization": f"bearer {TOKEN}"})
    assert answer.status_code == 200


def test_metrics_answers_only_get_and_is_never_cached(scraper, db):
    response = scraper.get("/metrics")
    assert "no-cache" in response["Cache-Control"]
    assert scraper.post("/metrics").status_code == 405


def test_every_metric_of_the_portal_has_help_text(scraper, db):
    text = scraper.get("/metrics").content.decode()
    ours = [f for f in text_string_to_metric_families(text) if f.name.startswith("slaportal_")]
    assert {f.name for f in ours} == {
        "slaportal_statement_run_items",
        "slaportal_statements_owed",
        "slaportal_statements_issued",
        "slaportal_statements_undelivered",
        "slaportal_outbox_messages",
        "slaportal_webhook_deliveries",
        "slaportal_escalations",
        "slaportal_metrics_source_up",
    }
    assert all(len(f.documentation) > 20 for f in ours)
    assert "# TYPE slaportal_escalations_total counter" in text


# ---------------------------------------------------------------- the portal's figures


@pytest.fixture
def june_contracts(catalog, statement_media):
    """Three contracts in force from June (none in May or April)."""
    return [
        catalog_contract(CustomerFactory(), "heretto-ccms", {"Heretto CCMS": "4000.00"}, start=JUNE)
        for _ in range(3)
    ]


def test_a_run_shows_its_items_as_it_goes_and_the_statements_owed_and_issued(
    scraper, june_contracts, monkeypatch
):
    real = runs_module.statement_generate
    broken = june_contracts[2].pk

    def generate(*, contract, **kw):
        if contract.pk == broken:
            raise RuntimeError("PDF storage is full")
        return real(contract=contract, **kw)

    monkeypatch.setattr(runs_module, "statement_generate", generate)
    with time_machine.travel(JULY_2ND, tick=False):
        before = scrape(scraper)
        assert series(before, "slaportal_statements_owed") == {
            ("2026-06",): 3,
            ("2026-05",): 0,
            ("2026-04",): 0,
        }
        assert series(before, "slaportal_statement_run_items") == {}

        run = statements_plan(month=JUNE, trigger="command", now=JULY_2ND, dispatch=False)
        assert series(scrape(scraper), "slaportal_statement_run_items") == {
            ("2026-06", str(run.pk), "done", "command"): 0,
            ("2026-06", str(run.pk), "failed", "command"): 0,
            ("2026-06", str(run.pk), "pending", "command"): 3,
        }

        for item in run.items.order_by("pk"):
            statement_run_item_process(item_id=item.pk, now=JULY_2ND)
        after = scrape(scraper)
    assert series(after, "slaportal_statement_run_items") == {
        ("2026-06", str(run.pk), "done", "command"): 2,
        ("2026-06", str(run.pk), "failed", "command"): 1,
        ("2026-06", str(run.pk), "pending", "command"): 0,
    }
    assert series(after, "slaportal_statements_owed")[("2026-06",)] == 1
    assert series(after, "slaportal_statements_issued") == {
        ("2026-06",): 2,
        ("2026-05",): 0,
        ("2026-04",): 0,
    }
    assert series(after, "slaportal_metrics_source_up") == {("database",): 1}


def test_the_outbox_and_webhook_deliveries_by_status(scraper, db, admin_user, webhook_receiver):
    for n in range(3):
        outbox_enqueue(to="billing@acme.example", subject=f"Mail {n}", body="…", dedupe_key=f"m{n}")
    first, second, _ = OutboxMessage.objects.order_by("pk")
    outbox_deliver(message_id=first.pk)  # the suite's mail backend accepts it
    # As the last allowed attempt leaves it (outbox.services.email._record_failure).
    OutboxMessage.objects.filter(pk=second.pk).update(status="failed", attempts=8)

    endpoint = webhook_endpoint_create(
        actor=admin_user, url=webhook_receiver.url, events=["credit.approved"]
    )
    webhook_emit(event="credit.approved", data={"id": 1}, dedupe_key="one")
    webhook_emit(event="credit.approved", data={"id": 2}, dedupe_key="two")
    webhook_receiver.statuses = [410]  # Gone: the delivery fails at once
    gone = endpoint.deliveries.order_by("pk").first()
    webhook_deliver(delivery_id=gone.pk)

    found = scrape(scraper)
    assert series(found, "slaportal_outbox_messages") == {
        ("pending",): 1,
        ("sending",): 0,
        ("sent",): 1,
        ("held",): 0,
        ("failed",): 1,
    }
    assert series(found, "slaportal_webhook_deliveries") == {
        ("pending",): 1,
        ("delivered",): 0,
        ("failed",): 1,
    }


def test_escalations_fired_are_a_counter_per_target_and_level(
    scraper, customer_user, ticket_service, agent
):
    # Filed on a Monday 10:00 in New York, inside the help desk's hours.
    ticket_file(
        actor=customer_user,
        service=ticket_service,
        subject="Publishing fails",
        description="Error 500.",
        severity=2,
        now=datetime(2026, 6, 8, 10, tzinfo=ET),
    )
    # Severity 2: first response due at 14:00, 75 % used at 13:00; both fire at 14:01.
    tickets_escalate(now=datetime(2026, 6, 8, 14, 1, tzinfo=ET))
    tickets_escalate(now=datetime(2026, 6, 8, 14, 2, tzinfo=ET))  # again: nothing new
    assert series(scrape(scraper), "slaportal_escalations_total") == {
        ("at_risk", "response"): 1,
        ("breach", "response"): 1,
        ("at_risk", "resolution"): 0,
        ("breach", "resolution"): 0,
    }


def test_the_database_part_is_a_fixed_number_of_queries(june_contracts, admin_user):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            list(PortalCollector(now=lambda: JULY_2ND).collect())
        return len(captured)

    few = queries()
    for _ in range(5):
        catalog_contract(CustomerFactory(), "heretto-ccms", {"Heretto CCMS": "900.00"}, start=JUNE)
    for month in (JUNE, date(2026, 5, 1)):
        run = statements_plan(month=month, trigger="command", now=JULY_2ND, dispatch=False)
        if run is not None:
            statement_run_item_process(item_id=run.items.first().pk, now=JULY_2ND)
    for n in range(4):
        outbox_enqueue(to="a@acme.example", subject="Mail", body="…", dedupe_key=f"q{n}")
    assert queries() == few <= 9


def test_a_database_that_fails_leaves_its_figures_out_but_the_scrape_answers(
    scraper, db, monkeypatch
):
    def unreachable(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr("portal.metrics.contracts_owed", unreachable)
    found = scrape(scraper)
    assert series(found, "slaportal_metrics_source_up") == {("database",): 0}
    assert series(found, "slaportal_statements_owed") == {}
    assert series(found, "slaportal_outbox_messages") == {}


# ---------------------------------------------------------------- Celery queues


def test_without_a_broker_there_are_no_queues_to_measure(scraper, db):
    found = scrape(scraper)
    assert series(found, "slaportal_celery_queue_length") == {}
    assert ("broker",) not in series(found, "slaportal_metrics_source_up")


@pytest.fixture
def redis_broker():
    import redis

    client = redis.Redis.from_url(BROKER, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError:
        client = None
    need(client is not None, f"needs Redis at {BROKER}", required=REQUIRE_SERVICES)
    client.flushdb()
    yield client
    client.flushdb()


@pytest.mark.services
@pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored")
def test_queue_lengths_count_the_messages_waiting_on_each_queue(
    scraper, db, settings, redis_broker
):
    settings.CELERY_BROKER_URL = BROKER
    app.loader.import_default_modules()
    with app.connection_for_write(BROKER) as broker:
        app.send_task("statements.tasks.statement_render_task", args=[1], connection=broker)
        app.send_task("tickets.tasks.escalate_tickets", connection=broker)
        # Kombu keeps a prioritised message in a list of its own: still the queue's.
        app.send_task("outbox.tasks.outbox_flush", connection=broker, priority=9)
    found = scrape(scraper)
    assert series(found, "slaportal_celery_queue_length") == {("celery",): 2, ("statements",): 1}
    assert series(found, "slaportal_metrics_source_up") == {("broker",): 1, ("database",): 1}


def test_a_broker_that_is_down_is_said_without_its_address(scraper, db, settings):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.CELERY_BROKER_URL = f"redis://:hunter2@127.0.0.1:{port}/0"
    response = scraper.get("/metrics")
    found = samples(response.content.decode())
    assert series(found, "slaportal_metrics_source_up") == {("broker",): 0, ("database",): 1}
    assert series(found, "slaportal_celery_queue_length") == {}
    assert b"hunter2" not in response.content and str(port).encode() not in response.content


# ---------------------------------------------------------------- django-prometheus


def test_requests_and_queries_are_counted_by_django_prometheus(scraper, db):
    name = "django_http_responses_total_by_status_view_method_total"
    refused = ("GET", "403", "metrics")

    def refusals() -> float:
        return series(scrape(scraper), name).get(refused, 0)

    before = refusals()
    for _ in range(3):
        Client().get("/metrics")
    assert refusals() - before == 3
    queries = series(scrape(scraper), "django_db_execute_total")
    assert queries[("default", connection.vendor)] > 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


REFUSED = {"status": "403", "view": "metrics", "method": "GET"}
RESPONSES = "django_http_responses_total_by_status_view_method"


@pytest.fixture
def gunicorn(tmp_path) -> Iterator[tuple[str, Path]]:
    """gunicorn with two sync workers, as the Procfile's web line runs it, in
    prometheus_client's multiprocess mode with the start hook of gunicorn.conf.py. Its
    folder holds a file left by a process of an earlier run, which counted 1000
    refusals. The database is an empty SQLite file: the requests below need none (the
    portal's own figures then say the database failed)."""
    from prometheus_client.mmap_dict import MmapedDict, mmap_key

    folder = tmp_path / "prometheus"
    folder.mkdir()
    stale = MmapedDict(str(folder / "counter_999999.db"))
    labels = list(REFUSED.values())
    key = mmap_key(RESPONSES, f"{RESPONSES}_total", list(REFUSED), labels, "Count of responses.")
    stale.write_value(key, 1000.0, 0.0)
    stale.close()
    config = tmp_path / "gunicorn.conf.py"
    config.write_text("from slaportal.observability import gunicorn_on_starting as on_starting\n")
    port = _free_port()
    env = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(folder),
        "METRICS_TOKEN": TOKEN,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}",
    }
    env.pop("CELERY_BROKER_URL", None)
    log = (tmp_path / "gunicorn.log").open("w")
    server = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "slaportal.wsgi",
            f"--config={config}",
            "--workers=2",
            f"--bind=127.0.0.1:{port}",
            "--timeout=30",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        # Each worker writes its counters' file as it loads the application.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(_pids(folder)) < 2:
            assert server.poll() is None, (tmp_path / "gunicorn.log").read_text()
            time.sleep(0.2)
        yield url, folder
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:  # a worker still waiting on a request
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)
        log.close()


def _pids(folder: Path) -> set[str]:
    return {path.stem.split("_")[1] for path in folder.glob("counter_*.db")}


def _refusals_by_worker(folder: Path) -> dict[str, float]:
    """The 403s each worker process counted, from its own file (the pid in its name)."""
    from prometheus_client.mmap_dict import MmapedDict

    counted: dict[str, float] = {}
    for path in folder.glob("counter_*.db"):
        for key, value, _timestamp, _pos in MmapedDict.read_all_values_from_file(str(path)):
            metric, _name, labels, _help = json.loads(key)
            if metric == RESPONSES and labels == REFUSED:
                counted[path.stem.split("_")[1]] = value
    return counted


def test_every_gunicorn_worker_s_requests_are_counted_whichever_worker_answers(gunicorn):
    url, folder = gunicorn
    # One worker takes a connection whose request has not arrived yet and waits for it
    # (a sync worker serves one at a time): every request meanwhile goes to the other.
    with socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1]))) as held:
        held.sendall(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        time.sleep(0.5)
        with ThreadPoolExecutor(4) as pool:
            get = lambda _: requests.get(f"{url}/metrics", timeout=10)  # noqa: E731
            answers = list(pool.map(get, range(12)))
        assert {a.status_code for a in answers} == {403}
        held.sendall(b"Connection: close\r\n\r\n")
        assert held.recv(64).startswith(b"HTTP/1.1 403")

    scraped = requests.get(
        f"{url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
    )
    assert scraped.status_code == 200
    found = samples(scraped.text)
    # All 13 refusals, although no single process served them all, and none of the
    # earlier run's (its file was removed at start).
    assert series(found, f"{RESPONSES}_total")[("GET", "403", "metrics")] == 13
    # Both workers answered some (the held connection's worker one, most likely).
    counted = _refusals_by_worker(folder)
    assert len(counted) == 2 and all(counted.values()) and sum(counted.values()) == 13
    assert "999999" not in _pids(folder)
    # The portal's own figures need the database, which this server lacks.
    assert series(found, "slaportal_metrics_source_up") == {("database",): 0}
