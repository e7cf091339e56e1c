"""Settings come from the environment, fail loudly on bad values, and are safe in production."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.processes import manage

ROOT = Path(__file__).resolve().parents[2]


def test_production_settings_pass_check_deploy_with_no_warnings():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        SECRET_KEY=secrets.token_urlsafe(60),
        ALLOWED_HOSTS="portal.example.com",
        DATABASE_URL="postgres://portal@db.example.com:5432/portal",
        CELERY_BROKER_URL="redis://redis.example.com:6379/0",
        EMAIL_URL="smtp+tls://mailer:secret@smtp.example.com:587",
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_secret_key_is_required_when_debug_is_off():
    result = manage("check", ALLOWED_HOSTS="portal.example.com")
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("DEBUG", "maybe", "DEBUG='maybe' is not a boolean"),
        ("DATABASE_URL", "mysql://root@localhost/portal", "unsupported database"),
        ("CELERY_BROKER_URL", "kafka://localhost", "CELERY_BROKER_URL"),
        ("EMAIL_URL", "sendmail://localhost", "EMAIL_URL"),
        ("AXES_FAILURE_LIMIT", "five", "AXES_FAILURE_LIMIT='five' is not an integer"),
    ],
)
def test_a_bad_value_stops_start_up_naming_the_variable(variable, value, message):
    result = manage("check", **{"DEBUG": "1", variable: value})
    assert result.returncode != 0
    assert message in result.stderr


def test_embedded_defaults_need_no_services(tmp_path):
    script = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='slaportal.settings'; "
        "django.setup(); from django.conf import settings as s; "
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_TASK_ALWAYS_EAGER, s.EMAIL_BACKEND, "
        "s.TIME_ZONE, s.USE_TZ)"
    )
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "EMAIL_URL"}
    }
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**env, "DEBUG": "1", "VAR_DIR": str(tmp_path)},
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django_prometheus.db.backends.sqlite3",
        "True",
        "slaportal.mail.EmlFileBackend",
        "UTC",
        "True",
    ]


def test_demo_mail_is_written_as_eml_files(tmp_path, settings):
    from django.core.mail import send_mail

    settings.EMAIL_BACKEND = "slaportal.mail.EmlFileBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path)
    send_mail("Statement ready", "Your statement is attached.", None, ["billing@acme.example"])
    files = list(tmp_path.glob("*.eml"))
    assert len(files) == 1
    text = files[0].read_text()
    assert "Subject: Statement ready" in text
    assert "To: billing@acme.example" in text


def test_check_deploy_warns_when_two_factor_is_turned_off():
    result = manage(
        "check",
        "--deploy",
        SECRET_KEY=secrets.token_urlsafe(60),
        ALLOWED_HOSTS="portal.example.com",
        REQUIRE_TWO_FACTOR="0",
    )

    assert "slaportal.W001" in result.stdout + result.stderr
