"""Threads released at once, to prove a rule holds under concurrency."""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.db import connection


def run_concurrently(fn: Callable[[int], object], n: int) -> list[object]:
    """Run ``fn(i)`` in ``n`` threads released together; returns each result or exception.

    Each thread has its own database connection (Django's are per thread) and closes it,
    so the test database can be dropped afterwards.
    """
    barrier = threading.Barrier(n)
    results: list[object] = [None] * n

    def worker(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[i] = fn(i)
        except Exception as exc:  # noqa: BLE001 — the test inspects what each thread got
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a thread hung (deadlock?)"
    return results
