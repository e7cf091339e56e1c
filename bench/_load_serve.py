"""bench/load.py's processes (not a benchmark itself: ``make bench`` runs
``bench/[!_]*.py``): the SMTP server, the Celery worker and gunicorn as the Procfile runs
them, and a meter of their CPU time (and PostgreSQL's and Locust's)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LOCUSTFILE = ROOT / "bench" / "load" / "locustfile.py"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def process(command: list[str], log: Path, env: dict[str, str]):
    with log.open("w") as out:
        child = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)
        try:
            yield child
        finally:
            child.terminate()
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()


def wait_for(check, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not start within {seconds:.0f} s")


def serve(
    stack: ExitStack, workdir: Path, args: Any, env: dict[str, str], broker: str
) -> tuple[str, dict]:
    """SMTP on loopback, the Celery worker and gunicorn; the host and their processes."""
    import redis

    redis.Redis.from_url(broker).flushdb()
    smtp_port, web_port = free_port(), free_port()
    env = os.environ | env | {"CELERY_BROKER_URL": broker}
    env |= {"EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}", "EMAIL_TIMEOUT": "10"}
    smtp = [sys.executable, "-m", "aiosmtpd", "-n", "-c", "aiosmtpd.handlers.Sink"]
    stack.enter_context(process([*smtp, "-l", f"127.0.0.1:{smtp_port}"], workdir / "smtp.log", env))
    wait_for(lambda: socket.create_connection(("127.0.0.1", smtp_port), 1).close() or True, "SMTP")
    worker = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "slaportal",
        "worker",
        "-Q",
        "celery,statements",
    ]
    worker += ["-n", "load@%h", "--concurrency", "2"]
    celery = stack.enter_context(process(worker, workdir / "worker.log", env))
    web = [sys.executable, "-m", "gunicorn", "slaportal.wsgi", "--workers", str(args.workers)]
    web += ["--threads", str(args.threads), "--bind", f"127.0.0.1:{web_port}", "--timeout", "120"]
    gunicorn = stack.enter_context(process(web, workdir / "gunicorn.log", env))
    host = f"http://127.0.0.1:{web_port}"

    def answers() -> bool:
        if gunicorn.poll() is not None:
            raise RuntimeError((workdir / "gunicorn.log").read_text())
        with urllib.request.urlopen(f"{host}/accounts/login/", timeout=5) as response:
            return response.status == 200

    wait_for(answers, "gunicorn")
    return host, {"gunicorn": gunicorn.pid, "celery worker": celery.pid}


class CpuMeter:
    """CPU seconds of each group of processes (gunicorn, the worker, PostgreSQL, Locust),
    sampled every 0.5 s per process, so that any window's share can be read afterwards —
    including processes that start or end inside it (a PostgreSQL backend, a pool
    process the worker replaces): each counts from its first to its last sample."""

    def __init__(self, roots: dict[str, int]) -> None:
        import psutil

        self.psutil, self.roots, self.samples = psutil, roots, []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _groups(self) -> dict[int, tuple[str, float]]:
        found = {}
        for each in self.psutil.process_iter(["pid", "name", "cmdline", "cpu_times", "ppid"]):
            times, group = each.info["cpu_times"], self._group_of(each)
            if times is not None and group:
                found[each.info["pid"]] = (group, times.user + times.system)
        return found

    def _group_of(self, each) -> str | None:
        if (each.info["name"] or "").startswith("postgres"):
            return "postgresql"
        line = " ".join(each.info["cmdline"] or [])
        if "locust" in line and str(LOCUSTFILE) in line:
            return "locust"
        for name, pid in self.roots.items():
            if each.info["pid"] == pid or each.info["ppid"] == pid:
                return name
        return None

    def _run(self) -> None:
        while not self.stop.is_set():
            self.samples.append((time.time(), self._groups()))
            self.stop.wait(0.5)

    def between(self, start: float, end: float) -> dict[str, float]:
        inside = [s for s in self.samples if start - 0.5 <= s[0] <= end + 0.5]
        first: dict[int, float] = {}
        last: dict[int, tuple[str, float]] = {}
        for i, (_, found) in enumerate(inside):
            for pid, (group, spent) in found.items():
                first.setdefault(pid, spent if i == 0 else 0.0)  # born inside: all of it
                last[pid] = (group, spent)
        totals = dict.fromkeys([*self.roots, "postgresql", "locust"], 0.0)
        for pid, (group, spent) in last.items():
            totals[group] += spent - first[pid]
        return {k: round(v, 1) for k, v in totals.items()}
