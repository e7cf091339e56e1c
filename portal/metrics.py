"""``/metrics`` for Prometheus: django-prometheus's request and database metrics, and the
portal's own figures, read from the database and the broker when Prometheus scrapes.

**Token.** Only a scraper presenting ``METRICS_TOKEN`` (``Authorization: Bearer …``) gets
an answer; anyone else gets a 403, and so does everyone while no token is configured, so
the endpoint is never open by accident. Signed-in staff are no exception: the figures
are for the monitoring system, not for a browser.

**Several processes.** gunicorn runs several worker processes and a scrape reaches one
of them. The portal's own figures are computed at scrape time from the database and the
broker (a ``Collector`` on a registry made for each scrape, nothing cached), so they are
the same whichever process answers. django-prometheus's request and query counters
live in each process: with ``PROMETHEUS_MULTIPROC_DIR`` set (for the web processes
only: a directory of each machine's own), every worker writes them to files there and
the answer sums every worker's (prometheus_client's multiprocess mode); gunicorn's start
hook empties it (``slaportal.observability.gunicorn_on_starting``). Without it, the
answer holds the counters of the one process that answered.

The database part is a fixed number of queries (nine) whatever the number of runs,
messages or escalations; a database or broker that fails leaves its figures out and
says so in ``slaportal_metrics_source_up`` rather than failing the scrape, so the
request metrics are still collected while it is down.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime, timedelta

from django.conf import settings
from django.db import DatabaseError
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from outbox.models import OutboxMessage, WebhookDelivery
from slaportal.celery import routed_queues
from statements.models import Statement, StatementRun
from statements.selectors import CATCH_UP_MONTHS, undelivered_statements
from statements.services.runs import contracts_owed
from tickets.models import Escalation

log = logging.getLogger(__name__)

# The runs shown: those of the months the hourly tick still catches up on, the latest
# first, at most this many (each run is a label value: a bounded number of series).
RECENT_RUNS = 20
BROKER_TIMEOUT_SECONDS = 2
# Kombu's Redis transport keeps a queue as one list per priority step: the queue's own
# name, then the name + separator + step (kombu.transport.redis.Channel).
REDIS_PRIORITY_SEPARATOR = "\x06\x16"
REDIS_PRIORITY_STEPS = (3, 6, 9)


def ended_months(now: datetime, count: int = CATCH_UP_MONTHS) -> list[date]:
    """The ``count`` months before the one in progress in UTC, the latest first. A
    contract's month ends in its policy's zone: one west of UTC is owed only hours after
    its UTC month ends (``contracts_owed`` waits for that), one east of it shows up at the
    UTC month's end."""
    months = [now.astimezone(UTC).date().replace(day=1)]
    for _ in range(count):
        months.append((months[-1] - timedelta(days=1)).replace(day=1))
    return months[1:]


def _label(month: date) -> str:
    return f"{month:%Y-%m}"


def _gauge(name: str, documentation: str, labels: list[str]) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, labels=labels)


