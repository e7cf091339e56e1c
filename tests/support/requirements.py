"""What a run requires. A test whose part (PostgreSQL, Chromium, the SLA documents) is
missing skips, unless the run requires that part (REQUIRE_SERVICES=1, REQUIRE_BROWSER=1,
REQUIRE_SLA_DOCUMENTS=1, as in CI): then the skip is a failure."""

from __future__ import annotations

import os

import pytest

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"
REQUIRE_BROWSER = os.environ.get("REQUIRE_BROWSER") == "1"
REQUIRE_SLA_DOCUMENTS = os.environ.get("REQUIRE_SLA_DOCUMENTS") == "1"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def need(condition: bool, why: str, *, required: bool) -> None:
    """Skip (or, when the part is required in this run, fail) unless ``condition``."""
    if condition:
        return
    if required:
        pytest.fail(f"required but unavailable: {why}")
    pytest.skip(why)
