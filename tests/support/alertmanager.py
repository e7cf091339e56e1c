"""A real Prometheus Alertmanager on loopback for the alert intake tests: Debian's
prometheus-alertmanager, one per test, in a throwaway directory, without clustering,
routing every alert to the portal's webhook (a live server) with a source's bearer
token. Alerts are fed through its HTTP API (``POST /api/v2/alerts``) and it delivers them
as it would in production: grouped, repeated, regrouped, resolved.

Alertmanager runs on the real clock, the portal on the tests' (tests/support/clock.py),
which lies before it: the alerts' times, past to the portal, are past to Alertmanager too.
Without the binary (``ALERTMANAGER_PATH``, default /usr/bin/prometheus-alertmanager) the
tests skip, unless REQUIRE_SERVICES=1."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tests.support.requirements import REQUIRE_SERVICES, need
from tests.support.smtp import free_port

ALERTMANAGER = os.environ.get("ALERTMANAGER_PATH", "/usr/bin/prometheus-alertmanager")
T = TypeVar("T")


@dataclass(frozen=True)
class Alertmanager:
    url: str
    log: Path

    def post(self, *alerts: dict[str, Any]) -> None:
        """Feed alerts through Alertmanager's API, as Prometheus does."""
        request = urllib.request.Request(
            f"{self.url}/api/v2/alerts",
            data=json.dumps(list(alerts)).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                assert response.status == 200, response.read()
        except urllib.error.HTTPError as exc:
            pytest.fail(f"Alertmanager refused the alerts: {exc.read()!r}\n{self.log_tail()}")

    def requests(self) -> tuple[int, int]:
        """(webhook requests made, of which failed), from Alertmanager's metrics: a request
        is counted once the portal has answered it, so after it has done its work."""
        with urllib.request.urlopen(f"{self.url}/metrics", timeout=5) as response:
            lines = response.read().decode().splitlines()
        counts = {}
        for name in ("requests_total", "requests_failed_total"):
            metric = f'alertmanager_notification_{name}{{integration="webhook"}} '
            found = [line.removeprefix(metric) for line in lines if line.startswith(metric)]
            counts[name] = int(float(found[0])) if found else 0
        return counts["requests_total"], counts["requests_failed_total"]

    def delivered(self) -> int:
        """Webhook requests the portal has answered with success."""
        made, failed = self.requests()
        return made - failed

    def log_tail(self) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else "(no log)"
        return text[-4000:]


def config(webhook: str, token: str, *, regroup: bool = False) -> dict[str, Any]:
    """Everything to the portal, grouped by alert name, flushed after a second, never
    repeated during a test. ``regroup``: a second route also takes every alert, grouped by
    service, so each alert reaches the portal in two groups' payloads."""
    route: dict[str, Any] = {
        "receiver": "portal",
        "group_by": ["alertname"],
        "group_wait": "1s",
        "group_interval": "1s",
        "repeat_interval": "24h",
    }
    if regroup:
        route["routes"] = [
            {"receiver": "portal", "group_by": ["alertname"], "continue": True},
            {"receiver": "portal", "group_by": ["service"]},
        ]
    receiver = {
        "url": webhook,
        "send_resolved": True,
        "http_config": {"authorization": {"type": "Bearer", "credentials": token}},
    }
    return {"route": route, "receivers": [{"name": "portal", "webhook_configs": [receiver]}]}


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/-/ready", timeout=0.5) as response:
            return response.status == 200
    except OSError:
        return False


@contextmanager
def running(webhook: str, token: str, *, regroup: bool = False) -> Iterator[Alertmanager]:
    root = Path(tempfile.mkdtemp(prefix="alertmanager-"))
    port = free_port()
    # JSON is YAML: no quoting to get wrong in the URL or the token.
    (root / "alertmanager.yml").write_text(json.dumps(config(webhook, token, regroup=regroup)))
    manager = Alertmanager(f"http://127.0.0.1:{port}", root / "alertmanager.log")
    with open(manager.log, "wb") as log:
        process = subprocess.Popen(
            [
                ALERTMANAGER,
                f"--config.file={root / 'alertmanager.yml'}",
                f"--storage.path={root / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--cluster.listen-address=",  # empty: no gossip, no other peers
                "--log.level=debug",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        # Polled by count, not by the clock: the tests' clock is not the real one.
        for _ in range(100):
            if process.poll() is not None or _ready(manager.url):
                break
            time.sleep(0.1)
        if not _ready(manager.url):
            pytest.fail(f"Alertmanager did not start:\n{manager.log_tail()}")
        yield manager
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(name="start_alertmanager")
def start_alertmanager_fixture() -> Iterator[Callable[..., Alertmanager]]:
    """``start_alertmanager(webhook_url, token, regroup=False)``: an Alertmanager sending
    to the webhook, stopped when the test ends."""
    need(
        os.access(ALERTMANAGER, os.X_OK),
        f"needs Alertmanager at {ALERTMANAGER} (apt-get install prometheus-alertmanager, "
        "or ALERTMANAGER_PATH)",
        required=REQUIRE_SERVICES,
    )
    with ExitStack() as stack:
        yield lambda webhook, token, **kw: stack.enter_context(running(webhook, token, **kw))


def wait_for(check: Callable[[], T], what: str, manager: Alertmanager, seconds: float = 30) -> T:
    """Poll ``check`` (the database, usually) until it gives something true; fail with
    Alertmanager's log when ``seconds`` of real time pass first."""
    deadline = time.monotonic() + seconds  # the real clock: time-machine leaves it be
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"waited {seconds} s for {what}\nAlertmanager's log:\n{manager.log_tail()}")
        time.sleep(0.1)
