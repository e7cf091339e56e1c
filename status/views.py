"""The public status page, its incident pages and Atom feed: no login, provider-wide.

Rendering is cached. The cache key is a cheap fingerprint of the outage tables (one
query; see ``selectors.fingerprint``) plus the current UTC minute, so a change made by
any writer — services, admin, a shell — shows on the next request, and the current
state and today's bar move on by themselves within a minute. The expensive rendering
runs only on a miss. Only the page's body is cached, never the site header, which
shows a signed-in visitor's own name. The Statuspage-shaped JSON (``status.api``) is
cached the same way, through ``cached``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_safe

from slaportal.pages import page_number
from status import selectors
from status.feeds import IncidentFeed

CACHE_SECONDS = 120


def cached(name: str, build: Callable[[datetime], Any]) -> Any:
    now = timezone.now()
    key = f"status:{selectors.fingerprint()}:{now:%Y%m%d%H%M}:{name}"
    value = cache.get(key)
    if value is None:
        value = build(now)
        cache.set(key, value, CACHE_SECONDS)
    return value


@require_safe
def status_page(request: HttpRequest) -> HttpResponse:
    number = page_number(request.GET.get("page"))
    body = cached(
        f"page:{number}",
        lambda now: render_to_string(
            "status/_overview.html", selectors.status_overview(now, number)
        ),
    )
    return render(request, "status/index.html", {"body": mark_safe(body)})  # noqa: S308


@require_safe
def incident_page(request: HttpRequest, outage_id: int) -> HttpResponse:
    def build(now: datetime) -> dict[str, str]:
        incident = selectors.incident(outage_id, now)
        if incident is None:
            return {}  # cached too: probing ids costs the fingerprint only
        body = render_to_string("status/_incident.html", {"incident": incident, "now": now})
        return {"title": incident.outage.title, "body": body}

    page = cached(f"incident:{outage_id}", build)
    if not page:
        raise Http404("No such incident.")
    return render(
        request,
        "status/incident.html",
        {"title": page["title"], "body": mark_safe(page["body"])},  # noqa: S308
    )


@require_safe
def incident_feed(request: HttpRequest) -> HttpResponse:
    # The feed holds absolute links, so each host name gets its own copy.
    origin = request.build_absolute_uri("/")

    def build(now: datetime) -> tuple[bytes, str]:
        response = IncidentFeed(now=now)(request)
        return response.content, response["Content-Type"]

    content, content_type = cached(f"feed:{origin}", build)
    return HttpResponse(content, content_type=content_type)
