"""Expired sessions are deleted every hour (``portal.tasks.clear_expired_sessions_task``,
scheduled in portal/schedules.py); a session still in use is kept and keeps working."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from portal.schedules import SCHEDULES
from portal.tasks import clear_expired_sessions_task


def test_expired_sessions_are_deleted_and_a_live_one_keeps_its_person_signed_in(
    customer_user, settings, celery_eager
):
    settings.SESSION_COOKIE_AGE = 8 * 3600
    # Signed in nine hours ago: that session's 8 h have run out.
    with time_machine.travel(timezone.now() - timedelta(hours=9), tick=False):
        Client().force_login(customer_user, backend="contracts.backends.PortalBackend")
    live = Client()
    live.force_login(customer_user, backend="contracts.backends.PortalBackend")
    assert Session.objects.count() == 2

    clear_expired_sessions_task.delay()
    assert list(Session.objects.values_list("session_key", flat=True)) == [live.session.session_key]
    assert live.get("/portal/").status_code == 200

    clear_expired_sessions_task.delay()  # again: nothing more to delete
    assert Session.objects.count() == 1


def test_clearing_sessions_is_scheduled_every_hour():
    [job] = [s for s in SCHEDULES if s.task == "portal.tasks.clear_expired_sessions_task"]
    assert (job.minute, job.hour, job.timezone, job.expire_seconds) == ("50", "*", "UTC", 3600)
