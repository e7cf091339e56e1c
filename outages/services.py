"""Every write to outages: record, change, post an update, close.

Outages are operations' area: each service acts for operations staff, administrators
and the system (``actor=None``: the demo, scripts) and refuses anyone else
(``PermissionDenied``). Each validates first and writes atomically. A change that touches a month which has
already ended (in a contract's policy zone) records a ``ReissueRequest`` for every
contract it may affect, so the statements module can re-issue what it already sent.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from audit.services import audit_record, changed, snapshot
from contracts.models import Contract, Customer, DowntimeCategory, Service, User
from outages.models import Outage, OutageUpdate, ReissueRequest, Stage
from outages.reopening import ended_contract_months, touched
from outages.stages import checked_stage, current_stage, default_impact, opening_stage
from slaportal import roles

EDITABLE = (
    "service",
    "started_at",
    "ended_at",
    "confirmed_at",
    "announced_at",
    "category",
    "impact",
    "scope",
    "title",
    "description",
    "internal_notes",
)


def require_operations(actor: User | None, action: str) -> None:
    """Operations staff and administrators act on outages, the system too (``None``);
    an agent or an account manager does not (their areas are tickets and money)."""
    if actor is not None and not roles.staff_roles(actor) & {roles.OPERATIONS, roles.ADMIN}:
        raise PermissionDenied(f"Only operations staff may {action}.")


def _aware(name: str, value: datetime | None) -> datetime | None:
    if value is not None and timezone.is_naive(value):
        raise ValidationError({name: ["Give a time with its time zone."]})
    return value


def outage_validate(outage: Outage, customers: list[Customer], now: datetime) -> None:
    """Every rule an outage must meet before it is written; the admin's form calls it too."""
    errors: dict[str, list[str]] = {}
    for name in ("started_at", "ended_at", "confirmed_at", "announced_at"):
        _aware(name, getattr(outage, name))
    if outage.category not in DowntimeCategory.values:
        errors["category"] = [
            f"{outage.category!r} is not a category; use one of "
            f"{', '.join(DowntimeCategory.values)}."
        ]
    # Only an announced maintenance window may lie ahead; anything else has happened.
    may_be_future = outage.category == DowntimeCategory.SCHEDULED_MAINTENANCE
    if outage.started_at and outage.started_at > now and not may_be_future:
        errors["started_at"] = ["An outage cannot start in the future."]
    if outage.ended_at and outage.started_at and outage.ended_at <= outage.started_at:
        errors["ended_at"] = ["An outage must end after it starts."]
    elif outage.ended_at and outage.ended_at > now and not may_be_future:
        errors["ended_at"] = ["An outage cannot end in the future; leave it open instead."]
    if outage.confirmed_at and outage.started_at and outage.confirmed_at < outage.started_at:
        errors["confirmed_at"] = ["An outage cannot be confirmed before it starts."]
    elif outage.confirmed_at and outage.confirmed_at > now:
        errors["confirmed_at"] = ["Confirmation cannot be in the future."]
    if outage.announced_at and outage.category != DowntimeCategory.SCHEDULED_MAINTENANCE:
        errors["announced_at"] = ["Only scheduled maintenance is announced in advance."]
    if outage.scope == Outage.Scope.CUSTOMERS and not customers:
        errors["customers"] = ["Name at least one customer, or choose every customer."]
    if outage.scope == Outage.Scope.ALL and customers:
        errors["customers"] = ["An outage of every customer names no customers."]
    if customers and outage.service_id:
        with_service = set(
            Contract.objects.filter(
                customer__in=customers, lines__service_id=outage.service_id
            ).values_list("customer_id", flat=True)
        )
        strangers = [c.name for c in customers if c.pk not in with_service]
        if strangers:
            errors["customers"] = [f"{', '.join(strangers)} has no contract for {outage.service}."]
    if errors:
        raise ValidationError(errors)
    outage.full_clean(exclude=["customers", "created_by"])


def _interval(outage: Outage, now: datetime) -> tuple[datetime, datetime]:
    return outage.started_at, outage.ended_at or max(now, outage.started_at)


