"""The base of every app's API viewsets: the role permission, the one tenant rule, and
parse/respond helpers. Each app's ``api.py`` subclasses ``BaseViewSet``."""

from __future__ import annotations

from typing import Any

from django.db.models import Model, QuerySet
from rest_framework import serializers, status, viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from slaportal import authority, roles
from slaportal.api import ErrorResponsesAutoSchema
from slaportal.tokens import PortalTokenAuthentication


class RolePermission(BasePermission):
    """Reads need a signed-in person (staff only where the viewset says so); writes need
    one of the viewset's ``write_roles``. Which rows a reader sees is the queryset's job."""

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if request.method in SAFE_METHODS:
            staff = roles.staff_roles(user)
            if not staff:  # a customer person: the queryset keeps to their organisation
                return not view.staff_only_reads
            readers = view.staff_readers
            return readers is None or bool(staff & (readers | {roles.ADMIN}))
        return bool(roles.staff_roles(user) & view.write_roles)


class TenantScopedQuerysetMixin:
    """The one tenant rule of the API; every viewset's ``get_queryset`` goes through it."""

    request: Request

    def scope(self, queryset: QuerySet, customer_field: str | None = "customer") -> QuerySet:
        """Rows the requester may see.

        ``customer_field`` is the path from the model to its Customer (``"pk"`` for the
        Customer itself). A customer person sees their organisation's rows only, staff see
        every row, anyone else none. ``None`` marks shared catalog data (services,
        policies, calendars) that belongs to no customer: the permission alone decides.
        """
        user = self.request.user
        if not user.is_authenticated:
            return queryset.none()
        if customer_field is None:
            return queryset
        if user.customer_id is not None:
            return queryset.filter(**{customer_field: user.customer_id})
        if roles.is_staff_member(user):
            if self.managed_reads:
                return authority.scope_acted_for(queryset, user, customer_field)
            return queryset
        return queryset.none()


class BaseViewSet(TenantScopedQuerysetMixin, viewsets.GenericViewSet):
    """Reads render ``serializer_class``; writes parse an input serializer, call a service
    and render what it returns."""

    permission_classes = [RolePermission]
    authentication_classes = [PortalTokenAuthentication, SessionAuthentication]
    schema = ErrorResponsesAutoSchema()
    # Any segment reaches the view, so "/contracts/0.5/" is this API's JSON 404 rather
    # than the site's HTML page.
    lookup_value_regex = "[^/]+"
    write_roles: frozenset[str] = frozenset({roles.ADMIN})
    staff_only_reads = False
    # The API reads as the pages do. ``staff_readers``: the staff roles that may read
    # (administrators always may; None: every staff role). ``managed_reads``: an account
    # manager reads only the rows of the customers they manage (money: credits, the
    # ledger, invoices, credit notes), another customer's row being a 404.
    staff_readers: frozenset[str] | None = None
    managed_reads = False

    def parse(self, serializer_class: type[serializers.Serializer], **kwargs: Any) -> dict:
        serializer = serializer_class(
            data=self.request.data, context=self.get_serializer_context(), **kwargs
        )
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def respond(self, instance: Model, status_code: int = status.HTTP_200_OK) -> Response:
        return Response(self.get_serializer(instance).data, status=status_code)
