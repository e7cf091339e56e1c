"""Structured logs: every line of a request carries its request id (taken from a safe
X-Request-ID or made up, and returned in the response); every line of a task carries
the task's id and name; JSON lines in production, plain text on request."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from celery import Celery

from slaportal import logging as context
from slaportal.celery import app

ROOT = Path(__file__).resolve().parents[2]
log = logging.getLogger("tests.logging")


@app.task(name="tests.log_something")
def log_something(text: str) -> str:
    log.warning("task says %s", text)
    return text


@pytest.fixture
def lines():
    """The lines the configured console handler writes, parsed from JSON (tests run with
    the production default, LOG_FORMAT=json)."""
    handler = next(
        h
        for h in logging.getLogger().handlers
        if any(isinstance(f, context.ContextFilter) for f in h.filters)
    )
    buffer = io.StringIO()
    # Swapped without setStream(), which flushes the old stream first: that may be a
    # capture file an earlier test's runner has closed already.
    previous, handler.stream = handler.stream, buffer
    try:
        yield lambda: [json.loads(line) for line in buffer.getvalue().splitlines()]
    finally:
        handler.stream = previous


def test_every_line_of_a_request_carries_the_id_it_came_with(client, db, settings, lines):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # a warning logged by the view
    response = client.get("/healthz", headers={"X-Request-ID": "lb-7f3a.42"})
    assert response["X-Request-ID"] == "lb-7f3a.42"
    records = lines()
    assert {r["logger"] for r in records} >= {"portal.health", "slaportal.request"}
    assert all(r["request_id"] == "lb-7f3a.42" for r in records)
    access = next(r for r in records if r["logger"] == "slaportal.request")
    assert access["message"] == "GET /healthz 503"
    assert access["status"] == 503 and access["level"] == "INFO" and "time" in access


def test_an_unsafe_or_missing_request_id_is_replaced_by_a_fresh_one(client, db, lines):
    first = client.get("/healthz", headers={"X-Request-ID": "x\r\nlevel: CRITICAL"})
    second = client.get("/healthz")
    ids = [first["X-Request-ID"], second["X-Request-ID"]]
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)
    assert ids[0] != ids[1]
    assert [r["request_id"] for r in lines()] == ids
    # Outside a request the id is gone again.
    assert context.request_id.get() is None


def test_every_line_of_a_task_carries_its_id_and_name(db, celery_eager, lines):
    result = log_something.delay("hello")
    records = [r for r in lines() if r["logger"] == "tests.logging"]
    assert len(records) == 1
    assert records[0]["message"] == "task says hello"
    assert records[0]["task_id"] == result.id
    assert records[0]["task_name"] == "tests.log_something"
    assert context.task_id.get() is None and context.task_name.get() is None


def test_a_task_runs_under_the_request_id_it_was_sent_with(db, lines):
    log_something.apply(args=["again"], headers={"request_id": "req-from-web"})
    (record,) = [r for r in lines() if r["logger"] == "tests.logging"]
    assert record["request_id"] == "req-from-web"
    assert context.request_id.get() is None


def test_a_task_sent_during_a_request_carries_the_request_id_in_its_headers():
    broker = Celery("publish-test", broker="memory://", set_as_current=False)

    @broker.task(name="tests.noop")
    def sent() -> None:
        return None

    # A queue of its own: kombu's memory transport is shared by the whole process.
    queue = f"request-id-{uuid.uuid4().hex}"
    token = context.request_id.set("req-123")
    try:
        sent.apply_async(queue=queue)
    finally:
        context.request_id.reset(token)
    with broker.connection_for_read() as connection:
        message = connection.SimpleQueue(queue).get(timeout=2)
        assert message.headers["request_id"] == "req-123"
        assert message.headers["task"] == "tests.noop"
        message.ack()


@pytest.mark.parametrize(("log_format", "json_lines"), [("json", True), ("plain", False)])
def test_log_format_chooses_json_or_plain_text(log_format, json_lines):
    script = (
        "import django, logging; django.setup(); "
        "logging.getLogger('probe').warning('hello %s', 'there')"
    )
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"},
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "LOG_FORMAT": log_format,
    }
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    line = result.stderr.strip().splitlines()[-1]
    if json_lines:
        record = json.loads(line)
        assert record["message"] == "hello there"
        assert record["level"] == "WARNING" and record["logger"] == "probe"
        assert record["request_id"] is None and record["task_id"] is None
    else:
        assert line.endswith("WARNING probe [request=None task=None] hello there")


def test_an_unknown_log_format_stops_start_up():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "LOG_FORMAT": "xml"}
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "LOG_FORMAT='xml' is not json or plain" in result.stderr
