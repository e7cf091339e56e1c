"""The one place that reads configuration from the environment.

django-environ parses URLs; this wrapper makes every bad value fail loudly at
start-up (``ImproperlyConfigured`` naming the variable) instead of silently
falling back to a default.
"""

from __future__ import annotations

import os
from typing import Any

import environ
from django.core.exceptions import ImproperlyConfigured

_env = environ.Env()

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}

DB_ENGINES = {
    "django.db.backends.sqlite3",
    "django.db.backends.postgresql",
}
EMAIL_SCHEMES = ("smtp://", "smtps://", "smtp+tls://", "smtp+ssl://")


def _raw(name: str) -> str | None:
    value = os.environ.get(name)
    return None if value is None else value.strip()


def string(name: str, default: str | None = None, *, required: bool = False) -> str | None:
    value = _raw(name)
    if value:
        return value
    if required:
        raise ImproperlyConfigured(f"{name} must be set.")
    return default


def boolean(name: str, default: bool) -> bool:
    value = _raw(name)
    if value is None:
        return default
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean (use 1/0, true/false, yes/no).")


def integer(name: str, default: int, *, minimum: int | None = None) -> int:
    value = _raw(name)
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not an integer.") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name}={number} must be at least {minimum}.")
    return number


def string_list(name: str, default: list[str]) -> list[str]:
    value = _raw(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def database(name: str, default: str) -> dict[str, Any]:
    url = _raw(name) or default
    try:
        config = _env.db_url_config(url)
    except Exception as exc:  # environ raises assorted errors on malformed URLs
        raise ImproperlyConfigured(f"{name}={url!r} is not a database URL: {exc}") from None
    if config.get("ENGINE") == "django.db.backends.postgresql_psycopg2":
        config["ENGINE"] = "django.db.backends.postgresql"
    if config.get("ENGINE") not in DB_ENGINES:
        raise ImproperlyConfigured(
            f"{name}={url!r}: unsupported database; use sqlite:///path or postgres://…"
        )
    if config["ENGINE"] == "django.db.backends.postgresql" and not config.get("NAME"):
        raise ImproperlyConfigured(f"{name}={url!r} names no database.")
    return config


def email(name: str) -> dict[str, Any] | None:
    """SMTP settings from a URL such as ``smtp+tls://user:pass@host:587``; None when unset."""
    url = _raw(name)
    if not url:
        return None
    if not url.startswith(EMAIL_SCHEMES):
        raise ImproperlyConfigured(
            f"{name}={url!r}: use smtp://, smtp+tls:// or smtp+ssl:// (unset for .eml files)."
        )
    config = _env.email_url_config(url)
    if not config.get("EMAIL_HOST"):
        raise ImproperlyConfigured(f"{name}={url!r} names no host.")
    return config


def url(name: str, *, schemes: tuple[str, ...]) -> str | None:
    value = _raw(name)
    if not value:
        return None
    if not value.startswith(schemes):
        raise ImproperlyConfigured(f"{name}={value!r} must start with one of {', '.join(schemes)}.")
    return value
