"""The suite's clock: every test runs at one instant, never at the real date.

The instant is ``SLA_TEST_NOW`` (ISO 8601 with a UTC offset, e.g.
``2027-03-01T05:00:00Z``), ``DEFAULT_NOW`` when unset; tests/conftest.py travels there
(time-machine) for each test, and ``make test-edges`` runs the tests marked ``edges`` at
each of its awkward instants. A process a test starts (a real Celery worker, ``celery
call``, ``manage.py``) has the real clock; ``command()`` runs it through this module so
that it shares the test's clock instead::

    python -m tests.support.clock 2027-03-01T05:00:00+00:00 -m celery -A slaportal worker
    python -m tests.support.clock 2027-03-01T05:00:00+00:00 manage.py shell -c "..."
"""

from __future__ import annotations

import os
import runpy
import sys
import time
from datetime import UTC, datetime

import time_machine

# A Wednesday in the middle of a month, 10:00 in New York and 09:00 in Chicago: the help
# desk is open, no month or DST change is near, and it is after every month that the
# tests' fixed data (mostly 2026) needs to have ended.
DEFAULT_NOW = "2026-11-18T15:00:00Z"


def parse_instant(text: str) -> datetime:
    """An ISO 8601 instant with an explicit offset, as an aware UTC datetime."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(f"SLA_TEST_NOW={text!r} is not an ISO 8601 instant") from exc
    if moment.tzinfo is None:
        raise ValueError(f"SLA_TEST_NOW={text!r} has no UTC offset (add Z or +00:00)")
    return moment.astimezone(UTC)


def suite_now() -> datetime:
    """The instant this run's tests start at."""
    return parse_instant(os.environ.get("SLA_TEST_NOW") or DEFAULT_NOW)


def suite_instants() -> list[datetime]:
    """The instants of SLA_TEST_INSTANTS (space- or comma-separated), at each of which
    ``make test-edges`` runs the tests marked ``edges``; none when unset."""
    text = os.environ.get("SLA_TEST_INSTANTS", "").replace(",", " ")
    return [parse_instant(part) for part in text.split()]


def command(*args: str) -> list[str]:
    """``[python, *args]`` run on the caller's clock (its "now", ticking on from there)."""
    return [sys.executable, "-m", "tests.support.clock", datetime.now(UTC).isoformat(), *args]


def main(argv: list[str]) -> None:
    instant, *rest = argv
    time_machine.travel(parse_instant(instant), tick=True).start()
    # Start the clock running now: a prefork worker's children inherit a started clock
    # rather than each starting its own at the instant when it first reads the time.
    time.time()
    if rest[:1] == ["-m"]:
        module, *args = rest[1:]
        sys.argv = [module, *args]
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    else:
        script, *args = rest
        sys.argv = [script, *args]
        runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main(sys.argv[1:])