class PortalCollector(Collector):
    """The portal's own figures, computed on each ``collect()``."""

    def __init__(self, now: Callable[[], datetime] = timezone.now) -> None:
        self.now = now

    def collect(self) -> Iterator[Metric]:
        up = _gauge(
            "slaportal_metrics_source_up",
            "Whether the source of the portal's own figures answered this scrape (1) or "
            "failed (0, its figures left out; the error is in the log).",
            ["source"],
        )
        # A warning, as /healthz logs it: an error a minute while a part is down (each
        # scrape) would flood the error tracker; the gauge below is what alerts.
        try:
            families = list(self._database(self.now()))
        except DatabaseError as exc:
            log.warning("metrics: the database figures failed", exc_info=exc)
            families = []
            up.add_metric(["database"], 0)
        else:
            up.add_metric(["database"], 1)
        yield from families
        broker = getattr(settings, "CELERY_BROKER_URL", None)
        if broker:
            try:
                lengths = queue_lengths(broker, routed_queues())
            except Exception as exc:  # any failure of the broker (or its client) is the answer
                log.warning("metrics: the broker's queue lengths failed", exc_info=exc)
                up.add_metric(["broker"], 0)
            else:
                up.add_metric(["broker"], 1)
                if lengths is not None:
                    queues = _gauge(
                        "slaportal_celery_queue_length",
                        "Messages waiting on each Celery queue (not counting those a worker "
                        "holds unacknowledged).",
                        ["queue"],
                    )
                    for queue, length in lengths.items():
                        queues.add_metric([queue], length)
                    yield queues
        yield up

    def _database(self, now: datetime) -> Iterable[Metric]:
        months = ended_months(now)

        runs = _gauge(
            "slaportal_statement_run_items",
            "Items of the recent statement runs (months the hourly tick still catches up "
            "on, latest runs first) by status: done (statement issued), failed (waits for "
            "a staff retry), pending.",
            ["run", "month", "trigger", "status"],
        )
        recent = (
            StatementRun.objects.filter(month__gte=months[-1])
            .order_by("-started_at", "-pk")
            .values_list("pk", "month", "trigger", "planned", "done", "failed")[:RECENT_RUNS]
        )
        for pk, month, trigger, planned, done, failed in recent:
            labels = [str(pk), _label(month), trigger]
            runs.add_metric([*labels, "done"], done)
            runs.add_metric([*labels, "failed"], failed)
            runs.add_metric([*labels, "pending"], planned - done - failed)
        yield runs

        owed = _gauge(
            "slaportal_statements_owed",
            "Contracts in force in an ended month (its end passed in the policy's zone) "
            "with no issued statement for it yet.",
            ["month"],
        )
        for month in months:
            owed.add_metric([_label(month)], len(contracts_owed(month, now=now)))
        yield owed

        issued = _gauge(
            "slaportal_statements_issued",
            "Current issued statements of each recent ended month.",
            ["month"],
        )
        counted = dict(
            Statement.objects.filter(status=Statement.Status.ISSUED, month__in=months)
            .values("month")
            .annotate(n=Count("pk"))
            .values_list("month", "n")
        )
        for month in months:
            issued.add_metric([_label(month)], counted.get(month, 0))
        yield issued

        yield GaugeMetricFamily(
            "slaportal_statements_undelivered",
            "Issued statements with every credit decided whose PDF or e-mail is still "
            "owed (the hourly tick delivers them).",
            value=undelivered_statements().filter(status=Statement.Status.ISSUED).count(),
        )

        yield _by_status(
            "slaportal_outbox_messages",
            "E-mail in the outbox by status (held: handed to the mail server by an attempt "
            "that died, waiting for an operator; failed: out of attempts).",
            OutboxMessage,
        )
        yield _by_status(
            "slaportal_webhook_deliveries",
            "Webhook deliveries by status (failed: out of attempts, or the endpoint "
            "answered 410 Gone).",
            WebhookDelivery,
        )

        escalations = CounterMetricFamily(
            "slaportal_escalations",
            "Ticket escalations sent (75 % of a target used, target breached), since the "
            "beginning: one per ticket, target and level.",
            labels=["target", "level"],
        )
        fired = {
            (target, level): n
            for target, level, n in Escalation.objects.values("target", "level")
            .annotate(n=Count("pk"))
            .values_list("target", "level", "n")
        }
        for target in Escalation.Target.values:
            for level in Escalation.Level.values:
                escalations.add_metric([target, level], fired.get((target, level), 0))
        yield escalations


def _by_status(
    name: str, documentation: str, model: type[OutboxMessage] | type[WebhookDelivery]
) -> GaugeMetricFamily:
    """Rows of ``model`` per status, every status named (a status with none shows 0)."""
    family = _gauge(name, documentation, ["status"])
    counted = dict(
        model.objects.values("status").annotate(n=Count("pk")).values_list("status", "n")
    )
    for status in model.Status.values:
        family.add_metric([status], counted.get(status, 0))
    return family


def queue_lengths(broker_url: str, queues: list[str]) -> dict[str, int] | None:
    """Messages waiting on each queue of a Redis broker; None for another broker."""
    if not broker_url.startswith(("redis://", "rediss://")):
        return None
    import redis

    client = redis.Redis.from_url(
        broker_url,
        socket_connect_timeout=BROKER_TIMEOUT_SECONDS,
        socket_timeout=BROKER_TIMEOUT_SECONDS,
    )
    try:
        with client.pipeline(transaction=False) as pipe:
            for queue in queues:
                pipe.llen(queue)
                for step in REDIS_PRIORITY_STEPS:
                    pipe.llen(f"{queue}{REDIS_PRIORITY_SEPARATOR}{step}")
            sizes = pipe.execute()
    finally:
        client.close()
    per_queue = 1 + len(REDIS_PRIORITY_STEPS)
    return {
        queue: sum(sizes[i * per_queue : (i + 1) * per_queue]) for i, queue in enumerate(queues)
    }


class _ThisProcess(Collector):
    """This process's metrics (django-prometheus's, the Python runtime's)."""

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()


def scrape_registry() -> CollectorRegistry:
    """A registry for one scrape: every worker's django-prometheus metrics (multiprocess
    mode) or this process's, and the portal's own."""
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_ThisProcess())
    registry.register(PortalCollector())
    return registry


def _authorised(request: HttpRequest) -> bool:
    token = getattr(settings, "METRICS_TOKEN", "") or ""
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    # No token configured: nobody, rather than everybody.
    return bool(token) and scheme.lower() == "bearer" and constant_time_compare(given, token)


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    if not _authorised(request):
        return HttpResponse(
            "A valid metrics token is required.\n", status=403, content_type="text/plain"
        )
    return HttpResponse(generate_latest(scrape_registry()), content_type=CONTENT_TYPE_LATEST)
