"""An agent's saved desk searches: their own to keep, open and delete."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from contracts.models import User
from tickets.models import SavedFilter
from tickets.services._common import now_or, require_support_staff


def saved_filter_save(*, user: User, name: str, query: str) -> SavedFilter:
    """Keep ``query`` (the desk's query string) under ``name`` for ``user``. Refused
    input raises ``ValidationError`` keyed by field and saves nothing."""
    require_support_staff(user, "save desk filters")
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError({"name": ["Name the search."]})
    if not query:
        raise ValidationError({"name": ["Search, filter or sort the queue first, then save it."]})
    if len(query) > SavedFilter._meta.get_field("query").max_length:
        raise ValidationError({"name": ["This search is too long to save."]})
    taken = ValidationError({"name": [f"You already have a saved filter named “{name}”."]})
    if SavedFilter.objects.filter(user=user, name__iexact=name).exists():
        raise taken
    try:
        with transaction.atomic():
            return SavedFilter.objects.create(
                user=user, name=name, query=query, created_at=now_or(None)
            )
    except IntegrityError:  # the same name saved a moment ago, from another tab
        raise taken from None


def saved_filter_delete(*, user: User, saved: SavedFilter) -> None:
    """Delete one of ``user``'s own saved filters."""
    if saved.user_id != user.pk:
        raise PermissionDenied("Only its owner deletes a saved filter.")
    saved.delete()
