"""Alert intake's views: the Alertmanager webhook, operations' alerts page (sources, the
route table, recent alerts) and the triage of an outage an alert opened (confirm,
dismiss). Thin: parse, call a service, render.

The webhook has no session and no CSRF token: each source authenticates with its own
bearer token. A missing or unknown token is a 401, an inactive source a 403, a payload
that is not Alertmanager's version 4 a 400 naming the fields, all as JSON.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.core.exceptions import RequestDataTooBig, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from contracts.forms import add_service_errors
from outages import alert_config, alerts, triage, views
from outages.alert_forms import AlertRouteForm, AlertSourceForm, ConfirmForm, DismissForm
from outages.alert_serializers import AlertmanagerPayloadSerializer
from outages.models import Alert, AlertRoute, AlertSource, Outage
from slaportal import roles
from slaportal.pages import keyset_paginate, render_zoned, viewer_zone
from slaportal.permissions import role_required

operations_only = role_required(roles.OPERATIONS)
TOKEN_KEY = "alert-source-token-once"

# ---------------------------------------------------------------- the webhook


def _unauthorized(detail: str, error: str = "") -> JsonResponse:
    response = JsonResponse({"detail": detail}, status=401)
    challenge = 'Bearer realm="alerts"'
    response["WWW-Authenticate"] = f'{challenge}, error="{error}"' if error else challenge
    return response


def _bearer(request: HttpRequest) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


@csrf_exempt
@require_POST
def alertmanager_webhook(request: HttpRequest) -> HttpResponse:
    token = _bearer(request)
    if token is None:
        return _unauthorized("Send the alert source's token: Authorization: Bearer <token>.")
    source = alerts.source_for_token(token)
    if source is None:
        return _unauthorized("This token belongs to no alert source.", error="invalid_token")
    if not source.active:
        return JsonResponse({"detail": "This alert source is inactive."}, status=403)
    try:
        payload = json.loads(request.body)
    except RequestDataTooBig:
        return JsonResponse({"non_field_errors": ["The payload is too large."]}, status=400)
    except ValueError as exc:  # JSONDecodeError, or bytes that are not UTF-8
        return JsonResponse({"non_field_errors": [f"The body is not JSON: {exc}"]}, status=400)
    parsed = AlertmanagerPayloadSerializer(data=payload)
    if not parsed.is_valid():
        return JsonResponse(parsed.errors, status=400)
    summary = alerts.alerts_receive(source=source, alerts=parsed.validated_data["alerts"])
    return JsonResponse(summary.as_dict())


# ---------------------------------------------------------------- the alerts page


def _recent_alerts(unrouted: bool) -> QuerySet[Alert]:
    rows = Alert.objects.select_related("source", "route", "outage__service")
    if unrouted:
        rows = rows.filter(outage__isnull=True)
    return rows.order_by("-starts_at", "-id")


def _render_alerts(
    request: HttpRequest,
    source_form: AlertSourceForm | None = None,
    route_form: AlertRouteForm | None = None,
) -> HttpResponse:
    once = request.session.pop(TOKEN_KEY, None)
    unrouted = request.GET.get("unrouted") == "1"
    # Every firing of every alert stays: a long list, read by position.
    page = keyset_paginate(request, _recent_alerts(unrouted))
    sources = AlertSource.objects.order_by("-active", "name")
    return render_zoned(
        request,
        "ops/alerts.html",
        {
            "sources": sources,
            "new_token": once,
            "routes": AlertRoute.objects.select_related("source", "service"),
            "source_form": source_form or AlertSourceForm(),
            "route_form": route_form or AlertRouteForm(),
            "page": page,
            "unrouted": unrouted,
            "webhook_url": request.build_absolute_uri(reverse("alerts-alertmanager")),
        },
    )


@operations_only
def alerts_page(request: HttpRequest) -> HttpResponse:
    return _render_alerts(request)


@operations_only
@require_POST
def alert_source_new(request: HttpRequest) -> HttpResponse:
    form = AlertSourceForm(request.POST)
    if form.is_valid():
        try:
            source, token = alert_config.alert_source_create(
                name=form.cleaned_data["name"], actor=request.user
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            # Shown on the next page only: the token is not stored, only its hash.
            request.session[TOKEN_KEY] = {"source": source.name, "token": token}
            messages.success(request, f"Alert source “{source.name}” added. Copy its token now.")
            return redirect("ops-alerts")
    return _render_alerts(request, source_form=form)


@operations_only
@require_POST
def alert_source_deactivate(request: HttpRequest, source_id: int) -> HttpResponse:
    source = get_object_or_404(AlertSource, pk=source_id)
    if alert_config.alert_source_deactivate(source=source, actor=request.user):
        messages.success(request, f"“{source.name}” deactivated: its alerts are refused.")
    else:
        messages.info(request, f"“{source.name}” was inactive already.")
    return redirect("ops-alerts")


@operations_only
@require_POST
def alert_route_new(request: HttpRequest) -> HttpResponse:
    form = AlertRouteForm(request.POST)
    if form.is_valid():
        try:
            route = alert_config.alert_route_create(spec=form.spec(), actor=request.user)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Route {route.label}={route.value} added.")
            return redirect("ops-alerts")
    return _render_alerts(request, route_form=form)


@operations_only
def alert_route_edit(request: HttpRequest, route_id: int) -> HttpResponse:
    route = get_object_or_404(AlertRoute.objects.select_related("source", "service"), pk=route_id)
    form = AlertRouteForm(request.POST or None, route=route)
    if form.is_bound and form.is_valid():
        try:
            alert_config.alert_route_change(route=route, spec=form.spec(), actor=request.user)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Route saved.")
            return redirect("ops-alerts")
    return render_zoned(request, "ops/alert_route_form.html", {"form": form, "route": route})


@operations_only
@require_POST
def alert_route_delete(request: HttpRequest, route_id: int) -> HttpResponse:
    route = get_object_or_404(AlertRoute, pk=route_id)
    label = f"{route.label}={route.value}"
    alert_config.alert_route_delete(route=route, actor=request.user)
    messages.success(request, f"Route {label} deleted; the outages it opened stay.")
    return redirect("ops-alerts")


# ---------------------------------------------------------------- triage


def _outage_page(request: HttpRequest, outage_id: int, **forms: Any) -> HttpResponse:
    """The outage's page again, with a refused triage form and its errors."""
    return views.render_detail(request, views.outage_for_staff(outage_id), **forms)


