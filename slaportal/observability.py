"""Error reporting: Sentry when SENTRY_DSN is set, nothing otherwise."""

from __future__ import annotations


def init_sentry(dsn: str | None) -> None:
    if not dsn:
        return
