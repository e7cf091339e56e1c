"""Customers, their people, staff accounts and the services sold."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from audit.services import audit_record
from contracts.models import (
    Customer,
    Service,
    User,
)
from contracts.services._common import _clean
from outbox.services import outbox_enqueue
from slaportal import roles


def roles_sync(*, using: str = "default") -> None:
    """Create the staff groups and give each its permissions (idempotent)."""
    for role in roles.STAFF_ROLES:
        group, _ = Group.objects.using(using).get_or_create(name=role)
        wanted = roles.GROUP_PERMISSIONS.get(role, [])
        perms = Permission.objects.using(using).all()
        if wanted != ["*"]:
            pairs = [w.split(".", 1) for w in wanted]
            keep = {(app, code) for app, code in pairs}
            perms = [
                p
                for p in perms.select_related("content_type")
                if (p.content_type.app_label, p.codename) in keep
            ]
        group.permissions.set(perms)


@transaction.atomic
def customer_create(
    *,
    name: str,
    billing_emails: str | Iterable[str],
    time_zone: str = "UTC",
    account_managers: Iterable[User] = (),
) -> Customer:
    if not isinstance(billing_emails, str):
        billing_emails = ", ".join(billing_emails)
    customer = Customer(name=name, billing_emails=billing_emails, time_zone=time_zone)
    _clean(customer)
    managers = list(account_managers)
    _check_account_managers(managers)
    customer.save()
    customer.account_managers.set(managers)
    return customer


@transaction.atomic
def customer_update(*, customer: Customer, **changes: Any) -> Customer:
    managers = changes.pop("account_managers", None)
    if "billing_emails" in changes and not isinstance(changes["billing_emails"], str):
        changes["billing_emails"] = ", ".join(changes["billing_emails"])
    for key, value in changes.items():
        setattr(customer, key, value)
    _clean(customer)
    customer.save()
    if managers is not None:
        managers = list(managers)
        _check_account_managers(managers)
        customer.account_managers.set(managers)
    return customer


def _check_account_managers(managers: Sequence[User]) -> None:
    for user in managers:
        if not roles.has_role(user, roles.ACCOUNT_MANAGER):
            raise ValidationError(
                {"account_managers": [f"{user.get_username()} is not an account manager."]}
            )


@transaction.atomic
def user_create_staff(
    *,
    username: str,
    email: str,
    password: str | None,
    roles_: Iterable[str],
    first_name: str = "",
    last_name: str = "",
) -> User:
    names = list(roles_)
    unknown = [r for r in names if r not in roles.STAFF_ROLES]
    if unknown:
        raise ValidationError({"roles": [f"Unknown staff role: {', '.join(unknown)}."]})
    user = User(
        username=username,
        email=email,
        first_name=first_name,
        last_name=last_name,
        is_staff=True,
        is_superuser=roles.ADMIN in names,
    )
    _clean(user, exclude=["password"])
    user.set_password(password) if password else user.set_unusable_password()
    user.save()
    user.groups.set(Group.objects.filter(name__in=names))
    return user


@transaction.atomic
def customer_person_add(
    *,
    customer: Customer,
    email: str,
    role: str = User.CustomerRole.USER,
    first_name: str = "",
    last_name: str = "",
    actor: User,
) -> User | None:
    """A customer admin adds a person: as ``customer_user_create``, except that it never
    tells whether an address has an account elsewhere (another customer's person, or
    the provider's staff). Such an address gets an e-mail saying that someone at this
    customer tried to add them and that nothing changed; the caller then answers exactly
    as for a new person, and ``None`` is returned. An address already among the
    customer's own people is a field error (the admin sees them on the people page)."""
    _require_customer_admin(actor, customer)
    existing = User.objects.filter(email__iexact=email).first() if email else None
    if existing is None:
        return customer_user_create(
            customer=customer,
            username=email,
            email=email,
            role=role,
            first_name=first_name,
            last_name=last_name,
            actor=actor,
        )
    if existing.customer_id == customer.pk:
        raise ValidationError({"email": [f"{email} is already one of your people."]})
    context = {"customer": customer, "inviter": actor, "person": existing}
    outbox_enqueue(
        to=existing.email,
        subject=f"{customer.name} tried to add you to SLA Portal",
        body=render_to_string("registration/already_registered_email.txt", context),
        # One notice a day per customer and address, however often they try.
        dedupe_key=f"person-add-existing:{customer.pk}:{existing.pk}:{timezone.now():%Y-%m-%d}",
    )
    audit_record(
        actor=actor,
        action="person_add_refused_existing_account",
        obj=customer,
        reason=f"{email} already has an account; its owner was told by e-mail.",
    )
    return None


@transaction.atomic
def customer_user_create(
    *,
    customer: Customer,
    username: str,
    email: str,
    role: str = User.CustomerRole.USER,
    password: str | None = None,
    first_name: str = "",
    last_name: str = "",
    time_zone: str | None = None,
    actor: User | None = None,
) -> User:
    """Add a person to a customer organisation. ``actor`` (when given) must be that
    customer's admin or staff."""
    if actor is not None:
        _require_customer_admin(actor, customer)
    if not email:
        raise ValidationError({"email": ["Give the person's e-mail address."]})
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": [f"{email} already has an account."]})
    user = User(
        username=username,
        email=email,
        first_name=first_name,
        last_name=last_name,
        customer=customer,
        customer_role=role,
        time_zone=time_zone or customer.time_zone,
    )
    _clean(user, exclude=["password"])
    user.set_password(password) if password else user.set_unusable_password()
    user.save()
    return user


@transaction.atomic
def customer_user_update(
    *, actor: User, user: User, role: str | None = None, is_active: bool | None = None
) -> User:
    _require_customer_admin(actor, user.customer)
    if user.pk == actor.pk and (is_active is False or role == User.CustomerRole.USER):
        raise ValidationError("You cannot deactivate or demote yourself.")
    if role is not None:
        user.customer_role = role
    if is_active is not None:
        user.is_active = is_active
    _clean(user, exclude=["password"])
    user.save(update_fields=["customer_role", "is_active"])
    return user


def _require_customer_admin(actor: User, customer: Customer | None) -> None:
    allowed = roles.has_role(actor, roles.ADMIN) or (
        actor.is_customer_admin and customer is not None and actor.customer_id == customer.pk
    )
    if not allowed:
        raise ValidationError("Only an admin of this organisation can manage its people.")


@transaction.atomic
def service_create(
    *, code: str, name: str, critical: bool = True, description: str = ""
) -> Service:
    service = Service(code=code, name=name, critical=critical, description=description)
    _clean(service)
    service.save()
    return service