def _triaged_meanwhile(request: HttpRequest, outage: Outage, error: ValidationError) -> bool:
    """Confirmed or dismissed by someone else meanwhile: the page no longer has the forms
    to show the refusal on, so it is a message above the page."""
    outage.refresh_from_db()
    if outage.is_unconfirmed:
        return False
    messages.error(request, " ".join(error.messages))
    return True


@operations_only
@require_POST
def outage_confirm(request: HttpRequest, outage_id: int) -> HttpResponse:
    outage = get_object_or_404(Outage, pk=outage_id)
    form = ConfirmForm(request.POST, zone=viewer_zone(request))
    if form.is_valid():
        try:
            triage.outage_confirm(outage=outage, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            if _triaged_meanwhile(request, outage, exc):
                return redirect("ops-outage", outage_id=outage.pk)
            add_service_errors(form, exc)
        else:
            messages.success(request, "Outage confirmed; affected customers can see it now.")
            return redirect("ops-outage", outage_id=outage.pk)
    return _outage_page(request, outage.pk, confirm_form=form)


@operations_only
@require_POST
def outage_dismiss(request: HttpRequest, outage_id: int) -> HttpResponse:
    outage = get_object_or_404(Outage, pk=outage_id)
    form = DismissForm(request.POST)
    if form.is_valid():
        try:
            triage.outage_dismiss(
                outage=outage, actor=request.user, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            if _triaged_meanwhile(request, outage, exc):
                return redirect("ops-outage", outage_id=outage.pk)
            add_service_errors(form, exc)
        else:
            messages.success(request, "Outage dismissed: it never counts towards availability.")
            return redirect("ops-outage", outage_id=outage.pk)
    return _outage_page(request, outage.pk, dismiss_form=form)
