"""/metrics for Prometheus: a scraper with METRICS_TOKEN sees django-prometheus's request
and database metrics and the portal's own figures (statement runs, statements owed and
issued, the outbox, webhooks, escalations, Celery queues), computed when it scrapes;
anyone else gets a 403, and everyone does while no token is configured."""

from __future__ import annotations

import socket
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
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
from tests.support.metrics_scrape import TOKEN, samples, scrape, series
from tests.support.requirements import REQUIRE_SERVICES, need
from tickets.services import ticket_file, tickets_escalate

ROOT = Path(__file__).resolve().parents[2]
JUNE = date(2026, 6, 1)
# June has ended in every zone; the last three ended months are June, May and April.
JULY_2ND = datetime(2026, 7, 2, 12, tzinfo=UTC)
ET = ZoneInfo("America/New_York")
BROKER = "redis://127.0.0.1:6379/6"  # a database of its own: no other test's messages


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
