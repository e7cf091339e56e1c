"""A person's own profile: the time zone their pages and e-mails use, and what they are
e-mailed about (the desk's alerts are for support staff only)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from contracts.models import User
from contracts.validators import validate_time_zone
from slaportal import roles

DESK_ROLES = (roles.AGENT, roles.ADMIN)


def gets_desk_alerts(user: User) -> bool:
    return any(roles.has_role(user, role) for role in DESK_ROLES)


def profile_update(
    *,
    person: User,
    time_zone: str,
    email_ticket_updates: bool,
    email_desk_alerts: bool | None = None,
) -> User:
    """Set a person's own zone and e-mail choices (``None``: the desk's alerts unchanged).
    Refused input raises ``ValidationError`` keyed by field and saves nothing."""
    try:
        validate_time_zone(time_zone)
    except ValidationError as exc:
        raise ValidationError({"time_zone": exc.messages}) from exc
    if email_desk_alerts is not None and not gets_desk_alerts(person):
        raise ValidationError({"email_desk_alerts": ["Desk alerts are for support staff."]})
    person.time_zone = time_zone
    person.email_ticket_updates = email_ticket_updates
    fields = ["time_zone", "email_ticket_updates"]
    if email_desk_alerts is not None:
        person.email_desk_alerts = email_desk_alerts
        fields.append("email_desk_alerts")
    with transaction.atomic():
        person.save(update_fields=fields)
    return person
