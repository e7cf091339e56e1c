"""Who may act for a customer: the one rule every service that acts for one calls.

An administrator acts for every customer; an account manager only for the customers
they manage (``Customer.account_managers``); nobody else. Services that the system also
calls (the monthly job, the import command, the demo) take ``actor=None`` for the
system; a person always passes themselves, and is checked here before anything is
written. Views and the API only translate the refusal into a 403. (Where the actor may
not even read the customer's object, the read already answered 404.)
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet

from slaportal import roles


def manages(actor: Any, customer_id: int | None) -> bool:
    """``actor`` is an account manager of the customer ``customer_id``."""
    if actor is None or customer_id is None or not roles.has_role(actor, roles.ACCOUNT_MANAGER):
        return False
    return actor.managed_customers.filter(pk=customer_id).exists()


def acts_for(actor: Any, customer_id: int | None) -> bool:
    """An administrator, or an account manager of this customer."""
    return actor is not None and (roles.has_role(actor, roles.ADMIN) or manages(actor, customer_id))


def require_acts_for(actor: Any, customer_id: int | None, *, what: str) -> None:
    """Refuse unless the system (``actor=None``) or someone who ``acts_for`` the customer.
    ``what`` completes "Only this customer's account manager or an administrator may …"."""
    if actor is None or acts_for(actor, customer_id):
        return
    raise PermissionDenied(f"Only this customer's account manager or an administrator may {what}.")


def customers_acted_for(actor: Any, field: str = "customer") -> Q:
    """A filter on ``field`` (the path to a Customer; ``"pk"`` on Customer itself) for
    the rows of the customers ``actor`` acts for: all for an administrator, the managed
    ones for an account manager, none for anyone else."""
    if roles.has_role(actor, roles.ADMIN):
        return Q()
    if roles.has_role(actor, roles.ACCOUNT_MANAGER):
        # A subquery, not a join through the many-to-many: a customer with two managers
        # must not list a row twice.
        return Q(**{f"{field}__in": actor.managed_customers.values("pk")})
    return Q(pk__in=[])


def scope_acted_for(queryset: QuerySet, actor: Any, field: str = "customer") -> QuerySet:
    """``queryset`` narrowed to the customers ``actor`` acts for."""
    return queryset.filter(customers_acted_for(actor, field))
