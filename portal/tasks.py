"""Thin Celery tasks of the shell: housekeeping that belongs to no app."""

from __future__ import annotations

from celery import shared_task
from django.core.management import call_command


@shared_task
def clear_expired_sessions_task() -> None:
    """Hourly: delete the sessions past their expiry (Django's ``clearsessions``). Django
    never deletes them itself, so every visit that ever signed in would stay a row in
    the session table; an expired row is refused at its next use anyway, so deleting it
    changes nothing a user sees, and a second run finds nothing to delete."""
    call_command("clearsessions")
