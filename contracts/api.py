"""The contracts REST API under /api/v1/: thin viewsets that parse, call a service or a
selector, and render.

Reading: staff (any staff role) read everything. A customer person reads their own
organisation, its contracts and invoices (another organisation's object is a 404, never
a 403 that would confirm it exists) and the shared catalog (services, policies);
calendars are for staff. (A contract's live availability for a month,
``contracts/{id}/availability/``, is the outages app's endpoint.) Writing is
staff-only: the admin role for customers, services, calendars and policies; admin or
account manager for contracts and invoices.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from contracts import api_selectors, services
from contracts.filters import (
    ContractFilter,
    CustomerFilter,
    InvoiceFilter,
    PolicyFilter,
    ServiceFilter,
)
from contracts.models import Calendar, Contract, Customer, Invoice, Service, SLAPolicy
from contracts.serializers import (
    CalendarInputSerializer,
    CalendarReplaceInputSerializer,
    CalendarSerializer,
    ContractInputSerializer,
    ContractSerializer,
    CustomerInputSerializer,
    CustomerSerializer,
    CustomerUpdateInputSerializer,
    InvoiceConflictSerializer,
    InvoiceInputSerializer,
    InvoicePaymentInputSerializer,
    InvoiceSerializer,
    PolicyInputSerializer,
    PolicySerializer,
    PolicyVersionQuerySerializer,
    ServiceInputSerializer,
    ServiceSerializer,
)
from slaportal import roles
from slaportal.viewsets import BaseViewSet


def _severity_specs(rows: list[dict[str, Any]]) -> list[services.SeveritySpec]:
    return [
        services.SeveritySpec(
            severity=row["severity"],
            name=row["name"],
            description=row["description"],
            around_the_clock=row["around_the_clock"],
            response=(row["response"]["value"], row["response"]["unit"]),
            resolution=(row["resolution"]["value"], row["resolution"]["unit"]),
        )
        for row in rows
    ]


def _created_or_replaced(existed: bool) -> int:
    return status.HTTP_200_OK if existed else status.HTTP_201_CREATED


# ---------------------------------------------------------------- customers & services


class CustomerViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BaseViewSet):
    queryset = Customer.objects.prefetch_related("account_managers")
    serializer_class = CustomerSerializer
    filterset_class = CustomerFilter

    def get_queryset(self) -> QuerySet[Customer]:
        return self.scope(super().get_queryset(), customer_field="pk")

    @extend_schema(request=CustomerInputSerializer, responses={201: CustomerSerializer})
    def create(self, request: Request) -> Response:
        customer = services.customer_create(**self.parse(CustomerInputSerializer))
        return self.respond(customer, status.HTTP_201_CREATED)

    @extend_schema(request=CustomerUpdateInputSerializer, responses=CustomerSerializer)
    def update(self, request: Request, pk: str, partial: bool = False) -> Response:
        customer = self.get_object()
        changes = self.parse(CustomerUpdateInputSerializer, partial=partial)
        return self.respond(services.customer_update(customer=customer, **changes))

    @extend_schema(request=CustomerUpdateInputSerializer, responses=CustomerSerializer)
    def partial_update(self, request: Request, pk: str) -> Response:
        return self.update(request, pk, partial=True)


class ServiceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BaseViewSet):
    queryset = Service.objects.all()
    serializer_class = ServiceSerializer
    filterset_class = ServiceFilter

    def get_queryset(self) -> QuerySet[Service]:
        return self.scope(super().get_queryset(), customer_field=None)

    @extend_schema(request=ServiceInputSerializer, responses={201: ServiceSerializer})
    def create(self, request: Request) -> Response:
        service = services.service_create(**self.parse(ServiceInputSerializer))
        return self.respond(service, status.HTTP_201_CREATED)


# ---------------------------------------------------------------- calendars & policies


class CalendarViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BaseViewSet):
    """POST creates a calendar or replaces the one with that code; PUT replaces by URL."""

    queryset = Calendar.objects.prefetch_related("intervals", "custom_holidays")
    serializer_class = CalendarSerializer
    lookup_field = "code"
    staff_only_reads = True

    def get_queryset(self) -> QuerySet[Calendar]:
        return self.scope(super().get_queryset(), customer_field=None)

    @extend_schema(
        request=CalendarInputSerializer,
        responses={200: CalendarSerializer, 201: CalendarSerializer},
    )
    def create(self, request: Request) -> Response:
        data = self.parse(CalendarInputSerializer)
        existed = self.get_queryset().filter(code=data["code"]).exists()
        return self.respond(self._upsert(data), _created_or_replaced(existed))

    @extend_schema(request=CalendarReplaceInputSerializer, responses=CalendarSerializer)
    def update(self, request: Request, code: str) -> Response:
        calendar = self.get_object()
        data = self.parse(CalendarReplaceInputSerializer)
        return self.respond(self._upsert({**data, "code": calendar.code}))

    @staticmethod
    def _upsert(data: dict[str, Any]) -> Calendar:
        holidays = [(h["date"], h["name"]) for h in data.pop("custom_holidays", [])]
        spec = services.CalendarSpec(**data, custom_holidays=holidays)
        return services.calendar_upsert(spec)


class PolicyViewSet(mixins.ListModelMixin, BaseViewSet):
    """The SLA catalog. A code names a policy; each change is a new version. POST creates
    a version, or rewrites one that no contract uses yet."""

    queryset = (
        SLAPolicy.objects.select_related("measurement_calendar", "support_calendar")
        .prefetch_related("bands", "exclusions", "severities")
        .order_by("code", "-version")
    )
    serializer_class = PolicySerializer
    filterset_class = PolicyFilter
    lookup_field = "code"

    def get_queryset(self) -> QuerySet[SLAPolicy]:
        return self.scope(super().get_queryset(), customer_field=None)

    def get_object(self) -> SLAPolicy:
        query = PolicyVersionQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        policy = api_selectors.policy_version(
            queryset=self.get_queryset(),
            code=self.kwargs["code"],
            version=query.validated_data.get("version"),
        )
        if policy is None:
            raise Http404
        self.check_object_permissions(self.request, policy)
        return policy

    @extend_schema(
        parameters=[PolicyVersionQuerySerializer],
        description="The latest version of the policy, or the one asked for with ?version=.",
    )
    def retrieve(self, request: Request, code: str) -> Response:
        return self.respond(self.get_object())

    @extend_schema(
        request=PolicyInputSerializer,
        responses={200: PolicySerializer, 201: PolicySerializer},
    )
    def create(self, request: Request) -> Response:
        terms = self.parse(PolicyInputSerializer)
        bands = [(b["lower_pct"], b["upper_pct"], b["credit_pct"]) for b in terms.pop("bands", [])]
        exclusions = [services.ExclusionSpec(**e) for e in terms.pop("exclusions", [])]
        severities = _severity_specs(terms.pop("severities", []))
        existed = api_selectors.policy_version(code=terms["code"], version=terms["version"])
        policy = services.policy_upsert(
            terms=terms,
            bands=bands,
            exclusions=exclusions,
            severities=severities,
            actor=request.user,
        )
        return self.respond(policy, _created_or_replaced(existed is not None))


# ---------------------------------------------------------------- contracts & invoices


class ContractViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BaseViewSet):
    queryset = (
        Contract.objects.select_related("policy", "support_calendar")
        .prefetch_related("lines", "severities")
        .order_by("customer__name", "start_date", "pk")
    )
    serializer_class = ContractSerializer
    filterset_class = ContractFilter
    write_roles = frozenset({roles.ADMIN, roles.ACCOUNT_MANAGER})

    def get_queryset(self) -> QuerySet[Contract]:
        return self.scope(super().get_queryset(), customer_field="customer")

    @extend_schema(request=ContractInputSerializer, responses={201: ContractSerializer})
    def create(self, request: Request) -> Response:
        data = self.parse(ContractInputSerializer)
        code, version = data.pop("policy"), data.pop("policy_version", None)
        policy = api_selectors.policy_version(code=code, version=version)
        if policy is None:
            wanted = code if version is None else f"{code} v{version}"
            raise serializers.ValidationError({"policy": [f"There is no SLA policy {wanted}."]})
        contract = services.contract_create(
            policy=policy,
            lines=[(line["service"], line["monthly_fee"]) for line in data.pop("lines")],
            severities=_severity_specs(data.pop("severities", [])),
            actor=request.user,
            **data,
        )
        return self.respond(contract, status.HTTP_201_CREATED)


class InvoiceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BaseViewSet):
    """Invoices come from the billing system: POST records one idempotently by number;
    PATCH records its payment, the only thing about it that can change."""

    # Newest first, as the invoice pages (``invoice_newest_idx``).
    queryset = Invoice.objects.prefetch_related("lines").order_by("-issued_on", "-pk")
    serializer_class = InvoiceSerializer
    filterset_class = InvoiceFilter
    write_roles = frozenset({roles.ADMIN, roles.ACCOUNT_MANAGER})
    # Money: read by the customer's account managers (and administrators), as the pages.
    staff_readers = frozenset({roles.ACCOUNT_MANAGER})
    managed_reads = True

    def get_queryset(self) -> QuerySet[Invoice]:
        return self.scope(super().get_queryset(), customer_field="customer")

    @extend_schema(
        request=InvoiceInputSerializer,
        responses={
            201: OpenApiResponse(InvoiceSerializer, description="Recorded (a new number)."),
            200: OpenApiResponse(
                InvoiceSerializer,
                description="Already recorded with this content: unchanged, or its payment "
                "(a new paid_at) recorded.",
            ),
            409: OpenApiResponse(
                InvoiceConflictSerializer,
                description="The number is recorded with other content, which cannot change; "
                "the body names each differing field.",
            ),
        },
    )
    def create(self, request: Request) -> Response:
        data = self.parse(InvoiceInputSerializer)
        try:
            recorded = services.invoice_record(actor=request.user, **data)
        except services.InvoiceConflict as conflict:
            return Response(
                {"detail": str(conflict), "fields": conflict.fields},
                status=status.HTTP_409_CONFLICT,
            )
        return self.respond(
            recorded.invoice, status.HTTP_201_CREATED if recorded.created else status.HTTP_200_OK
        )

    @extend_schema(request=InvoicePaymentInputSerializer, responses=InvoiceSerializer)
    def partial_update(self, request: Request, pk: str) -> Response:
        invoice = self.get_object()
        data = self.parse(InvoicePaymentInputSerializer)
        invoice = services.invoice_pay(invoice=invoice, paid_at=data["paid_at"], actor=request.user)
        return self.respond(self.get_queryset().get(pk=invoice.pk))
