"""The credits REST API under /api/v1/: thin viewsets over the credit services.

Reading follows the API's one tenant rule (``TenantScopedQuerysetMixin``): a customer
person reads their own organisation's credits and ledger (another's is a 404), staff read
every one. Deciding is for the customer's account managers: anyone without a staff role
that decides gets a 403 before any lookup; an account manager of another customer gets a
404 (the service's refusal never confirms the credit exists); an administrator who does
not manage the customer, who can read the credit anyway, gets the service's 403. A credit
that is already decided is a 400 on ``status``; two managers deciding at once meet in the
service's row lock, so exactly one decision is made.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from contracts.models import User
from credits import services
from credits.filters import BalanceFilter, CreditFilter, LedgerFilter
from credits.models import Balance, Credit, LedgerEntry
from credits.serializers import (
    BalanceSerializer,
    CreditSerializer,
    DirectInputSerializer,
    LedgerEntrySerializer,
    RejectInputSerializer,
)
from slaportal import roles
from slaportal.viewsets import BaseViewSet

DECISION_ERRORS = {
    400: OpenApiResponse(description="Already decided (on status), or no reason (on reason)."),
    403: OpenApiResponse(description="Not staff, or an administrator not managing the customer."),
    404: OpenApiResponse(description="No such credit among the customers you manage."),
}


@contextmanager
def _as_decider(user: User) -> Iterator[None]:
    """Turn the service's refusal into the answer the requester may be given."""
    try:
        yield
    except PermissionDenied as exc:
        if roles.has_role(user, roles.ADMIN):
            raise exceptions.PermissionDenied(str(exc)) from exc
        raise Http404 from exc


class CreditViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BaseViewSet):
    """Service credits with their working and history (newest month first)."""

    queryset = (
        Credit.objects.select_related("contract__policy")
        .prefetch_related("events")
        .order_by("-month", "contract_id", "service_id", "pk")
    )
    serializer_class = CreditSerializer
    filterset_class = CreditFilter
    write_roles = frozenset({roles.ACCOUNT_MANAGER, roles.ADMIN})
    # Money: read by the customer's account managers (and administrators), as the pages.
    staff_readers = frozenset({roles.ACCOUNT_MANAGER})
    managed_reads = True

    def get_queryset(self) -> QuerySet[Credit]:
        return self.scope(super().get_queryset(), customer_field="contract__customer")

    @extend_schema(
        request=None,
        responses={200: CreditSerializer, **DECISION_ERRORS},
        description="Approve a pending credit: it is granted to the customer's balance and "
        "applied at once to their next open invoice of its kind in its currency (by a "
        "numbered credit note), or to the next such invoice recorded.",
    )
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str) -> Response:
        credit = self.get_object()
        with _as_decider(request.user):
            services.credit_approve(credit=credit, actor=request.user)
        return self.respond(self.get_object())

    @extend_schema(
        request=RejectInputSerializer,
        responses={200: CreditSerializer, **DECISION_ERRORS},
        description="Reject a pending credit with the reason; nothing reaches the ledger.",
    )
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str) -> Response:
        credit = self.get_object()
        reason = self.parse(RejectInputSerializer)["reason"]
        with _as_decider(request.user):
            services.credit_reject(credit=credit, actor=request.user, reason=reason)
        return self.respond(self.get_object())

    @extend_schema(
        request=DirectInputSerializer,
        responses={200: CreditSerializer, **DECISION_ERRORS},
        description="Direct a credit to another kind of invoice its policy allows (the "
        "tiered SLA: a professional-services invoice). What is already applied stays.",
    )
    @action(detail=True, methods=["post"])
    def direct(self, request: Request, pk: str) -> Response:
        credit = self.get_object()
        kind = self.parse(DirectInputSerializer)["invoice_kind"]
        with _as_decider(request.user):
            services.credit_direct(credit=credit, invoice_kind=kind, actor=request.user)
        return self.respond(self.get_object())


class LedgerViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BaseViewSet):
    """The append-only credits ledger (newest entry first) and the balances it sums to."""

    queryset = LedgerEntry.objects.select_related("invoice_line__invoice").order_by(
        "-created_at", "-pk"
    )
    serializer_class = LedgerEntrySerializer
    filterset_class = LedgerFilter
    write_roles: frozenset[str] = frozenset()  # read-only: entries come from the services
    # Money: read by the customer's account managers (and administrators), as the pages.
    staff_readers = frozenset({roles.ACCOUNT_MANAGER})
    managed_reads = True

    def get_queryset(self) -> QuerySet[LedgerEntry]:
        return self.scope(super().get_queryset(), customer_field="customer")

    @extend_schema(
        filters=False,
        parameters=[
            OpenApiParameter("customer", int, description="Only this customer's balances."),
            OpenApiParameter("currency", str, description="Only balances in this currency."),
        ],
        responses=BalanceSerializer(many=True),
        description="Each customer's credit balance per currency: the sum of its entries.",
    )
    @action(detail=False, methods=["get"])
    def balance(self, request: Request) -> Response:
        balances = self.scope(
            Balance.objects.order_by("customer_id", "currency"), customer_field="customer"
        )
        filterset = BalanceFilter(request.query_params, queryset=balances)
        if not filterset.is_valid():
            raise exceptions.ValidationError(filterset.errors)
        page = self.paginate_queryset(filterset.qs)
        return self.get_paginated_response(BalanceSerializer(page, many=True).data)
