"""Who may open which page, and the one tenant helper for customer-facing lookups.

Anonymous visitors are sent to the login page; a signed-in person without the
right role gets a 403. A customer's object is always looked up from the
requester's own organisation, so another customer's object is a 404 (never a
403, which would confirm that it exists).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404

from slaportal import roles

View = Callable[..., HttpResponse]
M = TypeVar("M", bound=Model)


def _guard(test: Callable[[Any], bool]) -> Callable[[View], View]:
    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not test(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def customer_required(view: View) -> View:
    """A person of a customer organisation (user or admin)."""
    return _guard(lambda user: user.customer_id is not None)(view)


def customer_admin_required(view: View) -> View:
    """An admin of a customer organisation."""
    return _guard(lambda user: user.is_customer_admin)(view)


def role_required(*names: str) -> Callable[[View], View]:
    """A staff member holding one of ``names``; the admin role opens every staff page."""
    wanted = set(names) | {roles.ADMIN}
    return _guard(lambda user: bool(roles.staff_roles(user) & wanted))


def get_customer_object_or_404(
    request: HttpRequest, queryset: QuerySet[M], *, via: str = "customer", **lookup: Any
) -> M:
    """``queryset.get(**lookup)`` within the requester's organisation, else 404.

    ``via`` is the path from the model to its Customer (``"contract__customer"`` for a
    contract line). Staff have no organisation, so they find nothing here.
    """
    customer_id = getattr(request.user, "customer_id", None)
    if customer_id is None:
        raise Http404
    return get_object_or_404(queryset, **{f"{via}_id": customer_id}, **lookup)
