"""What every portal and back-office page shares: rendering in the viewer's time zone and
paging a list, by page number (short lists) or by position (``keyset_paginate``: long
ones). (Figures and durations as text: ``slaportal.formatting``.)"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.utils import timezone

from slaportal import keyset

PAGE_SIZE = 25
PAGE_DIGITS = 6  # a longer page number is noise, not a page (and no cache key)
COUNT_CAP = 1000  # a keyset list counts its rows up to here: beyond, "more than 1,000"
END = "end"  # ?before=end: the last page


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


@dataclass(frozen=True)
class KeysetPage:
    """A page read by position; each link's query string keeps the list's filters (None:
    no such page)."""

    rows: list
    count: int  # the list's rows, counted up to COUNT_CAP + 1
    first_query: str | None
    previous_query: str | None
    next_query: str | None
    last_query: str | None

    @property
    def has_other_pages(self) -> bool:
        return self.previous_query is not None or self.next_query is not None

    @property
    def count_text(self) -> str:
        if self.count > COUNT_CAP:
            return f"More than {COUNT_CAP:,}"
        return f"{self.count:,}"


def _position(raw: str | None, ordering: keyset.Ordering, *, reverse: bool) -> keyset.Key | None:
    """The position a link carries; anything else (tampered, from another filter's
    order) is None, the first page: as with page numbers, never an error."""
    if not raw:
        return None
    try:
        key, backwards = ordering.decode(raw)
    except keyset.InvalidCursor:
        return None
    return key if backwards == reverse and key is not None else None


def keyset_paginate(
    request: HttpRequest, items: QuerySet, per_page: int | None = None
) -> KeysetPage:
    """The page of ``items`` after ``?after=`` (or before ``?before=``; ``before=end`` is
    the last page), read with an index range however deep it is (``slaportal.keyset``),
    and the links to the first, previous, next and last pages."""
    size = per_page or PAGE_SIZE
    ordering = keyset.Ordering.of(items)
    before = request.GET.get("before")
    after_key = _position(request.GET.get("after"), ordering, reverse=False)
    before_key = _position(before, ordering, reverse=True)
    if before == END or before_key is not None:
        found = keyset.read(items, ordering, size=size, key=before_key, reverse=True)
        has_previous, has_next = found.more, before_key is not None
    else:
        found = keyset.read(items, ordering, size=size, key=after_key)
        has_previous, has_next = after_key is not None, found.more
    rows = found.rows
    base = request.GET.copy()
    for name in ("after", "before", "page"):
        base.pop(name, None)

    def link(name: str | None = None, value: str = "") -> str:
        query: QueryDict = base.copy()
        if name:
            query[name] = value
        return query.urlencode()

    def token(row, *, reverse: bool) -> str:
        return ordering.encode(ordering.key(row), reverse=reverse)

    return KeysetPage(
        rows=rows,
        # Bounded: counting 200,000 rows would cost more than the page itself.
        count=items.order_by()[: COUNT_CAP + 1].count(),
        first_query=link() if has_previous else None,
        previous_query=link("before", token(rows[0], reverse=True))
        if has_previous and rows
        else None,
        next_query=link("after", token(rows[-1], reverse=False)) if has_next and rows else None,
        last_query=link("before", END) if has_next else None,
    )
