"""Optional error reporting: with SENTRY_DSN set, an unhandled error in a request (or a
task) reaches Sentry with its stack, environment and release, and without the request's
body, cookies, credentials, the visitor's address or who the user is. Sentry is the
outside world here: a real HTTP server on loopback receives what the SDK sends."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from io import BytesIO
from urllib.parse import urlencode
from wsgiref.util import setup_testing_defaults

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from slaportal import observability
from slaportal.celery import app
from slaportal.wsgi import application


class Boom(RuntimeError):
    pass


@csrf_exempt
def boom(request):
    raise Boom("the statement run fell over")


# This module is also the URL conf of its request test (``pytest.mark.urls``).
urlpatterns = [path("boom/", boom)]


@pytest.fixture
def sentry(webhook_receiver, monkeypatch) -> Iterator[None]:
    """The SDK initialised as settings does with SENTRY_DSN set, sending to the loopback
    server. The client is closed afterwards: the integrations' hooks stay in this
    process but do nothing without it."""
    import sentry_sdk

    monkeypatch.setenv("SENTRY_ENVIRONMENT", "staging")
    monkeypatch.setenv("SENTRY_RELEASE", "slaportal@1.2.3")
    previous = sentry_sdk.get_global_scope().client
    observability.init_sentry(f"http://public-key@127.0.0.1:{webhook_receiver.port}/42")
    try:
        yield
    finally:
        sentry_sdk.get_client().close(timeout=2)
        sentry_sdk.get_global_scope().set_client(previous)


def received(receiver) -> list[dict]:
    """The events among the envelopes the loopback server got (each item's header says
    its type; the body is compressed with brotli or gzip, as the SDK chose)."""
    import brotli
    import sentry_sdk

    sentry_sdk.flush(timeout=5)
    events = []
    for request in receiver.received:
        assert request.path == "/api/42/envelope/"
        body = request.body
        encoding = request.headers.get("content-encoding")
        if encoding in ("br", "gzip"):
            body = brotli.decompress(body) if encoding == "br" else gzip.decompress(body)
        lines = body.split(b"\n")
        for header, payload in zip(lines[1::2], lines[2::2], strict=False):
            if json.loads(header).get("type") == "event":
                events.append(json.loads(payload))
    return events


@pytest.mark.urls("tests.slaportal.test_sentry")
def test_a_request_error_reaches_sentry_without_body_cookies_credentials_or_user(
    sentry, webhook_receiver, customer_user
):
    signed_in = Client()
    signed_in.force_login(customer_user, backend="contracts.backends.PortalBackend")
    session = signed_in.cookies["sessionid"].value
    body = urlencode({"password": "hunter2-body", "note": "the customer's own words"}).encode()
    # Through the WSGI application itself, as gunicorn calls it (the SDK reads the
    # request's method, URL and headers there).
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/boom/",
        "QUERY_STRING": "page=2",
        "HTTP_HOST": "testserver",
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": BytesIO(body),
        "HTTP_COOKIE": f"sessionid={session}; tracking=cookie-value-7",
        "HTTP_AUTHORIZATION": "Bearer api-token-9",
        "HTTP_USER_AGENT": "Probe/1.0",
        "REMOTE_ADDR": "198.51.100.7",
    }
    setup_testing_defaults(environ)
    statuses = []
    # As the test client does: the request must not close the test's connection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        b"".join(application(environ, lambda status, headers: statuses.append(status)))
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    assert statuses == ["500 Internal Server Error"]

    [event] = received(webhook_receiver)
    assert event["exception"]["values"][-1]["type"] == "Boom"
    assert event["exception"]["values"][-1]["value"] == "the statement run fell over"
    assert (event["environment"], event["release"]) == ("staging", "slaportal@1.2.3")
    request = event["request"]
    assert (request["method"], request["url"]) == ("POST", "http://testserver/boom/")
    assert request["headers"]["User-Agent"] == "Probe/1.0"
    assert {h.lower() for h in request["headers"]}.isdisjoint({"authorization", "cookie"})
    assert "data" not in request and "cookies" not in request
    assert "REMOTE_ADDR" not in request.get("env", {})
    assert "user" not in event
    sent = json.dumps(event)
    for secret in (
        "hunter2-body",
        "customer's own words",
        "cookie-value-7",
        "api-token-9",
        "198.51.100.7",
        session,
        customer_user.email,
    ):
        assert secret not in sent, secret


def test_a_task_error_reaches_sentry(sentry, webhook_receiver, celery_eager):
    @app.task(name="tests.sentry_failing_task")
    def failing() -> None:
        raise Boom("a task fell over")

    with pytest.raises(Boom):
        failing.delay()
    [event] = received(webhook_receiver)
    assert event["exception"]["values"][-1]["type"] == "Boom"
    assert event["exception"]["values"][-1]["mechanism"]["type"] == "celery"


def test_tracing_is_off_unless_a_sample_rate_is_given(monkeypatch):
    monkeypatch.delenv("SENTRY_TRACES_SAMPLE_RATE", raising=False)
    assert observability.traces_sample_rate() == 0
    monkeypatch.setenv("SENTRY_TRACES_SAMPLE_RATE", "0.05")
    assert observability.traces_sample_rate() == 0.05
    for bad in ("lots", "1.5", "-0.1"):
        monkeypatch.setenv("SENTRY_TRACES_SAMPLE_RATE", bad)
        with pytest.raises(ImproperlyConfigured, match="SENTRY_TRACES_SAMPLE_RATE"):
            observability.traces_sample_rate()


def test_without_a_dsn_nothing_is_set_up():
    import sentry_sdk

    observability.init_sentry(None)
    observability.init_sentry("")
    assert not sentry_sdk.get_client().is_active()
