"""Two queues: statement and PDF work on "statements", everything else (escalations every
minute, e-mail, webhooks, sweeps) on the default queue, each consumed by its own worker
line in the Procfile, so a monthly run never holds up an escalation (bench/queues.py)."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from django.conf import settings

from slaportal.celery import app, routed_queues
from tests.support.requirements import REQUIRE_SERVICES, need

ROOT = Path(__file__).resolve().parents[2]
BROKER = "redis://127.0.0.1:6379/11"  # a database of its own: no other test's messages

STATEMENT_TASKS = [
    "statements.tasks.statements_tick_task",
    "statements.tasks.statement_generate_task",
    "statements.tasks.statement_render_task",
    "credits.tasks.credit_note_deliver_task",
]
DEFAULT_TASKS = [
    "portal.tasks.clear_expired_sessions_task",
    "status.tasks.fanout_update_task",
    "status.tasks.fanout_sweep_task",
    "tickets.tasks.escalate_tickets",
    "tickets.tasks.fetch_email",
    "outbox.tasks.outbox_send",
    "outbox.tasks.outbox_flush",
    "outbox.tasks.webhook_send",
    "outbox.tasks.webhook_flush",
    "credits.tasks.expire_credits_on_termination",
    "credits.tasks.credits_apply_owed_task",
    "credits.tasks.credit_notes_deliver_owed_task",
]


def _queue(task: str) -> str:
    return app.amqp.router.route({}, task)["queue"].name


def _procfile() -> dict[str, list[str]]:
    """Each process type's command, as words."""
    lines = (ROOT / "Procfile").read_text().splitlines()
    entries = [line.split(":", 1) for line in lines if line.strip() and not line.startswith("#")]
    return {name.strip(): shlex.split(command) for name, command in entries}


def _consumed(words: list[str]) -> set[str]:
    """The queues a ``celery worker`` command line consumes (-Q/--queues, else default)."""
    for flag in ("-Q", "--queues"):
        if flag in words:
            return set(words[words.index(flag) + 1].split(","))
    return {settings.CELERY_TASK_DEFAULT_QUEUE}


def _workers() -> dict[str, set[str]]:
    return {
        name: _consumed(words)
        for name, words in _procfile().items()
        if words[:1] == ["celery"] and "worker" in words
    }


def test_every_statement_and_pdf_task_goes_to_the_statements_queue():
    app.loader.import_default_modules()
    assert {task: _queue(task) for task in STATEMENT_TASKS} == dict.fromkeys(
        STATEMENT_TASKS, "statements"
    )
    # A statement task added later follows the pattern.
    ours = [name for name in app.tasks if name.startswith("statements.tasks.")]
    assert ours and {_queue(name) for name in ours} == {"statements"}


def test_escalations_e_mail_webhooks_and_sweeps_stay_on_the_default_queue():
    app.loader.import_default_modules()
    assert settings.CELERY_TASK_DEFAULT_QUEUE == "celery"
    assert {task: _queue(task) for task in DEFAULT_TASKS} == dict.fromkeys(DEFAULT_TASKS, "celery")


def test_every_task_of_the_project_is_placed_on_a_queue():
    app.loader.import_default_modules()
    assert set(STATEMENT_TASKS + DEFAULT_TASKS) <= set(app.tasks)
    # Outside statements.tasks (whose pattern routes any new task), a new task of ours
    # has to be listed above: say which queue it belongs on.
    project = {n for n in app.tasks if n.split(".")[0] in settings.INSTALLED_APPS}
    others = {n for n in project if not n.startswith("statements.tasks.")}
    assert others <= set(STATEMENT_TASKS + DEFAULT_TASKS)


def test_the_procfile_has_a_worker_line_per_queue_and_statements_apart():
    workers = _workers()
    assert workers["worker"] == {"celery"}
    assert workers["statements-worker"] == {"statements"}
    assert set(routed_queues()) == {"celery", "statements"}


def test_every_queue_a_task_is_routed_to_has_a_consumer_in_the_procfile():
    app.loader.import_default_modules()
    consumed = set().union(*_workers().values())
    routed = {_queue(name) for name in app.tasks if not name.startswith("celery.")}
    assert routed <= consumed
    assert set(routed_queues()) <= consumed


def test_eager_mode_without_a_broker_runs_a_statement_task_in_process(db, celery_eager):
    from statements.tasks import statement_render_task

    # No statement: the service finds nothing to do, in this process, with no broker.
    assert statement_render_task.delay(0).get() == "missing"


@pytest.fixture
def redis_broker():
    import redis

    client = redis.Redis.from_url(BROKER, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError:
        client = None
    need(client is not None, f"needs Redis at {BROKER}", required=REQUIRE_SERVICES)
    client.flushdb()
    yield client
    client.flushdb()


# send_task always publishes, whatever the suite's eager setting says.
@pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored")
def test_on_a_real_broker_the_messages_land_on_their_queues(redis_broker):
    app.loader.import_default_modules()
    with app.connection_for_write(BROKER) as connection:
        for task in ("statements.tasks.statement_render_task", "tickets.tasks.escalate_tickets"):
            app.send_task(task, args=[] if "escalate" in task else [1], connection=connection)
    # Kombu's Redis transport keeps each queue as a list under the queue's name.
    assert (redis_broker.llen("statements"), redis_broker.llen("celery")) == (1, 1)
