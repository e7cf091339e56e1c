"""``GET /api/v1/reports/attainment/``: the SLA attainment report's figures, the same as
its pages and downloads (``portal.reports.attainment``), for the customers the caller may
see (``report_customers``): a customer's people their organisation, an account manager
the customers they manage, administrators, agents and operations every customer. A
``customer`` the caller may not see is a 404, as one that does not exist."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.reports.attainment import attainment_report, report_customers
from portal.reports.serializers import (
    AttainmentQuerySerializer,
    AttainmentReportSerializer,
    report_data,
)
from slaportal import roles
from slaportal.api import ErrorDetailSerializer, ErrorResponsesAutoSchema
from slaportal.pages import viewer_zone
from slaportal.tokens import PortalTokenAuthentication


class ReportReaders(BasePermission):
    """A customer's person or a member of staff; which customers: ``report_customers``."""

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        return user.customer_id is not None or roles.is_staff_member(user)


class AttainmentReportView(APIView):
    authentication_classes = [PortalTokenAuthentication, SessionAuthentication]
    permission_classes = [ReportReaders]
    schema = ErrorResponsesAutoSchema()

    @extend_schema(
        operation_id="reports_attainment_retrieve",
        parameters=[AttainmentQuerySerializer],
        responses={
            200: AttainmentReportSerializer,
            404: OpenApiResponse(
                ErrorDetailSerializer,
                description="No such customer among those you may see.",
            ),
        },
        description="SLA attainment per customer, month and severity: tickets received, "
        "first responses and resolutions met and breached, and the median and 90th "
        "percentile time to first response in business time. A month whose statement is "
        "issued reports that statement's support section; other months are computed now "
        "with the same rule. Customers' people get their own organisation's figures, "
        "account managers their customers', administrators, agents and operations every "
        "customer's.",
    )
    def get(self, request: Request) -> Response:
        now = timezone.now()
        query = AttainmentQuerySerializer(
            data=request.query_params,
            context={"now": now, "zone": viewer_zone(request).key},
        )
        query.is_valid(raise_exception=True)
        data = query.validated_data
        customers = report_customers(request.user)
        chosen = data.get("customer")
        if chosen is not None:
            customers = customers.filter(pk=chosen)
            if not customers.exists():
                raise Http404("No such customer among those you may see.")
        report = attainment_report(
            customers,
            first=data["first"],
            last=data["last"],
            now=now,
            severity=data.get("severity"),
        )
        return Response(AttainmentReportSerializer(report_data(report, chosen)).data)
