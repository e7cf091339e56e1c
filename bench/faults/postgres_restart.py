"""Restart PostgreSQL in the middle of a monthly run: the worker's tasks that meet the
broken connection are retried (``OperationalError`` / ``InterfaceError``, with backoff),
reconnect, and the run completes with nothing doubled.

Restarts the machine's cluster with ``pg_ctlcluster`` (as the machine's own start command
does); ``FAULTS_PG_RESTART`` overrides the command. Run it alone: every other client of
that server loses its connection too.
"""

import os
import shlex
import subprocess
import time
from pathlib import Path

import harness as h
from harness import say


def restart_command() -> list[str]:
    if custom := os.environ.get("FAULTS_PG_RESTART"):
        return shlex.split(custom)
    [version] = sorted(p.name for p in Path("/etc/postgresql").iterdir())
    return ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"]


def main() -> bool:
    h.fresh_database()
    from django.db import connection

    from statements.models import Statement

    data = h.build(contracts=24)
    smtp = h.Smtp()
    smtp.start()
    worker = h.worker("only")
    try:
        h.tick()
        say("statements tick sent")
        month = data["month"]
        h.wait_for(lambda: Statement.objects.filter(month=month).count() >= 6, 120, "6 statements")
        done = Statement.objects.filter(month=month).count()
        connection.close()
        command = restart_command()
        began = time.monotonic()
        subprocess.run(command, check=True, capture_output=True, timeout=120)
        say(
            f"PostgreSQL restarted ({' '.join(command)}, {time.monotonic() - began:.1f} s) "
            f"after {done} of 24 statements"
        )
        h.run_to_the_end(data, smtp)
        retried = h.worker_log_count(worker, "Retry in")
        say(f"the run completed after reconnecting; {retried} task retries in the worker's log")
        return h.verify(data, smtp)
    finally:
        worker.stop()
        smtp.stop()


if __name__ == "__main__":
    h.scenario(main)
