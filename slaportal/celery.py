import logging.config
import os
from typing import Any

from celery import Celery
from celery.signals import before_task_publish, setup_logging, task_postrun, task_prerun

from slaportal import logging as context

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "slaportal.settings")

app = Celery("slaportal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def routed_queues() -> list[str]:
    """The default queue, then every queue a route names (``CELERY_TASK_ROUTES``): what
    one worker must consume to run every task. The Procfile splits them between two
    worker lines; tests and fault scripts start a single worker on all of them."""
    queues = [app.conf.task_default_queue]
    for route in (app.conf.task_routes or {}).values():
        if route["queue"] not in queues:
            queues.append(route["queue"])
    return queues


# The context tokens of the task running in this process, reset when it ends.
_tokens: dict[str, list] = {}


@setup_logging.connect
def _use_django_logging(**kwargs: Any) -> None:
    """A worker logs through settings.LOGGING (JSON or plain, with the ids), not
    Celery's own format."""
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)


@before_task_publish.connect
def _send_request_id(headers: dict | None = None, **kwargs: Any) -> None:
    """A task enqueued during a request carries the request's id to the worker."""
    rid = context.request_id.get()
    if headers is not None and rid and "request_id" not in headers:
        headers["request_id"] = rid


@task_prerun.connect
def _enter_task(task_id: str | None = None, task: Any = None, **kwargs: Any) -> None:
    tokens = [context.task_id.set(task_id), context.task_name.set(getattr(task, "name", None))]
    request = getattr(task, "request", None)
    # Custom message headers land on the task's request. An eager task keeps the
    # request id of the request it runs in (same context), so only a header changes it.
    rid = getattr(request, "request_id", None) or (getattr(request, "headers", None) or {}).get(
        "request_id"
    )
    if rid:
        tokens.append(context.request_id.set(context.new_request_id(rid)))
    _tokens.setdefault(task_id or "", []).append(tokens)


@task_postrun.connect
def _leave_task(task_id: str | None = None, **kwargs: Any) -> None:
    stack = _tokens.get(task_id or "")
    if not stack:
        return
    for token in reversed(stack.pop()):
        token.var.reset(token)
    if not stack:
        del _tokens[task_id or ""]
