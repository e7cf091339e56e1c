"""The outages REST API under /api/v1/outages/: thin, over ``outages.services``.

Reading: staff (any staff role) read every outage. A customer person reads the outages
that reach their organisation — every-customer outages of a service they hold a contract
line for, and scopes that name them — and only their public part; any other outage is a
404, and so is one a monitoring alert opened that operations have not confirmed, or one
they dismissed as a false alarm. Writing (record, change, post an update, close, confirm,
dismiss) is for operations and admins.
"""

from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from contracts.models import Contract
from outages import services, triage
from outages.availability_serializers import (
    AvailabilityQuerySerializer,
    ContractAvailabilitySerializer,
    availability_data,
)
from outages.filters import OutageFilter
from outages.models import Outage, OutageUpdate
from outages.selectors import PUBLISHED, contract_availability, outages_for_staff
from outages.serializers import (
    OutageChangeInputSerializer,
    OutageCloseInputSerializer,
    OutageConfirmInputSerializer,
    OutageDismissInputSerializer,
    OutageInputSerializer,
    OutageSerializer,
    OutageUpdateInputSerializer,
    OutageUpdateSerializer,
)
from slaportal import roles
from slaportal.viewsets import BaseViewSet


class OutageViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BaseViewSet):
    serializer_class = OutageSerializer
    filterset_class = OutageFilter
    write_roles = frozenset({roles.OPERATIONS, roles.ADMIN})

    def get_queryset(self) -> QuerySet[Outage]:
        # An outage reaches a customer along one of two paths, so the tenant helper
        # scopes each kind of outage along its own path.
        everyone = self.scope(
            Outage.objects.filter(scope=Outage.Scope.ALL),
            customer_field="service__contract_lines__contract__customer",
        )
        chosen = self.scope(
            Outage.objects.filter(scope=Outage.Scope.CUSTOMERS), customer_field="customers"
        )
        outages = outages_for_staff().filter(
            Q(pk__in=everyone.values("pk")) | Q(pk__in=chosen.values("pk"))
        )
        if not roles.is_staff_member(self.request.user):
            outages = outages.filter(PUBLISHED)
        return outages.prefetch_related(
            Prefetch("updates", queryset=OutageUpdate.objects.all())
        ).order_by("-started_at", "-pk")

    @extend_schema(request=OutageInputSerializer, responses={201: OutageSerializer})
    def create(self, request: Request) -> Response:
        outage = services.outage_record(actor=request.user, **self.parse(OutageInputSerializer))
        return self.respond(self._fresh(outage), status.HTTP_201_CREATED)

    @extend_schema(request=OutageChangeInputSerializer, responses=OutageSerializer)
    def partial_update(self, request: Request, pk: str) -> Response:
        outage = self.get_object()
        changes = self.parse(OutageChangeInputSerializer, partial=True)
        customers = changes.pop("customers", None)
        outage = services.outage_change(
            outage=outage, actor=request.user, customers=customers, **changes
        )
        return self.respond(self._fresh(outage))

    @extend_schema(
        request=OutageUpdateInputSerializer,
        responses={201: OutageUpdateSerializer},
        description="Post an update on the outage's timeline (public unless `public` is false).",
    )
    @action(detail=True, methods=["post"])
    def updates(self, request: Request, pk: str) -> Response:
        outage = self.get_object()
        update = services.outage_post_update(
            outage=outage, actor=request.user, **self.parse(OutageUpdateInputSerializer)
        )
        return Response(OutageUpdateSerializer(update).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=OutageCloseInputSerializer,
        responses=OutageSerializer,
        description="End an ongoing outage and post the public closing update.",
    )
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: str) -> Response:
        outage = self.get_object()
        outage = services.outage_close(
            outage=outage, actor=request.user, **self.parse(OutageCloseInputSerializer)
        )
        return self.respond(self._fresh(outage))

    @extend_schema(
        request=OutageConfirmInputSerializer,
        responses=OutageSerializer,
        description="Confirm an outage (one a monitoring alert opened, typically): it becomes "
        "public, and policies whose downtime starts at confirmation count it from "
        "`confirmed_at` (now when not given). Optionally recategorise it.",
    )
    @action(detail=True, methods=["post"])
    def confirm(self, request: Request, pk: str) -> Response:
        outage = self.get_object()
        outage = triage.outage_confirm(
            outage=outage, actor=request.user, **self.parse(OutageConfirmInputSerializer)
        )
        return self.respond(self._fresh(outage))

    @extend_schema(
        request=OutageDismissInputSerializer,
        responses=OutageSerializer,
        description="Dismiss an unconfirmed outage a monitoring alert opened, as a false "
        "alarm, with a reason: it never counts towards availability and customers never "
        "see it.",
    )
    @action(detail=True, methods=["post"])
    def dismiss(self, request: Request, pk: str) -> Response:
        outage = self.get_object()
        outage = triage.outage_dismiss(
            outage=outage, actor=request.user, **self.parse(OutageDismissInputSerializer)
        )
        return self.respond(self._fresh(outage))

    def _fresh(self, outage: Outage) -> Outage:
        """The outage as a reader sees it, with its customers and timeline loaded."""
        return self.get_queryset().get(pk=outage.pk)


class ContractAvailabilityViewSet(BaseViewSet):
    """``contracts/{id}/availability/``: the availability engine's figures for one contract
    and month. It lives with the engine; the contract follows its own tenancy (another
    customer's contract is a 404)."""

    queryset = Contract.objects.select_related("policy__measurement_calendar")

    def get_queryset(self) -> QuerySet[Contract]:
        return self.scope(super().get_queryset(), customer_field="customer")

    @extend_schema(
        parameters=[AvailabilityQuerySerializer],
        responses=ContractAvailabilitySerializer,
        description="Live availability figures of each service of the contract for a month "
        "(measured in the policy's zone; the current month up to now), with the counted "
        "and the excluded outages. availability_pct is the exact value cut to 6 places "
        "with ROUND_DOWN; minutes are whole seconds / 60, rounded half-up to 2 places, "
        "with the exact *_seconds alongside. Never floats.",
    )
    @action(detail=True, methods=["get"])
    def availability(self, request: Request, pk: str) -> Response:
        contract = self.get_object()  # first: another customer's contract is a 404
        now = timezone.now()
        zone = contract.policy.measurement_calendar.time_zone
        query = AvailabilityQuerySerializer(
            data=request.query_params, context={"zone": zone, "now": now}
        )
        query.is_valid(raise_exception=True)
        month = query.validated_data["month"]
        rows = contract_availability(contract, month, now=now)
        data = availability_data(contract, month, rows, now=now)
        return Response(ContractAvailabilitySerializer(data).data)
