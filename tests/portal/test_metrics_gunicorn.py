"""/metrics counts every request and query (django-prometheus), summed over every gunicorn
worker through PROMETHEUS_MULTIPROC_DIR whichever worker answers the scrape."""

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
from pathlib import Path

import pytest
import requests
from django.db import connection
from django.test import Client

from tests.support.metrics_scrape import TOKEN, samples, scrape, series

ROOT = Path(__file__).resolve().parents[2]


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
