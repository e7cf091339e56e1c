"""Error reporting: Sentry when SENTRY_DSN is set, nothing otherwise.

What reaches Sentry is the error, its stack and the request's method, URL and harmless
headers: never who the user is, their address, their cookies, the request's body (a
ticket's text, a password form, an uploaded file), credentials or the values of the
SQL queries that ran. The portal holds customers' contracts and money; the error
tracker is a third party. sentry-sdk 3 expresses this with ``data_collection`` (it
replaced ``send_default_pii``, whose default no longer applies: user details are
collected unless turned off); ``before_send`` strips the request's fields again, so a
later default of the SDK or an integration that fills them in cannot leak them.

Performance tracing is off unless ``SENTRY_TRACES_SAMPLE_RATE`` asks for a share of the
requests and tasks (0 to 1).

Metrics: ``gunicorn_on_starting`` is gunicorn's start hook for prometheus_client's
multiprocess mode (portal/metrics.py says why the web processes run in it).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from slaportal import env

# Request headers that carry credentials or the session, whatever the SDK's own list says.
PRIVATE_HEADERS = frozenset(
    {"authorization", "cookie", "proxy-authorization", "x-csrftoken", "x-api-key"}
)


def traces_sample_rate(name: str = "SENTRY_TRACES_SAMPLE_RATE") -> float:
    """A share between 0 and 1; unset means 0 (no tracing). A bad value stops start-up."""
    value = env.string(name, "0") or "0"
    try:
        rate = float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a number between 0 and 1.") from None
    if not 0 <= rate <= 1:
        raise ImproperlyConfigured(f"{name}={value!r} is not a number between 0 and 1.")
    return rate


def scrub(event: dict[str, Any], hint: dict[str, Any] | None = None) -> dict[str, Any]:
    """``before_send``: the event without the request's body, cookies, credentials, the
    visitor's address or the user."""
    request = event.get("request")
    if isinstance(request, dict):
        request.pop("data", None)
        request.pop("cookies", None)
        if isinstance(request.get("env"), dict):
            request["env"].pop("REMOTE_ADDR", None)  # the visitor's address is theirs too
        headers = request.get("headers")
        if isinstance(headers, dict):
            request["headers"] = {
                name: value
                for name, value in headers.items()
                if name.lower() not in PRIVATE_HEADERS
            }
    event.pop("user", None)
    return event


def init_sentry(dsn: str | None) -> None:
    if not dsn:
        return
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        environment=env.string("SENTRY_ENVIRONMENT", "production"),
        # Unset: the SDK's guess (SENTRY_RELEASE, else the git commit it can find).
        release=env.string("SENTRY_RELEASE"),
        traces_sample_rate=traces_sample_rate(),
        # No personal data: no user (id, e-mail, address), no cookies, no bodies, and no
        # SQL parameters in the breadcrumbs (they carry e-mail addresses, password
        # hashes, session keys); the SQL itself is kept.
        data_collection={
            "user_info": False,
            "cookies": {"mode": "off"},
            "http_bodies": [],
            "database_query_data": False,
        },
        before_send=scrub,
    )


def gunicorn_on_starting(server: Any = None) -> None:
    """gunicorn's ``on_starting`` hook (gunicorn.conf.py): empty ``PROMETHEUS_MULTIPROC_DIR``
    before the workers start. Each worker process writes its request and query counters
    to files named by its pid there, and a scrape sums every file: files left by the
    previous run's processes would be added to this run's totals, and would pile up with
    every restart."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not folder:
        return
    # Its files, not the folder itself: the folder may be one the service manager made
    # (systemd's RuntimeDirectory) in a parent this process cannot write.
    Path(folder).mkdir(parents=True, exist_ok=True)
    for stale in Path(folder).glob("*.db"):
        stale.unlink()
