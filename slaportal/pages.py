"""What every portal and back-office page shares: rendering in the viewer's time zone and
paging a list. (Figures and durations as text: ``slaportal.formatting``.)"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

PAGE_SIZE = 25
PAGE_DIGITS = 6  # a longer page number is noise, not a page (and no cache key)


def viewer_zone(request: HttpRequest) -> ZoneInfo:
    """The signed-in user's zone (``User.time_zone``); UTC when there is none or the
    name no longer loads."""
    try:
        return ZoneInfo(getattr(request.user, "time_zone", "") or "UTC")
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return ZoneInfo("UTC")


def render_zoned(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    """Render with the viewer's zone active, so every ``|date`` shows their local time;
    the template gets the zone's name as ``zone`` (pages say "Times in …")."""
    zone = viewer_zone(request)
    with timezone.override(zone):
        return render(request, template, {**context, "zone": zone.key}, status=status)


def page_number(raw: str | None) -> int:
    """``?page=``: anything that is not a small positive whole number is the first page,
    never an error. (A number past the last page is the last page: ``Paginator.get_page``.)"""
    raw = (raw or "").strip()
    if raw.isascii() and raw.isdigit() and len(raw) <= PAGE_DIGITS and int(raw) > 0:
        return int(raw)
    return 1


def paginate(request: HttpRequest, items: Any, per_page: int | None = None) -> tuple[Page, str]:
    """The page of ``items`` that ``?page=`` asks for (``PAGE_SIZE`` a page unless told),
    and the rest of the query string (without ``page``) for its links, so filters stay on
    from page to page."""
    size = per_page or PAGE_SIZE  # read at the call: the bench varies it
    page = Paginator(items, size).get_page(page_number(request.GET.get("page")))
    query = request.GET.copy()
    query.pop("page", None)
    return page, query.urlencode()
