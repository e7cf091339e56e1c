"""Operations' triage of outages that monitoring opened: confirm one (from then on it is
public, and policies whose downtime starts at confirmation count it from the time given)
or dismiss it as a false alarm (it never counts anywhere, and customers never see it).

Both are operations' and administrators' (``require_operations``), lock the outage, and
ask for re-issue of every month already ended that the outage touches: confirming moves
where downtime starts, dismissing removes it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.utils import timezone

from audit.services import audit_record, changed, snapshot
from contracts.models import User
from outages.models import Outage
from outages.services import (
    outage_changed,
    outage_snapshot,
    outage_validate,
    require_operations,
)

TRIAGED = ("confirmed_at", "category", "impact", "dismissed_at", "dismiss_reason")
REASON_LENGTH = Outage._meta.get_field("dismiss_reason").max_length


def _locked(outage: Outage) -> Outage:
    return Outage.objects.select_for_update().get(pk=outage.pk)


@transaction.atomic
def outage_confirm(
    *,
    outage: Outage,
    actor: User | None,
    confirmed_at: datetime | None = None,
    category: str | None = None,
    impact: str | None = None,
    now: datetime | None = None,
) -> Outage:
    """Confirm the service was unavailable, at ``confirmed_at`` (now when not given),
    optionally giving the cause and impact found meanwhile."""
    require_operations(actor, "confirm outages")
    now = now or timezone.now()
    outage = _locked(outage)
    if outage.is_dismissed:
        raise ValidationError({NON_FIELD_ERRORS: ["This outage was dismissed: it stays so."]})
    if outage.confirmed_at is not None:
        when = outage.confirmed_at.astimezone(UTC)
        raise ValidationError(
            {"confirmed_at": [f"This outage was confirmed already, at {when:%Y-%m-%d %H:%M} UTC."]}
        )
    before = snapshot(outage, TRIAGED)
    interval, scope = outage_snapshot(outage, now)
    outage.confirmed_at = confirmed_at or now
    if category:
        outage.category = category
    if impact:
        outage.impact = impact
    outage_validate(outage, list(outage.customers.all()), now)
    outage.save(update_fields=["confirmed_at", "category", "impact", "updated_at"])
    outage_changed(outage=outage, before=interval, before_scope=scope, actor=actor, now=now)
    audit_record(
        actor=actor,
        action="outage.confirm",
        obj=outage,
        changes=changed(before, snapshot(outage, TRIAGED)),
        label=outage.title,
    )
    return outage


@transaction.atomic
def outage_dismiss(
    *, outage: Outage, actor: User | None, reason: str, now: datetime | None = None
) -> Outage:
    """Dismiss an outage that monitoring opened and nobody confirmed: a false alarm.

    Only those: a confirmed or hand-recorded outage has been public and may be in a
    statement, so it is corrected by editing it (which the re-issue requests follow),
    not made to vanish."""
    require_operations(actor, "dismiss outages")
    now = now or timezone.now()
    reason = " ".join((reason or "").split())
    if not reason:
        raise ValidationError({"reason": ["Say why the outage is dismissed."]})
    if len(reason) > REASON_LENGTH:
        raise ValidationError({"reason": [f"Keep the reason to {REASON_LENGTH} characters."]})
    outage = _locked(outage)
    if outage.is_dismissed:
        raise ValidationError({NON_FIELD_ERRORS: ["This outage was dismissed already."]})
    if not outage.is_unconfirmed:
        raise ValidationError(
            {
                NON_FIELD_ERRORS: [
                    "Only an outage opened by an alert and not yet confirmed can be "
                    "dismissed; correct this one by editing it."
                ]
            }
        )
    before = snapshot(outage, TRIAGED)
    interval, scope = outage_snapshot(outage, now)
    outage.dismissed_at = now
    outage.dismissed_by = actor
    outage.dismiss_reason = reason
    outage.full_clean(exclude=["customers", "created_by"])
    outage.save(update_fields=["dismissed_at", "dismissed_by", "dismiss_reason", "updated_at"])
    outage_changed(outage=outage, before=interval, before_scope=scope, actor=actor, now=now)
    audit_record(
        actor=actor,
        action="outage.dismiss",
        obj=outage,
        changes=changed(before, snapshot(outage, TRIAGED)),
        reason=reason,
        label=outage.title,
    )
    return outage