def _request_reissues(
    outage: Outage,
    service_id: int,
    intervals: Iterable[tuple[datetime, datetime]],
    customers: Iterable[int] | None,
    *,
    actor: User | None,
    reason: str,
    now: datetime,
) -> int:
    """Open a re-issue request for each affected contract-month that has already ended."""
    created = 0
    for contract, month in ended_contract_months(service_id, intervals, customers, now):
        # Locked: a re-issue resolving this request right now measured the month
        # before this change; once it commits the row no longer matches and a new
        # request is opened for the next tick, instead of piling onto a closed one.
        _, made = ReissueRequest.objects.select_for_update().get_or_create(
            contract=contract,
            month=month,
            resolved_at=None,
            defaults={"outage": outage, "reason": reason[:300], "requested_by": actor},
        )
        created += made
    return created


def _scope_ids(outage: Outage) -> list[int] | None:
    if outage.scope == Outage.Scope.ALL:
        return None
    return list(outage.customers.values_list("pk", flat=True))


@transaction.atomic
def outage_record(
    *,
    service: Service,
    started_at: datetime,
    category: str,
    title: str,
    actor: User | None,
    ended_at: datetime | None = None,
    confirmed_at: datetime | None = None,
    announced_at: datetime | None = None,
    scope: str = Outage.Scope.ALL,
    customers: Iterable[Customer] = (),
    description: str = "",
    internal_notes: str = "",
    impact: str = "",
    stage: str = "",
    source: str = Outage.Source.MANUAL,
    now: datetime | None = None,
) -> Outage:
    require_operations(actor, "record outages")
    now = now or timezone.now()
    customer_list = list(customers)
    outage = Outage(
        service=service,
        started_at=started_at,
        ended_at=ended_at,
        confirmed_at=confirmed_at,
        announced_at=announced_at,
        category=category,
        impact=impact or default_impact(category),
        source=source,
        scope=scope,
        title=title,
        description=description,
        internal_notes=internal_notes,
        created_by=actor,
    )
    outage_validate(outage, customer_list, now)
    outage.save()
    outage.customers.set(customer_list)
    OutageUpdate.objects.create(
        outage=outage,
        posted_at=now,
        public=True,
        stage=checked_stage(outage, stage or opening_stage(outage, now)),
        author=actor,
        text=description or _opening_text(outage),
    )
    outage_changed(outage=outage, before=None, before_scope=None, actor=actor, now=now)
    audit_record(
        actor=actor,
        action="outage.record",
        obj=outage,
        changes=changed({}, _audited(outage)),
        label=outage.title,
    )
    return outage


def _opening_text(outage: Outage) -> str:
    if outage.is_maintenance:
        return f"Scheduled maintenance: {outage.title}."
    return f"We are investigating: {outage.title}."


def _audited(outage: Outage) -> dict[str, Any]:
    """The fields the audit log compares before and after a change."""
    fields = snapshot(outage, EDITABLE)
    fields["customers"] = sorted(str(c) for c in outage.customers.all())
    return fields


@transaction.atomic
def outage_change(
    *,
    outage: Outage,
    actor: User | None,
    customers: Iterable[Customer] | None = None,
    now: datetime | None = None,
    **changes: Any,
) -> Outage:
    """Edit an outage. Both the old and the new interval count as touched."""
    require_operations(actor, "change outages")
    outage, before = _change(outage=outage, actor=actor, customers=customers, now=now, **changes)
    audit_record(
        actor=actor,
        action="outage.change",
        obj=outage,
        changes=changed(before, _audited(outage)),
        label=outage.title,
    )
    return outage


def _change(
    *,
    outage: Outage,
    actor: User | None,
    customers: Iterable[Customer] | None,
    now: datetime | None,
    **changes: Any,
) -> tuple[Outage, dict[str, Any]]:
    """``outage_change`` without its audit entry (``outage_close`` writes its own); the
    changed outage and its audited fields as they were before."""
    now = now or timezone.now()
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise ValidationError({name: ["This field cannot be changed."] for name in unknown})
    outage = Outage.objects.select_for_update().get(pk=outage.pk)
    audited = _audited(outage)
    before, before_scope = outage_snapshot(outage, now)
    before_service_id = outage.service_id
    for name, value in changes.items():
        setattr(outage, name, value)
    customer_list = list(customers) if customers is not None else list(outage.customers.all())
    if changes.get("scope") == Outage.Scope.ALL and customers is None:
        customer_list = []
    outage_validate(outage, customer_list, now)
    outage.save()
    outage.customers.set(customer_list)
    outage_changed(
        outage=outage,
        before=before,
        before_scope=before_scope,
        actor=actor,
        now=now,
        before_service_id=before_service_id,
    )
    return outage, audited


