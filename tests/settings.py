"""Settings for the test run: the real settings, with a throwaway key and plain HTTP."""

import os
from pathlib import Path

os.environ.setdefault("SECRET_KEY", "tests-only-secret-key-" + "x" * 40)
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("SESSION_COOKIE_SECURE", "0")
os.environ.setdefault("CSRF_COOKIE_SECURE", "0")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
# Files the tests write (stored PDFs, .eml mail) go under a folder per pytest-xdist worker:
# two workers' test databases hand out the same ids, so the same statement number, and
# must not overwrite each other's documents.
os.environ.setdefault(
    "VAR_DIR",
    str(
        Path(__file__).resolve().parent.parent
        / "var"
        / "tests"
        / os.environ.get("PYTEST_XDIST_WORKER", "main")
    ),
)

# Account managers' and administrators' second factor is off for the suite, whose clients
# sign staff in directly; tests/slaportal/test_two_factor.py turns it on and goes through
# it.
os.environ.setdefault("REQUIRE_TWO_FACTOR", "0")

Path(os.environ["VAR_DIR"]).mkdir(parents=True, exist_ok=True)
# WhiteNoise serves STATIC_ROOT; the suite never runs collectstatic into it.
(Path(os.environ["VAR_DIR"]) / "static").mkdir(exist_ok=True)

from slaportal.settings import *  # noqa: E402,F403

# django-prometheus wraps the database backends; pytest-django recognises SQLite (an
# in-memory test database, no per-worker name) by the plain engine's name only.
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    DATABASES["default"].setdefault("TEST", {})["NAME"] = ":memory:"  # noqa: F405

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# The fuzz and the authority matrix send hundreds of requests per account in seconds, and
# ids repeat across tests (each rolls back): no rate the suite could reach by accident.
# tests/slaportal/test_api_throttling.py sets real rates.
REST_FRAMEWORK = {
    **REST_FRAMEWORK,  # noqa: F405
    "DEFAULT_THROTTLE_RATES": {"anon": "1000000/minute", "user": "1000000/minute"},
}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

# The staff idle clock is written at most once per this many seconds. A minute in
# production; here longer than any test's run of requests, so the query-count tests (which
# compare requests made before and after building more data, possibly more than a minute
# apart on a loaded machine) never see that time-driven session write. The idle tests
# travel 25+ minutes between requests, so they still move the clock.
STAFF_SESSION_REFRESH_SECONDS = 600
# Static files as they are in the source tree: the hashed manifest is made by collectstatic
# at release time (tests/slaportal/test_static_files.py runs that path for real).
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
