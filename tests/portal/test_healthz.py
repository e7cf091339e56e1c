"""/healthz: a check per part for monitoring, 200 when all are healthy, 503 naming the
part that is not to staff and a monitor with the token; no login, nothing secret in the
body."""

from __future__ import annotations

import socket
from datetime import UTC, date, datetime
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test import Client

from tests.support.factories import catalog_contract

JUNE = date(2026, 6, 1)
# Two days after June ended everywhere: past the 24 h grace.
JULY_3RD = datetime(2026, 7, 3, 12, tzinfo=UTC)


@pytest.fixture
def client(client, settings):
    """The monitor's client: it presents HEALTHZ_TOKEN, so /healthz shows each check."""
    settings.HEALTHZ_TOKEN = "monitor-token-for-tests"
    client.defaults["HTTP_AUTHORIZATION"] = "Bearer monitor-token-for-tests"
    return client


def _closed_port() -> int:
    """A local port nobody listens on (bound, noted, released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_healthy_demo_answers_200_without_login_and_says_the_broker_is_eager(client, db, settings):
    settings.CELERY_BROKER_URL = None
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"]
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == {"ok": True}
    assert body["checks"]["broker"] == {"ok": True, "mode": "eager"}
    assert body["checks"]["statements"]["ok"] is True
    assert body["checks"]["statements"]["last_success"] is None


def test_a_broker_that_is_down_is_a_503_naming_the_broker_without_its_address(client, db, settings):
    port = _closed_port()
    settings.CELERY_BROKER_URL = f"redis://:hunter2@127.0.0.1:{port}/0"
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "failing"
    assert body["checks"]["broker"]["ok"] is False
    assert body["checks"]["broker"]["error"].startswith("cannot reach the broker")
    assert body["checks"]["database"]["ok"] is True
    text = response.content.decode()
    assert "hunter2" not in text and str(port) not in text and "127.0.0.1" not in text


@pytest.mark.skipif(
    not __import__("os").environ.get("CELERY_BROKER_URL"), reason="no broker configured"
)
def test_a_reachable_broker_is_healthy(client, db, settings):
    import os

    settings.CELERY_BROKER_URL = os.environ["CELERY_BROKER_URL"]
    body = client.get("/healthz").json()
    assert body["checks"]["broker"] == {"ok": True, "mode": "broker"}


def test_a_database_that_fails_is_a_503(client, db, settings, monkeypatch):
    settings.CELERY_BROKER_URL = None

    class Unreachable:
        def cursor(self):
            raise connection.Database.OperationalError("server closed the connection")

    monkeypatch.setattr("portal.health.connection", Unreachable())
    response = client.get("/healthz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"]["ok"] is False
    assert checks["database"]["error"] == "cannot reach the database (OperationalError)"
    assert checks["statements"] == {"ok": False, "error": "database unavailable"}


def test_a_month_still_owed_past_the_grace_is_a_503_until_the_run_issues_it(
    client, catalog, customer, statement_media, settings, celery_eager
):
    settings.CELERY_BROKER_URL = None
    catalog_contract(
        customer, "heretto-ccms", {"Heretto CCMS": "4000.00"}, start=JUNE, reference="C-NY"
    )
    # On July 1st at 12:00 UTC June ended only hours ago: not owed yet.
    with time_machine.travel(datetime(2026, 7, 1, 12, tzinfo=UTC), tick=False):
        assert client.get("/healthz").status_code == 200

    with time_machine.travel(JULY_3RD, tick=False):
        response = client.get("/healthz")
        assert response.status_code == 503
        statements = response.json()["checks"]["statements"]
        assert statements["contracts_owed"] == 1
        assert statements["month"] == "2026-06"
        assert "1 contract(s) still have no statement for 2026-06" in statements["error"]

        call_command("generate_statements", "--month", "2026-06", stdout=StringIO())
        response = client.get("/healthz")
    assert response.status_code == 200
    statements = response.json()["checks"]["statements"]
    assert statements["contracts_owed"] == 0
    assert statements["last_success"]["month"] == "2026-06"
    assert statements["last_success"]["age_seconds"] == 0


def test_healthz_is_exempt_from_the_https_redirect_but_other_pages_are_not(db, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.CELERY_BROKER_URL = None
    client = Client()
    assert client.get("/healthz").status_code == 200
    assert client.get("/accounts/login/").status_code == 301


def test_healthz_answers_only_get(client, db):
    assert client.post("/healthz").status_code == 405


def test_the_demo_is_healthy(
    client, catalog, settings, tmp_path, django_capture_on_commit_callbacks, celery_eager
):
    settings.MEDIA_ROOT = tmp_path
    settings.CELERY_BROKER_URL = None
    with django_capture_on_commit_callbacks(execute=True):
        call_command("demo", stdout=StringIO())
    response = client.get("/healthz")
    assert response.status_code == 200, response.json()
    assert response.json()["checks"]["statements"]["last_success"] is not None


def test_anonymous_callers_learn_only_ok_or_failing(db, settings):
    settings.CELERY_BROKER_URL = None
    settings.HEALTHZ_TOKEN = "monitor-token-for-tests"
    anonymous = Client()
    assert anonymous.get("/healthz").json() == {"status": "ok"}
    wrong = Client(HTTP_AUTHORIZATION="Bearer not-the-token")
    assert wrong.get("/healthz").json() == {"status": "ok"}

    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{_closed_port()}/0"
    response = anonymous.get("/healthz")
    assert (response.status_code, response.json()) == (503, {"status": "failing"})


def test_signed_in_staff_see_each_check_and_customers_do_not(db, settings, agent, customer_user):
    settings.CELERY_BROKER_URL = None
    staff = Client()
    staff.force_login(agent)
    assert set(staff.get("/healthz").json()["checks"]) == {"database", "broker", "statements"}
    customer = Client()
    customer.force_login(customer_user)
    assert customer.get("/healthz").json() == {"status": "ok"}