def outage_changed(
    *,
    outage: Outage,
    before: tuple[datetime, datetime] | None,
    before_scope: list[int] | None,
    actor: User | None,
    now: datetime,
    before_service_id: int | None = None,
) -> int:
    """After an outage is saved (here or in the admin): ask for re-issue of every ended
    month its old or new interval touches, for every customer its old or new scope named
    (``outages.reopening.touched``). ``before`` is None for a new outage. An outage moved
    to another service (``before_service_id``) reopens the old service's months too."""
    intervals, scope = touched(_interval(outage, now), _scope_ids(outage), before, before_scope)
    verb = "recorded" if before is None else "changed"
    reason = f"Outage {verb} after the month ended: {outage.title}"
    made = _request_reissues(
        outage, outage.service_id, intervals, scope, actor=actor, reason=reason, now=now
    )
    if before is not None and before_service_id not in (None, outage.service_id):
        made += _request_reissues(
            outage, before_service_id, [before], before_scope, actor=actor, reason=reason, now=now
        )
    return made


def outage_snapshot(
    outage: Outage, now: datetime
) -> tuple[tuple[datetime, datetime], list[int] | None]:
    """The interval and scope an outage has before a change, for ``outage_changed``."""
    return _interval(outage, now), _scope_ids(outage)


@transaction.atomic
def outage_post_update(
    *,
    outage: Outage,
    text: str,
    public: bool,
    actor: User | None,
    stage: str = "",
    now: datetime | None = None,
) -> OutageUpdate:
    """Post to the timeline. A public update gives the incident's stage; without one it
    keeps the stage the incident is at."""
    require_operations(actor, "post outage updates")
    update = _post_update(
        outage=outage, text=text, public=public, actor=actor, stage=stage, now=now
    )
    audit_record(
        actor=actor,
        action="outage.post_update",
        obj=outage,
        changes={
            "update": {"before": None, "after": update.text},
            "public": {"before": None, "after": public},
            "stage": {"before": None, "after": update.stage},
        },
        label=outage.title,
    )
    return update


def _post_update(
    *,
    outage: Outage,
    text: str,
    public: bool,
    actor: User | None,
    stage: str = "",
    now: datetime | None,
) -> OutageUpdate:
    now = now or timezone.now()
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": ["Write the update."]})
    if public:
        stage = checked_stage(outage, stage or current_stage(outage) or opening_stage(outage, now))
    elif stage:
        raise ValidationError({"stage": ["Only a public update gives a stage."]})
    return OutageUpdate.objects.create(
        outage=outage, posted_at=now, text=text, public=public, stage=stage, author=actor
    )


@transaction.atomic
def outage_close(
    *,
    outage: Outage,
    ended_at: datetime,
    actor: User | None,
    text: str = "",
    now: datetime | None = None,
) -> Outage:
    require_operations(actor, "close outages")
    now = now or timezone.now()
    if outage.ended_at is not None:
        raise ValidationError({"ended_at": ["This outage is already closed."]})
    # One audit entry for the closing, not a change and an update.
    outage, before = _change(outage=outage, actor=actor, customers=None, now=now, ended_at=ended_at)
    update = _post_update(
        outage=outage,
        text=text
        or (
            "The maintenance is completed."
            if outage.is_maintenance
            else "Service restored. This incident is resolved."
        ),
        public=True,
        stage=Stage.COMPLETED if outage.is_maintenance else Stage.RESOLVED,
        actor=actor,
        now=now,
    )
    audit_record(
        actor=actor,
        action="outage.close",
        obj=outage,
        changes=changed(before, _audited(outage)),
        reason=update.text,
        label=outage.title,
    )
    return outage
