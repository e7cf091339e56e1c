"""Request and task ids in every log record.

The ids live in context variables, set by ``slaportal.middleware.RequestIdMiddleware``
for a request and by Celery's ``task_prerun``/``task_postrun`` signals
(``slaportal.celery``) for a task; ``ContextFilter``, attached to the handlers in
``settings.LOGGING``, copies them onto each record, so a JSON line (``LOG_FORMAT=json``)
or a plain one carries them whichever logger wrote it. Context variables, not
thread-locals: each request of an async or threaded server keeps its own.
"""

from __future__ import annotations

import logging
import re
import uuid
from contextvars import ContextVar

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
task_id: ContextVar[str | None] = ContextVar("task_id", default=None)
task_name: ContextVar[str | None] = ContextVar("task_name", default=None)

# An incoming X-Request-ID is kept only when it is short and plain: it ends up in log
# lines and a response header, so no spaces, quotes or line breaks (log injection).
SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")

PLAIN_FORMAT = (
    "%(asctime)s %(levelname)s %(name)s [request=%(request_id)s task=%(task_id)s] %(message)s"
)
JSON_FORMAT = (
    "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(task_id)s %(task_name)s"
)


def new_request_id(incoming: str | None = None) -> str:
    """The incoming id when it is safe, else a fresh one."""
    if incoming and SAFE_REQUEST_ID.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


class ContextFilter(logging.Filter):
    """Adds ``request_id``, ``task_id`` and ``task_name`` to every record (None outside
    a request or task), never filtering a record out."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        record.task_id = task_id.get()
        record.task_name = task_name.get()
        return True


def logging_config(*, log_format: str, level: str) -> dict:
    """The ``LOGGING`` dict: one console handler, JSON or plain, with the ids."""
    formatters = {
        "plain": {"format": PLAIN_FORMAT},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": JSON_FORMAT,
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": "slaportal.logging.ContextFilter"}},
        "formatters": formatters,
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": log_format,
                "filters": ["context"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
    }
