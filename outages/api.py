"""The outages REST API under /api/v1/outages/: thin, over ``outages.services``.

Reading: staff (any staff role) read every outage. A customer person reads the outages
that reach their organisation — every-customer outages of a service they hold a contract
line for, and scopes that name them — and only their public part; any other outage is a
404. Writing (record, change, post an update, close) is for operations and admins.
"""

from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from contracts import roles
from contracts.api import BaseViewSet
from outages import services
from outages.filters import OutageFilter
from outages.models import Outage, OutageUpdate
from outages.selectors import outages_for_staff
from outages.serializers import (
    OutageChangeInputSerializer,
    OutageCloseInputSerializer,
    OutageInputSerializer,
    OutageSerializer,
    OutageUpdateInputSerializer,
    OutageUpdateSerializer,
)


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
        return (
            outages_for_staff()
            .filter(Q(pk__in=everyone.values("pk")) | Q(pk__in=chosen.values("pk")))
            .prefetch_related(Prefetch("updates", queryset=OutageUpdate.objects.all()))
            .order_by("-started_at", "-pk")
        )

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

    def _fresh(self, outage: Outage) -> Outage:
        """The outage as a reader sees it, with its customers and timeline loaded."""
        return self.get_queryset().get(pk=outage.pk)
