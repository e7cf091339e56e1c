"""Back-office pages for webhooks (administrators only): endpoints, their deliveries,
and a delivery's detail with its replay. Wired by the portal's URLs.

A secret is shown once, on the page after it is created or rotated (kept in the
session for that one view), never again.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from outbox import selectors, services
from outbox.forms import DeliveryFilterForm, EndpointEditForm, EndpointForm, add_service_errors
from outbox.models import WebhookDelivery, WebhookEndpoint
from outbox.webhooks import registered_events
from slaportal import roles
from slaportal.pages import paginate, render_zoned
from slaportal.permissions import role_required

admin_only = role_required(roles.ADMIN)
SECRET_KEY = "webhook-secret-once"


def _show_secret_once(request: HttpRequest, endpoint: WebhookEndpoint) -> None:
    request.session[SECRET_KEY] = {"endpoint": endpoint.pk, "secret": endpoint.secret}


@admin_only
def endpoint_list(request: HttpRequest) -> HttpResponse:
    return render_zoned(
        request,
        "backoffice/webhooks/endpoint_list.html",
        {"endpoints": selectors.endpoints_with_counts(), "events": registered_events()},
    )


@admin_only
def endpoint_new(request: HttpRequest) -> HttpResponse:
    form = EndpointForm(request.POST or None)
    if form.is_bound and form.is_valid():
        try:
            endpoint = services.webhook_endpoint_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            _show_secret_once(request, endpoint)
            messages.success(request, "Endpoint registered. Copy its signing secret now.")
            return redirect("webhook-endpoint", endpoint_id=endpoint.pk)
    return render_zoned(
        request, "backoffice/webhooks/endpoint_form.html", {"form": form, "endpoint": None}
    )


def _deliveries_page(request: HttpRequest, endpoint: WebhookEndpoint | None) -> dict:
    filters = DeliveryFilterForm(request.GET or None)
    chosen = filters.cleaned_data if filters.is_valid() else {}
    rows = selectors.deliveries(
        endpoint=endpoint, status=chosen.get("status", ""), event=chosen.get("event", "")
    )
    page, query = paginate(request, rows)
    return {"filters": filters, "page": page, "query": query, "deliveries": page.object_list}


@admin_only
def endpoint_detail(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, pk=endpoint_id)
    once = request.session.pop(SECRET_KEY, None)
    secret = once["secret"] if once and once.get("endpoint") == endpoint.pk else None
    return render_zoned(
        request,
        "backoffice/webhooks/endpoint_detail.html",
        {"endpoint": endpoint, "secret": secret, **_deliveries_page(request, endpoint)},
    )


@admin_only
def endpoint_edit(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, pk=endpoint_id)
    initial = {
        "url": endpoint.url,
        "description": endpoint.description,
        "events": endpoint.events,
        "is_active": endpoint.is_active,
    }
    form = EndpointEditForm(request.POST or None, initial=initial)
    if form.is_bound and form.is_valid():
        try:
            services.webhook_endpoint_update(
                actor=request.user, endpoint_id=endpoint.pk, **form.cleaned_data
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Endpoint saved.")
            return redirect("webhook-endpoint", endpoint_id=endpoint.pk)
    return render_zoned(
        request, "backoffice/webhooks/endpoint_form.html", {"form": form, "endpoint": endpoint}
    )


@require_POST
@admin_only
def endpoint_deactivate(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, pk=endpoint_id)
    services.webhook_endpoint_deactivate(
        actor=request.user, endpoint_id=endpoint.pk, reason=request.POST.get("reason", "")
    )
    messages.success(request, "Endpoint deactivated; it is sent nothing until reactivated.")
    return redirect("webhook-endpoint", endpoint_id=endpoint.pk)


@require_POST
@admin_only
def endpoint_rotate_secret(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, pk=endpoint_id)
    endpoint = services.webhook_endpoint_rotate_secret(actor=request.user, endpoint_id=endpoint.pk)
    _show_secret_once(request, endpoint)
    messages.success(request, "New signing secret issued; the old one no longer verifies.")
    return redirect("webhook-endpoint", endpoint_id=endpoint.pk)


@admin_only
def delivery_list(request: HttpRequest) -> HttpResponse:
    return render_zoned(
        request, "backoffice/webhooks/delivery_list.html", _deliveries_page(request, None)
    )


@admin_only
def delivery_detail(request: HttpRequest, delivery_id: int) -> HttpResponse:
    delivery = get_object_or_404(WebhookDelivery.objects.select_related("endpoint"), pk=delivery_id)
    return render_zoned(
        request,
        "backoffice/webhooks/delivery_detail.html",
        {"delivery": delivery, "payload": selectors.payload_text(delivery)},
    )


@require_POST
@admin_only
def delivery_replay(request: HttpRequest, delivery_id: int) -> HttpResponse:
    delivery = get_object_or_404(WebhookDelivery, pk=delivery_id)
    try:
        services.webhook_replay(delivery_id=delivery.pk, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Replay queued: a new attempt is being sent now.")
    return redirect("webhook-delivery", delivery_id=delivery.pk)
