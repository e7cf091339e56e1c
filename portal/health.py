"""``/healthz`` for monitoring: one check per part the portal needs, 200 when every part
is healthy and 503 naming the part that is not.

No login: a load balancer or an uptime checker can call it, and anonymous callers learn
only ``{"status": "ok"}`` or ``{"status": "failing"}``. Staff signed in, and a monitor
with ``HEALTHZ_TOKEN`` (``Authorization: Bearer …``), get each check too; even then
nothing secret (no URLs, hosts or driver messages: a failed part is named with the
exception's class; the details go to the log).

The monthly run is judged by what it owes rather than by the age of the last run: a
quiet month with nothing to issue is healthy however old the last run is. It is
unhealthy when a contract still has no issued statement for the last ended month
``STATEMENTS_GRACE`` after that month ended in its policy's zone (the tick runs hourly
and retries, so a day is ample). The last successful run and its age are reported for
the humans reading it. Delivery too: an issued statement with every credit decided but
no PDF or e-mail ``DELIVERY_GRACE`` after it last had reason to wait (two hourly ticks
that should have delivered it) is unhealthy.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

BROKER_TIMEOUT_SECONDS = 2
STATEMENTS_GRACE = timedelta(hours=24)
DELIVERY_GRACE = timedelta(hours=2)

log = logging.getLogger(__name__)


def _error(part: str, exc: Exception) -> str:
    # The body names the part and the kind of failure only: a driver's message can carry
    # a host name or a user name. The whole exception goes to the log for the operator.
    log.warning("healthz: %s check failed", part, exc_info=exc)
    return f"cannot reach the {part} ({type(exc).__name__})"


def check_database() -> dict[str, Any]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 — any failure is the answer
        return {"ok": False, "error": _error("database", exc)}
    return {"ok": True}


def check_broker() -> dict[str, Any]:
    url = getattr(settings, "CELERY_BROKER_URL", None)
    if not url:
        # The demo runs tasks in-process: there is no broker to be down.
        return {"ok": True, "mode": "eager"}
    from kombu import Connection

    try:
        with Connection(url, connect_timeout=BROKER_TIMEOUT_SECONDS) as conn:
            conn.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT_SECONDS)
    except Exception as exc:  # noqa: BLE001
        return {"ok": False, "mode": "broker", "error": _error("broker", exc)}
    return {"ok": True, "mode": "broker"}


def _last_ended_month(now: datetime) -> date:
    first = now.date().replace(day=1)
    return (first - timedelta(days=1)).replace(day=1)


def check_statements(now: datetime | None = None) -> dict[str, Any]:
    from statements.models import StatementRun
    from statements.selectors import overdue_deliveries
    from statements.services.runs import contracts_owed

    now = now or timezone.now()
    try:
        last = (
            StatementRun.objects.filter(finished_at__isnull=False, failed=0)
            .order_by("-finished_at", "-pk")
            .first()
        )
        # Judged as of ``now - grace``: a month that ended less than a day ago in a
        # contract's zone is not owed yet.
        month = _last_ended_month(now - STATEMENTS_GRACE)
        owed = len(contracts_owed(month, now=now - STATEMENTS_GRACE))
        undelivered = overdue_deliveries(now - DELIVERY_GRACE).count()
    except Exception as exc:  # noqa: BLE001
        return {"ok": False, "error": _error("statement runs", exc)}
    result: dict[str, Any] = {
        "ok": owed == 0 and undelivered == 0,
        "month": f"{month:%Y-%m}",
        "contracts_owed": owed,
        "statements_undelivered": undelivered,
        "last_success": None,
    }
    if last is not None:
        result["last_success"] = {
            "month": f"{last.month:%Y-%m}",
            "finished_at": last.finished_at.isoformat(),
            "age_seconds": int((now - last.finished_at).total_seconds()),
        }
    errors = []
    if owed:
        errors.append(
            f"{owed} contract(s) still have no statement for {month:%Y-%m} "
            f"{int(STATEMENTS_GRACE.total_seconds() // 3600)} h after the month ended."
        )
    if undelivered:
        errors.append(
            f"{undelivered} statement(s) still have no PDF or e-mail "
            f"{int(DELIVERY_GRACE.total_seconds() // 3600)} h after they were ready to send."
        )
    if errors:
        result["error"] = " ".join(errors)
    return result


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    database = check_database()
    checks = {
        "database": database,
        "broker": check_broker(),
        # Without a database the run cannot be judged; say so rather than repeat the error.
        "statements": check_statements()
        if database["ok"]
        else {"ok": False, "error": "database unavailable"},
    }
    healthy = all(check["ok"] for check in checks.values())
    body: dict[str, Any] = {"status": "ok" if healthy else "failing"}
    if _may_see_details(request):
        body["checks"] = checks
    return JsonResponse(body, status=200 if healthy else 503)


def _may_see_details(request: HttpRequest) -> bool:
    """Staff signed in, or a monitor presenting ``HEALTHZ_TOKEN`` (``Authorization: Bearer
    …``). Anyone else learns only ok or failing: how many statements are owed, or which
    part is down, is not for anonymous visitors."""
    from slaportal.roles import is_staff_member

    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and is_staff_member(user):
        return True
    token = getattr(settings, "HEALTHZ_TOKEN", "")
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    return bool(token) and constant_time_compare(given, token)
