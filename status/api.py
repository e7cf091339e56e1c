"""Machine-readable status under /status/api/v2/, in the shape of Atlassian Statuspage's
public API (``status.statuspage``): anyone may read it, from any web origin.

Like the HTML page (``status.views``), every body is cached under the outage tables'
fingerprint and the current minute, and all eight are built together on a miss: a hit
costs one query. The links in them are absolute, so each host name gets its own copy.
Nothing here signs anyone in or throttles: it is the status page, read hardest when
something is down, and it serves the same public copy to everyone.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.http import HttpResponse
from django.urls import reverse
from django.utils.text import slugify
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.serializers import Serializer
from rest_framework.views import APIView

from status import serializers, statuspage
from status.views import cached

TAG = "Status (Statuspage v2)"
SERIALIZERS: dict[str, type[Serializer]] = {
    "summary": serializers.StatuspageSummarySerializer,
    "status": serializers.StatuspageStatusBodySerializer,
    "components": serializers.StatuspageComponentsSerializer,
    "incidents": serializers.StatuspageIncidentsSerializer,
    "unresolved": serializers.StatuspageIncidentsSerializer,
    "maintenances": serializers.StatuspageScheduledMaintenancesSerializer,
    "upcoming": serializers.StatuspageScheduledMaintenancesSerializer,
    "active": serializers.StatuspageScheduledMaintenancesSerializer,
}


def bodies(request: Request) -> dict[str, bytes]:
    """Every endpoint's JSON at this minute, for the host the request came to."""
    origin = request.build_absolute_uri("/")

    def build(now: datetime) -> dict[str, bytes]:
        site = statuspage.Site(
            page_id=slugify(settings.PROVIDER_NAME) or "status",
            name=settings.PROVIDER_NAME,
            url=request.build_absolute_uri(reverse("status-page")),
            incident_url=lambda pk: request.build_absolute_uri(
                reverse("status-incident", args=[pk])
            ),
        )
        data = statuspage.snapshot(now, site)
        renderer = JSONRenderer()
        return {name: renderer.render(SERIALIZERS[name](data[name]).data) for name in SERIALIZERS}

    return cached(f"statuspage:{origin}", build)


class JSONAlways(BaseContentNegotiation):
    """JSON whatever the Accept header asks for, as Statuspage answers."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class StatuspageView(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = ()
    renderer_classes = (JSONRenderer,)
    content_negotiation_class = JSONAlways
    http_method_names = ["get", "head"]
    body = ""

    def answer(self, request: Request) -> HttpResponse:
        response = HttpResponse(bodies(request)[self.body], content_type="application/json")
        response["Access-Control-Allow-Origin"] = "*"
        return response


def _documented(operation_id: str, summary: str, description: str, serializer):
    return extend_schema(
        operation_id=operation_id,
        summary=summary,
        description=description
        + " Public: no sign-in, any origin (CORS). Public incidents and text only. "
        "Refreshed within a minute of any change.",
        tags=[TAG],
        auth=[],
        responses={
            200: OpenApiResponse(serializer, description="As Atlassian Statuspage's API v2.")
        },
    )


class SummaryView(StatuspageView):
    body = "summary"

    @_documented(
        "statuspage_summary",
        "Summary: status, components, unresolved incidents, maintenance",
        "The page's status indicator, every component (service) with its state, the "
        "unresolved incidents, and maintenance in progress or upcoming.",
        serializers.StatuspageSummarySerializer,
    )
    def get(self, request: Request) -> HttpResponse:
        return self.answer(request)


class StatusView(StatuspageView):
    body = "status"

    @_documented(
        "statuspage_status",
        "Status indicator",
        "The page's status indicator (none, minor, major, critical or maintenance) and its "
        "description.",
        serializers.StatuspageStatusBodySerializer,
    )
    def get(self, request: Request) -> HttpResponse:
        return self.answer(request)


class ComponentsView(StatuspageView):
    body = "components"

    @_documented(
        "statuspage_components",
        "Components",
        "Every component (service) with its current state.",
        serializers.StatuspageComponentsSerializer,
    )
    def get(self, request: Request) -> HttpResponse:
        return self.answer(request)


class IncidentsView(StatuspageView):
    body = "incidents"

    @_documented(
        "statuspage_incidents",
        "Incidents",
        "The 50 most recent incidents, resolved or not, newest first, with their public updates.",
        serializers.StatuspageIncidentsSerializer,
    )
    def get(self, request: Request) -> HttpResponse:
        return self.answer(request)


class UnresolvedIncidentsView(StatuspageView):
    body = "unresolved"

    @_documented(
        "statuspage_incidents_unresolved",
        "Unresolved incidents",
        "Every incident not resolved yet (investigating, identified or monitoring), newest first.",
        serializers.StatuspageIncidentsSerializer,
    )
    def get(self, request: Request) -> HttpResponse:
        return self.answer(request)


class ScheduledMaintenancesView(StatuspageView):
    body = "maintenances"

    @_documented(
        "statuspage_scheduled_maintenances",
        "Scheduled maintenances",
        "The 50 most recent maintenance windows, upcoming (once announced), in progress or "
        "completed, latest start first.",
        serializers.StatuspageScheduledMaintenancesSerializer,
    )
    def get(self, request: Request) -> HttpResponse:
        return self.answer(request)


class UpcomingMaintenancesView(StatuspageView):
    body = "upcoming"

    @_documented(
        "statuspage_scheduled_maintenances_upcoming",
        "Upcoming scheduled maintenances",
        "Announced maintenance windows that have not started, soonest first.",
        serializers.StatuspageScheduledMaintenancesSerializer,
    )
    def get(self, request: Request) -> HttpResponse:
        return self.answer(request)


class ActiveMaintenancesView(StatuspageView):
    body = "active"

    @_documented(
        "statuspage_scheduled_maintenances_active",
        "Active scheduled maintenances",
        "Maintenance windows in progress or verifying, soonest start first.",
        serializers.StatuspageScheduledMaintenancesSerializer,
    )
    def get(self, request: Request) -> HttpResponse:
        return self.answer(request)
